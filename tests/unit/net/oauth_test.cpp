#include "net/oauth.hpp"

#include <SQLiteCpp/Statement.h>
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <thread>

#include "net/local_client.hpp"
#include "net/url.hpp"
#include "net_test_util.hpp"
#include "store/store.hpp"
#include "support/run.hpp"
#include "support/temp_dir.hpp"
#include "test_server.hpp"

namespace fitbridge::test {
namespace {

using std::chrono::seconds;

const SysTime k_now{seconds(1'700'000'000)};

std::string form_value(const std::string& body, const std::string& key) {
    for (const auto& [k, v] : net::parse_query(body))
        if (k == key) return v;
    return {};
}

// A platform: a token endpoint that rotates refresh tokens (R1 -> R2 -> ...)
// and an API that accepts only the newest access token (unless told to
// reject everything).
struct FakePlatform {
    std::atomic<int> refreshes{0};
    std::atomic<bool> reject_all{false};
    std::atomic<bool> refuse_refresh{false};
    std::string current_access = "A1";
    std::mutex mutex;

    TestServer server{[this](const ServerRequest& r) { return handle(r); }};

    ServerReply handle(const ServerRequest& r) {
        std::lock_guard lock(mutex);
        if (r.target == "/oauth/token") {
            if (refuse_refresh) return ServerReply{400, {}, R"({"error":"invalid_grant"})"};
            int n = ++refreshes;
            std::string expected = "R" + std::to_string(n);
            if (form_value(r.body, "grant_type") != "refresh_token" ||
                form_value(r.body, "refresh_token") != expected || form_value(r.body, "client_id") != "cid" ||
                form_value(r.body, "client_secret") != "csecret")
                return ServerReply{400, {}, R"({"error":"invalid_grant"})"};
            current_access = "A" + std::to_string(n + 1);
            ServerReply reply{200,
                              {{"Content-Type", "application/json"}},
                              R"({"token_type":"Bearer","access_token":")" + current_access +
                                  R"(","refresh_token":"R)" + std::to_string(n + 1) +
                                  R"(","expires_at":1700021600,"expires_in":21600})"};
            // Slow enough that concurrent callers pile up behind the refresh.
            reply.delay = std::chrono::milliseconds(50);
            return reply;
        }
        if (reject_all || r.header("authorization") != "Bearer " + current_access)
            return ServerReply{401, {}, R"({"message":"Authorization Error"})"};
        return ServerReply{200, {}, "data"};
    }

    net::OAuthEndpoints endpoints() {
        return {server.url("/authorize"), server.url("/oauth/token"), "cid", "csecret", "http://127.0.0.1/cb", "read"};
    }
};

class OAuthTest : public ::testing::Test {
protected:
    void SetUp() override { open_store(); }
    void open_store() {
        auto opened = store::Store::open(dir / "state.db");
        ASSERT_TRUE(opened.ok()) << opened.error().message;
        store = std::move(*opened);
        SQLite::Statement q(
            store->db(), "INSERT OR IGNORE INTO accounts (id, provider, created_at) VALUES ('strava-me', 'strava', 0)");
        q.exec();
        tokens = std::make_unique<net::SqliteTokenStore>(*store, clock);
    }
    void seed(std::optional<SysTime> expires_at) {
        net::Credentials c{"oauth2", "A1", "R1", expires_at, "read"};
        ASSERT_TRUE(tokens->save("strava-me", c).ok());
    }
    net::HttpRequest api_get() {
        net::HttpRequest r;
        r.url = platform.server.url("/api/v3/athlete/activities");
        return r;
    }

    TempDir dir{"net-oauth"};
    ManualClock clock{k_now};
    std::unique_ptr<store::Store> store;
    std::unique_ptr<net::SqliteTokenStore> tokens;
    FakePlatform platform;
    boost::asio::io_context io;
    std::unique_ptr<net::HttpClient> http = net::make_http_client(io.get_executor());
};

TEST_F(OAuthTest, TokenStoreRoundTripsAndOverwrites) {
    auto none = tokens->load("strava-me");
    ASSERT_TRUE(none.ok());
    EXPECT_FALSE(none->has_value());
    seed(k_now + seconds(100));
    net::Credentials c{"oauth2", "A9", "R9", std::nullopt, "activity:read_all"};
    ASSERT_TRUE(tokens->save("strava-me", c).ok());
    auto loaded = tokens->load("strava-me");
    ASSERT_TRUE(loaded.ok() && loaded->has_value());
    EXPECT_EQ((*loaded)->access_token, "A9");
    EXPECT_EQ((*loaded)->refresh_token, "R9");
    EXPECT_FALSE((*loaded)->expires_at.has_value());
    EXPECT_EQ((*loaded)->scope, "activity:read_all");
    // No account row: the foreign key refuses, and the error says so.
    EXPECT_FALSE(tokens->save("nobody", c).ok());
}

TEST_F(OAuthTest, ValidTokenIsUsedWithoutRefreshing) {
    seed(k_now + seconds(3600));
    net::OAuth2TokenSource source(*http, *tokens, "strava-me", platform.endpoints(), clock);
    auto r = run(io, net::send_authorized(*http, source, api_get(), clock));
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(platform.refreshes.load(), 0);
}

TEST_F(OAuthTest, RefreshesWithinTheSkewBeforeExpiry) {
    seed(k_now + seconds(59));
    net::OAuth2TokenSource source(*http, *tokens, "strava-me", platform.endpoints(), clock);
    auto auth = run(io, source.authorization());
    ASSERT_TRUE(auth.ok()) << auth.error().message;
    EXPECT_EQ(*auth, "Bearer A2");
    EXPECT_EQ(platform.refreshes.load(), 1);
}

TEST_F(OAuthTest, TenConcurrentRequestsShareOneRefresh) {
    seed(k_now - seconds(1));
    net::OAuth2TokenSource source(*http, *tokens, "strava-me", platform.endpoints(), clock);
    std::vector<int> statuses;
    for (int i = 0; i < 10; ++i) {
        boost::asio::co_spawn(
            io,
            [&]() -> boost::asio::awaitable<void> {
                auto r = co_await net::send_authorized(*http, source, api_get(), clock);
                statuses.push_back(r ? r->status : -1);
            },
            boost::asio::detached);
    }
    io.run();
    EXPECT_EQ(statuses, std::vector<int>(10, 200));
    EXPECT_EQ(platform.refreshes.load(), 1);
    int token_requests = 0;
    for (const auto& r : platform.server.requests()) token_requests += r.target == "/oauth/token";
    EXPECT_EQ(token_requests, 1);
    auto stored = tokens->load("strava-me");
    ASSERT_TRUE(stored.ok() && stored->has_value());
    EXPECT_EQ((*stored)->access_token, "A2");
    EXPECT_EQ((*stored)->refresh_token, "R2");
    EXPECT_EQ((*stored)->expires_at, SysTime(seconds(1'700'021'600)));
}

TEST_F(OAuthTest, RotatedRefreshTokenSurvivesACrash) {
    seed(k_now - seconds(1));
    {
        net::OAuth2TokenSource source(*http, *tokens, "strava-me", platform.endpoints(), clock);
        ASSERT_TRUE(run(io, source.authorization()).ok());
    }
    // The process dies: nothing but the database file remains.
    tokens.reset();
    store.reset();
    open_store();
    auto stored = tokens->load("strava-me");
    ASSERT_TRUE(stored.ok() && stored->has_value());
    EXPECT_EQ((*stored)->refresh_token, "R2");

    // The restarted process refreshes with the rotated token and is accepted.
    clock.advance(seconds(21600));
    net::OAuth2TokenSource restarted(*http, *tokens, "strava-me", platform.endpoints(), clock);
    auto auth = run(io, restarted.authorization());
    ASSERT_TRUE(auth.ok()) << auth.error().message;
    EXPECT_EQ(*auth, "Bearer A3");
    EXPECT_EQ((*tokens->load("strava-me"))->refresh_token, "R3");
}

TEST_F(OAuthTest, UnauthorizedTriggersOneRefreshThatFixesIt) {
    seed(k_now + seconds(3600));
    platform.current_access = "A-revoked";  // the server no longer accepts A1
    net::OAuth2TokenSource source(*http, *tokens, "strava-me", platform.endpoints(), clock);
    auto r = run(io, net::send_authorized(*http, source, api_get(), clock));
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(platform.refreshes.load(), 1);
    EXPECT_FALSE(source.needs_reauth());
}

TEST_F(OAuthTest, SecondUnauthorizedAfterRefreshIsAnAuthError) {
    seed(k_now + seconds(3600));
    platform.reject_all = true;
    net::OAuth2TokenSource source(*http, *tokens, "strava-me", platform.endpoints(), clock);
    auto r = run(io, net::send_authorized(*http, source, api_get(), clock));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().cls, ErrorClass::auth);
    EXPECT_EQ(r.error().code, "http.401");
    EXPECT_EQ(platform.refreshes.load(), 1);
    EXPECT_TRUE(source.needs_reauth());
    // Later requests fail the same way without reaching the platform.
    size_t before = platform.server.requests().size();
    r = run(io, net::send_authorized(*http, source, api_get(), clock));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "oauth.needs_reauth");
    EXPECT_EQ(r.error().cls, ErrorClass::auth);
    EXPECT_EQ(platform.server.requests().size(), before);
}

TEST_F(OAuthTest, UnauthorizedWithoutARefreshTokenIsFinalAtOnce) {
    // Intervals.icu's long-lived OAuth tokens come with no refresh token.
    ASSERT_TRUE(tokens->save("strava-me", net::Credentials{"oauth2", "A1", "", std::nullopt, "read"}).ok());
    platform.reject_all = true;
    net::OAuth2TokenSource source(*http, *tokens, "strava-me", platform.endpoints(), clock);
    size_t before = platform.server.requests().size();
    auto r = run(io, net::send_authorized(*http, source, api_get(), clock));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "http.401");
    EXPECT_EQ(platform.refreshes.load(), 0);
    EXPECT_EQ(platform.server.requests().size(), before + 1);
    EXPECT_TRUE(source.needs_reauth());
}

// Tokens handed over through the API without the account's OAuth app: the
// refresh token cannot be used (there is no token endpoint or client id), so
// a 401 is final and an expired token is an auth error, with no request sent
// to an empty URL.
TEST_F(OAuthTest, WithoutAnOAuthClientA401IsFinalAndExpiryIsAnAuthError) {
    seed(k_now + seconds(3600));
    platform.reject_all = true;
    net::OAuth2TokenSource source(*http, *tokens, "strava-me", net::OAuthEndpoints{}, clock);
    const size_t before = platform.server.requests().size();
    auto r = run(io, net::send_authorized(*http, source, api_get(), clock));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "http.401");
    EXPECT_EQ(platform.refreshes.load(), 0);
    EXPECT_EQ(platform.server.requests().size(), before + 1);
    EXPECT_TRUE(source.needs_reauth());

    seed(k_now + seconds(30));  // expiring within the skew
    net::OAuth2TokenSource expiring(*http, *tokens, "strava-me", net::OAuthEndpoints{}, clock);
    auto auth = run(io, expiring.authorization());
    ASSERT_FALSE(auth.ok());
    EXPECT_EQ(auth.error().code, "oauth.no_client");
    EXPECT_EQ(auth.error().message,
              "account strava-me: access token expired and no OAuth client (client_id) to refresh it with");
    EXPECT_EQ(platform.refreshes.load(), 0);
}

TEST_F(OAuthTest, FinalUnauthorizedCanComeBackAsTheResponse) {
    seed(k_now + seconds(3600));
    platform.reject_all = true;
    net::OAuth2TokenSource source(*http, *tokens, "strava-me", platform.endpoints(), clock);
    auto r = run(io, net::send_authorized(*http, source, api_get(), clock, net::Final401::response));
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->status, 401);
    EXPECT_EQ(platform.refreshes.load(), 1);
    EXPECT_TRUE(source.needs_reauth());
}

TEST_F(OAuthTest, RefusedRefreshNeedsReauth) {
    seed(k_now - seconds(1));
    platform.refuse_refresh = true;
    net::OAuth2TokenSource source(*http, *tokens, "strava-me", platform.endpoints(), clock);
    auto auth = run(io, source.authorization());
    ASSERT_FALSE(auth.ok());
    EXPECT_EQ(auth.error().cls, ErrorClass::auth);
    EXPECT_EQ(auth.error().code, "oauth.refresh_refused");
    EXPECT_TRUE(source.needs_reauth());
    EXPECT_EQ((*tokens->load("strava-me"))->refresh_token, "R1");  // nothing overwritten
}

TEST_F(OAuthTest, MissingCredentialsAreAnAuthError) {
    net::OAuth2TokenSource source(*http, *tokens, "strava-me", platform.endpoints(), clock);
    auto auth = run(io, source.authorization());
    ASSERT_FALSE(auth.ok());
    EXPECT_EQ(auth.error().code, "oauth.no_credentials");
}

TEST_F(OAuthTest, StaticSourcesNeverRetryA401) {
    auto key = net::make_api_key_source("abc");
    EXPECT_EQ(*run(io, key->authorization()), "Basic QVBJX0tFWTphYmM=");
    EXPECT_FALSE(key->invalidate("Basic QVBJX0tFWTphYmM="));
    EXPECT_EQ(*run(io, net::make_bearer_source("tok")->authorization()), "Bearer tok");
    EXPECT_EQ(*run(io, net::make_basic_source("u", "p")->authorization()), "Basic dTpw");

    auto bad = net::make_bearer_source("stale");
    auto r = run(io, net::send_authorized(*http, *bad, api_get(), clock));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().cls, ErrorClass::auth);
    EXPECT_EQ(platform.server.requests().size(), 1u);
}

TEST_F(OAuthTest, AuthorizationCodeExchange) {
    auto endpoints = platform.endpoints();
    auto pkce = net::make_pkce();
    std::string seen_body;
    TestServer token_server([&](const ServerRequest& r) {
        seen_body = r.body;
        return ServerReply{200, {}, R"({"access_token":"AX","refresh_token":"RX","expires_in":3600,"scope":"read"})"};
    });
    endpoints.token_url = token_server.url("/oauth/token");
    auto creds = run(io, net::exchange_code(*http, endpoints, "the-code", pkce.verifier, clock));
    ASSERT_TRUE(creds.ok()) << creds.error().message;
    EXPECT_EQ(creds->kind, "oauth2");
    EXPECT_EQ(creds->access_token, "AX");
    EXPECT_EQ(creds->refresh_token, "RX");
    EXPECT_EQ(creds->expires_at, k_now + seconds(3600));
    EXPECT_EQ(form_value(seen_body, "grant_type"), "authorization_code");
    EXPECT_EQ(form_value(seen_body, "code"), "the-code");
    EXPECT_EQ(form_value(seen_body, "code_verifier"), pkce.verifier);
    EXPECT_EQ(form_value(seen_body, "redirect_uri"), "http://127.0.0.1/cb");
}

TEST(Pkce, MatchesRfc7636AndBase64Vectors) {
    EXPECT_EQ(net::pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
              "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    auto p = net::make_pkce();
    EXPECT_EQ(p.verifier.size(), 43u);
    EXPECT_EQ(p.challenge, net::pkce_challenge(p.verifier));
    EXPECT_NE(net::make_state(), net::make_state());
    EXPECT_EQ(net::base64(""), "");
    EXPECT_EQ(net::base64("f"), "Zg==");
    EXPECT_EQ(net::base64("fo"), "Zm8=");
    EXPECT_EQ(net::base64("foobar"), "Zm9vYmFy");
    EXPECT_EQ(net::base64url("\xfb\xff"), "-_8");

    net::OAuthEndpoints e{"https://www.strava.com/oauth/authorize",
                          "",
                          "42",
                          "",
                          "http://127.0.0.1:5000/callback",
                          "read,activity:read_all"};
    EXPECT_EQ(net::authorization_url(e, "st", "ch"),
              "https://www.strava.com/oauth/authorize?response_type=code&client_id=42&redirect_uri=http%3A%2F%2F127.0."
              "0.1%3A5000%2Fcallback&scope=read%2Cactivity%3Aread_all&state=st&code_challenge=ch&code_challenge_"
              "method=S256");
}

// The browser's visit, made by a thread with the blocking local client.
Result<net::LocalResponse> visit(uint16_t port, std::string target) {
    net::LocalRequest req;
    req.target = std::move(target);
    return net::local_request("127.0.0.1:" + std::to_string(port), req, std::chrono::seconds(5));
}

TEST(LoopbackListener, ReturnsTheCodeForTheRightState) {
    net::LoopbackListener listener;
    EXPECT_EQ(listener.redirect_uri(), "http://127.0.0.1:" + std::to_string(listener.port()) + "/callback");
    int favicon_status = 0;
    int callback_status = 0;
    std::thread browser([&] {
        auto f = visit(listener.port(), "/favicon.ico");
        favicon_status = f ? f->status : -1;
        auto c = visit(listener.port(), "/callback?state=S1&code=C%2F1&scope=read,activity:write");
        callback_status = c ? c->status : -1;
    });
    auto got = listener.wait("S1", std::chrono::seconds(10));
    browser.join();
    ASSERT_TRUE(got.ok()) << got.error().message;
    EXPECT_EQ(got->code, "C/1");
    EXPECT_EQ(got->scope, "read,activity:write");
    EXPECT_EQ(favicon_status, 404);
    EXPECT_EQ(callback_status, 200);
}

TEST(LoopbackListener, WrongStateDenialAndTimeout) {
    {
        net::LoopbackListener listener;
        std::thread browser([&] { (void)visit(listener.port(), "/callback?state=forged&code=C"); });
        auto got = listener.wait("S1", std::chrono::seconds(10));
        browser.join();
        ASSERT_FALSE(got.ok());
        EXPECT_EQ(got.error().code, "oauth.state");
        EXPECT_EQ(got.error().cls, ErrorClass::permanent);
    }
    {
        net::LoopbackListener listener;
        std::thread browser([&] { (void)visit(listener.port(), "/callback?state=S1&error=access_denied"); });
        auto got = listener.wait("S1", std::chrono::seconds(10));
        browser.join();
        ASSERT_FALSE(got.ok());
        EXPECT_EQ(got.error().code, "oauth.denied");
        EXPECT_EQ(got.error().cls, ErrorClass::auth);
    }
    {
        net::LoopbackListener listener;
        auto got = listener.wait("S1", std::chrono::milliseconds(100));
        ASSERT_FALSE(got.ok());
        EXPECT_EQ(got.error().code, "oauth.timeout");
        EXPECT_EQ(got.error().cls, ErrorClass::transient);
    }
}

}  // namespace
}  // namespace fitbridge::test
