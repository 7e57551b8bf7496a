#include "api/guard.hpp"

#include <gtest/gtest.h>

namespace fitbridge::api {
namespace {

TEST(Guard, HostAllowList) {
    EXPECT_TRUE(host_allowed("localhost", {}));
    EXPECT_TRUE(host_allowed("LOCALHOST:8787", {}));
    EXPECT_TRUE(host_allowed("127.0.0.1:1", {}));
    EXPECT_TRUE(host_allowed("[::1]:8787", {}));
    EXPECT_FALSE(host_allowed("127.0.0.2", {}));
    EXPECT_FALSE(host_allowed("localhost.evil.example", {}));
    EXPECT_FALSE(host_allowed("", {}));
    EXPECT_FALSE(host_allowed(":8787", {}));
    EXPECT_TRUE(host_allowed("nas.local:8787", {"nas.local"}));
    EXPECT_FALSE(host_allowed("nas.local.evil", {"nas.local"}));
}

TEST(Guard, OriginRules) {
    GuardOptions o;
    o.token = std::string(64, 'a');
    o.allowed_origins = {"https://dash.example"};
    Request r;
    r.headers["host"] = "localhost:8787";
    r.headers["authorization"] = "Bearer " + o.token;
    EXPECT_FALSE(admit(r, false, o));
    r.headers["origin"] = "https://dash.example";
    EXPECT_FALSE(admit(r, false, o));
    r.headers["origin"] = "http://127.0.0.1:8787";
    EXPECT_FALSE(admit(r, false, o));
    r.headers["origin"] = "http://127.0.0.1:8787/path";
    EXPECT_EQ(admit(r, false, o)->status, 403);
    r.headers["origin"] = "file://";
    EXPECT_EQ(admit(r, false, o)->status, 403);
    r.headers["origin"] = "https://dash.example.evil";
    EXPECT_EQ(admit(r, true, o)->status, 403);
}

TEST(Guard, TokenCheckedCaseSensitively) {
    GuardOptions o;
    o.token = std::string(64, 'a');
    Request r;
    r.headers["host"] = "localhost";
    r.headers["authorization"] = "bearer " + o.token;  // scheme is case-insensitive
    EXPECT_FALSE(admit(r, false, o));
    r.headers["authorization"] = "Bearer " + std::string(64, 'A');
    EXPECT_EQ(admit(r, false, o)->status, 401);
    r.headers["authorization"] = "Bearer " + o.token + "a";
    EXPECT_EQ(admit(r, false, o)->status, 401);
}

}  // namespace
}  // namespace fitbridge::api
