#include <gtest/gtest.h>

#include "api/server.hpp"

namespace fitbridge::api {
namespace {

constexpr const char* k_token = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

class RequestBytesTest : public ::testing::Test {
protected:
    void SetUp() override {
        m_router.add(
            "GET", "/healthz", [](Request&) { return json_response(200, R"({"status":"ok"})"); }, true);
        m_router.add("POST", "/v1/things/{id}", [](Request& r) {
            return json_response(201, "{\"id\":\"" + r.params.at("id") + "\",\"body\":" + r.body + "}");
        });
        m_router.add("GET", "/metrics", [](Request&) { return json_response(200, "{}"); });
        m_options.max_body_bytes = 1024;
        m_options.guard.token = k_token;
    }
    std::optional<Response> handle(const std::string& bytes) {
        return handle_request_bytes(bytes, m_router, m_options);
    }
    Router m_router;
    ServerOptions m_options;
};

TEST_F(RequestBytesTest, CompleteRequestReachesItsHandler) {
    auto r = handle(std::string("POST /v1/things/a%20b HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ") +
                    k_token + "\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"x\":1}");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 201);
    EXPECT_EQ(r->body, R"({"id":"a b","body":{"x":1}})");
}

TEST_F(RequestBytesTest, IncompleteRequestGetsNoAnswer) {
    EXPECT_FALSE(handle("GET /healthz HTTP/1.1\r\nHost: local"));
    EXPECT_FALSE(handle(std::string("POST /v1/things/1 HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ") +
                        k_token + "\r\nContent-Length: 7\r\n\r\n{\"x\""));
    EXPECT_FALSE(handle(""));
}

TEST_F(RequestBytesTest, RefusalsComeFromTheHeadersAlone) {
    // No token: refused although the body never arrived.
    auto r = handle("POST /v1/things/1 HTTP/1.1\r\nHost: localhost\r\nContent-Length: 500\r\n\r\n{");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401);
    r = handle("GET /healthz HTTP/1.1\r\nHost: evil.example\r\n\r\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 421);
    r = handle("GARBAGE\r\n\r\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400);
    EXPECT_EQ(r->body, R"({"error":{"code":"bad_request","message":"malformed HTTP request: bad method"}})");
    r = handle(std::string("POST /v1/things/1 HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ") + k_token +
               "\r\nContent-Length: 5000\r\n\r\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 413);
}

TEST_F(RequestBytesTest, PublicPathsSkipOnlyTheToken) {
    auto r = handle("GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401);
    m_options.guard.public_paths = {"/metrics"};
    r = handle("GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    r = handle("GET /metrics HTTP/1.1\r\nHost: localhost\r\nOrigin: https://evil.example\r\n\r\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 403);
}

}  // namespace
}  // namespace fitbridge::api
