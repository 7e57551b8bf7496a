// `fitbridge open`: the page's address from the daemon's listen address.

#include <gtest/gtest.h>

#include "cli/open.hpp"

namespace fitbridge::cli {
namespace {

TEST(PageUrl, FromTheListenAddress) {
    EXPECT_EQ(page_url("127.0.0.1:8787"), "http://127.0.0.1:8787/");
    EXPECT_EQ(page_url("localhost:9000"), "http://localhost:9000/");
    EXPECT_EQ(page_url("[::1]:8787"), "http://[::1]:8787/");
    EXPECT_EQ(page_url("192.168.1.20:8787"), "http://192.168.1.20:8787/");
}

TEST(PageUrl, AWildcardAddressIsReachedOverLoopback) {
    EXPECT_EQ(page_url("0.0.0.0:8787"), "http://127.0.0.1:8787/");
    EXPECT_EQ(page_url("[::]:8787"), "http://[::1]:8787/");
}

TEST(PageUrl, AUnixSocketHasNoPage) {
    EXPECT_EQ(page_url("unix:/run/fitbridge/api.sock"), std::nullopt);
    EXPECT_EQ(page_url("nonsense"), std::nullopt);
}

}  // namespace
}  // namespace fitbridge::cli
