// The kit's JSON password login (password_login, jwt_expiry) and files handed
// out by URL (fetch_handed, activity_or_unavailable, download_name), against a
// scripted HTTP client.

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>

#include <deque>

#include <fmt/format.h>

#include "json/json.hpp"
#include "net/oauth.hpp"
#include "provider_test_util.hpp"
#include "providers/kit/handed_file.hpp"
#include "providers/kit/password_login.hpp"

namespace fitbridge::providers::kit {
namespace {

using test::run;

class Scripted final : public net::HttpClient {
public:
    std::deque<net::HttpResponse> answers;
    std::vector<net::HttpRequest> sent;
    boost::asio::awaitable<Result<net::HttpResponse>> send(net::HttpRequest request) override {
        sent.push_back(request);
        if (answers.empty()) co_return Error::transient("test.empty", "no scripted answer left");
        auto r = answers.front();
        answers.pop_front();
        co_return r;
    }
    void answer(int status, std::string body, net::Headers headers = {}) {
        net::HttpResponse r;
        r.status = status;
        r.body = std::move(body);
        r.headers = std::move(headers);
        answers.push_back(std::move(r));
    }
};

const Platform k_demo{
    .name = "demo", .title = "Demo", .base_url = "https://api.demo.test", .credential_modes = k_login};

std::string jwt_with(std::string_view payload) {
    return net::base64url(R"({"alg":"HS256"})") + "." + net::base64url(payload) + ".c2ln";
}

PasswordLogin demo_login(std::string body = R"({"user":"ann","password":"pw"})") {
    PasswordLogin l{.url = "https://auth.demo.test/login", .body = std::move(body), .token_path = "data.token"};
    l.refresh_path = "data.refresh";
    l.refusal = [](const rapidjson::Value& answer) -> std::optional<std::string> {
        auto ok = json::get_bool(answer, "ok");
        if (!ok || *ok) return std::nullopt;
        return json::get_string(answer, "msg").value_or("?");
    };
    return l;
}

const SysTime k_now{std::chrono::seconds(1700000000)};

TEST(KitPasswordLogin, PostsTheJsonAndReadsTheTokenAndItsExpiry) {
    Scripted http;
    ManualClock clock{k_now};
    http.answer(200, R"({"ok": true, "data": {"token": "t-1", "refresh": "r-1"}})");
    auto c = run(password_login(http, k_demo, demo_login(), clock));
    ASSERT_TRUE(c) << c.error().message;
    ASSERT_EQ(http.sent.size(), 1u);
    EXPECT_EQ(http.sent[0].method, "POST");
    EXPECT_EQ(http.sent[0].url, "https://auth.demo.test/login");
    EXPECT_EQ(http.sent[0].body, R"({"user":"ann","password":"pw"})");
    EXPECT_EQ(http.sent[0].headers,
              (net::Headers{{"Content-Type", "application/json"}, {"Accept", "application/json"}}));
    EXPECT_EQ(c->kind, "login");
    EXPECT_EQ(c->access_token, "t-1");
    EXPECT_EQ(c->refresh_token, "r-1");
    EXPECT_FALSE(c->expires_at);  // no expiry anywhere, no default lifetime: until a 401

    // A default lifetime, an expires_in, and a JWT's exp (preferred over the default).
    auto l = demo_login();
    l.lifetime = std::chrono::hours(24);
    http.answer(200, R"({"data": {"token": "t-2"}})");
    c = run(password_login(http, k_demo, l, clock));
    ASSERT_TRUE(c);
    EXPECT_EQ(c->expires_at, k_now + std::chrono::hours(24));
    l.expires_in_path = "data.expires_in";
    http.answer(200, R"({"data": {"token": "t-3", "expires_in": 600}})");
    c = run(password_login(http, k_demo, l, clock));
    ASSERT_TRUE(c);
    EXPECT_EQ(c->expires_at, k_now + std::chrono::seconds(600));
    const auto token = jwt_with(R"({"sub":"x","exp":1700086400})");
    http.answer(200, fmt::format(R"({{"data": {{"token": "{}"}}}})", token));
    c = run(password_login(http, k_demo, demo_login(), clock));
    ASSERT_TRUE(c);
    EXPECT_EQ(c->expires_at, SysTime(std::chrono::seconds(1700086400)));
    // A JWT that has (nearly) run out already is not trusted for its expiry.
    http.answer(200, fmt::format(R"({{"data": {{"token": "{}"}}}})", jwt_with(R"({"exp":1700000100})")));
    c = run(password_login(http, k_demo, demo_login(), clock));
    ASSERT_TRUE(c);
    EXPECT_FALSE(c->expires_at);
}

TEST(KitPasswordLogin, RefusalsAreAuthErrorsWithThePlatformsReason) {
    Scripted http;
    ManualClock clock{k_now};
    http.answer(200, R"({"ok": false, "msg": "Invalid email or password"})");
    auto c = run(password_login(http, k_demo, demo_login(), clock));
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().cls, ErrorClass::auth);
    EXPECT_EQ(c.error().code, "demo.login_refused");
    EXPECT_EQ(c.error().message, "Demo refused the login: Invalid email or password");

    http.answer(401, R"({"message": "bad credentials"})");
    c = run(password_login(http, k_demo, demo_login(), clock));
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().cls, ErrorClass::auth);
    EXPECT_EQ(c.error().message,
              "Demo refused the login (401 bad credentials); check the username and the password in password_file");
}

TEST(KitPasswordLogin, OutagesRateLimitsAndChangedAnswersReadClearly) {
    Scripted http;
    ManualClock clock{k_now};
    http.answer(503, "<html><head><title>Maintenance</title></head></html>");
    auto c = run(password_login(http, k_demo, demo_login(), clock));
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().cls, ErrorClass::transient);
    EXPECT_EQ(c.error().code, "demo.login_failed");
    EXPECT_EQ(c.error().message, "Demo failed the login (503 an HTML page titled \"Maintenance\")");

    http.answer(429, "{}", {{"retry-after", "30"}});
    c = run(password_login(http, k_demo, demo_login(), clock));
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().cls, ErrorClass::rate_limited);
    EXPECT_EQ(c.error().retry_after, std::chrono::seconds(30));
    EXPECT_EQ(c.error().code, "demo.rate_limited");

    http.answer(200, "<html>login page</html>");
    c = run(password_login(http, k_demo, demo_login(), clock));
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().cls, ErrorClass::permanent);
    EXPECT_EQ(c.error().code, "demo.bad_answer");

    http.answer(200, R"({"ok": true, "data": {"jwt": "t"}})");
    c = run(password_login(http, k_demo, demo_login(), clock));
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().cls, ErrorClass::permanent);
    EXPECT_EQ(c.error().message, "Demo answered the login without data.token (the API may have changed)");
}

TEST(KitPasswordLogin, JwtExpiry) {
    EXPECT_EQ(jwt_expiry(jwt_with(R"({"exp": 1800000000})")), SysTime(std::chrono::seconds(1800000000)));
    EXPECT_FALSE(jwt_expiry(jwt_with(R"({"sub": "x"})")));
    EXPECT_FALSE(jwt_expiry(jwt_with(R"({"exp": "soon"})")));
    EXPECT_FALSE(jwt_expiry("opaque-session-token"));
    EXPECT_FALSE(jwt_expiry("a.!!!.c"));
}

class KitHandedFile : public ::testing::Test {
protected:
    std::shared_ptr<Scripted> m_http = std::make_shared<Scripted>();
    boost::asio::io_context m_io;
    test::TempDir m_dir;
    PlatformClient client() {
        test::write_text(m_dir / "pw", "pw\n");
        config::AccountConfig a;
        a.id = "acc";
        a.provider = "demo";
        a.options = {{"username", "ann"}, {"password_file", (m_dir / "pw").string()}};
        auto s = parse_settings(k_demo, a, {});
        if (!s) throw std::runtime_error(s.error().message);
        return PlatformClient(k_demo, *s, Context{.executor = m_io.get_executor(), .http = m_http});
    }
};

TEST_F(KitHandedFile, FetchesWithoutCredentialsAndKeepsActivityFiles) {
    auto c = client();
    const auto fit = test::slurp(test::k_corpus / "fit/garmin-fenix2-run.fit");
    m_http->answer(200, fit, {{"content-type", "application/octet-stream"}});
    auto f = run(fetch_handed(c, "https://bucket.test/ride/abc.fit?X-Amz-Signature=1", "the file of ride 1"));
    ASSERT_TRUE(f) << f.error().message;
    ASSERT_EQ(m_http->sent.size(), 1u);  // no login: the link carries its own signature
    EXPECT_EQ(m_http->sent[0].url, "https://bucket.test/ride/abc.fit?X-Amz-Signature=1");
    for (const auto& [k, v] : m_http->sent[0].headers) EXPECT_NE(k, "Authorization");
    EXPECT_EQ(f->name, "abc.fit");
    auto bytes = activity_or_unavailable(k_demo, *f, "ride 1");
    ASSERT_TRUE(bytes);
    EXPECT_EQ(*bytes, fit);

    auto bad = run(fetch_handed(c, "ftp://bucket.test/x", "the file of ride 2"));
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, "demo.bad_answer");
    EXPECT_EQ(m_http->sent.size(), 1u);

    m_http->answer(403, "<Error><Code>AccessDenied</Code></Error>");
    auto denied = run(fetch_handed(c, "https://bucket.test/x.fit", "the file of ride 3"));
    ASSERT_FALSE(denied);
    EXPECT_EQ(denied.error().code, "demo.forbidden");
}

TEST_F(KitHandedFile, AnythingButAnActivityFileIsUnavailableSayingWhatItWas) {
    HandedFile dms{
        .bytes = std::string("DMS\x01\x00rest", 9), .content_type = "application/octet-stream", .name = "f1.dms"};
    auto r = activity_or_unavailable(k_demo, dms, "activity 7");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().cls, ErrorClass::permanent);
    EXPECT_EQ(r.error().code, "demo.unavailable");
    EXPECT_EQ(r.error().message,
              "Demo serves a .dms file for activity 7 (9 bytes of application/octet-stream starting "
              "\"DMS\\x01\\x00rest\"), not a FIT, TCX or GPX file; it is not uploaded anywhere");
    auto empty = activity_or_unavailable(k_demo, HandedFile{}, "activity 8");
    ASSERT_FALSE(empty);
    EXPECT_EQ(empty.error().message,
              "Demo serves a file for activity 8 (0 bytes), not a FIT, TCX or GPX file; it is not uploaded anywhere");
    // A damaged archive stays a download failure (tried again), not unavailable.
    auto zip = activity_or_unavailable(k_demo, HandedFile{.bytes = "PK\x03\x04garbage"}, "activity 9");
    ASSERT_FALSE(zip);
    EXPECT_EQ(zip.error().code, "demo.bad_file");
}

TEST(KitDownloadName, FromTheDispositionOrTheUrlPath) {
    EXPECT_EQ(download_name(R"(attachment; filename="ride 1.fit")", "https://x.test/a.dms"), "ride 1.fit");
    EXPECT_EQ(download_name("attachment; filename=r.gpx; size=3", ""), "r.gpx");
    EXPECT_EQ(download_name("", "https://x.test/ride/2024%2001.dms?sig=1#f"), "2024 01.dms");
    EXPECT_EQ(download_name("", "https://x.test"), "");
}

}  // namespace
}  // namespace fitbridge::providers::kit
