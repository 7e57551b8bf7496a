// The Train it All provider against the Train it All fake (tests/fakes/run
// trainitall) over loopback HTTP: options and OAuth (public and confidential
// clients, PKCE), rotating refresh tokens saved before their first use and one
// refresh for concurrent requests, the list walked newest first without a date
// filter, FIT downloads, FIT uploads de-duplicated by SHA-256, JSON creates
// without perceivedExertion, and the documented error body.

#include "providers/trainitall/trainitall.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "json/json.hpp"
#include "net/oauth.hpp"
#include "provider_test_util.hpp"
#include "store/cursors.hpp"
#include "support/fake_server.hpp"
#include "support/memory_tokens.hpp"

namespace fitbridge::providers::trainitall {
namespace {

using Options = std::map<std::string, std::string>;
using fitbridge::test::FakeServer;

config::AccountConfig account(Options options) {
    config::AccountConfig a;
    a.id = "tia";
    a.provider = "trainitall";
    a.options = std::move(options);
    return a;
}

std::string text_of(const rapidjson::Value& v) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    v.Accept(w);
    return buf.GetString();
}

std::string error_of(Options options) {
    auto r = factory().validate(account(std::move(options)));
    return r ? "ok" : r.error().message;
}

TEST(TrainItAllOptions, AClientIdIsEnough) {
    EXPECT_EQ(error_of({{"client_id", "fitbridge"}}), "ok");
    EXPECT_EQ(error_of({{"credentials", "stored"}}),
              "credentials: Train it All tokens are refreshed through the OAuth client: set client_id (the stored "
              "tokens are used with it)");
    EXPECT_EQ(error_of({{"credentials", "stored"}, {"client_id", "fitbridge"}}), "ok");
    EXPECT_EQ(error_of({}), "client_id: required, with client_secret_file for a confidential client (fitbridge auth)");
    EXPECT_EQ(error_of({{"client_id", "fitbridge"}, {"page_size", "101"}}),
              "page_size: expected a number 1..100, got '101'");
    auto pub = factory().oauth(account({{"client_id", "fitbridge"}}), config::Config{});
    ASSERT_TRUE(pub) << pub.error().message;
    EXPECT_EQ(pub->authorize_url, "https://trainitall.com/oauth/authorize");
    EXPECT_EQ(pub->token_url, "https://trainitall.com/api/oauth/token");
    EXPECT_EQ(pub->scope, "profile:read activities:read activities:write");
    EXPECT_EQ(pub->client_secret, "");
    EXPECT_TRUE(pub->basic_auth);
    EXPECT_TRUE(factory().accept_credentials(account({{"client_id", "fitbridge"}}), "oauth2"));
    EXPECT_EQ(factory().accept_credentials(account({{"client_id", "fitbridge"}}), "api_key").error().message,
              "Train it All takes OAuth tokens (kind oauth2), not 'api_key'");
}

TEST(TrainItAllOptions, TheCreateBodyNeverCarriesPerceivedExertion) {
    formats::Summary s;
    s.sport_family = "ride";
    s.start_time = 1736496000;
    s.total_elapsed_time = 3723;
    s.total_distance = 40123.5;
    s.avg_hr = 141.4;
    s.max_hr = 172;
    EXPECT_EQ(create_body("Lunch Ride", s, "fb-9"),
              R"({"title":"Lunch Ride","type":"RIDE","startedAt":"2025-01-10T08:00:00Z","durationMin":62.05,)"
              R"("distanceKm":40.124,"avgHr":141,"maxHr":172,"externalId":"fb-9"})");
    formats::Summary bare;
    bare.start_time = 1736496000;
    EXPECT_EQ(create_body("", bare, ""), R"({"type":"OTHER","startedAt":"2025-01-10T08:00:00Z"})");
    EXPECT_EQ(sport_family_for("RUN"), "run");
    EXPECT_EQ(sport_family_for("RIDE"), "ride");
    EXPECT_EQ(sport_family_for("STRENGTH"), "strength");
}

// Counts saves and can "crash" right after one: the daemon dies with the new
// tokens saved but never used.
class WatchedStore final : public net::TokenStore {
public:
    fitbridge::test::MemoryTokenStore inner;
    std::function<void(const net::Credentials&)> on_save;
    int saves = 0;
    bool crash_after_save = false;
    Result<std::optional<net::Credentials>> load(const std::string& account) override { return inner.load(account); }
    Result<void> save(const std::string& account, const net::Credentials& c) override {
        ++saves;
        auto r = inner.save(account, c);
        if (on_save) on_save(c);
        if (crash_after_save) throw std::runtime_error("killed after saving the tokens");
        return r;
    }
};

class TrainItAllFake : public ::testing::Test {
protected:
    static void SetUpTestSuite() { s_fake = std::make_unique<FakeServer>("trainitall"); }
    static void TearDownTestSuite() { s_fake.reset(); }
    void SetUp() override {
        fake().reset();
        auto doc = json::parse(fake().control("POST", "/_fake/grant", "{}").body);
        m_store.inner.saved["tia"] =
            net::Credentials{"oauth2", (*doc)["access_token"].GetString(), (*doc)["refresh_token"].GetString(),
                             SystemClock().now() + std::chrono::hours(1), ""};
    }
    void TearDown() override { EXPECT_EQ(fake().violations().Size(), 0u); }
    static const FakeServer& fake() { return *s_fake; }

    std::unique_ptr<Provider> make(Options extra = {}) {
        Options o{{"base_url", fake().base()}, {"client_id", "fitbridge"}};
        for (auto& [k, v] : extra) o[k] = v;
        if (!m_http) m_http = factory().make_http(m_io.get_executor());
        Context ctx{.executor = m_io.get_executor(),
                    .clock = &m_clock,
                    .state_dir = m_dir.path(),
                    .config = &m_config,
                    .http = m_http,
                    .tokens = &m_store,
                    .cursors = &m_cursors};
        auto p = factory().create(account(o), ctx);
        if (!p) throw std::runtime_error(p.error().message);
        return std::move(*p);
    }
    template <typename T>
    Result<T> run(Task<T> task) {
        return test::run(m_io, std::move(task));
    }
    std::vector<std::string> seed(const std::string& spec) { return fake().seed_activities(spec); }
    static std::vector<std::string> calls() { return fake().request_lines(); }
    static std::string auth_of(const rapidjson::Value& r) {
        for (const auto& h : r["headers"].GetArray())
            if (std::string_view(h[0].GetString()) == "Authorization") return h[1].GetString();
        return {};
    }
    static UploadRequest request(const test::CorpusFile& f, std::string external_id) {
        return UploadRequest{test::bytes_of(f.bytes), &f.summary, "Morning", std::move(external_id)};
    }
    static constexpr double k_day = 86400;
    static constexpr double k_jan10 = 1736496000;  // 2025-01-10T08:00:00Z

    static inline std::unique_ptr<FakeServer> s_fake;
    test::TempDir m_dir;
    boost::asio::io_context m_io;
    SystemClock m_clock;
    config::Config m_config;
    WatchedStore m_store;
    store::MemoryCursorStore m_cursors;
    std::shared_ptr<net::HttpClient> m_http;
};

TEST_F(TrainItAllFake, TheCodeExchangeOfAPublicClientSendsTheVerifierAndNoSecret) {
    const auto pkce = net::make_pkce();
    m_http = factory().make_http(m_io.get_executor());
    auto endpoints = factory().oauth(account({{"base_url", fake().base()}, {"client_id", "fitbridge"}}), m_config);
    ASSERT_TRUE(endpoints) << endpoints.error().message;
    endpoints->redirect_uri = "http://127.0.0.1:9/callback";
    auto code = json::parse(fake()
                                .control("POST", "/_fake/code",
                                         fmt::format(R"({{"code_challenge": "{}", "redirect_uri": "{}"}})",
                                                     pkce.challenge, endpoints->redirect_uri))
                                .body);
    auto tokens = run(net::exchange_code(*m_http, *endpoints, (*code)["code"].GetString(), pkce.verifier, m_clock));
    ASSERT_TRUE(tokens) << tokens.error().message;
    EXPECT_TRUE(tokens->access_token.starts_with("tia_at_"));
    EXPECT_TRUE(tokens->refresh_token.starts_with("tia_rt_"));
    auto log = fake().requests_with_bodies();
    const std::string body = log[0]["body"].GetString();
    EXPECT_NE(body.find("client_id=fitbridge"), std::string::npos) << body;
    EXPECT_NE(body.find("code_verifier=" + pkce.verifier), std::string::npos) << body;
    EXPECT_EQ(body.find("client_secret"), std::string::npos) << body;
    EXPECT_EQ(auth_of(log[0]), "");
}

TEST_F(TrainItAllFake, ARotatedRefreshTokenIsSavedBeforeItsFirstUse) {
    seed(R"({"start": 1736496000, "type": "ride"})");
    const std::string old_refresh = m_store.inner.saved["tia"].refresh_token;
    size_t log_at_save = 0;
    m_store.on_save = [&](const net::Credentials&) { log_at_save = fake().requests().Size(); };
    fake().control("POST", "/_fake/expire");  // the access token is refused: 401, refresh, resend
    auto p = make();
    auto r = run(p->list(ListQuery{.since = k_jan10 - k_day, .until = k_jan10 + k_day}));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->items.size(), 1u);
    EXPECT_EQ(m_store.saves, 1);
    const auto saved = m_store.inner.saved["tia"];
    EXPECT_NE(saved.refresh_token, old_refresh);
    auto tokens = fake().get_json("/_fake/tokens");
    ASSERT_EQ(tokens["refresh"].Size(), 1u);  // the old one died at once
    EXPECT_EQ(std::string(tokens["refresh"][0].GetString()), saved.refresh_token);
    EXPECT_EQ(calls(),
              (std::vector<std::string>{"GET /api/external/v1/activities?page=1&per_page=100", "POST /api/oauth/token",
                                        "GET /api/external/v1/activities?page=1&per_page=100"}));
    // Saved when the token answer was in, before the request that used it.
    EXPECT_EQ(log_at_save, 2u);
    auto log = fake().requests();
    EXPECT_EQ(auth_of(log[2]), "Bearer " + saved.access_token);
}

TEST_F(TrainItAllFake, AStartAfterDyingRightAfterTheSaveStillWorks) {
    seed(R"({"start": 1736496000, "type": "ride"})");
    // Expired by the clock: the refresh comes before any request.
    m_store.inner.saved["tia"].expires_at = m_clock.now() - std::chrono::minutes(1);
    m_store.crash_after_save = true;
    {
        auto p = make();
        EXPECT_THROW((void)run(p->list(ListQuery{.since = k_jan10 - k_day, .until = k_jan10 + k_day})),
                     std::runtime_error);
    }
    EXPECT_EQ(calls(), (std::vector<std::string>{"POST /api/oauth/token"}));  // the new token was never used
    m_store.crash_after_save = false;
    m_io.restart();
    auto restarted = make();
    auto r = run(restarted->list(ListQuery{.since = k_jan10 - k_day, .until = k_jan10 + k_day}));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->items.size(), 1u);
    // And it can rotate again from what was saved.
    fake().control("POST", "/_fake/expire");
    auto again = run(restarted->list(ListQuery{.since = k_jan10 - k_day, .until = k_jan10 + k_day}));
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(fake().get_json("/_fake/tokens")["refreshes"].GetInt(), 2);
}

TEST_F(TrainItAllFake, AConfidentialClientRefreshesWithBasicAuth) {
    seed(R"({"start": 1736496000, "type": "ride"})");
    test::write_text(m_dir / "secret", "test-client-secret\n");
    auto doc = json::parse(fake().control("POST", "/_fake/grant", R"({"client_id": "fitbridge-conf"})").body);
    m_store.inner.saved["tia"] =
        net::Credentials{"oauth2", (*doc)["access_token"].GetString(), (*doc)["refresh_token"].GetString(),
                         m_clock.now() - std::chrono::minutes(1), ""};
    auto p = make({{"client_id", "fitbridge-conf"}, {"client_secret_file", (m_dir / "secret").string()}});
    auto r = run(p->list(ListQuery{.since = k_jan10 - k_day, .until = k_jan10 + k_day}));
    ASSERT_TRUE(r) << r.error().message;
    auto log = fake().requests_with_bodies();
    ASSERT_EQ(std::string(log[0]["path"].GetString()), "/api/oauth/token");
    EXPECT_EQ(auth_of(log[0]), "Basic " + net::base64("fitbridge-conf:test-client-secret"));
    EXPECT_EQ(std::string(log[0]["body"].GetString()),
              "grant_type=refresh_token&refresh_token=" + std::string((*doc)["refresh_token"].GetString()));
    EXPECT_EQ(log[0]["status"].GetInt(), 200);
}

boost::asio::awaitable<void> list_into(Provider& p, int& ok) {
    auto r = co_await p.list(ListQuery{.since = 1736409600, .until = 1736582400});
    if (r) ++ok;
}

TEST_F(TrainItAllFake, ConcurrentRequestsShareOneRefresh) {
    seed(R"({"start": 1736496000, "type": "ride"})");
    m_store.inner.saved["tia"].expires_at = m_clock.now() - std::chrono::minutes(1);
    auto p = make();
    int ok = 0;
    for (int i = 0; i < 3; ++i) boost::asio::co_spawn(m_io, list_into(*p, ok), boost::asio::detached);
    m_io.restart();
    m_io.run();
    EXPECT_EQ(ok, 3);
    EXPECT_EQ(fake().get_json("/_fake/tokens")["refreshes"].GetInt(), 1);
    EXPECT_EQ(fake().count("POST", "/api/oauth/token"), 1);
    EXPECT_EQ(m_store.saves, 1);
}

TEST_F(TrainItAllFake, ListsNewestFirstAndStopsBeforeTheWindow) {
    const auto ids =
        seed(R"([{"start": 1736496000, "type": "ride", "title": "Oldest", "durationSec": 3723, "distanceM": 40123.5},
                 {"start": 1736582400, "type": "run"}, {"start": 1736668800, "type": "WALK"},
                 {"start": 1736755200, "type": "swim"}, {"start": 1736841600, "type": "hike"}])");
    auto p = make({{"page_size", "2"}});
    auto all = test::list_all(*p, ListQuery{.since = 1736600000, .until = 1736900000},
                              [&](Task<ListPage> t) { return run(std::move(t)); });
    ASSERT_EQ(all.size(), 3u);
    EXPECT_EQ(all[0].remote_id, ids[4]);
    EXPECT_EQ(all[2].remote_id, ids[2]);
    EXPECT_EQ(all[2].sport_family, "walk");
    // Page 2 reaches before the window: page 3 is never asked for.
    EXPECT_EQ(calls(), (std::vector<std::string>{"GET /api/external/v1/activities?page=1&per_page=2",
                                                 "GET /api/external/v1/activities?page=2&per_page=2"}));
    auto oldest = test::list_all(*p, ListQuery{.since = 1736490000, .until = 1736500000},
                                 [&](Task<ListPage> t) { return run(std::move(t)); });
    ASSERT_EQ(oldest.size(), 1u);
    EXPECT_EQ(oldest[0].remote_id, ids[0]);
    EXPECT_EQ(oldest[0].name, "Oldest");
    EXPECT_EQ(oldest[0].start_time, 1736496000.0);
    EXPECT_EQ(oldest[0].elapsed_s, 3723.0);
    EXPECT_EQ(oldest[0].distance_m, 40123.5);
    EXPECT_EQ(oldest[0].sport_family, "ride");
}

TEST_F(TrainItAllFake, DownloadsTheFitOrSaysThereIsNone) {
    const auto fit = test::load_corpus("fit/garmin-fr55-coretemp-walk.fit");
    const double start = *fit.summary.start_time;
    const auto ids = seed(fmt::format(R"([{{"start": {}, "type": "walk", "file_b64": "{}"}},
                                          {{"start": {}, "type": "run"}}])",
                                      start, net::base64(fit.bytes), start + 7200));
    auto p = make();
    const ListQuery window{.since = start - 60, .until = start + 7300};
    auto listed = test::list_all(*p, window, [&](Task<ListPage> t) { return run(std::move(t)); });
    ASSERT_EQ(listed.size(), 2u);
    auto bytes = run(p->download(listed[1]));
    ASSERT_TRUE(bytes) << bytes.error().message;
    EXPECT_EQ(*bytes, fit.bytes);
    auto none = run(p->download(listed[0]));
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().code, "trainitall.unavailable");
    EXPECT_EQ(none.error().message, "Train it All has no FIT file for activity " + ids[1]);
    auto again = test::list_all(*p, window, [&](Task<ListPage> t) { return run(std::move(t)); });
    EXPECT_EQ(again[0].unavailable_reason, "Train it All has no FIT file for activity " + ids[1]);
}

TEST_F(TrainItAllFake, AFitIsImportedOnceAndAnAlreadyExistingOneIsADuplicate) {
    const auto fit = test::load_corpus("fit/garmin-fenix2-run.fit");
    auto p = make();
    auto up = run(p->upload(request(fit, "fb-1")));
    ASSERT_TRUE(up) << up.error().message;
    EXPECT_FALSE(up->duplicate);
    auto again = run(p->upload(request(fit, "fb-1")));
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_TRUE(again->duplicate);
    EXPECT_EQ(again->remote_id, up->remote_id);
    // An older server's "already exists" error names the activity too.
    fake().control("POST", "/_fake/config", R"({"duplicate_style": "conflict"})");
    auto conflict = run(p->upload(request(fit, "fb-1")));
    ASSERT_TRUE(conflict) << conflict.error().message;
    EXPECT_TRUE(conflict->duplicate);
    EXPECT_EQ(conflict->remote_id, up->remote_id);
    EXPECT_EQ(fake().count("POST", "/api/external/v1/fit-files"), 3);
    EXPECT_EQ(fake().get_json("/_fake/activities").Size(), 1u);
    auto log = fake().requests_with_bodies();
    const std::string body = log[0]["body_b64"].GetString();
    EXPECT_FALSE(body.empty());
}

TEST_F(TrainItAllFake, AnActivityWithoutAFitIsCreatedFromItsSummary) {
    formats::Summary s;
    s.sport_family = "ride";
    s.start_time = 1736496000;
    s.total_elapsed_time = 3723;
    s.total_distance = 40123.5;
    s.avg_power = 201;
    auto p = make();
    // Empty bytes: the engine's metadata-only delivery.
    auto made = run(p->upload(UploadRequest{{}, &s, "Lunch Ride", "fb-meta"}));
    ASSERT_TRUE(made) << made.error().message;
    EXPECT_FALSE(made->duplicate);
    auto stored = fake().get_json("/_fake/activities");
    ASSERT_EQ(stored.Size(), 1u);
    EXPECT_EQ(std::string(stored[0]["id"].GetString()), made->remote_id);
    EXPECT_EQ(text_of(stored[0]["written"]),
              R"({"title":"Lunch Ride","type":"RIDE","startedAt":"2025-01-10T08:00:00Z","durationMin":62.05,)"
              R"("distanceKm":40.124,"avgPower":201,"externalId":"fb-meta"})");
    EXPECT_FALSE(stored[0]["written"].HasMember("perceivedExertion"));
    // Listed back (with Train it All's own load score), found by its externalId: not created twice.
    auto again = run(p->upload(UploadRequest{{}, &s, "Lunch Ride", "fb-meta"}));
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_TRUE(again->duplicate);
    EXPECT_EQ(again->remote_id, made->remote_id);
    EXPECT_EQ(fake().count("POST", "/api/external/v1/activities"), 1);

    // A GPX original has no FIT either: created from its summary.
    const auto gpx = test::load_corpus("gpx/fittrackee-e2e.gpx");
    auto from_gpx = run(p->upload(request(gpx, "fb-gpx")));
    ASSERT_TRUE(from_gpx) << from_gpx.error().message;
    EXPECT_EQ(fake().count("POST", "/api/external/v1/activities"), 2);
    EXPECT_EQ(fake().count("POST", "/api/external/v1/fit-files"), 0);

    auto nothing = run(p->upload(UploadRequest{{}, nullptr, "x", "fb-none"}));
    ASSERT_FALSE(nothing);
    EXPECT_EQ(nothing.error().message, "cannot create the activity on Train it All: its start time is unknown");
}

TEST_F(TrainItAllFake, TheDocumentedErrorBodyIsOneLine) {
    fake().fault(R"({"path": "/api/external/v1/activities", "status": 400, "body":
        "{\"error\":\"Invalid request body.\",\"errorCode\":\"validation_error\",\"hint\":\"Check required fields and units.\",\"details\":{\"missingFields\":[\"startedAt\"]}}"})");
    auto p = make();
    auto r = run(p->list(ListQuery{.since = k_jan10, .until = k_jan10 + k_day}));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().cls, ErrorClass::permanent);
    EXPECT_EQ(r.error().message,
              "Train it All rejected the activity list (400 Invalid request body. [validation_error] Check required "
              "fields and units. (missing: startedAt))");
}

}  // namespace
}  // namespace fitbridge::providers::trainitall
