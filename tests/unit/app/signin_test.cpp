// One-time sign-in codes (`fitbridge open`) and their two routes.

#include <gtest/gtest.h>

#include <regex>

#include "api/server.hpp"
#include "app/signin.hpp"

namespace fitbridge::app {
namespace {

using namespace std::chrono_literals;

constexpr const char* k_token = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

TEST(SigninCodes, ACodeWorksOnceWithinItsLifetime) {
    ManualClock clock(SysTime(std::chrono::hours(500000)));
    SigninCodes codes(clock);
    auto a = codes.issue();
    auto b = codes.issue();
    EXPECT_TRUE(std::regex_match(a, std::regex("[0-9a-f]{32}"))) << a;
    EXPECT_NE(a, b);
    EXPECT_EQ(codes.open_count(), 2u);
    clock.advance(119s);
    EXPECT_TRUE(codes.redeem(a));
    EXPECT_FALSE(codes.redeem(a));
    EXPECT_FALSE(codes.redeem("0123456789abcdef0123456789abcdef"));
    EXPECT_FALSE(codes.redeem(""));
    clock.advance(1s);  // b is 120 s old: expired
    EXPECT_FALSE(codes.redeem(b));
    EXPECT_EQ(codes.open_count(), 0u);
}

TEST(SigninCodes, TheOldestOpenCodeGivesWayBeyondTheCap) {
    ManualClock clock(SysTime(std::chrono::hours(500000)));
    SigninCodes codes(clock);
    auto first = codes.issue();
    clock.advance(1s);
    auto second = codes.issue();
    for (size_t i = 2; i < SigninCodes::k_max_open; ++i) codes.issue();
    EXPECT_EQ(codes.open_count(), 16u);
    codes.issue();
    EXPECT_EQ(codes.open_count(), 16u);
    EXPECT_FALSE(codes.redeem(first));
    EXPECT_TRUE(codes.redeem(second));
}

class SigninRoutes : public ::testing::Test {
protected:
    SigninRoutes() : m_clock(SysTime(std::chrono::hours(500000))), m_codes(m_clock) {}
    void SetUp() override {
        register_signin_routes(m_router, m_codes, m_token);
        m_options.guard.token = k_token;
    }
    api::Response post(const std::string& target, const std::string& body, const std::string& extra = "") {
        auto r = api::handle_request_bytes("POST " + target +
                                               " HTTP/1.1\r\nHost: 127.0.0.1:8787\r\nContent-Type: "
                                               "application/json\r\nContent-Length: " +
                                               std::to_string(body.size()) + "\r\n" + extra + "\r\n" + body,
                                           m_router, m_options);
        EXPECT_TRUE(r.has_value());
        return r ? *r : api::Response{};
    }
    std::string new_code() {
        auto r = post("/v1/signin-codes", "", std::string("Authorization: Bearer ") + k_token + "\r\n");
        EXPECT_EQ(r.status, 201);
        std::smatch m;
        EXPECT_TRUE(std::regex_match(r.body, m, std::regex(R"j(\{"code":"([0-9a-f]{32})","expires_in_s":120\})j")))
            << r.body;
        return m.size() > 1 ? m[1].str() : std::string();
    }
    ManualClock m_clock;
    SigninCodes m_codes;
    std::string m_token = k_token;
    api::Router m_router;
    api::ServerOptions m_options;
};

TEST_F(SigninRoutes, IssuingACodeNeedsTheToken) {
    auto r = post("/v1/signin-codes", "");
    EXPECT_EQ(r.status, 401);
    r = post("/v1/signin-codes", "", "Authorization: Bearer nope\r\n");
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(m_codes.open_count(), 0u);
    new_code();
    EXPECT_EQ(m_codes.open_count(), 1u);
}

TEST_F(SigninRoutes, ACodeIsTradedOnceForTheTokenWithoutOne) {
    auto code = new_code();
    auto r = post("/v1/signin", R"({"code":")" + code + R"("})", "Origin: http://127.0.0.1:8787\r\n");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, std::string(R"({"token":")") + k_token + R"("})");
    r = post("/v1/signin", R"({"code":")" + code + R"("})");
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(r.body,
              R"({"error":{"code":"invalid_code","message":"this sign-in link is unknown, used or expired: run )"
              R"(`fitbridge open` again or paste the API token"}})");
}

TEST_F(SigninRoutes, AnExpiredCodeIsRefused) {
    auto code = new_code();
    m_clock.advance(121s);
    EXPECT_EQ(post("/v1/signin", R"({"code":")" + code + R"("})").status, 401);
}

TEST_F(SigninRoutes, MalformedExchangesAreRefused) {
    auto r = post("/v1/signin", "{}");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.body,
              R"({"error":{"code":"bad_request","message":"code: required, the code of a `fitbridge open` URL"}})");
    EXPECT_EQ(post("/v1/signin", R"({"code":5})").status, 400);
    EXPECT_EQ(post("/v1/signin", "[").status, 400);
    EXPECT_EQ(post("/v1/signin", "").status, 400);
}

TEST_F(SigninRoutes, AForeignOriginCannotTradeACode) {
    auto code = new_code();
    auto r = post("/v1/signin", R"({"code":")" + code + R"("})", "Origin: https://evil.example\r\n");
    EXPECT_EQ(r.status, 403);
    EXPECT_EQ(
        r.body,
        R"({"error":{"code":"forbidden_origin","message":"Origin 'https://evil.example' may not use this API"}})");
    // Refused before the handler: the code is still good for the page.
    EXPECT_EQ(m_codes.open_count(), 1u);
    // A form post from elsewhere without an Origin cannot use a simple content type either.
    const std::string body = R"({"code":")" + code + R"("})";
    auto plain = api::handle_request_bytes(
        "POST /v1/signin HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
        "text/plain\r\nContent-Length: " +
            std::to_string(body.size()) + "\r\n\r\n" + body,
        m_router, m_options);
    ASSERT_TRUE(plain);
    EXPECT_EQ(plain->status, 415);
    EXPECT_EQ(m_codes.open_count(), 1u);
}

}  // namespace
}  // namespace fitbridge::app
