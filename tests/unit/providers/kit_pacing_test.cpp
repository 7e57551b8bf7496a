// The kit's HostPacer: at least the interval between two requests to one
// host, hosts paced apart, no pacing at 0, waiting requests keep their turn.

#include "providers/kit/pacing.hpp"

#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include "provider_test_util.hpp"

namespace fitbridge::providers::kit {
namespace {

// Answers 200 at once and notes each URL.
class Recorder final : public net::HttpClient {
public:
    std::vector<std::string> urls;
    boost::asio::awaitable<Result<net::HttpResponse>> send(net::HttpRequest request) override {
        urls.push_back(request.url);
        net::HttpResponse r;
        r.status = 200;
        co_return r;
    }
};

struct Fixture {
    std::shared_ptr<Recorder> inner = std::make_shared<Recorder>();
    std::vector<int64_t> waits;  // ms asked of the sleep function
    HostPacer pacer(std::chrono::milliseconds interval) {
        return HostPacer(inner, interval, [this](std::chrono::milliseconds ms) -> boost::asio::awaitable<void> {
            waits.push_back(ms.count());
            co_return;
        });
    }
};

Result<net::HttpResponse> get(HostPacer& p, std::string url) {
    boost::asio::io_context io;
    net::HttpRequest r;
    r.url = std::move(url);
    return test::run(io, p.send(std::move(r)));
}

TEST(KitPacingTest, LeavesTheIntervalBetweenRequestsToOneHost) {
    Fixture f;
    auto p = f.pacer(std::chrono::milliseconds(1000));
    ASSERT_TRUE(get(p, "https://connectapi.garmin.com/a"));
    ASSERT_TRUE(get(p, "https://diauth.garmin.com/token"));  // another host: its own pace
    ASSERT_TRUE(get(p, "https://connectapi.garmin.com/b"));
    ASSERT_TRUE(get(p, "https://connectapi.garmin.com/c"));
    EXPECT_EQ(f.inner->urls.size(), 4u);
    // The first request to each host goes at once; the next ones wait for
    // their slot (the recording sleep returns at once, so each slot is one
    // interval after the previous one).
    ASSERT_EQ(f.waits.size(), 2u);
    EXPECT_GT(f.waits[0], 900);
    EXPECT_LE(f.waits[0], 1000);
    EXPECT_GT(f.waits[1], 1900);
    EXPECT_LE(f.waits[1], 2000);
}

TEST(KitPacingTest, ZeroMeansNoPacing) {
    Fixture f;
    auto p = f.pacer(std::chrono::milliseconds(0));
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(get(p, "https://connectapi.garmin.com/x"));
    EXPECT_TRUE(f.waits.empty());
    EXPECT_EQ(f.inner->urls.size(), 3u);
}

}  // namespace
}  // namespace fitbridge::providers::kit
