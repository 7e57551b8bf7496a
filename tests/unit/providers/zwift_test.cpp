// The Zwift cloud provider against the Zwift fake (tests/fakes/run zwift)
// over loopback HTTP: options, the Keycloak password grant (kept, refreshed
// with grant_type=refresh_token before expiry, signed in again when the
// refresh token is dead, invalid_grant as a readable auth error), Accept:
// application/json on every API call, the list walked newest first, rides
// in progress skipped and picked up once they end, and FIT files fetched
// from the bucket URL without any Zwift token.

#include "providers/zwift/zwift.hpp"

#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include "json/json.hpp"
#include "net/oauth.hpp"
#include "provider_test_util.hpp"
#include "store/cursors.hpp"
#include "support/fake_server.hpp"
#include "support/memory_tokens.hpp"
#include "support/synth.hpp"

namespace fitbridge::providers::zwift {
namespace {

using Options = std::map<std::string, std::string>;
using fitbridge::test::FakeServer;

config::AccountConfig account(Options options) {
    config::AccountConfig a;
    a.id = "zw";
    a.provider = "zwift";
    a.options = std::move(options);
    return a;
}

std::string error_of(Options options) {
    auto r = factory().validate(account(std::move(options)));
    return r ? "ok" : r.error().message;
}

TEST(ZwiftOptions, UsernameAndPasswordFileWithConfigurableEndpoints) {
    EXPECT_EQ(error_of({{"username", "rider@example.com"}, {"password_file", "/pw"}}), "ok");
    EXPECT_EQ(error_of({}), "username: required, with password_file (the account's login)");
    EXPECT_EQ(error_of({{"username", "rider@example.com"}}),
              "password_file: required with username (a file holding the password)");
    // client_id is the Keycloak client here, not an OAuth app of fitbridge auth.
    EXPECT_EQ(error_of({{"username", "r"}, {"password_file", "/pw"}, {"client_id", "Zwift_Mobile_Link"}}), "ok");
    EXPECT_EQ(error_of({{"username", "r"}, {"password_file", "/pw"}, {"files_url", "https://files.example/{bucket}"}}),
              "files_url: must contain {key} (the activity's fitFileKey)");
    EXPECT_EQ(error_of({{"username", "r"}, {"password_file", "/pw"}, {"files_url", "ftp://x/{key}"}}),
              "files_url: expected an http(s) URL, got 'ftp://x/{key}'");
    EXPECT_TRUE(factory().unofficial);
    EXPECT_EQ(factory().oauth, nullptr);
    EXPECT_EQ(sport_family_for("CYCLING"), "ride");
    EXPECT_EQ(sport_family_for("RUNNING"), "run");
    std::map<std::string, std::string> defaults;
    for (const auto& o : factory().options) defaults[std::string(o.name)] = std::string(o.default_value);
    EXPECT_EQ(defaults["auth_url"], "https://secure.zwift.com");
    EXPECT_EQ(defaults["base_url"], "https://us-or-rly101.zwift.com");
    EXPECT_EQ(defaults["files_url"], "https://{bucket}.s3.amazonaws.com/{key}");
    EXPECT_EQ(defaults["client_id"], "Zwift_Game_Client");
}

class ZwiftFake : public ::testing::Test {
protected:
    static void SetUpTestSuite() { s_fake = std::make_unique<FakeServer>("zwift"); }
    static void TearDownTestSuite() { s_fake.reset(); }
    void SetUp() override {
        fake().reset();
        test::write_text(m_dir / "pw", "zwift-password\n");
    }
    void TearDown() override { EXPECT_EQ(fake().violations().Size(), 0u); }
    static const FakeServer& fake() { return *s_fake; }

    std::unique_ptr<Provider> make(Options extra = {}) {
        Options o{{"base_url", fake().base()},
                  {"auth_url", fake().base()},
                  {"files_url", fake().base() + "/files/{bucket}/{key}"},
                  {"username", "rider@example.com"},
                  {"password_file", (m_dir / "pw").string()}};
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
    std::vector<RemoteActivity> list_all(Provider& p, ListQuery q) {
        return test::list_all(p, std::move(q), [&](Task<ListPage> t) { return run(std::move(t)); });
    }
    static std::string header_of(const rapidjson::Value& r, std::string_view name) {
        for (const auto& h : r["headers"].GetArray())
            if (std::string_view(h[0].GetString()) == name) return h[1].GetString();
        return "(none)";
    }
    double now() const { return std::chrono::duration<double>(m_clock.now().time_since_epoch()).count(); }
    static constexpr double k_jan10 = 1736496000;  // 2025-01-10T08:00:00Z
    static constexpr std::string_view k_token = "/auth/realms/zwift/protocol/openid-connect/token";

    static inline std::unique_ptr<FakeServer> s_fake;
    test::TempDir m_dir;
    boost::asio::io_context m_io;
    SystemClock m_clock;
    config::Config m_config;
    fitbridge::test::MemoryTokenStore m_store;
    store::MemoryCursorStore m_cursors;
    std::shared_ptr<net::HttpClient> m_http;
};

TEST_F(ZwiftFake, LogsInOnceAndAsksForJsonOnEveryApiCall) {
    const auto ids = fake().seed_activities(
        R"([{"start": 1736496000, "name": "Watopia Flat", "duration": 3723, "distance": 40123.5, "file_b64": "AAAA"},
            {"start": 1736582400, "sport": "run", "duration": 1800}])");
    auto p = make({{"page_size", "1"}});
    auto all = list_all(*p, ListQuery{.since = k_jan10 - 60, .until = k_jan10 + 86460});
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].sport_family, "run");
    EXPECT_EQ(all[0].unavailable_reason, "Zwift keeps no FIT file for activity " + ids[1]);
    EXPECT_EQ(all[1].name, "Watopia Flat");
    EXPECT_EQ(all[1].start_time, k_jan10);
    EXPECT_EQ(all[1].elapsed_s, 3723.0);
    EXPECT_EQ(all[1].distance_m, 40123.5);
    EXPECT_EQ(all[1].sport_family, "ride");
    EXPECT_EQ(all[1].origin,
              fake().base() + "/files/s3-fit-prd-uswest2-zwift/prod/5120001/" + all[1].remote_id + ".fit");
    EXPECT_EQ(fake().request_lines(),
              (std::vector<std::string>{"POST " + std::string(k_token), "GET /api/profiles/me",
                                        "GET /api/profiles/5120001/activities?start=0&limit=1",
                                        "GET /api/profiles/5120001/activities?start=1&limit=1",
                                        "GET /api/profiles/5120001/activities?start=2&limit=1"}));
    auto log = fake().requests_with_bodies();
    EXPECT_EQ(std::string(log[0]["body"].GetString()),
              "grant_type=password&username=rider%40example.com&password=zwift-password&client_id=Zwift_Game_Client");
    for (rapidjson::SizeType i = 1; i < log.Size(); ++i) {
        EXPECT_EQ(header_of(log[i], "Accept"), "application/json");
        EXPECT_EQ(header_of(log[i], "Authorization"), "Bearer kc-access-1");
    }
    EXPECT_EQ(m_store.saved["zw"].kind, "login");
    EXPECT_EQ(m_store.saved["zw"].refresh_token, "kc-refresh-1");
}

TEST_F(ZwiftFake, RefreshesWithTheRefreshTokenBeforeExpiryAndSignsInAgainWhenItIsDead) {
    fake().seed_activities(R"({"start": 1736496000})");
    const ListQuery window{.since = k_jan10 - 60, .until = k_jan10 + 60};
    {
        auto p = make();
        ASSERT_EQ(list_all(*p, window).size(), 1u);
    }
    // Thirty seconds left: the next start refreshes before its first call.
    m_store.saved["zw"].expires_at = m_clock.now() + std::chrono::seconds(30);
    fake().control("DELETE", "/_fake/requests");
    {
        auto p = make();
        ASSERT_EQ(list_all(*p, window).size(), 1u);
    }
    auto log = fake().requests_with_bodies();
    ASSERT_GE(log.Size(), 1u);
    EXPECT_EQ(std::string(log[0]["body"].GetString()),
              "grant_type=refresh_token&refresh_token=kc-refresh-1&client_id=Zwift_Game_Client");
    EXPECT_EQ(m_store.saved["zw"].access_token, "kc-access-2");
    // Both tokens dead (the session ended): one 401, a refused refresh, a new password grant.
    fake().control("POST", "/_fake/expire", R"({"refresh": true})");
    fake().control("DELETE", "/_fake/requests");
    auto p = make();
    ASSERT_EQ(list_all(*p, window).size(), 1u);
    EXPECT_EQ(fake().request_lines(),
              (std::vector<std::string>{"GET /api/profiles/me", "POST " + std::string(k_token),
                                        "POST " + std::string(k_token), "GET /api/profiles/me",
                                        "GET /api/profiles/5120001/activities?start=0&limit=50"}));
    auto tokens = fake().get_json("/_fake/tokens");
    EXPECT_EQ(tokens["password_grants"].GetInt(), 2);
    EXPECT_EQ(tokens["refreshes"].GetInt(), 1);
}

TEST_F(ZwiftFake, AWrongPasswordIsAnAuthErrorWithKeycloaksReason) {
    test::write_text(m_dir / "pw", "not-it\n");
    auto p = make();
    auto r = run(p->list(ListQuery{.since = k_jan10, .until = k_jan10 + 60}));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().cls, ErrorClass::auth);
    EXPECT_EQ(r.error().code, "zwift.invalid_grant");
    EXPECT_EQ(r.error().message,
              "Zwift refused the login of rider@example.com: Invalid user credentials (invalid_grant); check "
              "username and the password in password_file");
    auto other = make({{"client_id", "Someone_Else"}});
    auto refused = run(other->list(ListQuery{.since = k_jan10, .until = k_jan10 + 60}));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().cls, ErrorClass::auth);
    EXPECT_NE(refused.error().message.find("Invalid client or Invalid client credentials (unauthorized_client)"),
              std::string::npos)
        << refused.error().message;
}

TEST_F(ZwiftFake, DownloadsFromTheBucketWithoutAnyZwiftToken) {
    const auto fit = test::load_corpus("fit/garmin-fr55-coretemp-walk.fit");
    const double start = *fit.summary.start_time;
    fake().seed_activities(
        fmt::format(R"({{"start": {}, "sport": "walk", "file_b64": "{}"}})", start, net::base64(fit.bytes)));
    auto p = make();
    auto listed = list_all(*p, ListQuery{.since = start - 60, .until = start + 60});
    ASSERT_EQ(listed.size(), 1u);
    auto bytes = run(p->download(listed[0]));
    ASSERT_TRUE(bytes) << bytes.error().message;
    EXPECT_EQ(*bytes, fit.bytes);
    auto log = fake().requests();
    const auto& last = log[log.Size() - 1];
    EXPECT_EQ(std::string(last["path"].GetString()),
              "/files/s3-fit-prd-uswest2-zwift/prod/5120001/" + listed[0].remote_id + ".fit");
    EXPECT_EQ(header_of(last, "Authorization"), "(none)");
    // Gone from the bucket: unavailable, not a retry loop.
    RemoteActivity gone = listed[0];
    gone.origin = fake().base() + "/files/s3-fit-prd-uswest2-zwift/prod/5120001/0.fit";
    auto missing = run(p->download(gone));
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, "zwift.unavailable");
    EXPECT_EQ(missing.error().cls, ErrorClass::permanent);
}

TEST_F(ZwiftFake, ARideInProgressIsSkippedAndPickedUpOnceItHasEnded) {
    const double t = now();
    const auto ids = fake().seed_activities(
        fmt::format(R"([{{"start": {}, "file_b64": "{}"}}, {{"start": {}, "in_progress": true}}])", t - 10 * 86400,
                    net::base64(fitbridge::test::synth_fit(t - 10 * 86400, 60, 2)), t - 7200));
    // Overlap 0: only the ride in progress keeps the listing reaching back to it.
    auto p = make({{"overlap_days", "0"}});
    auto first = list_all(*p, ListQuery{.since = t - 11 * 86400});
    ASSERT_EQ(first.size(), 1u);
    EXPECT_EQ(first[0].remote_id, ids[0]);
    auto ignored = p->ignored();
    ASSERT_EQ(ignored.size(), 1u);
    EXPECT_EQ(ignored[0].reason, "in_progress");
    EXPECT_EQ(ignored[0].origin, "Zwift activity " + ids[1]);
    // A newer finished ride moves the watermark past the one still in progress.
    const auto later =
        fake().seed_activities(fmt::format(R"({{"start": {}, "duration": 600, "file_b64": "{}"}})", t - 3600,
                                           net::base64(fitbridge::test::synth_fit(t - 3600, 60, 2))));
    auto second = list_all(*p, {});
    ASSERT_EQ(second.size(), 1u);
    EXPECT_EQ(second[0].remote_id, later[0]);
    EXPECT_EQ(p->ignored().size(), 1u);
    // It ends; a restarted daemon still reaches back for it.
    fake().control("POST", "/_fake/finish",
                   fmt::format(R"({{"id": "{}", "file_b64": "{}"}})", ids[1],
                               net::base64(fitbridge::test::synth_fit(t - 7200, 60, 2))));
    auto restarted = make({{"overlap_days", "0"}});
    auto third = list_all(*restarted, {});
    std::set<std::string> got;
    for (const auto& i : third) got.insert(i.remote_id);
    EXPECT_TRUE(got.contains(ids[1]));
    EXPECT_TRUE(restarted->ignored().empty());
    // Once it was listed finished, nothing holds the listing back any more.
    EXPECT_EQ(m_cursors.load("zw", "in_progress")->value_or("?"), "");
}

TEST_F(ZwiftFake, AGarbledListIsATypedErrorNotACrash) {
    fake().fault(R"({"path": "/api/profiles/5120001/activities", "status": 200, "body": "{\"activities\": 3}"})");
    auto p = make();
    auto r = run(p->list(ListQuery{.since = k_jan10, .until = k_jan10 + 60}));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "zwift.bad_answer");
    EXPECT_EQ(r.error().message, "Zwift answered the activity list with something that is not a JSON array");
}

}  // namespace
}  // namespace fitbridge::providers::zwift
