// The SweatStack provider against the SweatStack fake (tests/fakes/run
// sweatstack) over loopback HTTP: options, the list's dates and offset paging,
// downloads and activities without an original, FIT-only batched uploads with
// asynchronous processing, FastAPI errors and tokens handed back in the
// refreshed-token header.

#include "providers/sweatstack/sweatstack.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <map>

#include "json/json.hpp"
#include "net/oauth.hpp"
#include "provider_test_util.hpp"
#include "store/cursors.hpp"
#include "support/fake_server.hpp"

namespace fitbridge::providers::sweatstack {
namespace {

using Options = std::map<std::string, std::string>;
using fitbridge::test::FakeServer;

config::AccountConfig account(Options options) {
    config::AccountConfig a;
    a.id = "sweat";
    a.provider = "sweatstack";
    a.options = std::move(options);
    return a;
}

std::string error_of(Options options) {
    auto r = factory().validate(account(std::move(options)));
    return r ? "ok" : r.error().message;
}

TEST(SweatStackOptions, ATokenFileOrOAuth) {
    EXPECT_EQ(error_of({{"token_file", "sweatstack.token"}}), "ok");
    EXPECT_EQ(error_of({{"credentials", "stored"}}), "ok");
    EXPECT_EQ(error_of({}),
              "token_file: required (a file holding an OAuth token), or client_id + client_secret_file for "
              "fitbridge auth, or credentials: stored");
    EXPECT_EQ(error_of({{"token_file", "t"}, {"page_size", "501"}}), "page_size: expected a number 1..500, got '501'");
    test::TempDir dir;
    test::write_text(dir / "secret", "app-secret\n");
    auto e = factory().oauth(account({{"client_id", "app"}, {"client_secret_file", (dir / "secret").string()}}),
                             config::Config{});
    ASSERT_TRUE(e) << e.error().message;
    EXPECT_EQ(e->authorize_url, "https://app.sweatstack.no/oauth/authorize");
    EXPECT_EQ(e->token_url, "https://app.sweatstack.no/api/v1/oauth/token");
    EXPECT_EQ(e->scope, "data:read data:write offline_access");
    EXPECT_EQ(e->client_secret, "app-secret");
    EXPECT_FALSE(e->basic_auth);
}

TEST(SweatStackOptions, SportsByTheirFirstSegment) {
    EXPECT_EQ(sport_family_for("cycling.road"), "ride");
    EXPECT_EQ(sport_family_for("cycling"), "ride");
    EXPECT_EQ(sport_family_for("running.trail"), "run");
    EXPECT_EQ(sport_family_for("cross_country_skiing.classic"), "ski");
    EXPECT_EQ(sport_family_for("generic"), "other");
}

class SweatStackFake : public ::testing::Test {
protected:
    static void SetUpTestSuite() { s_fake = std::make_unique<FakeServer>("sweatstack"); }
    static void TearDownTestSuite() { s_fake.reset(); }
    void SetUp() override { fake().reset(); }
    void TearDown() override { EXPECT_EQ(fake().violations().Size(), 0u); }
    static const FakeServer& fake() { return *s_fake; }

    std::unique_ptr<Provider> make(Options extra = {}, std::string token = "test-api-key") {
        test::write_text(m_dir / "token", token + "\n");
        Options o{{"base_url", fake().base()}, {"token_file", (m_dir / "token").string()}};
        for (auto& [k, v] : extra) o[k] = v;
        if (!m_http) m_http = factory().make_http(m_io.get_executor());
        Context ctx{.executor = m_io.get_executor(),
                    .state_dir = m_dir.path(),
                    .config = &m_config,
                    .http = m_http,
                    .cursors = &m_cursors};
        auto p = factory().create(account(o), ctx);
        if (!p) throw std::runtime_error(p.error().message);
        return std::move(*p);
    }
    template <typename T>
    Result<T> run(Task<T> task) {
        return test::run(m_io, std::move(task));
    }
    std::vector<std::string> ids(const std::string& spec) { return fake().seed_activities(spec); }
    static std::vector<std::string> calls() { return fake().request_lines(); }
    static UploadRequest request(const test::CorpusFile& f, std::string external_id) {
        return UploadRequest{test::bytes_of(f.bytes), &f.summary, "Morning", std::move(external_id)};
    }

    static inline std::unique_ptr<FakeServer> s_fake;
    test::TempDir m_dir;
    boost::asio::io_context m_io;
    config::Config m_config;
    store::MemoryCursorStore m_cursors;
    std::shared_ptr<net::HttpClient> m_http;
};

TEST_F(SweatStackFake, ListsByDatesNewestFirstWithOffsetPaging) {
    // 2025-01-10T08:00:00Z and four more, a day apart.
    const auto seeded = ids(R"([{"start": 1736496000, "sport": "cycling.road", "duration": 3723, "distance": 40123.5},
        {"start": 1736582400, "sport": "running"}, {"start": 1736668800, "sport": "walking"},
        {"start": 1736755200, "sport": "swimming"}, {"start": 1736841600, "sport": "generic"}])");
    auto p = make({{"page_size", "2"}});
    const ListQuery window{.since = 1736467200, .until = 1736985600};  // [01-10, 01-16)
    auto all = test::list_all(*p, window, [&](Task<ListPage> t) { return run(std::move(t)); });
    ASSERT_EQ(all.size(), 5u);
    EXPECT_EQ(all[0].remote_id, seeded[4]);  // newest first
    const auto& ride = all[4];
    EXPECT_EQ(ride.remote_id, seeded[0]);
    EXPECT_EQ(ride.start_time, 1736496000.0);
    EXPECT_EQ(ride.elapsed_s, 3723.0);
    EXPECT_EQ(ride.distance_m, 40123.5);
    EXPECT_EQ(ride.sport_family, "ride");
    EXPECT_EQ(ride.origin, fake().base() + "/activities/" + seeded[0]);
    EXPECT_EQ(all[3].sport_family, "run");
    EXPECT_EQ(calls(), (std::vector<std::string>{
                           "GET /api/v1/activities/?start=2025-01-09&end=2025-01-17&offset=0&limit=2",
                           "GET /api/v1/activities/?start=2025-01-09&end=2025-01-17&offset=2&limit=2",
                           "GET /api/v1/activities/?start=2025-01-09&end=2025-01-17&offset=4&limit=2",
                       }));
}

TEST_F(SweatStackFake, ValidationErrorsReadAsOneLine) {
    fake().fault(R"({"path": "/api/v1/activities/", "status": 422, "body":
        "{\"detail\":[{\"loc\":[\"query\",\"start\"],\"msg\":\"Input should be a valid date\",\"type\":\"date_parsing\"}]}"})");
    auto p = make();
    auto r = run(p->list(ListQuery{.since = 1736467200, .until = 1736985600}));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().cls, ErrorClass::permanent);
    EXPECT_EQ(r.error().message,
              "SweatStack rejected the activity list (422 query.start: Input should be a valid date)");
}

TEST_F(SweatStackFake, DownloadsTheOriginalOrSaysThereIsNone) {
    const auto fit = test::load_corpus("fit/garmin-fr55-coretemp-walk.fit");
    const double start = *fit.summary.start_time;
    const auto seeded = ids(fmt::format(R"([{{"start": {}, "sport": "walking", "file_b64": "{}"}},
                                            {{"start": {}, "sport": "running"}}])",
                                        start, net::base64(fit.bytes), start + 7200));
    auto p = make();
    const ListQuery window{.since = start - 60, .until = start + 7300};
    auto listed = test::list_all(*p, window, [&](Task<ListPage> t) { return run(std::move(t)); });
    ASSERT_EQ(listed.size(), 2u);
    ASSERT_EQ(listed[1].remote_id, seeded[0]);
    auto bytes = run(p->download(listed[1]));
    ASSERT_TRUE(bytes) << bytes.error().message;
    EXPECT_EQ(*bytes, fit.bytes);
    auto none = run(p->download(listed[0]));
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().cls, ErrorClass::permanent);
    EXPECT_EQ(none.error().code, "sweatstack.unavailable");
    EXPECT_EQ(none.error().message, "SweatStack serves no original file for activity " + seeded[1]);
    // From then on it is listed as unavailable, so the engine records why.
    auto again = test::list_all(*p, window, [&](Task<ListPage> t) { return run(std::move(t)); });
    ASSERT_EQ(again.size(), 2u);
    EXPECT_EQ(again[0].unavailable_reason, "SweatStack serves no original file for activity " + seeded[1]);
    EXPECT_FALSE(again[1].unavailable_reason);
}

TEST_F(SweatStackFake, UploadsAFitAndFollowsItsProcessing) {
    const auto fit = test::load_corpus("fit/garmin-fenix2-run.fit");
    auto p = make();
    auto up = run(p->upload(request(fit, "fb-1")));
    ASSERT_TRUE(up) << up.error().message;
    EXPECT_FALSE(up->duplicate);
    auto sources = fake().get_json("/_fake/sources");
    ASSERT_EQ(sources.Size(), 1u);
    EXPECT_EQ(std::string(sources[0]["filename"].GetString()), "fb-1.fit");
    EXPECT_EQ(up->remote_id, sources[0]["activity_ids"][0].GetString());
    auto log = calls();
    ASSERT_EQ(log.size(), 4u);
    EXPECT_TRUE(log[0].starts_with("GET /api/v1/activities/?start=")) << log[0];  // find_existing first
    EXPECT_EQ(log[1], "POST /api/v1/activities/upload");
    EXPECT_EQ(log[2], "GET /api/v1/sources/src_1");  // processing
    EXPECT_EQ(log[3], "GET /api/v1/sources/src_1");  // processed

    // The same activity again: found, not sent.
    auto again = run(p->upload(request(fit, "fb-1")));
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_TRUE(again->duplicate);
    EXPECT_EQ(again->remote_id, up->remote_id);
    EXPECT_EQ(fake().count("POST", "/api/v1/activities/upload"), 1);
}

TEST_F(SweatStackFake, GpxAndTcxAreNotSent) {
    auto p = make();
    for (const auto& [file, kind] : {std::pair{"gpx/fittrackee-e2e.gpx", "a GPX file"}}) {
        const auto f = test::load_corpus(file);
        auto r = run(p->upload(request(f, "fb-gpx")));
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().cls, ErrorClass::permanent);
        EXPECT_EQ(r.error().code, "sweatstack.unsupported_format");
        EXPECT_EQ(r.error().message, fmt::format("SweatStack takes FIT files only and this activity's original is {}; "
                                                 "FitBridge converts nothing, so it is not sent",
                                                 kind));
    }
    const std::string tcx =
        R"(<?xml version="1.0"?><TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2">)"
        R"(<Activities><Activity Sport="Running"><Id>2025-01-10T08:00:00Z</Id></Activity></Activities></TrainingCenterDatabase>)";
    auto r = run(p->upload(UploadRequest{test::bytes_of(tcx), nullptr, "x", "fb-tcx"}));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "sweatstack.unsupported_format");
    EXPECT_NE(r.error().message.find("a TCX file"), std::string::npos) << r.error().message;
    EXPECT_EQ(fake().requests().Size(), 0u);
}

TEST_F(SweatStackFake, AFailedProcessingIsRejectedWithSweatStacksMessage) {
    fake().control("POST", "/_fake/config", R"({"fail_files": true})");
    const auto fit = test::load_corpus("fit/garmin-fenix2-run.fit");
    auto p = make();
    auto r = run(p->upload(request(fit, "fb-2")));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().cls, ErrorClass::permanent);
    EXPECT_EQ(r.error().code, "sweatstack.rejected");
    EXPECT_EQ(r.error().message, "SweatStack could not process the file: File is corrupt");
}

boost::asio::awaitable<void> upload_into(Provider& p, const UploadRequest& req,
                                         std::optional<Result<UploadResult>>& out) {
    out = co_await p.upload(req);
}

TEST_F(SweatStackFake, UploadsRunningTogetherShareOneRequest) {
    fake().control("POST", "/_fake/config", R"({"processing_polls": 0})");
    const auto run_fit = test::load_corpus("fit/garmin-fenix2-run.fit");
    const auto walk_fit = test::load_corpus("fit/garmin-fr55-coretemp-walk.fit");
    auto p = make();
    std::optional<Result<UploadResult>> a, b;
    const auto ra = request(run_fit, "fb-run"), rb = request(walk_fit, "fb-walk");
    boost::asio::co_spawn(m_io, upload_into(*p, ra, a), boost::asio::detached);
    boost::asio::co_spawn(m_io, upload_into(*p, rb, b), boost::asio::detached);
    m_io.restart();
    m_io.run();
    ASSERT_TRUE(a && *a) << (a ? a->error().message : "no answer");
    ASSERT_TRUE(b && *b) << (b ? b->error().message : "no answer");
    EXPECT_NE((*a)->remote_id, (*b)->remote_id);
    EXPECT_EQ(fake().count("POST", "/api/v1/activities/upload"), 1);
    // Which file the batch carries first depends on which upload reached it
    // first; each upload gets the activity of its own file either way.
    auto sources = fake().get_json("/_fake/sources");
    ASSERT_EQ(sources.Size(), 2u);
    std::map<std::string, std::string> activity_of;
    for (const auto& s : sources.GetArray()) activity_of[s["filename"].GetString()] = s["activity_ids"][0].GetString();
    ASSERT_EQ(activity_of.size(), 2u);
    EXPECT_EQ((*a)->remote_id, activity_of.at("fb-run.fit"));
    EXPECT_EQ((*b)->remote_id, activity_of.at("fb-walk.fit"));
}

TEST_F(SweatStackFake, ATokenHandedBackReplacesTheOneInUse) {
    // A token past half its life: the answer carries a fresh one.
    fake().control("POST", "/_fake/tokens", R"({"token": "aging", "expires_in": 20, "age": 30})");
    auto p = make({}, "aging");
    ASSERT_TRUE(run(p->list(ListQuery{.since = 1736467200, .until = 1736985600})));
    ASSERT_TRUE(run(p->list(ListQuery{.since = 1736467200, .until = 1736985600})));
    auto log = fake().requests();
    ASSERT_EQ(log.Size(), 2u);
    auto auth = [&](rapidjson::SizeType i) {
        for (const auto& h : log[i]["headers"].GetArray())
            if (std::string_view(h[0].GetString()) == "Authorization") return std::string(h[1].GetString());
        return std::string();
    };
    EXPECT_EQ(auth(0), "Bearer aging");
    EXPECT_EQ(auth(1), "Bearer refreshed-1");
}

}  // namespace
}  // namespace fitbridge::providers::sweatstack
