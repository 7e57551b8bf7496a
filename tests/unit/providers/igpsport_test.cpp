// The iGPSport provider against the iGPSport fake (tests/fakes/run igpsport)
// over loopback HTTP: options, the web login (code != 0 as the reason),
// date-only listings and their windows, the detail's fitUrl fetched without
// the token, the {code, message, data} envelope's errors and expired tokens.

#include "providers/igpsport/igpsport.hpp"

#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "json/json.hpp"
#include "net/oauth.hpp"
#include "provider_test_util.hpp"
#include "store/cursors.hpp"
#include "support/fake_server.hpp"
#include "support/memory_tokens.hpp"
#include "support/synth.hpp"

namespace fitbridge::providers::igpsport {
namespace {

using Options = std::map<std::string, std::string>;
using fitbridge::test::FakeServer;

config::AccountConfig account(Options options) {
    config::AccountConfig a;
    a.id = "igs";
    a.provider = "igpsport";
    a.options = std::move(options);
    return a;
}

std::string error_of(Options options) {
    auto r = factory().validate(account(std::move(options)));
    return r ? "ok" : r.error().message;
}

TEST(IGPSportOptions, ALoginAndDates) {
    EXPECT_TRUE(factory().unofficial);
    EXPECT_EQ(error_of({{"username", "rider@example.com"}, {"password_file", "pw"}}), "ok");
    EXPECT_EQ(error_of({}), "username: required, with password_file (the account's login)");
    EXPECT_EQ(error_of({{"credentials", "stored"}}), "unknown option 'credentials'");
    EXPECT_EQ(day_of("2024.11.20"), 1732060800.0);
    EXPECT_FALSE(day_of("2024-11-20"));
    EXPECT_FALSE(day_of("20.11.2024"));
}

constexpr double k_first = 1704067200 + 10 * 3600;  // 2024-01-01T10:00:00Z

class IGPSportFake : public ::testing::Test {
protected:
    static void SetUpTestSuite() { s_fake = std::make_unique<FakeServer>("igpsport"); }
    static void TearDownTestSuite() { s_fake.reset(); }
    void SetUp() override { fake().reset(); }
    void TearDown() override { EXPECT_EQ(fake().violations().Size(), 0u); }
    static const FakeServer& fake() { return *s_fake; }

    std::unique_ptr<Provider> make(Options extra = {}, std::string password = "igs-pass") {
        test::write_text(m_dir / "pw", password + "\n");
        Options o{
            {"base_url", fake().base()}, {"username", "rider@example.com"}, {"password_file", (m_dir / "pw").string()}};
        for (auto& [k, v] : extra) o[k] = v;
        if (!m_http) m_http = factory().make_http(m_io.get_executor());
        Context ctx{.executor = m_io.get_executor(),
                    .state_dir = m_dir.path(),
                    .config = &m_config,
                    .http = m_http,
                    .tokens = &m_tokens,
                    .cursors = &m_cursors};
        auto p = factory().create(account(o), ctx);
        if (!p) throw std::runtime_error(p.error().message);
        return std::move(*p);
    }
    template <typename T>
    Result<T> run(Task<T> t) {
        return test::run(m_io, std::move(t));
    }
    std::vector<RemoteActivity> list_all(Provider& p, ListQuery q = {}) {
        return test::list_all(p, std::move(q), [&](Task<ListPage> t) { return run(std::move(t)); });
    }
    // `n` rides a day apart from `first`, each with its own FIT file.
    std::vector<std::string> seed(int n, double first = k_first) {
        std::string spec = "[";
        for (int i = 0; i < n; ++i)
            spec += fmt::format(R"({}{{"start": {}, "name": "Ride {}", "file_b64": "{}"}})", i ? "," : "",
                                first + i * 86400.0, i,
                                net::base64(fitbridge::test::synth_fit(first + i * 86400.0, 60, 2)));
        return fake().seed_activities(spec + "]");
    }
    static std::set<std::string> ids_of(const std::vector<RemoteActivity>& items) {
        std::set<std::string> out;
        for (const auto& i : items) out.insert(i.remote_id);
        return out;
    }

    static inline std::unique_ptr<FakeServer> s_fake;
    test::TempDir m_dir;
    boost::asio::io_context m_io;
    config::Config m_config;
    fitbridge::test::MemoryTokenStore m_tokens;
    store::MemoryCursorStore m_cursors;
    std::shared_ptr<net::HttpClient> m_http;
};

TEST_F(IGPSportFake, ListsEveryRideByItsDayWithoutAStartTime) {
    const auto ids = seed(30);
    auto p = make({{"page_size", "8"}});
    auto listed = list_all(*p);
    ASSERT_EQ(ids_of(listed), std::set<std::string>(ids.begin(), ids.end()));  // the whole history first
    EXPECT_EQ(listed[0].remote_id, ids[29]);
    EXPECT_EQ(listed[0].name, "Ride 29");
    EXPECT_FALSE(listed[0].start_time);  // a day is not a start: the file has it
    EXPECT_EQ(listed[0].distance_m, 30000.0);
    const auto lines = fake().request_lines();
    ASSERT_EQ(lines.size(), 5u);
    EXPECT_EQ(lines[0], "POST /auth/account/login");
    EXPECT_EQ(lines[1], "GET /web-gateway/web-analyze/activity/queryMyActivity?pageNo=1&pageSize=8&reqType=0&sort=1");
    EXPECT_EQ(lines[4], "GET /web-gateway/web-analyze/activity/queryMyActivity?pageNo=4&pageSize=8&reqType=0&sort=1");
    auto login = json::parse(fake().requests_with_bodies()[0]["body"].GetString());
    EXPECT_STREQ((*login)["username"].GetString(), "rider@example.com");
    EXPECT_STREQ((*login)["password"].GetString(), "igs-pass");
    EXPECT_STREQ((*login)["appId"].GetString(), "igpsport-web");

    // Incremental next: the newest day less 7 days of overlap, one page.
    fake().control("DELETE", "/_fake/requests");
    const auto fresh = seed(1, k_first + 30 * 86400.0);
    auto next = list_all(*p);
    EXPECT_TRUE(ids_of(next).contains(fresh[0]));
    // Days 21..30: those from 7 days before the newest day (29), widened by
    // the 36 hours a local day can reach past its UTC date; two pages of 8.
    EXPECT_EQ(next.size(), 10u);
    EXPECT_EQ(fake().count("GET", ".*/queryMyActivity"), 2);
}

TEST_F(IGPSportFake, AWindowKeepsEveryRideWhoseDayCanOverlapIt) {
    // Rides at 23:30 UTC: in China (+8) their day is the next one.
    const auto ids = seed(5, 1704151800);  // 2024-01-01T23:30:00Z, local 2024.01.02
    auto p = make();
    // The window [2024-01-03T00:00Z, 2024-01-04T00:00Z) holds ride 2 (01-03 23:30Z, local 01.04) only,
    // but a ride of local day 01.02, 01.03 or 01.04 may start in it (UTC-12 .. UTC+14): all three are
    // listed, and their files decide. Ride 3 (local 01.05) cannot.
    auto listed = list_all(*p, ListQuery{.since = 1704240000, .until = 1704326400});
    EXPECT_EQ(ids_of(listed), (std::set<std::string>{ids[0], ids[1], ids[2]}));
}

TEST_F(IGPSportFake, DownloadsTheFitUrlWithoutTheToken) {
    const auto ids = seed(1);
    auto p = make();
    auto listed = list_all(*p);
    ASSERT_EQ(listed.size(), 1u);
    auto bytes = run(p->download(listed[0]));
    ASSERT_TRUE(bytes) << bytes.error().message;
    EXPECT_EQ(*bytes, fitbridge::test::synth_fit(k_first, 60, 2));
    const auto lines = fake().request_lines();
    EXPECT_EQ(lines[lines.size() - 2], "GET /web-gateway/web-analyze/activity/queryActivityDetail/" + ids[0]);
    EXPECT_TRUE(lines.back().starts_with("GET /oss/fit/" + ids[0] + ".fit?")) << lines.back();
    auto log = fake().requests();
    for (const auto& h : log[log.Size() - 1]["headers"].GetArray()) EXPECT_STRNE(h[0].GetString(), "Authorization");

    // A ride without a file, and one whose file is not an activity file.
    auto none = fake().seed_activities(R"({"start": 1704200000, "no_file": true})");
    auto junk = fake().seed_activities(R"({"start": 1704300000, "payload_b64": "PGh0bWw+PC9odG1sPg=="})");
    RemoteActivity item{.remote_id = none[0]};
    auto r = run(p->download(item));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "igpsport.unavailable");
    EXPECT_EQ(r.error().message, "iGPSport has no FIT file for ride " + none[0]);
    item.remote_id = junk[0];
    r = run(p->download(item));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "igpsport.unavailable");
    EXPECT_TRUE(r.error().message.starts_with("iGPSport serves a .fit file for ride " + junk[0] + " (13 bytes"))
        << r.error().message;
}

TEST_F(IGPSportFake, CodesOtherThanZeroAreErrorsCarryingTheMessage) {
    auto refused = run(make({}, "wrong")->list({}));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().cls, ErrorClass::auth);
    EXPECT_EQ(refused.error().message, "iGPSport refused the login: Incorrect account or password (code 10002)");

    auto p = make();
    RemoteActivity item{.remote_id = "999"};
    auto missing = run(p->download(item));
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, "igpsport.refused");
    EXPECT_EQ(missing.error().message, "iGPSport refused the detail of ride 999: activity does not exist (code 40004)");

    fake().fault(R"({"path": "/web-gateway/web-analyze/activity/queryMyActivity", "status": 200,
                     "body": "{\"code\": 500, \"message\": \"system busy\", \"data\": null}"})");
    auto busy = run(p->list({}));
    ASSERT_FALSE(busy);
    EXPECT_EQ(busy.error().cls, ErrorClass::transient);
    EXPECT_EQ(busy.error().message, "iGPSport refused the activity list: system busy (code 500)");

    fake().fault(R"({"path": "/web-gateway/web-analyze/activity/queryMyActivity", "status": 200,
                     "body": "{\"rows\": []}"})");
    auto changed = run(p->list({}));
    ASSERT_FALSE(changed);
    EXPECT_EQ(changed.error().code, "igpsport.bad_answer");
}

TEST_F(IGPSportFake, AnExpiredTokenMeansLoggingInAgain) {
    seed(2);
    auto p = make();
    ASSERT_EQ(list_all(*p).size(), 2u);
    fake().control("POST", "/_fake/expire");
    ASSERT_EQ(list_all(*p, ListQuery{.since = 0.0}).size(), 2u);
    EXPECT_EQ(fake().get_json("/_fake/logins")["logins"].GetInt(), 2);
    EXPECT_EQ(fake().count("GET", ".*/queryMyActivity", 401), 1);
}

}  // namespace
}  // namespace fitbridge::providers::igpsport
