// The TrainingPeaks provider against the TrainingPeaks fake (tests/fakes/run
// trainingpeaks): the route its credential option selects; the personal
// route's cookie exchange (renewed after a 401, an expired cookie a
// needs-reauth error saying to copy it again), date windows of at most 90
// days, planned workouts left out, device files through the attachments; and
// the partner route's JSON file upload followed to its workout.

#include "providers/trainingpeaks/trainingpeaks.hpp"

#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include "core/version.hpp"
#include "json/json.hpp"
#include "net/oauth.hpp"
#include "provider_test_util.hpp"
#include "store/cursors.hpp"
#include "support/fake_server.hpp"
#include "support/memory_tokens.hpp"
#include "support/synth.hpp"

namespace fitbridge::providers::trainingpeaks {
namespace {

using Options = std::map<std::string, std::string>;
using fitbridge::test::FakeServer;

config::AccountConfig account(Options options) {
    config::AccountConfig a;
    a.id = "tp";
    a.provider = "trainingpeaks";
    a.options = std::move(options);
    return a;
}

std::string error_of(Options options) {
    auto r = factory().validate(account(std::move(options)));
    return r ? "ok" : r.error().message;
}

TEST(TrainingPeaksOptions, TheCredentialOptionSelectsTheRoute) {
    EXPECT_EQ(error_of({{"cookie_file", "/c"}}), "ok");
    EXPECT_EQ(error_of({{"client_id", "x"}, {"client_secret_file", "/s"}}), "ok");
    EXPECT_EQ(error_of({{"cookie_file", "/c"}, {"client_id", "x"}}),
              "cookie_file, client_id: set only one (cookie_file for the personal route, client_id + "
              "client_secret_file for the partner API)");
    EXPECT_EQ(error_of({}),
              "cookie_file: required (a file holding the browser's Production_tpAuth cookie), or client_id + "
              "client_secret_file for the partner API (approved partners only)");
    EXPECT_EQ(error_of({{"cookie_file", "/c"}, {"window_days", "120"}}),
              "window_days: expected a number of days 1..90, got '120'");
    EXPECT_EQ(error_of({{"cookie_file", "/c"}, {"upload_client", "x"}}), "unknown option 'upload_client'");
    EXPECT_TRUE(factory().unofficial);
    test::write_text(std::filesystem::temp_directory_path() / "fitbridge-tp-secret", "s\n");
    auto endpoints = factory().oauth(
        account({{"client_id", "x"},
                 {"client_secret_file", (std::filesystem::temp_directory_path() / "fitbridge-tp-secret").string()}}),
        config::Config{});
    ASSERT_TRUE(endpoints) << endpoints.error().message;
    EXPECT_EQ(endpoints->authorize_url, "https://oauth.trainingpeaks.com/OAuth/Authorize");
    EXPECT_EQ(endpoints->token_url, "https://oauth.trainingpeaks.com/oauth/token");
    EXPECT_EQ(endpoints->scope, "file:write workouts:read");
    EXPECT_FALSE(factory().oauth(account({{"cookie_file", "/c"}}), config::Config{}));
}

TEST(TrainingPeaksOptions, CookiesFilenamesAndSports) {
    EXPECT_EQ(cookie_value("abc123\n"), "abc123");
    EXPECT_EQ(cookie_value("Production_tpAuth=abc123; Path=/; Secure"), "abc123");
    EXPECT_EQ(cookie_value("Cookie: _ga=1; Production_tpAuth=abc123; other=2"), "abc123");
    EXPECT_EQ(upload_filename("fitbridge-1 a/b:c*d", "fit"), "fitbridge-1-a-b-c-d.fit");
    EXPECT_EQ(upload_filename("x.y", "tcx"), "x-y.tcx");
    EXPECT_EQ(sport_family_for(2), "ride");
    EXPECT_EQ(sport_family_for(3), "run");
    EXPECT_EQ(sport_family_for(13), "walk");
    EXPECT_EQ(sport_family_for(100), "other");
}

class TrainingPeaksFake : public ::testing::Test {
protected:
    static void SetUpTestSuite() { s_fake = std::make_unique<FakeServer>("trainingpeaks"); }
    static void TearDownTestSuite() { s_fake.reset(); }
    void SetUp() override {
        fake().reset();
        test::write_text(m_dir / "cookie", "Production_tpAuth=tp-cookie-value-123\n");
        test::write_text(m_dir / "secret", "test-client-secret\n");
    }
    void TearDown() override { EXPECT_EQ(fake().violations().Size(), 0u); }
    static const FakeServer& fake() { return *s_fake; }

    std::unique_ptr<Provider> make(Options o) {
        o["base_url"] = fake().base();
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
    std::unique_ptr<Provider> personal(Options extra = {}) {
        extra["cookie_file"] = (m_dir / "cookie").string();
        return make(std::move(extra));
    }
    std::unique_ptr<Provider> partner() {
        auto grant = json::parse(fake().control("POST", "/_fake/grant", "{}").body);
        m_store.saved["tp"] =
            net::Credentials{"oauth2", (*grant)["access_token"].GetString(), (*grant)["refresh_token"].GetString(),
                             m_clock.now() + std::chrono::minutes(10), ""};
        return make({{"client_id", "fitbridge-tp"},
                     {"client_secret_file", (m_dir / "secret").string()},
                     {"auth_url", fake().base()}});
    }
    template <typename T>
    Result<T> run(Task<T> task) {
        return test::run(m_io, std::move(task));
    }
    std::vector<RemoteActivity> list_all(Provider& p, ListQuery q) {
        return test::list_all(p, std::move(q), [&](Task<ListPage> t) { return run(std::move(t)); });
    }
    static std::string header_of(const rapidjson::Value& r, std::string_view name) {
        for (const auto& h : r["headers"].GetArray())
            if (std::string_view(h[0].GetString()) == name) return h[1].GetString();
        return "(none)";
    }
    static constexpr double k_jan10 = 1736496000;  // 2025-01-10T08:00:00Z

    static inline std::unique_ptr<FakeServer> s_fake;
    test::TempDir m_dir;
    boost::asio::io_context m_io;
    SystemClock m_clock;
    config::Config m_config;
    fitbridge::test::MemoryTokenStore m_store;
    store::MemoryCursorStore m_cursors;
    std::shared_ptr<net::HttpClient> m_http;
};

TEST_F(TrainingPeaksFake, ExchangesTheCookieAndListsByDateWindows) {
    const auto ids = fake().seed_activities(R"([
        {"start": 1736496000, "sport": "ride", "title": "Endurance", "hours": 1.5, "distance": 45000},
        {"start": 1739174400, "sport": "run", "title": "Tempo"},
        {"start": 1740000000, "sport": "ride", "title": "Planned", "planned": true}])");
    auto p = personal({{"window_days", "30"}});
    // 2025-01-01 .. 2025-03-10 (exclusive): 68 days, padded by a day each side, in windows of 30.
    auto all = list_all(*p, ListQuery{.since = 1735689600, .until = 1741564800});
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].remote_id, ids[1]);
    EXPECT_EQ(all[0].sport_family, "run");
    EXPECT_EQ(all[1].remote_id, ids[0]);
    EXPECT_EQ(all[1].name, "Endurance");
    EXPECT_EQ(all[1].start_time, k_jan10 + 3600);  // the athlete's local time, read as UTC
    EXPECT_EQ(all[1].elapsed_s, 5400.0);
    EXPECT_EQ(all[1].distance_m, 45000.0);
    ASSERT_EQ(p->ignored().size(), 1u);
    EXPECT_EQ(p->ignored()[0].reason, "planned");
    EXPECT_EQ(fake().request_lines(),
              (std::vector<std::string>{"GET /users/v3/token", "GET /users/v3/user",
                                        "GET /fitness/v6/athletes/3141592/workouts/2025-02-09/2025-03-10",
                                        "GET /fitness/v6/athletes/3141592/workouts/2025-01-10/2025-02-08",
                                        "GET /fitness/v6/athletes/3141592/workouts/2024-12-31/2025-01-09"}));
    auto log = fake().requests();
    EXPECT_EQ(header_of(log[0], "Cookie"), "Production_tpAuth=tp-cookie-value-123");
    EXPECT_EQ(header_of(log[0], "Authorization"), "(none)");
    EXPECT_EQ(header_of(log[1], "Authorization"), "Bearer tp-bearer-1");
    EXPECT_EQ(p->credential_source()->kind, "cookie");
}

TEST_F(TrainingPeaksFake, DownloadsTheDeviceFileThroughTheAttachments) {
    const auto fit = test::load_corpus("fit/garmin-fr55-coretemp-walk.fit");
    const double start = *fit.summary.start_time;
    const auto ids = fake().seed_activities(
        fmt::format(R"([{{"start": {}, "sport": "walk", "file_b64": "{}"}}, {{"start": {}, "sport": "run"}}])", start,
                    net::base64(fit.bytes), start + 7200));
    auto p = personal();
    auto listed = list_all(*p, ListQuery{.since = start - 7200, .until = start + 14400});
    ASSERT_EQ(listed.size(), 2u);
    // One window: in the platform's order (oldest first).
    ASSERT_EQ(listed[0].remote_id, ids[0]);
    auto bytes = run(p->download(listed[0]));
    ASSERT_TRUE(bytes) << bytes.error().message;
    EXPECT_EQ(*bytes, fit.bytes);
    auto lines = fake().request_lines();
    EXPECT_EQ(lines[lines.size() - 2], "GET /fitness/v6/athletes/3141592/workouts/" + ids[0] + "/details");
    EXPECT_EQ(lines.back(), "GET /fitness/v6/athletes/3141592/workouts/" + ids[0] + "/attachments/f" + ids[0] + "/raw");
    auto none = run(p->download(listed[1]));
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().code, "trainingpeaks.unavailable");
    EXPECT_EQ(none.error().message, "TrainingPeaks keeps no device file for workout " + ids[1]);
}

TEST_F(TrainingPeaksFake, AnExpiredTokenIsRenewedAndAnExpiredCookieNeedsCopyingAgain) {
    fake().seed_activities(R"({"start": 1736496000})");
    auto p = personal();
    const ListQuery window{.since = k_jan10 - 86400, .until = k_jan10 + 86400};
    ASSERT_EQ(list_all(*p, window).size(), 1u);
    fake().control("POST", "/_fake/expire");  // the bearer token dies: exchanged again
    ASSERT_EQ(list_all(*p, window).size(), 1u);
    EXPECT_EQ(fake().get_json("/_fake/tokens")["exchanges"].GetInt(), 2);
    fake().control("POST", "/_fake/expire", R"({"cookie": true})");
    auto restarted = personal();  // starts from the stored session, refused: the exchange is refused too
    auto r = run(restarted->list(window));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().cls, ErrorClass::auth);
    EXPECT_EQ(r.error().code, "trainingpeaks.cookie_expired");
    EXPECT_EQ(r.error().message,
              "TrainingPeaks refused the Production_tpAuth cookie (401 Authorization has been denied for this "
              "request.); copy the Production_tpAuth cookie again from a browser signed in to TrainingPeaks into "
              "cookie_file");
}

TEST_F(TrainingPeaksFake, ThePartnerRouteUploadsJsonAndFollowsItToItsWorkout) {
    fake().control("POST", "/_fake/config", R"({"processing_polls": 2})");
    const auto fit = test::load_corpus("fit/garmin-fenix2-run.fit");
    auto p = partner();
    EXPECT_EQ(p->capabilities(), static_cast<uint32_t>(k_upload));
    const UploadRequest req{test::bytes_of(fit.bytes), &fit.summary, "Morning Run", "fitbridge-abc 1"};
    auto up = run(p->upload(req));
    ASSERT_TRUE(up) << up.error().message;
    EXPECT_EQ(up->remote_id, "900001");
    auto uploads = fake().get_json("/_fake/uploads");
    ASSERT_EQ(uploads.Size(), 1u);
    const auto& fields = uploads[0]["fields"];
    EXPECT_STREQ(fields["UploadClient"].GetString(), "FitBridge");
    EXPECT_STREQ(fields["Filename"].GetString(), "fitbridge-abc-1.fit");
    EXPECT_STREQ(fields["Title"].GetString(), "Morning Run");
    EXPECT_STREQ(fields["Type"].GetString(), "run");
    EXPECT_EQ(uploads[0]["size"].GetInt(), static_cast<int>(fit.bytes.size()));
    auto log = fake().requests();
    for (const auto& r : log.GetArray())
        EXPECT_EQ(header_of(r, "User-Agent"), fmt::format("FitBridge/{}", version())) << r["path"].GetString();
    EXPECT_EQ(fake().count("GET", "/v3/status/ft1"), 2);
    // Already there: found by its start, not sent again.
    auto again = run(p->upload(req));
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_TRUE(again->duplicate);
    EXPECT_EQ(again->remote_id, "900001");
    EXPECT_EQ(fake().count("POST", "/v3/file"), 1);
}

TEST_F(TrainingPeaksFake, EachRouteClaimsItsOwnPartOfTheCapabilities) {
    auto source = personal();
    auto sink = partner();
    EXPECT_EQ(source->capabilities(), static_cast<uint32_t>(k_list_window | k_download));
    EXPECT_EQ(sink->capabilities() | source->capabilities(), factory().capabilities);
    auto refused = run(source->upload(UploadRequest{}));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, "provider.unsupported");
    auto not_listed = run(sink->list(ListQuery{.since = 0.0}));
    ASSERT_FALSE(not_listed);
    EXPECT_EQ(not_listed.error().code, "provider.unsupported");
}

}  // namespace
}  // namespace fitbridge::providers::trainingpeaks
