#include "net/url.hpp"

#include <gtest/gtest.h>

namespace fitbridge::net {
namespace {

TEST(Url, ParsesSchemeHostPortAndTarget) {
    auto u = parse_url("https://Intervals.ICU/api/v1/athlete/0/activities?oldest=2024-01-01#frag");
    ASSERT_TRUE(u.ok());
    EXPECT_EQ(u->scheme, "https");
    EXPECT_EQ(u->host, "intervals.icu");
    EXPECT_EQ(u->port, 443);
    EXPECT_EQ(u->target, "/api/v1/athlete/0/activities?oldest=2024-01-01");
    EXPECT_EQ(u->host_header(), "intervals.icu");
    EXPECT_EQ(u->origin(), "https://intervals.icu:443");

    u = parse_url("http://127.0.0.1:8080");
    ASSERT_TRUE(u.ok());
    EXPECT_EQ(u->port, 8080);
    EXPECT_EQ(u->target, "/");
    EXPECT_EQ(u->host_header(), "127.0.0.1:8080");

    u = parse_url("http://[::1]:9000/x");
    ASSERT_TRUE(u.ok());
    EXPECT_EQ(u->host, "::1");
    EXPECT_EQ(u->host_header(), "[::1]:9000");
}

TEST(Url, RejectsWhatItCannotUse) {
    for (auto bad :
         {"ftp://x/", "intervals.icu/api", "http://:80/", "http://h:99999/", "http://u:p@h/", "http://h:x/"}) {
        auto u = parse_url(bad);
        ASSERT_FALSE(u.ok()) << bad;
        EXPECT_EQ(u.error().code, "net.bad_url");
        EXPECT_EQ(u.error().cls, ErrorClass::permanent);
    }
}

TEST(Url, ResolvesLocations) {
    auto base = *parse_url("https://api.example/a/b/c?x=1");
    EXPECT_EQ(resolve_url(base, "https://cdn.example/f")->str(), "https://cdn.example/f");
    EXPECT_EQ(resolve_url(base, "//cdn.example:8443/f")->str(), "https://cdn.example:8443/f");
    EXPECT_EQ(resolve_url(base, "/root?q=2")->str(), "https://api.example/root?q=2");
    EXPECT_EQ(resolve_url(base, "d")->str(), "https://api.example/a/b/d");
}

TEST(Url, EncodesAndDecodesForms) {
    EXPECT_EQ(url_encode("a b&c=d/é~"), "a%20b%26c%3Dd%2F%C3%A9~");
    EXPECT_EQ(url_decode("a+b%20c%2"), "a b c%2");
    EXPECT_EQ(form_encode({{"grant_type", "refresh_token"}, {"refresh_token", "r/1+2"}}),
              "grant_type=refresh_token&refresh_token=r%2F1%2B2");
    auto q = parse_query("code=abc%2F1&state=s+1&flag&=v");
    ASSERT_EQ(q.size(), 4u);
    EXPECT_EQ(q[0], (std::pair<std::string, std::string>{"code", "abc/1"}));
    EXPECT_EQ(q[1], (std::pair<std::string, std::string>{"state", "s 1"}));
    EXPECT_EQ(q[2], (std::pair<std::string, std::string>{"flag", ""}));
    EXPECT_EQ(q[3], (std::pair<std::string, std::string>{"", "v"}));
}

}  // namespace
}  // namespace fitbridge::net
