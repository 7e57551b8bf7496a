// The Intervals.icu provider against the Intervals.icu fake server
// (tests/fakes/run intervals) over real loopback HTTP. Requests go through a
// small blocking socket client implementing net::HttpClient, so these tests
// check the wire format independently of lib/net's client.

#include "providers/intervals_icu/intervals_icu.hpp"

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "formats/decode.hpp"
#include "json/json.hpp"
#include "net/http_client.hpp"
#include "net/oauth.hpp"
#include "provider_test_util.hpp"
#include "store/cursors.hpp"
#include "support/fake_server.hpp"
#include "support/memory_tokens.hpp"
#include "support/raw_http.hpp"

namespace fitbridge::providers::intervals_icu {
namespace {

using fitbridge::test::FakeServer;
using test::bytes_of;
using test::run;
using test::slurp;
namespace fs = std::filesystem;

constexpr std::string_view k_key = "test-api-key";  // the fake's defaults
constexpr std::string_view k_token = "test-oauth-token";
// "API_KEY:test-api-key" in base64.
constexpr std::string_view k_basic = "Basic QVBJX0tFWTp0ZXN0LWFwaS1rZXk=";

// net::HttpClient over blocking loopback sockets: enough HTTP/1.1 for the
// fake (Content-Length bodies, one request per connection).
class SocketClient final : public net::HttpClient {
public:
    std::vector<std::pair<std::string, net::Priority>> priorities;  // "METHOD path" and its priority
    boost::asio::awaitable<Result<net::HttpResponse>> send(net::HttpRequest request) override {
        priorities.emplace_back(request.method + " " + request.url.substr(0, request.url.find('?')), request.priority);
        const std::string prefix = "http://127.0.0.1:";
        if (!request.url.starts_with(prefix)) co_return Error::permanent("test.url", "unexpected URL " + request.url);
        auto slash = request.url.find('/', prefix.size());
        const int port = std::stoi(request.url.substr(prefix.size(), slash - prefix.size()));
        const std::string target = slash == std::string::npos ? "/" : request.url.substr(slash);
        fitbridge::test::RawConn c(port);
        if (!c.connected()) co_return Error::transient("net.connect", "connection refused");
        std::string req =
            fmt::format("{} {} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n", request.method, target, port);
        for (const auto& [k, v] : request.headers) req += fmt::format("{}: {}\r\n", k, v);
        req += fmt::format("Content-Length: {}\r\n\r\n", request.body.size());
        req += request.body;
        if (!c.send(req)) co_return Error::transient("net.write", "write failed");
        auto raw = c.read_response();
        if (!raw || raw->find("\r\n\r\n") == std::string::npos)
            co_return Error::transient("net.reset", "connection closed before a response");
        net::HttpResponse r;
        r.status = fitbridge::test::status_of(raw);
        auto end = raw->find("\r\n\r\n");
        std::string head = raw->substr(0, end);
        size_t pos = head.find("\r\n");
        while (pos != std::string::npos) {
            pos += 2;
            auto eol = head.find("\r\n", pos);
            std::string line = head.substr(pos, eol == std::string::npos ? std::string::npos : eol - pos);
            auto colon = line.find(':');
            if (colon != std::string::npos) {
                std::string name = line.substr(0, colon);
                for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
                r.headers.emplace_back(name, line.substr(line.find_first_not_of(' ', colon + 1)));
            }
            pos = eol;
        }
        r.body = raw->substr(end + 4);
        for (const auto& [k, v] : r.headers)
            if (k == "content-length" && std::stoul(v) != r.body.size())
                co_return Error::transient("net.truncated", "connection closed mid-body");
        r.final_url = request.url;
        co_return r;
    }
};

// Adds activities (a JSON object or array) to the fake; returns their ids.
std::vector<std::string> add_activities(const FakeServer& fake, const std::string& json) {
    auto doc = json::parse(fake.control("POST", "/_fake/activities", json).body);
    std::vector<std::string> ids;
    for (const auto& v : doc->GetArray()) ids.emplace_back(v.GetString());
    return ids;
}

std::string header_of(const rapidjson::Value& req, std::string_view name) {
    for (const auto& h : req["headers"].GetArray())
        if (std::string_view(h[0].GetString()) == name) return h[1].GetString();
    return {};
}

std::string b64(const std::string& s) {
    static constexpr char k_a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    size_t i = 0;
    for (; i + 2 < s.size(); i += 3) {
        uint32_t v =
            (static_cast<uint8_t>(s[i]) << 16) | (static_cast<uint8_t>(s[i + 1]) << 8) | static_cast<uint8_t>(s[i + 2]);
        for (int sh = 18; sh >= 0; sh -= 6) out.push_back(k_a[(v >> sh) & 63]);
    }
    if (i < s.size()) {
        uint32_t v = static_cast<uint8_t>(s[i]) << 16;
        if (i + 1 < s.size()) v |= static_cast<uint8_t>(s[i + 1]) << 8;
        out.push_back(k_a[(v >> 18) & 63]);
        out.push_back(k_a[(v >> 12) & 63]);
        out.push_back(i + 1 < s.size() ? k_a[(v >> 6) & 63] : '=');
        out.push_back('=');
    }
    return out;
}

class IntervalsIcuTest : public ::testing::Test {
protected:
    // One fake server for the whole suite, reset before each test.
    static void SetUpTestSuite() { s_fake = new FakeServer("intervals"); }
    static void TearDownTestSuite() {
        delete s_fake;
        s_fake = nullptr;
    }
    void SetUp() override {
        fake().reset();
        test::write_text(m_dir / "key", std::string(k_key) + "\n");
        test::write_text(m_dir / "token", std::string(k_token));
    }
    static FakeServer& fake() { return *s_fake; }

    config::AccountConfig account(std::map<std::string, std::string> options,
                                  std::map<std::string, std::vector<std::string>> lists = {}) {
        config::AccountConfig a;
        a.id = "icu";
        a.provider = "intervals_icu";
        if (!options.contains("token_file") && !options.contains("api_key_file") && !options.contains("credentials") &&
            !options.contains("client_id"))
            options["api_key_file"] = (m_dir / "key").string();
        if (!options.contains("base_url")) options["base_url"] = fake().base();
        a.options = std::move(options);
        a.list_options = std::move(lists);
        return a;
    }

    std::unique_ptr<IntervalsIcuProvider> make(std::map<std::string, std::string> options = {},
                                               std::map<std::string, std::vector<std::string>> lists = {}) {
        Context ctx{.executor = m_io.get_executor(),
                    .clock = &m_clock,
                    .state_dir = m_dir.path(),
                    .http = m_http,
                    .tokens = &m_tokens,
                    .cursors = &m_cursors};
        auto p = factory().create(account(std::move(options), std::move(lists)), ctx);
        if (!p) throw std::runtime_error(p.error().message);
        return std::unique_ptr<IntervalsIcuProvider>(dynamic_cast<IntervalsIcuProvider*>(p->release()));
    }

    using File = test::CorpusFile;
    static File corpus(const std::string& rel) { return test::load_corpus(rel); }
    static UploadRequest request(const File& f, std::string name, std::string external_id) {
        return UploadRequest{bytes_of(f.bytes), &f.summary, std::move(name), std::move(external_id)};
    }

    // Lists every page of a window.
    std::vector<RemoteActivity> list_all(Provider& p, ListQuery q) {
        return test::list_all(p, std::move(q), [&](Task<ListPage> t) { return run(std::move(t)); });
    }

    static inline FakeServer* s_fake = nullptr;
    test::TempDir m_dir;
    boost::asio::io_context m_io;
    // 2025-02-01T00:00:00Z
    ManualClock m_clock{SysTime(std::chrono::seconds(1738368000))};
    std::shared_ptr<SocketClient> m_socket = std::make_shared<SocketClient>();
    std::shared_ptr<net::HttpClient> m_http = m_socket;
    fitbridge::test::MemoryTokenStore m_tokens;
    store::MemoryCursorStore m_cursors;
};

// ---- options ----------------------------------------------------------------

TEST_F(IntervalsIcuTest, ValidationErrorsNameTheOption) {
    auto error_of = [&](std::map<std::string, std::string> o, std::map<std::string, std::vector<std::string>> l = {}) {
        config::AccountConfig a;
        a.id = "icu";
        a.provider = "intervals_icu";
        a.options = std::move(o);
        a.list_options = std::move(l);
        auto r = factory().validate(a);
        return r ? std::string("ok") : r.error().message;
    };
    EXPECT_EQ(error_of({{"api_key_file", "k"}}), "ok");
    EXPECT_EQ(error_of({{"token_file", "t"}, {"athlete_id", "i77"}, {"overlap_days", "0"}}), "ok");
    EXPECT_EQ(error_of({{"credentials", "stored"}}), "ok");
    EXPECT_EQ(error_of({{"client_id", "app"}, {"client_secret_file", "s"}}), "ok");
    EXPECT_EQ(error_of({}),
              "api_key_file: required (a file holding the API key from intervals.icu/settings), or token_file for "
              "an OAuth token, or client_id + client_secret_file for fitbridge auth, or credentials: stored");
    const std::string only_one =
        "api_key_file, token_file, credentials/client_id: set only one (an API key uses Basic auth, an OAuth token "
        "Bearer; stored credentials come from fitbridge auth or the API)";
    EXPECT_EQ(error_of({{"api_key_file", "k"}, {"token_file", "t"}}), only_one);
    EXPECT_EQ(error_of({{"api_key_file", "k"}, {"credentials", "stored"}}), only_one);
    EXPECT_EQ(error_of({{"token_file", "t"}, {"client_id", "app"}, {"client_secret_file", "s"}}), only_one);
    EXPECT_EQ(error_of({{"credentials", "file"}}),
              "credentials: expected 'stored' (set with fitbridge auth or POST /v1/accounts/ID/credentials), got "
              "'file'");
    EXPECT_EQ(error_of({{"client_id", "app"}}), "client_secret_file: required with client_id (the OAuth app's secret)");
    EXPECT_EQ(error_of({{"credentials", "stored"}, {"client_secret_file", "s"}}),
              "client_id: required with client_secret_file");
    EXPECT_EQ(error_of({{"api_key_file", "k"}, {"base_url", "ftp://x"}}),
              "base_url: 'ftp://x' must start with https:// (or http:// for a local fake)");
    EXPECT_EQ(error_of({{"api_key_file", "k"}, {"overlap_days", "-1"}}),
              "overlap_days: expected a whole number of days 0..365, got '-1'");
    EXPECT_EQ(error_of({{"api_key_file", "k"}, {"page_size", "0"}}), "page_size: expected a number 1..1000, got '0'");
    EXPECT_EQ(error_of({{"api_key_file", "k"}, {"api_key", "secret"}}), "unknown option 'api_key'");
    EXPECT_EQ(error_of({{"api_key_file", "k"}}, {{"gear_map", {"ride:b1", "run"}}}),
              "gear_map: 'run' must be <sport family>:<gear id>, e.g. ride:b12345");
    EXPECT_EQ(error_of({{"api_key_file", "k"}}, {{"athlete_id", {"a", "b"}}}),
              "athlete_id: expected one value, got a list");
    EXPECT_NE(find_factory("intervals_icu"), nullptr);
}

// ---- listing ------------------------------------------------------------------

TEST_F(IntervalsIcuTest, ListsAWindowWithBasicAuthAndMapsFields) {
    auto ids = add_activities(fake(), R"([
        {"start_date": "2025-01-10T08:00:00Z", "type": "VirtualRide", "name": "Zwift - Watopia",
         "elapsed_time": 3600, "distance": 30000.5},
        {"start_date": "2025-01-11T09:30:00Z", "type": "Run", "name": "Easy run", "elapsed_time": 1800,
         "distance": 5000},
        {"start_date": "2025-01-11T18:00:00Z", "strava": true},
        {"start_date": "2025-01-20T08:00:00Z", "type": "Ride", "name": "Outside the window"}])");
    auto p = make();
    ListQuery q;
    q.since = 1736467200;  // 2025-01-10T00:00:00Z
    q.until = 1736985600;  // 2025-01-16T00:00:00Z
    auto page = run(p->list(q));
    ASSERT_TRUE(page) << page.error().message;
    EXPECT_FALSE(page->next_cursor);
    ASSERT_EQ(page->items.size(), 3u);
    // Descending, as the API answers.
    const auto& stub = page->items[0];
    EXPECT_EQ(stub.remote_id, ids[2]);
    EXPECT_EQ(stub.unavailable_reason, "Strava-sourced activity: Intervals.icu does not provide it through its API");
    const auto& run_item = page->items[1];
    EXPECT_EQ(run_item.remote_id, ids[1]);
    EXPECT_EQ(run_item.name, "Easy run");
    EXPECT_EQ(run_item.start_time, 1736587800.0);
    EXPECT_EQ(run_item.elapsed_s, 1800.0);
    EXPECT_EQ(run_item.distance_m, 5000.0);
    EXPECT_EQ(run_item.sport_family, "run");
    EXPECT_FALSE(run_item.unavailable_reason);
    const auto& ride = page->items[2];
    EXPECT_EQ(ride.sport_family, "ride");
    EXPECT_EQ(ride.distance_m, 30000.5);
    EXPECT_EQ(ride.origin, fake().base() + "/activities/" + ids[0]);

    auto log = fake().requests_with_bodies();
    ASSERT_EQ(log.Size(), 1u);
    EXPECT_STREQ(log[0]["method"].GetString(), "GET");
    EXPECT_STREQ(log[0]["path"].GetString(), "/api/v1/athlete/0/activities");
    // Local date-times widened by 14 h each side (the API filters on local time).
    EXPECT_STREQ(log[0]["query"].GetString(),
                 "oldest=2025-01-09T10%3A00%3A00&newest=2025-01-16T14%3A00%3A00&limit=200&fields=id,name,start_date,"
                 "start_date_local,type,elapsed_time,distance,source,external_id");
    EXPECT_EQ(header_of(log[0], "Authorization"), k_basic);
    EXPECT_EQ(k_basic, "Basic " + b64("API_KEY:" + std::string(k_key)));
}

TEST_F(IntervalsIcuTest, PagesByMovingNewestDown) {
    std::string rows = "[";
    for (int i = 0; i < 7; ++i)
        rows += fmt::format(R"({}{{"start_date": "2025-01-{:02d}T07:00:00Z", "type": "Ride", "name": "r{}"}})",
                            i ? "," : "", 10 + i, i);
    add_activities(fake(), rows + "]");
    auto p = make({{"page_size", "3"}, {"athlete_id", "i12345"}});
    ListQuery q;
    q.since = 1736467200;  // 2025-01-10
    q.until = 1737072000;  // 2025-01-17
    auto all = list_all(*p, q);
    std::vector<std::string> names;
    for (const auto& a : all) names.push_back(a.name);
    // Each once, though page boundaries are listed twice by the API.
    EXPECT_EQ(names, (std::vector<std::string>{"r6", "r5", "r4", "r3", "r2", "r1", "r0"}));
    auto log = fake().requests_with_bodies();
    ASSERT_EQ(log.Size(), 4u);
    for (const auto& r : log.GetArray()) EXPECT_STREQ(r["path"].GetString(), "/api/v1/athlete/i12345/activities");
    // Newest of page n+1 = local start of the oldest row of page n (fake: UTC+1).
    EXPECT_STREQ(log[1]["args"]["newest"][0].GetString(), "2025-01-14T08:00:00");
    EXPECT_STREQ(log[2]["args"]["newest"][0].GetString(), "2025-01-12T08:00:00");
    EXPECT_STREQ(log[3]["args"]["newest"][0].GetString(), "2025-01-10T08:00:00");
    EXPECT_STREQ(log[3]["args"]["limit"][0].GetString(), "3");
}

TEST_F(IntervalsIcuTest, IncrementalListingKeepsATrailingOverlap) {
    add_activities(fake(), R"([{"start_date": "2025-01-30T07:00:00Z", "type": "Ride", "name": "recent"},
                   {"start_date": "2025-01-20T07:00:00Z", "type": "Ride", "name": "old"}])");
    auto p = make({{"overlap_days", "3"}});
    auto first = run(p->list({}));
    ASSERT_TRUE(first) << first.error().message;
    ASSERT_EQ(first->items.size(), 1u);
    EXPECT_EQ(first->items[0].name, "recent");
    auto log = fake().requests_with_bodies();
    // No watermark yet: now (2025-02-01) - 3 days - 14 h, and no newest (= now).
    EXPECT_STREQ(log[0]["query"].GetString(),
                 "oldest=2025-01-28T10%3A00%3A00&limit=200&fields=id,name,start_date,start_date_local,type,elapsed_"
                 "time,distance,source,external_id");
    // The newest start seen, kept in the store's cursors table.
    EXPECT_EQ(m_cursors.load("icu", "watermark").value(), "1738220400");

    // A later poll (and a new provider after a restart) starts 3 days before
    // the newest activity seen.
    m_clock.advance(std::chrono::hours(24 * 10));
    auto again = make({{"overlap_days", "3"}});
    auto second = run(again->list({}));
    ASSERT_TRUE(second);
    log = fake().requests_with_bodies();
    EXPECT_STREQ(log[1]["query"].GetString(),
                 "oldest=2025-01-26T17%3A00%3A00&limit=200&fields=id,name,start_date,start_date_local,type,elapsed_"
                 "time,distance,source,external_id");
    EXPECT_EQ(second->items.size(), 1u);
}

TEST_F(IntervalsIcuTest, AWatermarkSideFileOfAnOlderVersionIsReadOnce) {
    test::write_text(m_dir / "intervals_icu" / "icu.watermark", "1738220400\n");
    auto p = make({{"overlap_days", "3"}});
    ASSERT_TRUE(run(p->list({})));
    // 2025-01-30T07:00Z - 3 days - 14 h, as if the position had been in the store.
    EXPECT_STREQ(fake().requests_with_bodies()[0]["args"]["oldest"][0].GetString(), "2025-01-26T17:00:00");
    EXPECT_EQ(m_cursors.load("icu", "watermark").value(), std::nullopt);  // nothing newer was listed
    add_activities(fake(), R"({"start_date": "2025-01-31T07:00:00Z", "type": "Ride"})");
    ASSERT_TRUE(run(p->list({})));
    EXPECT_EQ(m_cursors.load("icu", "watermark").value(), "1738306800");
    EXPECT_FALSE(fs::exists(m_dir / "intervals_icu" / "icu.watermark"));
    // From now on the store decides, whatever a side file says.
    test::write_text(m_dir / "intervals_icu" / "icu.watermark", "1000\n");
    auto again = make({{"overlap_days", "3"}});
    ASSERT_TRUE(run(again->list({})));
    EXPECT_STREQ(fake().requests_with_bodies()[2]["args"]["oldest"][0].GetString(), "2025-01-27T17:00:00");
}

TEST_F(IntervalsIcuTest, BackfillListingsAndTheirDownloadsSpendTheBackfillShare) {
    add_activities(fake(), R"({"start_date": "2025-01-10T08:00:00Z", "type": "Ride", "file_b64": ")" +
                               b64(slurp(test::k_corpus / "gpx/fittrackee-e2e.gpx")) + R"("})");
    auto p = make();
    ListQuery q;
    q.since = 1736467200;
    q.backfill = true;
    auto listed = run(p->list(q));
    ASSERT_TRUE(listed) << listed.error().message;
    ASSERT_EQ(listed->items.size(), 1u);
    auto item = listed->items[0];
    item.backfill = true;  // what the engine marks on a backfill job's items
    ASSERT_TRUE(run(p->download(item)));
    q.backfill = false;
    ASSERT_TRUE(run(p->list(q)));
    const auto base = fake().base();
    using P = net::Priority;
    EXPECT_EQ(m_socket->priorities, (std::vector<std::pair<std::string, P>>{
                                        {"GET " + base + "/api/v1/athlete/0/activities", P::backfill},
                                        {"GET " + base + "/api/v1/activity/" + item.remote_id + "/file", P::backfill},
                                        {"GET " + base + "/api/v1/athlete/0/activities", P::live}}));
}

// ---- download -----------------------------------------------------------------

TEST_F(IntervalsIcuTest, DownloadsOriginalsPlainOrGzipped) {
    const auto fit = corpus("fit/garmin-fr55-coretemp-walk.fit");
    auto ids = add_activities(fake(), fmt::format(R"([{{"file_b64": "{}", "name": "plain"}},
        {{"file_b64": "{}", "name": "zipped", "serve_gzip": true, "start_date": "2024-01-01T00:00:00Z"}}])",
                                                  b64(fit.bytes), b64(fit.bytes)));
    auto p = make();
    RemoteActivity item;
    item.remote_id = ids[0];
    auto plain = run(p->download(item));
    ASSERT_TRUE(plain) << plain.error().message;
    EXPECT_EQ(*plain, fit.bytes);
    item.remote_id = ids[1];
    auto zipped = run(p->download(item));
    ASSERT_TRUE(zipped) << zipped.error().message;
    ASSERT_GT(zipped->size(), 2u);
    EXPECT_EQ(static_cast<uint8_t>((*zipped)[0]), 0x1f);
    auto decoded = formats::decode(bytes_of(*zipped));
    EXPECT_EQ(decoded.content_sha256, fit.summary.content_sha256);
    auto log = fake().requests_with_bodies();
    EXPECT_STREQ(log[0]["path"].GetString(), ("/api/v1/activity/" + ids[0] + "/file").c_str());

    // Something that is not an activity file says what came back.
    fake().fault(fmt::format(R"({{"path": "/api/v1/activity/{}/file", "status": 200,
        "body": "<html>maintenance</html>", "headers": [["Content-Type", "text/html"]]}})",
                             ids[0]));
    item.remote_id = ids[0];
    auto html = run(p->download(item));
    ASSERT_FALSE(html);
    EXPECT_EQ(html.error().cls, ErrorClass::permanent);
    EXPECT_EQ(html.error().message,
              "Intervals.icu sent 24 bytes of text/html starting \"<html>maintenance</html>\" for activity " + ids[0] +
                  ", not a FIT, TCX or GPX file");

    item.remote_id = "i999999";
    auto missing = run(p->download(item));
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().cls, ErrorClass::permanent);
    EXPECT_EQ(missing.error().code, "intervals_icu.not_found");
}

// ---- upload -------------------------------------------------------------------

TEST_F(IntervalsIcuTest, UploadsMultipartAndRecognisesDuplicates) {
    const auto fit = corpus("fit/garmin-fr55-coretemp-walk.fit");
    auto p = make();
    auto first = run(p->upload(request(fit, "Lunch walk & talk", "fitbridge-0123456789abcdef")));
    ASSERT_TRUE(first) << first.error().message;
    EXPECT_FALSE(first->duplicate);
    EXPECT_EQ(first->remote_id, "i1001");

    auto log = fake().requests_with_bodies();
    ASSERT_EQ(log.Size(), 1u);
    const auto& req = log[0];
    EXPECT_STREQ(req["method"].GetString(), "POST");
    EXPECT_STREQ(req["path"].GetString(), "/api/v1/athlete/0/activities");
    EXPECT_STREQ(req["query"].GetString(), "name=Lunch%20walk%20%26%20talk&external_id=fitbridge-0123456789abcdef");
    EXPECT_EQ(header_of(req, "Authorization"), k_basic);
    const std::string ctype = header_of(req, "Content-Type");
    ASSERT_TRUE(ctype.starts_with("multipart/form-data; boundary=fitbridge-")) << ctype;
    const std::string boundary = ctype.substr(ctype.find('=') + 1);
    // The body is exactly one file part holding the original bytes.
    std::string body = fitbridge::test::decode_base64(req["body_b64"].GetString());
    EXPECT_EQ(body,
              "--" + boundary +
                  "\r\nContent-Disposition: form-data; name=\"file\"; "
                  "filename=\"fitbridge-0123456789abcdef.fit\"\r\nContent-Type: application/octet-stream\r\n\r\n" +
                  fit.bytes + "\r\n--" + boundary + "--\r\n");
    auto stored = fake().get_json("/_fake/activities");
    ASSERT_EQ(stored.Size(), 1u);
    EXPECT_STREQ(stored[0]["name"].GetString(), "Lunch walk & talk");
    EXPECT_STREQ(stored[0]["external_id"].GetString(), "fitbridge-0123456789abcdef");
    EXPECT_STREQ(stored[0]["type"].GetString(), "Walk");

    // The same file again (even gzipped): 200, all duplicates, same id.
    auto again = run(p->upload(request(fit, "Again", "fitbridge-other")));
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_TRUE(again->duplicate);
    EXPECT_EQ(again->remote_id, "i1001");
    EXPECT_EQ(fake().get_json("/_fake/activities").Size(), 1u);
}

TEST_F(IntervalsIcuTest, GzippedUploadsKeepTheirSuffix) {
    const auto gz = corpus("fit/garmin-fenix2-run.fit.gz");
    auto p = make();
    auto r = run(p->upload(request(gz, "Run", "x1")));
    ASSERT_TRUE(r) << r.error().message;
    auto log = fake().requests_with_bodies();
    auto body = fitbridge::test::decode_base64(log[0]["body_b64"].GetString());
    EXPECT_NE(body.find("filename=\"x1.fit.gz\""), std::string::npos);
}

TEST_F(IntervalsIcuTest, RejectedFilesArePermanentWithThePlatformsMessage) {
    const auto bad = corpus("bad/header-only.fit");  // sniffs as FIT, has no records
    auto p = make();
    auto r = run(p->upload(request(bad, "Broken", "x")));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().cls, ErrorClass::permanent);
    EXPECT_EQ(r.error().message, "Intervals.icu rejected the file: cannot read fit file: index out of range");

    // Not an activity file at all: refused before anything is sent.
    std::string text = "hello";
    auto local = run(p->upload(UploadRequest{bytes_of(text), nullptr, "x", "y"}));
    ASSERT_FALSE(local);
    EXPECT_EQ(local.error().cls, ErrorClass::permanent);
    EXPECT_EQ(fake().requests_with_bodies().Size(), 1u);
}

// ---- errors -------------------------------------------------------------------

TEST_F(IntervalsIcuTest, ErrorClassesFollowThePlatform) {
    auto p = make();
    ListQuery q;
    q.since = 1736467200;
    auto list_error = [&]() {
        auto r = run(p->list(q));
        EXPECT_FALSE(r);
        return r ? Error{} : r.error();
    };

    fake().fault(R"({"path": "/api/v1/athlete", "status": 429, "headers": [["Retry-After", "7"]],
                     "body": "{\"status\":429,\"error\":\"Too Many Requests\"}"})");
    auto limited = list_error();
    EXPECT_EQ(limited.cls, ErrorClass::rate_limited);
    EXPECT_EQ(limited.retry_after, std::chrono::seconds(7));

    fake().fault(R"({"path": "/api/v1/athlete", "status": 503, "count": 2})");
    EXPECT_EQ(list_error().cls, ErrorClass::transient);
    EXPECT_EQ(list_error().cls, ErrorClass::transient);
    EXPECT_TRUE(run(p->list(q)));  // the burst is over

    fake().fault(R"({"path": "/api/v1/athlete", "pass_through": true, "truncate": true})");
    EXPECT_EQ(list_error().cls, ErrorClass::transient);
    fake().fault(R"({"path": "/api/v1/athlete", "close": true})");
    EXPECT_EQ(list_error().cls, ErrorClass::transient);

    fake().control("POST", "/_fake/outage", R"({"seconds": 30})");
    auto outage = list_error();
    EXPECT_EQ(outage.cls, ErrorClass::transient);
    EXPECT_EQ(outage.message, "Intervals.icu failed the activity list (503 Service Unavailable)");
    fake().control("DELETE", "/_fake/faults");
    EXPECT_TRUE(run(p->list(q)));

    // A slow answer still arrives (the client's deadline decides, not us).
    fake().fault(R"({"path": "/api/v1/athlete", "delay_ms": 300})");
    EXPECT_TRUE(run(p->list(q)));

    // Wrong key: 401, an auth error that says where the key comes from.
    test::write_text(m_dir / "key", "wrong");
    auto unauthorized = list_error();
    EXPECT_EQ(unauthorized.cls, ErrorClass::auth);
    EXPECT_EQ(unauthorized.message,
              "Intervals.icu rejected the credentials for the activity list (401 Unauthorized); check the key in "
              "api_key_file");

    // The API key configured as a Bearer token: 403 Access denied.
    auto bearer = make({{"token_file", (m_dir / "key").string()}});
    test::write_text(m_dir / "key", std::string(k_key));
    auto r = run(bearer->list(q));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().cls, ErrorClass::auth);
    EXPECT_EQ(r.error().message,
              "Intervals.icu denied the activity list (403 Access denied): a personal API key must be configured with "
              "api_key_file (sent as Basic API_KEY:<key>); token_file is only for OAuth tokens");
    auto log = fake().requests_with_bodies();
    EXPECT_EQ(header_of(log[log.Size() - 1], "Authorization"), "Bearer " + std::string(k_key));

    // A missing key file is an auth error naming the option.
    auto nokey = make({{"api_key_file", (m_dir / "absent").string()}});
    auto n = run(nokey->list(q));
    ASSERT_FALSE(n);
    EXPECT_EQ(n.error().cls, ErrorClass::auth);
    EXPECT_TRUE(n.error().message.starts_with("api_key_file: ")) << n.error().message;
}

TEST_F(IntervalsIcuTest, ThePlatformLimiterAnswers429WithRetryAfter) {
    // About 10 requests/s with a small burst (§4.4); the fake's limiter is off
    // unless configured.
    fake().control("POST", "/_fake/config", R"({"rate_limit_per_s": 10, "rate_burst": 3})");
    auto p = make();
    ListQuery q;
    q.since = 1736467200;
    int ok = 0;
    std::optional<Error> limited;
    for (int i = 0; i < 10 && !limited; ++i) {
        auto r = run(p->list(q));
        if (r)
            ++ok;
        else
            limited = r.error();
    }
    ASSERT_TRUE(limited);
    EXPECT_GE(ok, 3);
    EXPECT_EQ(limited->cls, ErrorClass::rate_limited);
    EXPECT_EQ(limited->retry_after, std::chrono::seconds(1));
    EXPECT_EQ(limited->message, "Intervals.icu rate limit hit during the activity list (429)");
}

TEST_F(IntervalsIcuTest, OAuthTokensUseBearer) {
    add_activities(fake(), R"({"start_date": "2025-01-10T08:00:00Z", "type": "Ride"})");
    auto p = make({{"token_file", (m_dir / "token").string()}});
    ListQuery q;
    q.since = 1736467200;
    auto r = run(p->list(q));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->items.size(), 1u);
    EXPECT_EQ(header_of(fake().requests_with_bodies()[0], "Authorization"), "Bearer test-oauth-token");
}

// ---- stored credentials (fitbridge auth, POST /v1/accounts/{id}/credentials)

TEST_F(IntervalsIcuTest, StoredCredentialsAreUsedWhenThereAndExplainedWhenNot) {
    add_activities(fake(), R"({"start_date": "2025-01-10T08:00:00Z", "type": "Ride"})");
    ListQuery q;
    q.since = 1736467200;

    // None stored yet: every call is an auth error saying how to give them; nothing is sent.
    auto none = make({{"credentials", "stored"}});
    ASSERT_TRUE(none->credential_source());
    EXPECT_EQ(none->credential_source()->kind, "none");
    EXPECT_EQ(none->credential_source()->origin, "stored");
    auto r = run(none->list(q));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().cls, ErrorClass::auth);
    EXPECT_EQ(r.error().message, "account icu has no credentials yet: POST them to /v1/accounts/icu/credentials");
    auto oauth_none = make({{"client_id", "app"}, {"client_secret_file", (m_dir / "token").string()}});
    EXPECT_EQ(run(oauth_none->list(q)).error().message,
              "account icu has no credentials yet: run `fitbridge auth icu` or POST them to "
              "/v1/accounts/icu/credentials");
    EXPECT_EQ(fake().requests_with_bodies().Size(), 0u);

    // A stored API key goes out as Basic API_KEY:<key>.
    ASSERT_TRUE(m_tokens.save("icu", net::Credentials{"api_key", std::string(k_key), "", std::nullopt, ""}));
    auto key = make({{"credentials", "stored"}});
    EXPECT_EQ(key->credential_source()->kind, "api_key");
    r = run(key->list(q));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->items.size(), 1u);
    EXPECT_EQ(header_of(fake().requests_with_bodies()[0], "Authorization"), "Basic QVBJX0tFWTp0ZXN0LWFwaS1rZXk=");

    // A stored OAuth token goes out as Bearer.
    ASSERT_TRUE(
        m_tokens.save("icu", net::Credentials{"oauth2", std::string(k_token), "", std::nullopt, "ACTIVITY:WRITE"}));
    auto token = make({{"credentials", "stored"}});
    EXPECT_EQ(token->credential_source()->kind, "oauth2");
    r = run(token->list(q));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(header_of(fake().requests_with_bodies()[1], "Authorization"), "Bearer test-oauth-token");

    // A revoked token: Intervals.icu gives no refresh token, so the 401 is
    // final at once, and the message says how to fix it.
    fake().control("POST", "/_fake/faults", R"({"path": "/api/v1/athlete", "count": 1, "status": 401,
                                                "body": "{\"status\":401,\"error\":\"Unauthorized\"}"})");
    auto revoked = make({{"client_id", "app"}, {"client_secret_file", (m_dir / "token").string()}});
    r = run(revoked->list(q));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().cls, ErrorClass::auth);
    EXPECT_EQ(r.error().message,
              "Intervals.icu rejected the credentials for the activity list (401 Unauthorized); check the stored "
              "credentials: run `fitbridge auth icu` again or POST new ones to /v1/accounts/icu/credentials");
    EXPECT_EQ(fake().requests_with_bodies().Size(), 3u);  // no resend: there was nothing to refresh

    // An API key stored as a token: Intervals.icu's 403, explained.
    ASSERT_TRUE(m_tokens.save("icu", net::Credentials{"token", std::string(k_key), "", std::nullopt, ""}));
    auto wrong = make({{"credentials", "stored"}});
    r = run(wrong->list(q));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message,
              "Intervals.icu denied the activity list (403 Access denied): the stored token is not an OAuth token it "
              "accepts (a personal API key is stored with kind api_key)");
}

TEST_F(IntervalsIcuTest, CredentialsAreAcceptedOnlyWhereTheConfigKeepsThemInTheStore) {
    auto accept = [&](std::map<std::string, std::string> options, std::string_view kind) {
        auto r = factory().accept_credentials(account(std::move(options)), kind);
        return r ? std::string("ok") : r.error().message;
    };
    EXPECT_EQ(accept({{"credentials", "stored"}}, "api_key"), "ok");
    EXPECT_EQ(accept({{"credentials", "stored"}}, "token"), "ok");
    EXPECT_EQ(accept({{"client_id", "app"}, {"client_secret_file", "s"}}, "oauth2"), "ok");
    EXPECT_EQ(accept({{"credentials", "stored"}}, "basic"),
              "Intervals.icu takes an api_key or a token (OAuth bearer), not 'basic'");
    EXPECT_EQ(accept({}, "api_key"),
              "account icu reads its API key from api_key_file: write it there, or replace that option with "
              "`credentials: stored` to keep credentials in the state store");
    EXPECT_EQ(accept({{"token_file", "t"}}, "oauth2"),
              "account icu reads its token from token_file: write it there, or replace that option with "
              "`credentials: stored` to keep credentials in the state store");
}

TEST_F(IntervalsIcuTest, OAuthEndpointsSitOnTheBaseUrlWithTheAppsSecret) {
    test::write_text(m_dir / "client-secret", "s3cret\n");
    config::Config cfg;
    auto e = factory().oauth(account({{"client_id", "app-7"},
                                      {"client_secret_file", (m_dir / "client-secret").string()},
                                      {"oauth_scope", "ACTIVITY:WRITE,WELLNESS:READ"},
                                      {"base_url", "https://intervals.icu/"}}),
                             cfg);
    ASSERT_TRUE(e) << e.error().message;
    EXPECT_EQ(e->authorize_url, "https://intervals.icu/oauth/authorize");
    EXPECT_EQ(e->token_url, "https://intervals.icu/api/oauth/token");
    EXPECT_EQ(e->client_id, "app-7");
    EXPECT_EQ(e->client_secret, "s3cret");
    EXPECT_EQ(e->scope, "ACTIVITY:WRITE,WELLNESS:READ");

    auto personal = factory().oauth(account({}), cfg);
    ASSERT_FALSE(personal);
    EXPECT_EQ(personal.error().message,
              "account icu has no client_id: OAuth needs an app registered with Intervals.icu (client_id + "
              "client_secret_file); a personal account uses api_key_file instead");
    auto unreadable =
        factory().oauth(account({{"client_id", "app-7"}, {"client_secret_file", (m_dir / "absent").string()}}), cfg);
    ASSERT_FALSE(unreadable);
    EXPECT_TRUE(unreadable.error().message.starts_with("client_secret_file: ")) << unreadable.error().message;
}

TEST_F(IntervalsIcuTest, WorksThroughTheRealClientItBuildsItself) {
    // No client in the context: the provider makes its own (net client,
    // paced, retrying) on the context's executor.
    const auto walk = corpus("fit/garmin-fr55-coretemp-walk.fit");
    const auto run_file = corpus("fit/garmin-fenix2-run.fit");
    auto ids = add_activities(fake(), fmt::format(R"({{"file_b64": "{}", "name": "Listed"}})", b64(walk.bytes)));
    Context ctx{.executor = m_io.get_executor(), .clock = &m_clock, .state_dir = m_dir.path()};
    auto made = factory().create(account({}), ctx);
    ASSERT_TRUE(made) << made.error().message;
    auto& p = **made;

    // A 5xx burst is retried inside the client.
    fake().fault(R"({"path": "/api/v1/athlete/0/activities", "method": "GET", "status": 503, "count": 2})");
    ListQuery q;
    q.since = *walk.summary.start_time - 3600;
    q.until = *walk.summary.start_time + 3600;
    auto page = run(m_io, p.list(q));
    ASSERT_TRUE(page) << page.error().message;
    ASSERT_EQ(page->items.size(), 1u);
    EXPECT_EQ(page->items[0].remote_id, ids[0]);
    EXPECT_EQ(page->items[0].start_time, walk.summary.start_time);

    auto bytes = run(m_io, p.download(page->items[0]));
    ASSERT_TRUE(bytes) << bytes.error().message;
    EXPECT_EQ(*bytes, walk.bytes);

    auto up = run(m_io, p.upload(request(run_file, "Run", "fitbridge-run")));
    ASSERT_TRUE(up) << up.error().message;
    EXPECT_FALSE(up->duplicate);
    auto dup = run(m_io, p.upload(request(run_file, "Run", "fitbridge-run")));
    ASSERT_TRUE(dup) << dup.error().message;
    EXPECT_TRUE(dup->duplicate);
    EXPECT_EQ(dup->remote_id, up->remote_id);
    ASSERT_TRUE(run(m_io, p.update_name(up->remote_id, "Renamed")));

    const auto bad = corpus("bad/header-only.fit");
    auto rejected = run(m_io, p.upload(request(bad, "Broken", "x")));
    ASSERT_FALSE(rejected);
    EXPECT_EQ(rejected.error().cls, ErrorClass::permanent);
    EXPECT_EQ(rejected.error().message, "Intervals.icu rejected the file: cannot read fit file: index out of range");

    auto log = fake().requests_with_bodies();
    ASSERT_EQ(log.Size(), 8u);  // 2 failed + 1 list, download, 2 uploads, rename, rejected upload
    for (const auto& r : log.GetArray()) EXPECT_EQ(header_of(r, "Authorization"), k_basic);
    EXPECT_STREQ(log[5]["method"].GetString(), "POST");
    const std::string ctype = header_of(log[5], "Content-Type");
    ASSERT_TRUE(ctype.starts_with("multipart/form-data; boundary=")) << ctype;
    EXPECT_NE(fitbridge::test::decode_base64(log[5]["body_b64"].GetString()).find(run_file.bytes), std::string::npos);
    EXPECT_STREQ(log[6]["body"].GetString(), R"({"name":"Renamed"})");
    auto stored = fake().get_json("/_fake/activities");
    EXPECT_EQ(stored.Size(), 2u);
}

// ---- find_existing, updates, gear ---------------------------------------------

TEST_F(IntervalsIcuTest, FindsExistingByExternalIdOrStartAndSport) {
    const auto fit = corpus("fit/garmin-fr55-coretemp-walk.fit");
    ASSERT_TRUE(fit.summary.start_time);
    const double start = *fit.summary.start_time;
    auto ids = add_activities(fake(), fmt::format(R"([
        {{"start": {}, "type": "Walk", "name": "by time"}},
        {{"start": {}, "type": "Ride", "name": "other sport", "external_id": "ext-b"}}])",
                                                  start + 30, start - 120));
    auto p = make();
    auto by_time = run(p->find_existing(request(fit, "x", "ext-a")));
    ASSERT_TRUE(by_time) << by_time.error().message;
    EXPECT_EQ(*by_time, ids[0]);
    auto by_ext = run(p->find_existing(request(fit, "x", "ext-b")));
    ASSERT_TRUE(by_ext);
    EXPECT_EQ(*by_ext, ids[1]);
    auto log = fake().requests_with_bodies();
    // start ± 5 min, widened by 14 h for local dates.
    EXPECT_STREQ(log[0]["args"]["oldest"][0].GetString(), "2025-01-27T23:28:02");
    EXPECT_STREQ(log[0]["args"]["newest"][0].GetString(), "2025-01-29T03:38:02");

    File shifted = fit;
    shifted.summary.start_time = start + 3600;
    auto none = run(p->find_existing(request(shifted, "x", "ext-c")));
    ASSERT_TRUE(none);
    EXPECT_FALSE(*none);
    shifted.summary.start_time = start - 100;
    shifted.summary.sport_family = "run";  // near the ride and the walk, but neither sport
    none = run(p->find_existing(request(shifted, "x", "ext-c")));
    ASSERT_TRUE(none);
    EXPECT_FALSE(*none);
}

TEST_F(IntervalsIcuTest, RenamesAndUpdatesWithPartialPuts) {
    auto ids = add_activities(fake(), R"([{"start_date": "2025-01-10T08:00:00Z", "type": "Ride", "name": "Old",
                               "description": "keep"}, {"strava": true}])");
    fake().control("POST", "/_fake/gear", R"([{"id": "b1", "name": "Tarmac"}, {"id": "s2", "name": "Pegasus",
                                              "type": "Shoes", "retired": "2024-01-01"}])");
    auto p = make();
    auto r = run(p->update_name(ids[0], "Zwift \"Alpe\" ride"));
    ASSERT_TRUE(r) << r.error().message;
    auto log = fake().requests_with_bodies();
    EXPECT_STREQ(log[0]["method"].GetString(), "PUT");
    EXPECT_STREQ(log[0]["path"].GetString(), ("/api/v1/activity/" + ids[0]).c_str());
    EXPECT_STREQ(log[0]["body"].GetString(), R"({"name":"Zwift \"Alpe\" ride"})");
    EXPECT_EQ(header_of(log[0], "Content-Type"), "application/json");

    ActivityUpdate u;
    u.description = "Indoor";
    u.type = "VirtualRide";
    u.gear_id = "b1";
    ASSERT_TRUE(run(p->update_activity(ids[0], u)));
    EXPECT_STREQ(fake().requests_with_bodies()[1]["body"].GetString(),
                 R"({"description":"Indoor","type":"VirtualRide","gear":{"id":"b1"}})");
    auto stored = fake().get_json("/_fake/activities");
    const auto& a = stored[stored[0]["id"].GetString() == ids[0] ? 0 : 1];
    EXPECT_STREQ(a["name"].GetString(), "Zwift \"Alpe\" ride");
    EXPECT_STREQ(a["description"].GetString(), "Indoor");
    EXPECT_STREQ(a["type"].GetString(), "VirtualRide");
    EXPECT_STREQ(a["gear"]["name"].GetString(), "Tarmac");

    // Strava activities cannot be updated: a permanent error with the reason.
    auto strava = run(p->update_name(ids[1], "x"));
    ASSERT_FALSE(strava);
    EXPECT_EQ(strava.error().cls, ErrorClass::permanent);
    EXPECT_EQ(strava.error().message,
              "Intervals.icu rejected the update of activity " + ids[1] + " (422 Strava activities cannot be updated)");
    auto missing = run(p->update_name("i424242", "x"));
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, "intervals_icu.not_found");

    auto gear = run(p->list_gear());
    ASSERT_TRUE(gear) << gear.error().message;
    ASSERT_EQ(gear->size(), 2u);
    EXPECT_EQ((*gear)[0].id, "b1");
    EXPECT_EQ((*gear)[0].name, "Tarmac");
    EXPECT_EQ((*gear)[0].type, "Bike");
    EXPECT_FALSE((*gear)[0].retired);
    EXPECT_TRUE((*gear)[1].retired);
    EXPECT_STREQ(fake().requests_with_bodies()[fake().requests_with_bodies().Size() - 1]["path"].GetString(),
                 "/api/v1/athlete/0/gear");
}

TEST_F(IntervalsIcuTest, GearMapSetsGearOnNewUploadsOnly) {
    const auto walk = corpus("fit/garmin-fr55-coretemp-walk.fit");
    ASSERT_EQ(walk.summary.sport_family, "walk");
    auto p = make({}, {{"gear_map", {"ride:b1", "walk:s2"}}});
    auto r = run(p->upload(request(walk, "Walk", "w")));
    ASSERT_TRUE(r) << r.error().message;
    auto log = fake().requests_with_bodies();
    ASSERT_EQ(log.Size(), 2u);
    EXPECT_STREQ(log[1]["method"].GetString(), "PUT");
    EXPECT_STREQ(log[1]["body"].GetString(), R"({"gear":{"id":"s2"}})");
    // A duplicate is left alone.
    ASSERT_TRUE(run(p->upload(request(walk, "Walk", "w"))));
    EXPECT_EQ(fake().requests_with_bodies().Size(), 3u);
}

}  // namespace
}  // namespace fitbridge::providers::intervals_icu
