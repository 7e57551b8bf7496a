// The Strava provider against the Strava fake (tests/fakes/run strava) over
// loopback HTTP, through the shared client its factory makes (paced by the
// quota headers, retrying): wire format, mapping, files rebuilt from streams,
// upload-then-poll, OAuth refresh, quota and the platform's error wording.

#include "providers/strava/strava.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <cmath>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/time.hpp"
#include "formats/decode.hpp"
#include "json/json.hpp"
#include "net/oauth.hpp"
#include "net/rate_limit.hpp"
#include "provider_test_util.hpp"
#include "store/cursors.hpp"
#include "support/fake_server.hpp"
#include "support/memory_tokens.hpp"

namespace fitbridge::providers::strava {
namespace {

using fitbridge::test::FakeServer;
using test::bytes_of;
namespace fs = std::filesystem;

constexpr double k_t0 = 1736496000;  // 2025-01-10T08:00:00Z

std::string arg_of(const rapidjson::Value& req, const char* name) {
    const auto& args = req["args"];
    if (!args.HasMember(name)) return "<none>";
    return args[name][0].GetString();
}

class StravaTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() { s_fake = std::make_unique<FakeServer>("strava"); }
    static void TearDownTestSuite() { s_fake.reset(); }
    void SetUp() override {
        s_fake->reset();
        test::write_text(m_dir / "secret", "test-client-secret\n");
        m_http = find_factory("strava")->make_http(m_io.get_executor());
        m_tokens.saved["acc"] = net::Credentials{"oauth2", "test-oauth-token", "test-refresh-token",
                                                 m_clock.now() + std::chrono::hours(5), ""};
    }
    void TearDown() override {
        EXPECT_EQ(s_fake->violations().Size(), 0u) << fake().control("GET", "/_fake/violations").body;
    }

    const FakeServer& fake() const { return *s_fake; }

    std::unique_ptr<Provider> make(std::map<std::string, std::string> extra = {}) {
        config::AccountConfig account;
        account.id = "acc";
        account.provider = "strava";
        account.options = {
            {"base_url", fake().base()}, {"client_id", "12345"}, {"client_secret_file", (m_dir / "secret").string()}};
        for (auto& [k, v] : extra) account.options[k] = v;
        Context ctx{.executor = m_io.get_executor(),
                    .clock = &m_clock,
                    .state_dir = m_dir.path(),
                    .config = &m_config,
                    .http = m_http,
                    .tokens = &m_tokens,
                    .cursors = &m_cursors};
        auto p = find_factory("strava")->create(account, ctx);
        if (!p) throw std::runtime_error(p.error().message);
        return std::move(*p);
    }
    template <typename T>
    Result<T> run(Task<T> task) {
        return test::run(m_io, std::move(task));
    }
    std::vector<RemoteActivity> list_all(Provider& p, ListQuery q) {
        return test::list_all(p, std::move(q), [&](Task<ListPage> t) { return run(std::move(t)); });
    }
    std::vector<std::string> seed(const std::string& json) const {
        auto doc = json::parse(fake().control("POST", "/_fake/activities", json).body);
        std::vector<std::string> ids;
        for (const auto& v : doc->GetArray()) ids.emplace_back(v.GetString());
        return ids;
    }
    // The logged requests (with bodies) whose path is `path` and method `method`.
    std::vector<const rapidjson::Value*> requests(const rapidjson::Document& log, const std::string& method,
                                                  const std::string& path) const {
        std::vector<const rapidjson::Value*> out;
        for (const auto& r : log.GetArray())
            if (method == r["method"].GetString() && path == r["path"].GetString()) out.push_back(&r);
        return out;
    }

    static inline std::unique_ptr<FakeServer> s_fake;
    test::TempDir m_dir;
    boost::asio::io_context m_io;
    SystemClock m_clock;
    config::Config m_config;
    fitbridge::test::MemoryTokenStore m_tokens;
    store::MemoryCursorStore m_cursors;
    std::shared_ptr<net::HttpClient> m_http;
};

TEST_F(StravaTest, ListsByAfterBeforeAndPagesUntilAnEmptyPage) {
    auto ids = seed(fmt::format(
        R"([{{"start": {0}, "name": "Morning Ride", "sport_type": "VirtualRide", "elapsed_time": 3600, "distance": 30000}},
            {{"start": {1}, "name": "Lunch Run", "sport_type": "TrailRun", "elapsed_time": 1800, "distance": 5000}},
            {{"start": {2}, "name": "Gym", "sport_type": "WeightTraining", "manual": true}},
            {{"start": {3}, "name": "Mine", "external_id": "fitbridge-0123456789abcdef"}},
            {{"start": {4}, "name": "Swim"}}])",
        k_t0, k_t0 + 3600, k_t0 + 7200, k_t0 + 10800, k_t0 + 14400));
    auto p = make({{"page_size", "2"}});
    auto listed = list_all(*p, ListQuery{.since = k_t0, .until = k_t0 + 14400});
    // The one at `until` is outside.
    ASSERT_EQ(listed.size(), 4u);
    std::map<std::string, RemoteActivity> by_id;
    for (auto& i : listed) by_id[i.remote_id] = i;
    const auto& ride = by_id.at(ids[0]);
    EXPECT_EQ(ride.name, "Morning Ride");
    EXPECT_EQ(ride.start_time, k_t0);
    EXPECT_EQ(ride.elapsed_s, 3600.0);
    EXPECT_EQ(ride.distance_m, 30000.0);
    EXPECT_EQ(ride.sport_family, "ride");
    EXPECT_EQ(ride.origin, fake().base() + "/activities/" + ids[0]);
    EXPECT_FALSE(ride.unavailable_reason);
    EXPECT_EQ(by_id.at(ids[1]).sport_family, "run");
    EXPECT_EQ(by_id.at(ids[2]).unavailable_reason,
              "a manual activity: Strava has no recorded samples to build a file from");
    EXPECT_EQ(by_id.at(ids[3]).unavailable_reason,
              "uploaded by FitBridge (external_id fitbridge-0123456789abcdef): not imported back");

    auto log = fake().requests_with_bodies();
    auto lists = requests(log, "GET", "/api/v3/athlete/activities");
    ASSERT_EQ(lists.size(), 3u);  // pages 1-2 hold the 4 rows, page 3 is empty
    for (size_t i = 0; i < lists.size(); ++i) {
        EXPECT_EQ(arg_of(*lists[i], "after"), fmt::format("{}", static_cast<int64_t>(k_t0) - 1));
        EXPECT_EQ(arg_of(*lists[i], "before"), fmt::format("{}", static_cast<int64_t>(k_t0) + 14400));
        EXPECT_EQ(arg_of(*lists[i], "page"), std::to_string(i + 1));
        EXPECT_EQ(arg_of(*lists[i], "per_page"), "2");
    }
}

TEST_F(StravaTest, IncrementalListingKeepsItsPositionWithATrailingOverlap) {
    const double now = std::chrono::duration<double>(m_clock.now().time_since_epoch()).count();
    auto first = seed(fmt::format(R"({{"start": {}}})", now - 86400));
    auto p = make();
    EXPECT_EQ(list_all(*p, {}).size(), 1u);
    auto again = make();  // the watermark is in the cursor store
    auto listed = list_all(*again, {});
    ASSERT_EQ(listed.size(), 1u);  // the overlap lists the day-old one again
    auto log = fake().requests_with_bodies();
    auto lists = requests(log, "GET", "/api/v3/athlete/activities");
    ASSERT_EQ(lists.size(), 4u);
    // Three days before the newest start seen (the default overlap_days).
    EXPECT_EQ(arg_of(*lists[2], "after"),
              fmt::format("{}", static_cast<int64_t>(std::floor(now - 86400 - 3 * 86400)) - 1));
    EXPECT_EQ(arg_of(*lists[2], "before"), "<none>");
}

TEST_F(StravaTest, DownloadRebuildsAFileFromTheStreamsThatAgreesWithTheListing) {
    auto ids = seed(fmt::format(
        R"({{"start": {}, "name": "Col du Test", "sport_type": "Ride", "elapsed_time": 5400, "distance": 45210.5}})",
        k_t0));
    auto p = make();
    auto listed = list_all(*p, ListQuery{.since = k_t0 - 60, .until = k_t0 + 60});
    ASSERT_EQ(listed.size(), 1u);
    auto bytes = run(p->download(listed[0]));
    ASSERT_TRUE(bytes) << bytes.error().message;
    auto s = formats::decode(bytes_of(*bytes));
    ASSERT_TRUE(s.ok) << s.error;
    EXPECT_EQ(s.format, formats::Format::tcx);
    EXPECT_EQ(s.start_time, k_t0);
    EXPECT_EQ(s.sport_family, "ride");
    // The listing's totals exactly (the issue asks for 1 %).
    EXPECT_EQ(s.total_distance, 45210.5);
    EXPECT_EQ(s.total_elapsed_time, 5400.0);
    EXPECT_EQ(s.records, 1801);  // the fake samples every 3 s, and the last second
    EXPECT_EQ(s.records_with_position, 1801);
    EXPECT_TRUE(s.has_hr);
    EXPECT_TRUE(s.has_power);
    EXPECT_EQ(s.first_lat, 46.5);
    EXPECT_EQ(s.last_lat, 46.7);
    EXPECT_EQ(s.laps, 1);  // the fake's one lap over the whole activity

    auto log = fake().requests_with_bodies();
    auto streams = requests(log, "GET", "/api/v3/activities/" + ids[0] + "/streams");
    ASSERT_EQ(streams.size(), 1u);
    EXPECT_EQ(arg_of(*streams[0], "keys"), "time,latlng,altitude,heartrate,cadence,watts,distance,temp");
    EXPECT_EQ(arg_of(*streams[0], "key_by_type"), "true");
}

TEST_F(StravaTest, TheRebuiltFileHasTheActivitysLapsWhereTheyStart) {
    seed(fmt::format(R"({{"start": {}, "sport_type": "Run", "elapsed_time": 3000, "distance": 10000,
                          "laps": [600, 1200, 1200]}})",
                     k_t0));
    auto p = make();
    auto listed = list_all(*p, ListQuery{.since = k_t0 - 60, .until = k_t0 + 60});
    ASSERT_EQ(listed.size(), 1u);
    auto bytes = run(p->download(listed[0]));
    ASSERT_TRUE(bytes) << bytes.error().message;
    auto s = formats::decode(bytes_of(*bytes));
    ASSERT_TRUE(s.ok) << s.error;
    EXPECT_EQ(s.laps, 3);
    EXPECT_EQ(s.total_distance, 10000.0);
    EXPECT_EQ(s.total_elapsed_time, 3000.0);
    // Each lap starts at its first sample's time, with Strava's totals.
    const auto lap_at = [&](double offset, std::string_view seconds, std::string_view metres) {
        return bytes->find(fmt::format("<Lap StartTime=\"{}\">\n<TotalTimeSeconds>{}</TotalTimeSeconds>\n"
                                       "<DistanceMeters>{}</DistanceMeters>",
                                       format_iso8601(k_t0 + offset), seconds, metres)) != std::string::npos;
    };
    EXPECT_TRUE(lap_at(0, "600", "2000")) << bytes->substr(0, 800);
    EXPECT_TRUE(lap_at(600, "1200", "4000"));
    EXPECT_TRUE(lap_at(1800, "1200", "4000"));
}

TEST_F(StravaTest, WithLapsOffTheFileHasOneLapAndNoLapsAreRead) {
    seed(fmt::format(R"({{"start": {}, "elapsed_time": 3000, "laps": [600, 2400]}})", k_t0));
    auto p = make({{"laps", "false"}});
    auto listed = list_all(*p, ListQuery{.since = k_t0 - 60, .until = k_t0 + 60});
    ASSERT_EQ(listed.size(), 1u);
    auto bytes = run(p->download(listed[0]));
    ASSERT_TRUE(bytes) << bytes.error().message;
    auto s = formats::decode(bytes_of(*bytes));
    ASSERT_TRUE(s.ok) << s.error;
    EXPECT_EQ(s.laps, 1);
    EXPECT_EQ(fake().count("GET", "/api/v3/activities/[0-9]+/laps"), 0);
}

TEST_F(StravaTest, AnActivityWithoutStreamsIsUnavailableWithTheReason) {
    auto ids = seed(fmt::format(R"({{"start": {}, "streams": false}})", k_t0));
    auto p = make();
    auto listed = list_all(*p, ListQuery{.since = k_t0 - 60, .until = k_t0 + 60});
    ASSERT_EQ(listed.size(), 1u);
    auto bytes = run(p->download(listed[0]));
    ASSERT_FALSE(bytes);
    EXPECT_EQ(bytes.error().code, "strava.unavailable");
    EXPECT_EQ(bytes.error().cls, ErrorClass::permanent);
    EXPECT_EQ(bytes.error().message,
              fmt::format("activity {} has no streams on Strava (nothing was recorded)", ids[0]));
}

TEST_F(StravaTest, UploadsMultipartAndPollsUntilTheActivityIsReady) {
    fake().control("POST", "/_fake/config", R"({"processing_s": 100})");  // only polls move it on
    const auto fit = test::load_corpus("fit/garmin-fenix2-run.fit");
    auto p = make();
    auto up =
        run(p->upload(UploadRequest{bytes_of(fit.bytes), &fit.summary, "Tempo run", "fitbridge-00aa11bb22cc33dd"}));
    ASSERT_TRUE(up) << up.error().message;
    EXPECT_FALSE(up->duplicate);
    auto log = fake().requests_with_bodies();
    ASSERT_EQ(requests(log, "POST", "/api/v3/uploads").size(), 1u);
    // Processing takes two polls; the third sees the activity.
    auto uploads = fake().get_json("/_fake/uploads");
    ASSERT_EQ(uploads.Size(), 1u);
    const std::string upload_id = uploads[0]["id_str"].GetString();
    EXPECT_EQ(requests(log, "GET", "/api/v3/uploads/" + upload_id).size(), 3u);
    EXPECT_EQ(up->remote_id, std::to_string(uploads[0]["activity_id"].GetInt64()));
    auto acts = fake().get_json("/_fake/activities");
    ASSERT_EQ(acts.Size(), 1u);
    EXPECT_EQ(std::string(acts[0]["name"].GetString()), "Tempo run");
    EXPECT_EQ(std::string(acts[0]["external_id"].GetString()), "fitbridge-00aa11bb22cc33dd");
    EXPECT_EQ(acts[0]["start_date"].GetString(), format_iso8601(*fit.summary.start_time));
    EXPECT_EQ(std::string(acts[0]["sport_type"].GetString()), "Run");
}

// A virtual or indoor recording is uploaded as a trainer activity; an outdoor
// one says nothing (Strava's default). No file says "commute", so it is never sent.
TEST_F(StravaTest, IndoorRecordingsAreUploadedAsTrainerActivities) {
    fake().control("POST", "/_fake/config", R"({"processing_polls": 0, "processing_s": 0})");
    const auto zwift = test::load_corpus("fit/zwift-virtual-ride.fit");
    const auto road = test::load_corpus("fit/garmin-fenix2-run.fit");
    ASSERT_EQ(zwift.summary.sub_sport, "virtual_activity");
    auto p = make();
    ASSERT_TRUE(run(p->upload(UploadRequest{bytes_of(zwift.bytes), &zwift.summary, "Watopia", "fitbridge-01"})));
    ASSERT_TRUE(run(p->upload(UploadRequest{bytes_of(road.bytes), &road.summary, "Road", "fitbridge-02"})));
    auto log = fake().requests_with_bodies();
    auto posts = requests(log, "POST", "/api/v3/uploads");
    ASSERT_EQ(posts.size(), 2u);
    const std::string first = fitbridge::test::decode_base64((*posts[0])["body_b64"].GetString());
    const std::string second = fitbridge::test::decode_base64((*posts[1])["body_b64"].GetString());
    EXPECT_NE(first.find("name=\"trainer\"\r\n\r\n1\r\n"), std::string::npos) << first.substr(0, 600);
    EXPECT_EQ(second.find("name=\"trainer\""), std::string::npos);
    EXPECT_EQ(first.find("name=\"commute\""), std::string::npos);
    auto acts = fake().get_json("/_fake/activities");
    ASSERT_EQ(acts.Size(), 2u);
    std::map<std::string, bool> trainer;
    for (const auto& a : acts.GetArray()) trainer[a["name"].GetString()] = a["trainer"].GetBool();
    EXPECT_EQ(trainer, (std::map<std::string, bool>{{"Watopia", true}, {"Road", false}}));
}

TEST_F(StravaTest, ASecondUploadIsTheDuplicateOfTheFirstActivity) {
    const auto fit = test::load_corpus("fit/garmin-fenix2-run.fit");
    auto p = make();
    auto first = run(p->upload(UploadRequest{bytes_of(fit.bytes), &fit.summary, "Run", "fitbridge-1"}));
    ASSERT_TRUE(first) << first.error().message;
    auto second = run(p->upload(UploadRequest{bytes_of(fit.bytes), &fit.summary, "Run", "fitbridge-2"}));
    ASSERT_TRUE(second) << second.error().message;
    EXPECT_TRUE(second->duplicate);
    EXPECT_EQ(second->remote_id, first->remote_id);
    EXPECT_EQ(fake().get_json("/_fake/activities").Size(), 1u);
}

TEST_F(StravaTest, AnUploadErrorIsRejectedWithItsTextAndNotRetried) {
    const auto fit = test::load_corpus("fit/garmin-fenix2-run.fit");
    fake().fault(R"({"path": "/api/v3/uploads/", "method": "GET", "status": 200,
        "body": "{\"id\": 900001, \"id_str\": \"900001\", \"external_id\": \"fitbridge-3\", \"error\": \"Bad Request: invalid encoding\", \"status\": \"There was an error processing your activity.\", \"activity_id\": null}"})");
    auto p = make();
    auto up = run(p->upload(UploadRequest{bytes_of(fit.bytes), &fit.summary, "Run", "fitbridge-3"}));
    ASSERT_FALSE(up);
    EXPECT_EQ(up.error().cls, ErrorClass::permanent);
    EXPECT_EQ(up.error().code, "strava.rejected");
    EXPECT_EQ(up.error().message, "Strava rejected the file: Bad Request: invalid encoding");
    EXPECT_EQ(fake().count("POST", "/api/v3/uploads"), 1);
    EXPECT_EQ(fake().count("GET", "/api/v3/uploads/900001"), 1);
}

// An upload still processing after the poller's bound (about a minute of
// backoff) is a retryable error; the engine's retry polls that upload again
// instead of sending the file a second time.
TEST_F(StravaTest, AnUploadStillProcessingIsRetriedByPollingNotByUploadingAgain) {
    fake().control("POST", "/_fake/config", R"({"processing_polls": 1000, "processing_s": 100000})");
    const auto fit = test::load_corpus("fit/garmin-fenix2-run.fit");
    auto p = make();
    const UploadRequest req{bytes_of(fit.bytes), &fit.summary, "Run", "fitbridge-slow"};
    auto first = test::run(m_io, p->upload(req), std::chrono::seconds(150));  // 8 polls over a minute
    ASSERT_FALSE(first);
    EXPECT_EQ(first.error().cls, ErrorClass::transient);
    EXPECT_EQ(first.error().code, "strava.upload_pending");
    EXPECT_EQ(fake().count("GET", "/api/v3/uploads/900001"), 8);
    fake().control("POST", "/_fake/config", R"({"processing_polls": 0})");
    auto again = run(p->upload(req));
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_FALSE(again->duplicate);
    EXPECT_EQ(fake().count("POST", "/api/v3/uploads"), 1);
    EXPECT_EQ(fake().get_json("/_fake/activities").Size(), 1u);
}

TEST_F(StravaTest, FindsAnUploadByExternalIdThenByStartTime) {
    const auto fit = test::load_corpus("fit/garmin-fenix2-run.fit");
    const double start = *fit.summary.start_time;
    auto ids = seed(fmt::format(R"([{{"start": {}, "sport_type": "Run", "external_id": "fitbridge-77"}},
                                   {{"start": {}, "sport_type": "Run"}}])",
                                start + 200, start + 30));
    auto p = make();
    auto by_ext = run(p->find_existing(UploadRequest{bytes_of(fit.bytes), &fit.summary, "Run", "fitbridge-77"}));
    ASSERT_TRUE(by_ext) << by_ext.error().message;
    EXPECT_EQ(*by_ext, ids[0]);
    auto by_start = run(p->find_existing(UploadRequest{bytes_of(fit.bytes), &fit.summary, "Run", "fitbridge-78"}));
    ASSERT_TRUE(by_start) << by_start.error().message;
    EXPECT_EQ(*by_start, ids[1]);
}

TEST_F(StravaTest, UpdatesSendOnlyTheUpdatableFields) {
    auto ids = seed(fmt::format(R"({{"start": {}, "name": "Old"}})", k_t0));
    auto p = make();
    ASSERT_TRUE(run(p->update_name(ids[0], "New name")));
    ASSERT_TRUE(run(p->update_description(ids[0], "Legs & lungs")));
    ASSERT_TRUE(run(p->update_sport(ids[0], "run")));
    ASSERT_TRUE(run(p->update_gear(ids[0], "b77")));
    auto log = fake().requests_with_bodies();
    auto puts = requests(log, "PUT", "/api/v3/activities/" + ids[0]);
    ASSERT_EQ(puts.size(), 4u);
    EXPECT_EQ(std::string((*puts[0])["body"].GetString()), R"({"name":"New name"})");
    EXPECT_EQ(std::string((*puts[1])["body"].GetString()), R"({"description":"Legs & lungs"})");
    EXPECT_EQ(std::string((*puts[2])["body"].GetString()), R"({"sport_type":"Run"})");
    EXPECT_EQ(std::string((*puts[3])["body"].GetString()), R"({"gear_id":"b77"})");
    auto acts = fake().get_json("/_fake/activities");
    EXPECT_EQ(std::string(acts[0]["name"].GetString()), "New name");
    EXPECT_EQ(std::string(acts[0]["sport_type"].GetString()), "Run");
    EXPECT_EQ(std::string(acts[0]["gear_id"].GetString()), "b77");
    auto bad = run(p->update_sport(ids[0], "curling"));
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().message, "Strava has no sport type for sport 'curling'");
}

TEST_F(StravaTest, GearComesFromTheAthleteOnlyWithProfileReadAll) {
    fake().control("POST", "/_fake/gear",
                   R"({"bikes": [{"id": "b1", "name": "Tarmac", "primary": true, "distance": 1000},
                                 {"id": "b2", "name": "Old steel", "retired": true}],
                       "shoes": [{"id": "g9", "name": "Pegasus"}]})");
    auto p = make();
    auto gear = run(p->list_gear());
    ASSERT_TRUE(gear) << gear.error().message;
    ASSERT_EQ(gear->size(), 3u);
    EXPECT_EQ((*gear)[0].id, "b1");
    EXPECT_EQ((*gear)[0].name, "Tarmac");
    EXPECT_EQ((*gear)[0].type, "Bike");
    EXPECT_FALSE((*gear)[0].retired);
    EXPECT_TRUE((*gear)[1].retired);
    EXPECT_EQ((*gear)[2].id, "g9");
    EXPECT_EQ((*gear)[2].type, "Shoes");

    fake().control("POST", "/_fake/tokens", R"({"access_token": "narrow", "scope": "read,activity:read_all"})");
    m_tokens.saved["acc"] = net::Credentials{"oauth2", "narrow", "", std::nullopt, "read,activity:read_all"};
    auto narrow = make();
    auto none = run(narrow->list_gear());
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().message,
              "Strava listed no bikes or shoes: the authorisation lacks profile:read_all; run `fitbridge auth acc` "
              "again and leave it ticked");
}

TEST_F(StravaTest, AnExpiringTokenIsRefreshedOnceBeforeUseAndTheRotatedOneSavedFirst) {
    // Expires within the minute: refreshed before the requests, not after a 401.
    m_tokens.saved["acc"] = net::Credentials{"oauth2", "test-oauth-token", "test-refresh-token",
                                             m_clock.now() + std::chrono::seconds(30), ""};
    seed(fmt::format(R"({{"start": {}}})", k_t0));
    auto p = make();
    // Three requests see the expiry together: one refresh (single flight).
    int done = 0;
    for (int i = 0; i < 3; ++i)
        boost::asio::co_spawn(
            m_io,
            [&]() -> boost::asio::awaitable<void> {
                auto r = co_await p->list(ListQuery{.since = k_t0 - 60, .until = k_t0 + 60});
                EXPECT_TRUE(r) << r.error().message;
                ++done;
            },
            boost::asio::detached);
    ASSERT_TRUE(test::run_until(
        m_io, [&] { return done == 3; }, std::chrono::seconds(30)));
    auto oauth = fake().get_json("/_fake/oauth");
    EXPECT_EQ(oauth["refreshes"].GetInt(), 1);
    const auto& saved = m_tokens.saved.at("acc");
    EXPECT_EQ(saved.access_token, "access-1");
    EXPECT_EQ(saved.refresh_token, "refresh-1");  // the rotated one; test-refresh-token is dead now
    EXPECT_EQ(fake().count("GET", "/api/v3/athlete/activities", 401), 0);
    auto log = fake().requests_with_bodies();
    auto refresh = requests(log, "POST", "/oauth/token");
    ASSERT_EQ(refresh.size(), 1u);
    EXPECT_EQ(
        std::string((*refresh[0])["body"].GetString()),
        "grant_type=refresh_token&refresh_token=test-refresh-token&client_id=12345&client_secret=test-client-secret");
}

TEST_F(StravaTest, A401IsRefreshedOnceThenNeedsReauthWithStravasMessage) {
    seed(fmt::format(R"({{"start": {}}})", k_t0));
    fake().control("POST", "/_fake/tokens", R"({"expire": true})");
    auto p = make();
    auto r = run(p->list(ListQuery{.since = k_t0 - 60, .until = k_t0 + 60}));
    ASSERT_TRUE(r) << r.error().message;  // refreshed after the 401
    EXPECT_EQ(r->items.size(), 1u);
    fake().control("POST", "/_fake/tokens", R"({"expire": true})");
    fake().fault(R"({"path": "/oauth/token", "status": 400, "count": 1,
        "body": "{\"message\": \"Bad Request\", \"errors\": [{\"resource\": \"RefreshToken\", \"field\": \"refresh_token\", \"code\": \"invalid\"}]}"})");
    auto dead = run(p->list(ListQuery{.since = k_t0 - 60, .until = k_t0 + 60}));
    ASSERT_FALSE(dead);
    EXPECT_EQ(dead.error().cls, ErrorClass::auth);
    // The refresh was refused, so the 401 stands, in Strava's words.
    EXPECT_EQ(dead.error().message,
              "Strava rejected the credentials for the activity list (401 Authorization Error); check the stored "
              "credentials: run `fitbridge auth acc` again or POST new ones to /v1/accounts/acc/credentials");
}

TEST_F(StravaTest, SinglePlayerModeIsExplained) {
    fake().control("POST", "/_fake/config", R"({"athlete_limit_exceeded": true})");
    auto p = make();
    auto r = run(p->list(ListQuery{.since = k_t0 - 60, .until = k_t0 + 60}));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().cls, ErrorClass::auth);
    EXPECT_EQ(r.error().code, "strava.athlete_limit");
    EXPECT_EQ(r.error().message,
              "Strava denied the activity list (403 Limit of connected athletes exceeded: Application athletes limit "
              "exceeded): the API application is in Single Player Mode, where only the athlete who created it can "
              "connect; every FitBridge user registers an application of their own at strava.com/settings/api and "
              "configures its client_id");
}

TEST(StravaText, FaultBodiesAreOneLine) {
    EXPECT_EQ(
        fault_line(
            R"({"message":"Bad Request","errors":[{"resource":"upload","field":"gzip","code":"invalid encoding"}]})"),
        "Bad Request: upload gzip invalid encoding");
    EXPECT_EQ(
        fault_line(
            R"({"message":"Authorization Error","errors":[{"resource":"AccessToken","field":"write_permission","code":"missing"},{"resource":"Athlete","field":"","code":"invalid"}]})"),
        "Authorization Error: AccessToken write_permission missing; Athlete invalid");
    EXPECT_EQ(fault_line(R"({"message":"Record Not Found","errors":[]})"), "Record Not Found");
    EXPECT_EQ(fault_line("<html><title>502 Bad Gateway</title></html>"), "an HTML page titled \"502 Bad Gateway\"");
    EXPECT_EQ(duplicate_of("ride.fit duplicate of activity 1001"), "1001");
    EXPECT_EQ(duplicate_of("ride.fit duplicate of <a href='/activities/98765'>activity 98765</a>"), "98765");
    EXPECT_EQ(duplicate_of("file empty"), std::nullopt);
    EXPECT_EQ(sport_family_for_type("VirtualRide"), "ride");
    EXPECT_EQ(sport_family_for_type("TrailRun"), "run");
    EXPECT_EQ(sport_family_for_type("BackcountrySki"), "ski");
}

TEST(StravaText, AuthSaysWhichGrantedScopeIsMissing) {
    const auto* f = find_factory("strava");
    ASSERT_NE(f->missing_scopes, nullptr);
    EXPECT_EQ(f->missing_scopes("read,activity:read_all,activity:write,profile:read_all"), std::vector<std::string>{});
    EXPECT_EQ(f->missing_scopes("read,activity:read_all"),
              (std::vector<std::string>{"activity:write (uploads and updates of names, sport and gear)",
                                        "profile:read_all (reading bikes and shoes for gear)"}));
}

// ---- quota -------------------------------------------------------------------

TEST_F(StravaTest, TheBudgetComesFromTheHeadersAndIsVisible) {
    seed(fmt::format(R"({{"start": {}}})", k_t0));
    auto p = make();
    EXPECT_TRUE(p->budget().empty());  // nothing announced yet
    ASSERT_TRUE(run(p->list(ListQuery{.since = k_t0 - 60, .until = k_t0 + 60})));
    auto b = p->budget();
    ASSERT_EQ(b.size(), 4u);
    EXPECT_EQ(b[0].name, "15min");
    EXPECT_EQ(b[0].used, 1);
    EXPECT_EQ(b[0].limit, 200);
    EXPECT_EQ(b[1].name, "daily");
    EXPECT_EQ(b[1].limit, 2000);
    EXPECT_EQ(b[2].name, "read_15min");
    EXPECT_EQ(b[2].limit, 100);
    EXPECT_EQ(b[3].name, "read_daily");
    EXPECT_EQ(b[3].limit, 1000);
    const double now = std::chrono::duration<double>(m_clock.now().time_since_epoch()).count();
    EXPECT_EQ(b[0].resets_at, std::floor(now / 900) * 900 + 900);
    EXPECT_EQ(b[1].resets_at, std::floor(now / 86400) * 86400 + 86400);
}

TEST_F(StravaTest, StopsBeforeTheWindowIsSpentAndPausesUntilItEnds) {
    // Not across a quarter hour: the windows would start afresh mid-test.
    const double before = std::chrono::duration<double>(m_clock.now().time_since_epoch()).count();
    if (std::floor(before / 900) * 900 + 900 - before < 150) std::this_thread::sleep_for(std::chrono::seconds(151));
    fake().control("POST", "/_fake/config", R"({"limits": {"read": [4, 1000]}})");
    seed(fmt::format(R"({{"start": {}}})", k_t0));
    auto p = make();
    // A backfill may spend half of the read window (2 of 4): it stops there
    // without a 429; a live poll may go on to the limit.
    ASSERT_TRUE(run(p->list(ListQuery{.since = k_t0 - 60, .until = k_t0 + 60, .backfill = true})));
    ASSERT_TRUE(run(p->list(ListQuery{.since = k_t0 - 60, .until = k_t0 + 60, .backfill = true})));
    auto held = run(p->list(ListQuery{.since = k_t0 - 60, .until = k_t0 + 60, .backfill = true}));
    ASSERT_FALSE(held);
    EXPECT_EQ(held.error().cls, ErrorClass::rate_limited);
    EXPECT_EQ(held.error().code, "net.rate_budget");
    const double now = std::chrono::duration<double>(m_clock.now().time_since_epoch()).count();
    const double to_quarter = std::floor(now / 900) * 900 + 900 - now;
    ASSERT_TRUE(held.error().retry_after);
    // Unless the quarter hour ends within the client's own short wait.
    EXPECT_NEAR(static_cast<double>(held.error().retry_after->count()), to_quarter, 2.0);
    EXPECT_TRUE(run(p->list(ListQuery{.since = k_t0 - 60, .until = k_t0 + 60})));
    EXPECT_TRUE(run(p->list(ListQuery{.since = k_t0 - 60, .until = k_t0 + 60})));
    EXPECT_EQ(fake().count("GET", "/api/v3/athlete/activities"), 4);
    EXPECT_EQ(fake().count("GET", "/api/v3/athlete/activities", 429), 0);
}

TEST_F(StravaTest, A429WithoutRetryAfterPausesUntilUtcMidnightWhenTheDayIsSpent) {
    seed(fmt::format(R"({{"start": {}}})", k_t0));
    fake().fault(R"({"path": "/api/v3/athlete/activities", "status": 429,
        "headers": [["X-RateLimit-Limit", "200,2000"], ["X-RateLimit-Usage", "20,2000"],
                    ["X-ReadRateLimit-Limit", "100,1000"], ["X-ReadRateLimit-Usage", "10,1000"]],
        "body": "{\"message\": \"Rate Limit Exceeded\", \"errors\": [{\"resource\": \"Application\", \"field\": \"rate limit\", \"code\": \"exceeded\"}]}"})");
    auto p = make();
    auto r = run(p->list(ListQuery{.since = k_t0 - 60, .until = k_t0 + 60}));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().cls, ErrorClass::rate_limited);
    const double now = std::chrono::duration<double>(m_clock.now().time_since_epoch()).count();
    ASSERT_TRUE(r.error().retry_after);
    EXPECT_NEAR(static_cast<double>(r.error().retry_after->count()), std::floor(now / 86400) * 86400 + 86400 - now,
                2.0);
}

// What a history costs: listing pages plus a streams and a laps request per
// activity, all reads. Counted at the fake, so the estimate below holds for this provider.
TEST_F(StravaTest, AHistoryCostsOneReadPerActivityPlusItsPages) {
    std::string specs = "[";
    for (int i = 0; i < 5; ++i) specs += fmt::format(R"({}{{"start": {}}})", i ? "," : "", k_t0 + i * 3600);
    seed(specs + "]");
    auto p = make({{"page_size", "2"}});
    auto listed = list_all(*p, ListQuery{.since = k_t0 - 60, .until = k_t0 + 86400, .backfill = true});
    ASSERT_EQ(listed.size(), 5u);
    for (const auto& item : listed) ASSERT_TRUE(run(p->download(item)));
    auto quota = fake().get_json("/_fake/quota");
    EXPECT_EQ(quota["read"][0].GetInt(), 3 + 1 + 5 * 2);  // 3 pages, the empty one, 5 streams and 5 laps
}

// The README's figures: 1,000 activities take 6 listing pages (200 each, then
// the empty one), 1,000 streams requests and 1,000 laps requests (none with
// `laps: false`); backfill may spend half of the default read windows (100
// per 15 minutes, 1,000 a day), so 500 a day.
std::chrono::milliseconds history_time(int reads) {
    const SysTime midnight{std::chrono::seconds(1736467200)};  // 2025-01-10T00:00:00Z
    ManualClock clock(midnight);
    net::RateLimiter limiter({0, 1, 0.5}, clock);
    net::HttpResponse headers;
    headers.status = 200;
    headers.headers = {{"x-ratelimit-limit", "200,2000"},
                       {"x-ratelimit-usage", "0,0"},
                       {"x-readratelimit-limit", "100,1000"},
                       {"x-readratelimit-usage", "0,0"}};
    limiter.observe(headers);
    SysTime last = midnight;
    for (int i = 0; i < reads; ++i) {
        clock.advance(limiter.delay(net::Priority::backfill, net::RequestKind::read));
        limiter.on_send(net::RequestKind::read);
        last = clock.now();
    }
    // A live poll still finds the other half of the window.
    EXPECT_EQ(limiter.delay(net::Priority::live, net::RequestKind::read), std::chrono::milliseconds(0));
    return std::chrono::duration_cast<std::chrono::milliseconds>(last - midnight);
}

TEST(StravaHistory, AThousandActivitiesTakeFourDaysWithLapsAndTwoWithout) {
    // 500 reads on each of the first four days (ten 15-minute windows, until
    // 02:15), the last 6 at the fifth midnight.
    EXPECT_EQ(history_time(1000 / 200 + 1 + 2 * 1000), std::chrono::hours(96));
    // laps: false: 500 on each of the first two days, 6 at the third midnight.
    EXPECT_EQ(history_time(1000 / 200 + 1 + 1000), std::chrono::hours(48));
}

}  // namespace
}  // namespace fitbridge::providers::strava
