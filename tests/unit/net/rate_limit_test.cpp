#include "net/rate_limit.hpp"

#include <gtest/gtest.h>

#include <SQLiteCpp/Statement.h>

#include "net_test_util.hpp"
#include "store/ledger.hpp"
#include "store/store.hpp"
#include "support/run.hpp"
#include "support/temp_dir.hpp"
#include "test_server.hpp"

namespace fitbridge::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// 2023-11-14T22:13:20Z
const SysTime k_start{seconds(1'700'000'000)};

TEST(RateLimitTime, HttpDatesAndRetryAfter) {
    EXPECT_EQ(net::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), SysTime(seconds(784111777)));
    EXPECT_FALSE(net::parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"));
    EXPECT_FALSE(net::parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT"));
    EXPECT_EQ(net::parse_retry_after("120", k_start), seconds(120));
    EXPECT_EQ(net::parse_retry_after("Tue, 14 Nov 2023 22:13:00 GMT", k_start), seconds(0));  // in the past
    EXPECT_EQ(net::parse_retry_after("Tue, 14 Nov 2023 22:14:00 GMT", k_start), seconds(40));
    EXPECT_FALSE(net::parse_retry_after("soon", k_start));
}

TEST(RateLimitTime, WindowBoundaries) {
    EXPECT_EQ(net::next_quarter_hour(k_start), SysTime(seconds(1'700'000'100)));  // 22:15:00
    EXPECT_EQ(net::next_quarter_hour(SysTime(seconds(1'700'000'100))), SysTime(seconds(1'700'001'000)));
    EXPECT_EQ(net::next_utc_midnight(k_start), SysTime(seconds(1'700'006'400)));  // 2023-11-15T00:00:00Z
}

TEST(TokenBucket, BurstThenSteadyRate) {
    ManualClock clock(k_start);
    net::TokenBucket bucket(10, 10, clock);
    for (int i = 0; i < 10; ++i) {
        EXPECT_EQ(bucket.wait_time(), milliseconds(0));
        bucket.take();
    }
    EXPECT_EQ(bucket.wait_time(), milliseconds(100));
    clock.advance(milliseconds(40));
    EXPECT_EQ(bucket.wait_time(), milliseconds(60));
    clock.advance(milliseconds(60));
    EXPECT_EQ(bucket.wait_time(), milliseconds(0));
    clock.advance(seconds(60));
    EXPECT_DOUBLE_EQ(bucket.tokens(), 10.0);  // never above the burst
}

TEST(RateLimiter, BackfillLeavesPartOfTheBucketToLivePolling) {
    ManualClock clock(k_start);
    net::RateLimiter limiter({10, 10, 0.5}, clock);
    int backfill = 0;
    while (limiter.delay(net::Priority::backfill) == milliseconds(0)) {
        limiter.on_send();
        ++backfill;
    }
    EXPECT_EQ(backfill, 5);
    EXPECT_EQ(limiter.delay(net::Priority::backfill), milliseconds(100));
    int live = 0;
    while (limiter.delay(net::Priority::live) == milliseconds(0)) {
        limiter.on_send();
        ++live;
    }
    EXPECT_EQ(live, 5);
}

TEST(RateLimiter, StravaHeadersDriveTheWindows) {
    ManualClock clock(k_start);
    net::RateLimiter limiter({0, 1, 0.5}, clock);
    limiter.observe(response(200, {{"X-RateLimit-Limit", "200,2000"},
                                   {"X-RateLimit-Usage", "60,340"},
                                   {"X-ReadRateLimit-Limit", "100,1000"},
                                   {"X-ReadRateLimit-Usage", "99,400"}}));
    const auto& read_short = limiter.window(true, false);
    EXPECT_EQ(read_short.limit, 100);
    EXPECT_EQ(read_short.used, 99);
    EXPECT_EQ(read_short.resets_at, SysTime(seconds(1'700'000'100)));
    EXPECT_EQ(limiter.window(false, true).resets_at, SysTime(seconds(1'700'006'400)));

    // Backfill may use half of each window: 99 of 100 reads are past that.
    EXPECT_EQ(limiter.delay(net::Priority::backfill), milliseconds(100000));
    EXPECT_EQ(limiter.delay(net::Priority::live), milliseconds(0));
    // Writes count only against the overall window (60 of 200; backfill's share is 100).
    EXPECT_EQ(limiter.delay(net::Priority::backfill, net::RequestKind::write), milliseconds(0));

    limiter.on_send(net::RequestKind::read);
    EXPECT_EQ(limiter.window(true, false).used, 100);
    EXPECT_EQ(limiter.window(false, false).used, 61);
    EXPECT_EQ(limiter.delay(net::Priority::live), milliseconds(100000));

    clock.advance(seconds(100));  // 22:15:00, a new 15-minute window
    EXPECT_EQ(limiter.delay(net::Priority::live), milliseconds(0));
    limiter.on_send(net::RequestKind::read);
    EXPECT_EQ(limiter.window(true, false).used, 1);
    EXPECT_EQ(limiter.window(true, false).resets_at, SysTime(seconds(1'700'001'000)));
}

TEST(RateLimiter, RequestsInFlightCountUntilTheServerHasSeenThem) {
    ManualClock clock(k_start);
    net::RateLimiter limiter({}, clock);
    limiter.observe(response(200, {{"x-ratelimit-limit", "200,400"}, {"x-ratelimit-usage", "10,398"}}));
    limiter.on_send(net::RequestKind::write);  // two uploads in flight: 400 of 400
    limiter.on_send(net::RequestKind::write);
    // The first answer was counted before the second request arrived.
    limiter.observe(response(200, {{"x-ratelimit-limit", "200,400"}, {"x-ratelimit-usage", "11,399"}}));
    EXPECT_EQ(limiter.window(false, true).used, 400);
    EXPECT_EQ(limiter.window(false, false).used, 12);
    EXPECT_EQ(limiter.delay(net::Priority::live, net::RequestKind::write), milliseconds(6400 * 1000));
    // Another process spent more: the server's count wins.
    limiter.observe(response(200, {{"x-ratelimit-limit", "200,2000"}, {"x-ratelimit-usage", "50,1500"}}));
    EXPECT_EQ(limiter.window(false, true).used, 1500);
    // A new window starts from the server's count.
    clock.advance(seconds(100));
    limiter.observe(response(200, {{"x-ratelimit-limit", "200,2000"}, {"x-ratelimit-usage", "1,1501"}}));
    EXPECT_EQ(limiter.window(false, false).used, 1);
}

TEST(RateLimiter, ExhaustedDailyWindowWaitsForMidnight) {
    ManualClock clock(k_start);
    net::RateLimiter limiter({}, clock);
    limiter.observe(response(200, {{"x-ratelimit-limit", "200,2000"}, {"x-ratelimit-usage", "3,2000"}}));
    EXPECT_EQ(limiter.delay(net::Priority::live, net::RequestKind::write), milliseconds(6400 * 1000));
}

TEST(RateLimiter, TooManyRequestsBlocksAndTheBlockCanBePersisted) {
    ManualClock clock(k_start);
    net::RateLimiter limiter({10, 10, 0.5}, clock);
    limiter.observe(response(429, {{"retry-after", "30"}}));
    ASSERT_TRUE(limiter.blocked_until());
    EXPECT_EQ(*limiter.blocked_until(), k_start + seconds(30));
    EXPECT_EQ(limiter.delay(net::Priority::live), milliseconds(30000));

    // A restarted process restores the block it persisted.
    net::RateLimiter restarted({10, 10, 0.5}, clock);
    restarted.set_blocked_until(limiter.blocked_until());
    clock.advance(seconds(10));
    EXPECT_EQ(restarted.delay(net::Priority::backfill), milliseconds(20000));
    clock.advance(seconds(20));
    EXPECT_EQ(restarted.delay(net::Priority::live), milliseconds(0));
}

TEST(RateLimiter, BlockSurvivesARestartThroughTheLedger) {
    TempDir dir("net-block");
    ManualClock clock(k_start);
    {
        auto st = store::Store::open(dir / "state.db");
        ASSERT_TRUE(st.ok()) << st.error().message;
        SQLite::Statement q((*st)->db(), "INSERT INTO accounts (id, provider, created_at) VALUES ('s', 'strava', 0)");
        q.exec();
        net::RateLimiter limiter({}, clock);
        limiter.observe(response(429, {{"x-ratelimit-limit", "200,2000"}, {"x-ratelimit-usage", "201,900"}}));
        store::Ledger ledger(**st, clock);
        auto until = limiter.blocked_until();
        ASSERT_TRUE(until);
        ledger.set_account_blocked_until("s", std::chrono::duration<double>(until->time_since_epoch()).count());
    }
    auto st = store::Store::open(dir / "state.db");
    ASSERT_TRUE(st.ok());
    store::Ledger ledger(**st, clock);
    auto stored = ledger.account_blocked_until("s");
    ASSERT_TRUE(stored);
    net::RateLimiter restarted({}, clock);
    restarted.set_blocked_until(SysTime(std::chrono::milliseconds(static_cast<int64_t>(*stored * 1000))));
    EXPECT_EQ(restarted.delay(net::Priority::live), milliseconds(100000));  // until 22:15:00
    ledger.set_account_blocked_until("s", std::nullopt);
    EXPECT_FALSE(ledger.account_blocked_until("s"));
    EXPECT_FALSE(ledger.account_blocked_until("nobody"));
}

TEST(RateLimiter, AcquireWaitsOnARealTimer) {
    SystemClock clock;
    net::RateLimiter limiter({20, 1, 0.5}, clock);
    boost::asio::io_context io;
    auto start = std::chrono::steady_clock::now();
    auto task = [&]() -> boost::asio::awaitable<int> {
        for (int i = 0; i < 5; ++i) co_await limiter.acquire(net::Priority::live);
        co_return 5;
    };
    EXPECT_EQ(run(io, task()), 5);
    auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_GE(elapsed, milliseconds(195));  // four waits of 50 ms after the first token
    EXPECT_LT(elapsed, milliseconds(1500));
}

}  // namespace
}  // namespace fitbridge::test
