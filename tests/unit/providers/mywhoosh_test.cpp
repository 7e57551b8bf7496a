// The MyWhoosh provider against the MyWhoosh fake (tests/fakes/run mywhoosh)
// over loopback HTTP: options, the apps' login (Success:false as the reason,
// one device id), paged listing with the whole history first, file links
// fetched without the token, .dms payloads recorded as unavailable, expired
// sessions and stored tokens.

#include "providers/mywhoosh/mywhoosh.hpp"

#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <map>

#include "json/json.hpp"
#include "net/oauth.hpp"
#include "provider_test_util.hpp"
#include "store/cursors.hpp"
#include "support/fake_server.hpp"
#include "support/memory_tokens.hpp"
#include "support/synth.hpp"

namespace fitbridge::providers::mywhoosh {
namespace {

using Options = std::map<std::string, std::string>;
using fitbridge::test::FakeServer;

config::AccountConfig account(Options options) {
    config::AccountConfig a;
    a.id = "whoosh";
    a.provider = "mywhoosh";
    a.options = std::move(options);
    return a;
}

std::string error_of(Options options) {
    auto r = factory().validate(account(std::move(options)));
    return r ? "ok" : r.error().message;
}

TEST(MyWhooshOptions, ALoginOrAStoredToken) {
    EXPECT_TRUE(factory().unofficial);
    EXPECT_EQ(error_of({{"username", "rider@example.com"}, {"password_file", "pw"}}), "ok");
    EXPECT_EQ(error_of({{"credentials", "stored"}}), "ok");
    EXPECT_EQ(error_of({}), "username: required, with password_file (the account's login), or credentials: stored");
    EXPECT_EQ(error_of({{"credentials", "stored"}, {"page_size", "0"}}),
              "page_size: expected a number 1..100, got '0'");
    EXPECT_TRUE(factory().accept_credentials(account({{"credentials", "stored"}}), "token"));
    EXPECT_FALSE(factory().accept_credentials(account({{"credentials", "stored"}}), "api_key"));
}

constexpr double k_first = 1640995200;  // 2022-01-01T00:00:00Z

class MyWhooshFake : public ::testing::Test {
protected:
    static void SetUpTestSuite() { s_fake = std::make_unique<FakeServer>("mywhoosh"); }
    static void TearDownTestSuite() { s_fake.reset(); }
    void SetUp() override { fake().reset(); }
    void TearDown() override { EXPECT_EQ(fake().violations().Size(), 0u) << fake().violations().Size(); }
    static const FakeServer& fake() { return *s_fake; }

    std::unique_ptr<Provider> make(Options extra = {}, std::string password = "whoosh-pass") {
        test::write_text(m_dir / "pw", password + "\n");
        Options o{{"base_url", fake().base()},
                  {"auth_url", fake().base()},
                  {"username", "rider@example.com"},
                  {"password_file", (m_dir / "pw").string()}};
        for (auto& [k, v] : extra) o[k] = v;
        for (auto it = o.begin(); it != o.end();) it = it->second.empty() ? o.erase(it) : std::next(it);
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
    // `n` rides a day apart from k_first, each with its own FIT file.
    std::vector<std::string> seed(int n, double first = k_first) {
        std::string spec = "[";
        for (int i = 0; i < n; ++i)
            spec += fmt::format(R"({}{{"start": {}, "name": "Ride {}", "duration": 3723, "distance": 31500,
                                    "file_b64": "{}"}})",
                                i ? "," : "", first + i * 86400.0, i,
                                net::base64(fitbridge::test::synth_fit(first + i * 86400.0, 60, 2)));
        return fake().seed_activities(spec + "]");
    }

    static inline std::unique_ptr<FakeServer> s_fake;
    test::TempDir m_dir;
    boost::asio::io_context m_io;
    config::Config m_config;
    fitbridge::test::MemoryTokenStore m_tokens;
    store::MemoryCursorStore m_cursors;
    std::shared_ptr<net::HttpClient> m_http;
};

TEST_F(MyWhooshFake, LogsInOnceListsTheWholeHistoryFirstThenFromTheNewestRide) {
    const auto ids = seed(45);
    auto p = make({{"page_size", "20"}});
    auto listed = list_all(*p);
    ASSERT_EQ(listed.size(), 45u);            // the whole history, years back, on the first listing
    EXPECT_EQ(listed[0].remote_id, ids[44]);  // newest first
    EXPECT_EQ(listed[0].name, "Ride 44");
    EXPECT_EQ(listed[0].start_time, k_first + 44 * 86400.0);
    EXPECT_EQ(listed[0].elapsed_s, 3723.0);
    ASSERT_TRUE(listed[0].distance_m);
    EXPECT_NEAR(*listed[0].distance_m, 31500, 10);
    EXPECT_EQ(listed[0].sport_family, "ride");
    EXPECT_EQ(fake().request_lines(),
              (std::vector<std::string>{"POST /http-service/api/login", "POST /v2/rider/profile/activities",
                                        "POST /v2/rider/profile/activities", "POST /v2/rider/profile/activities"}));
    auto log = fake().requests_with_bodies();
    auto login = json::parse(log[0]["body"].GetString());
    EXPECT_STREQ((*login)["Username"].GetString(), "rider@example.com");
    EXPECT_STREQ((*login)["Password"].GetString(), "whoosh-pass");
    EXPECT_EQ((*login)["Action"].GetInt(), 1001);
    EXPECT_STREQ((*login)["Platform"].GetString(), "Android");
    EXPECT_EQ(std::string((*login)["DeviceId"].GetString()).size(), 36u);
    EXPECT_STREQ(log[2]["body"].GetString(), R"({"type":"","page":2,"limit":20,"sortDate":"DESC"})");
    EXPECT_EQ(m_tokens.saved.at("whoosh").kind, "login");
    EXPECT_TRUE(m_tokens.saved.at("whoosh").expires_at);  // the JWT's exp

    // Then incremental: from the newest ride less the overlap, one page.
    fake().control("DELETE", "/_fake/requests");
    const auto fresh = seed(1, k_first + 45 * 86400.0);
    auto next = list_all(*p);
    ASSERT_FALSE(next.empty());
    EXPECT_EQ(next[0].remote_id, fresh[0]);
    EXPECT_EQ(next.size(), 5u);  // the new ride and the 4 starting in the 3 overlap days (edge included)
    EXPECT_EQ(fake().count("POST", "/v2/rider/profile/activities"), 1);
    EXPECT_EQ(fake().count("POST", "/http-service/api/login"), 0);  // the session is kept
}

TEST_F(MyWhooshFake, DownloadsThroughTheFileLinkWithoutTheToken) {
    seed(2);
    auto p = make();
    auto listed = list_all(*p);
    ASSERT_EQ(listed.size(), 2u);
    auto bytes = run(p->download(listed[1]));
    ASSERT_TRUE(bytes) << bytes.error().message;
    EXPECT_EQ(*bytes, fitbridge::test::synth_fit(k_first, 60, 2));
    auto log = fake().requests_with_bodies();
    const auto& link = log[log.Size() - 2];
    EXPECT_STREQ(link["path"].GetString(), "/v2/rider/profile/download-activity-file");
    EXPECT_TRUE(std::string(link["body"].GetString()).starts_with(R"({"fileId":"f)")) << link["body"].GetString();
    const auto& file = log[log.Size() - 1];
    EXPECT_TRUE(std::string(file["path"].GetString()).starts_with("/files/"));
    for (const auto& h : file["headers"].GetArray()) EXPECT_STRNE(h[0].GetString(), "Authorization");

    // A link in the listing itself is used as it is.
    fake().control("POST", "/_fake/config", R"({"links_in_listing": true})");
    auto direct = make();
    auto again = list_all(*direct);
    fake().control("DELETE", "/_fake/requests");
    ASSERT_TRUE(run(direct->download(again[0])));
    EXPECT_EQ(fake().request_lines().size(), 1u);
    EXPECT_TRUE(fake().request_lines()[0].starts_with("GET /files/"));
}

TEST_F(MyWhooshFake, ADmsPayloadIsUnavailableAndSaysWhatItWas) {
    auto ids = fake().seed_activities(fmt::format(R"({{"start": {}, "dms": true, "file_b64": "{}"}})", k_first,
                                                  net::base64(fitbridge::test::synth_fit(k_first, 60, 2))));
    auto p = make();
    auto listed = list_all(*p);
    ASSERT_EQ(listed.size(), 1u);
    auto bytes = run(p->download(listed[0]));
    ASSERT_FALSE(bytes);
    EXPECT_EQ(bytes.error().code, "mywhoosh.unavailable");
    EXPECT_EQ(bytes.error().cls, ErrorClass::permanent);
    EXPECT_TRUE(bytes.error().message.starts_with("MyWhoosh serves a .dms file for activity " + ids[0] + " ("))
        << bytes.error().message;
    EXPECT_NE(bytes.error().message.find("not a FIT, TCX or GPX file"), std::string::npos);

    // An activity listed without a file is kept by its metadata alone.
    fake().seed_activities(fmt::format(R"({{"start": {}, "no_file": true}})", k_first + 86400));
    auto with_none = list_all(*make(), ListQuery{.since = k_first + 3600});
    ASSERT_EQ(with_none.size(), 1u);
    EXPECT_TRUE(with_none[0].unavailable_reason);
}

TEST_F(MyWhooshFake, ARefusedPasswordCarriesMyWhooshsMessage) {
    seed(1);
    auto p = make({}, "wrong");
    auto r = run(p->list({}));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().cls, ErrorClass::auth);
    EXPECT_EQ(r.error().message, "MyWhoosh refused the login: Invalid email or password");
}

TEST_F(MyWhooshFake, AnExpiredSessionIsRenewedByLoggingInAgain) {
    seed(3);
    auto p = make();
    ASSERT_EQ(list_all(*p).size(), 3u);
    fake().control("POST", "/_fake/expire");
    auto again = list_all(*p, ListQuery{.since = 0.0});
    EXPECT_EQ(again.size(), 3u);
    auto logins = fake().get_json("/_fake/logins");
    EXPECT_EQ(logins["logins"].GetInt(), 2);
    // The same device both times.
    EXPECT_STREQ(logins["device_ids"][0].GetString(), logins["device_ids"][1].GetString());
}

TEST_F(MyWhooshFake, AStoredTokenIsUsedAsItIs) {
    seed(1);
    auto login = json::parse(fake()
                                 .control("POST", "/http-service/api/login",
                                          R"({"Username":"rider@example.com","Password":"whoosh-pass",
                                                "Platform":"Android","Action":1001,"CorrelationId":"c","DeviceId":"d"})")
                                 .body);
    m_tokens.saved["whoosh"] = net::Credentials{"token", (*login)["AccessToken"].GetString(), "", std::nullopt, ""};
    fake().control("DELETE", "/_fake/requests");
    auto p = make({{"credentials", "stored"}, {"username", ""}, {"password_file", ""}});
    ASSERT_EQ(list_all(*p).size(), 1u);
    EXPECT_EQ(fake().count("POST", "/http-service/api/login"), 0);
}

TEST_F(MyWhooshFake, AChangedListAnswerIsAReadableError) {
    fake().fault(R"({"path": "/v2/rider/profile/activities", "status": 200, "body": "{\"data\": {\"rides\": []}}"})");
    auto r = run(make()->list({}));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "mywhoosh.bad_answer");
    EXPECT_EQ(r.error().message, "MyWhoosh answered the activity list without data.results (the API may have changed)");
}

}  // namespace
}  // namespace fitbridge::providers::mywhoosh
