#include "net/retry.hpp"

#include <gtest/gtest.h>

#include "net_test_util.hpp"
#include "support/run.hpp"

namespace fitbridge::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class RetryTest : public ::testing::Test {
protected:
    // Records each requested sleep and moves the manual clock by it.
    net::SleepFn recording_sleep() {
        return [this](milliseconds d) -> boost::asio::awaitable<void> {
            sleeps.push_back(d);
            clock.advance(d);
            co_return;
        };
    }
    net::JitterFn constant(double unit) {
        return [unit] { return unit; };
    }
    Result<net::HttpResponse> send(net::RetryingClient& client, std::string method = "GET") {
        net::HttpRequest req;
        req.method = std::move(method);
        req.url = "https://api.example/x?access_token=secret";
        return run(io, client.send(req));
    }

    boost::asio::io_context io;
    ManualClock clock{SysTime(seconds(1'700'000'000))};  // 2023-11-14T22:13:20Z
    ScriptedClient inner;
    std::vector<milliseconds> sleeps;
};

TEST_F(RetryTest, TransientStatusesAreRetriedWithExponentialBackoff) {
    inner.script = {response(503), response(500), response(408), response(200, {}, "ok")};
    net::RetryPolicy policy;
    policy.base_delay = milliseconds(400);
    net::RetryingClient client(inner, clock, policy, recording_sleep(), constant(0.5));
    auto r = send(client);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->body, "ok");
    EXPECT_EQ(inner.requests.size(), 4u);
    EXPECT_EQ(sleeps, (std::vector<milliseconds>{milliseconds(200), milliseconds(400), milliseconds(800)}));
}

TEST_F(RetryTest, ExhaustedAttemptsReturnTheLastErrorClassified) {
    inner.script = {response(500), response(502), response(503), response(504, {}, R"({"message":"gateway"})")};
    net::RetryPolicy policy;
    policy.max_attempts = 4;
    policy.base_delay = milliseconds(1000);
    policy.max_delay = milliseconds(3000);
    net::RetryingClient client(inner, clock, policy, recording_sleep(), constant(1.0));
    auto r = send(client);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().cls, ErrorClass::transient);
    EXPECT_EQ(r.error().code, "http.504");
    EXPECT_EQ(r.error().message, "GET https://api.example/x: HTTP 504 gateway");  // no query, no token
    EXPECT_EQ(sleeps, (std::vector<milliseconds>{milliseconds(1000), milliseconds(2000), milliseconds(3000)}));
}

TEST_F(RetryTest, SeededJitterStaysWithinTheExponentialBoundsAndRepeats) {
    net::RetryPolicy policy;
    policy.base_delay = milliseconds(100);
    policy.max_delay = milliseconds(5000);
    auto a = net::seeded_jitter(42);
    auto b = net::seeded_jitter(42);
    bool any_below_half = false;
    for (int retry = 0; retry < 12; ++retry) {
        auto d = net::backoff_delay(policy, retry, a());
        EXPECT_EQ(d, net::backoff_delay(policy, retry, b()));
        auto ceiling = std::min<int64_t>(5000, 100LL << retry);
        EXPECT_GE(d.count(), 0);
        EXPECT_LE(d.count(), ceiling);
        any_below_half = any_below_half || d.count() < ceiling / 2;
    }
    EXPECT_TRUE(any_below_half);  // full jitter, not "equal jitter"
}

TEST_F(RetryTest, RetryAfterSecondsIsHonouredExactly) {
    inner.script = {response(429, {{"retry-after", "7"}}), response(200)};
    net::RetryingClient client(inner, clock, {}, recording_sleep(), constant(0.5));
    auto r = send(client);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(sleeps, (std::vector<milliseconds>{milliseconds(7000)}));
}

TEST_F(RetryTest, RetryAfterHttpDateIsHonoured) {
    // 1'700'000'000 + 90 s = Tue, 14 Nov 2023 22:14:50 GMT
    inner.script = {response(429, {{"retry-after", "Tue, 14 Nov 2023 22:14:50 GMT"}}), response(200)};
    net::RetryingClient client(inner, clock, {}, recording_sleep(), constant(0.5));
    auto r = send(client);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(sleeps, (std::vector<milliseconds>{milliseconds(90000)}));
}

TEST_F(RetryTest, LongRateLimitWaitsGoBackToTheCaller) {
    inner.script = {response(429, {{"retry-after", "600"}}), response(200)};
    net::RetryingClient client(inner, clock, {}, recording_sleep(), constant(0.5));
    auto r = send(client);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().cls, ErrorClass::rate_limited);
    EXPECT_EQ(r.error().retry_after, seconds(600));
    EXPECT_TRUE(sleeps.empty());
    EXPECT_EQ(inner.requests.size(), 1u);
}

TEST_F(RetryTest, StravaWindowsGiveTheWaitWhenThereIsNoRetryAfter) {
    // 22:13:20 -> the 15-minute window resets at 22:15:00.
    inner.script = {response(429, {{"x-ratelimit-limit", "200,2000"}, {"x-ratelimit-usage", "200,340"}}),
                    response(200)};
    net::RetryingClient client(inner, clock, {}, recording_sleep(), constant(0.5));
    ASSERT_TRUE(send(client).ok());
    EXPECT_EQ(sleeps, (std::vector<milliseconds>{milliseconds(100000)}));
}

TEST_F(RetryTest, AnswersRetryingCannotChangeComeBackAtOnce) {
    inner.script = {response(404, {}, "nope"), response(401), response(422)};
    net::RetryingClient client(inner, clock, {}, recording_sleep(), constant(0.5));
    for (int status : {404, 401, 422}) {
        auto r = send(client);
        ASSERT_TRUE(r.ok());
        EXPECT_EQ(r->status, status);
    }
    EXPECT_TRUE(sleeps.empty());
    EXPECT_EQ(inner.requests.size(), 3u);
}

TEST_F(RetryTest, TransportErrorsRetryUnlessPermanentOrUnsafe) {
    inner.script = {Error::transient("net.transport", "reset"), response(200)};
    net::RetryingClient client(inner, clock, {}, recording_sleep(), constant(0.0));
    ASSERT_TRUE(send(client).ok());
    EXPECT_EQ(sleeps, (std::vector<milliseconds>{milliseconds(0)}));

    inner.script = {Error::permanent("net.tls_verify", "bad cert"), response(200)};
    auto r = send(client);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "net.tls_verify");

    net::RetryPolicy no_unsafe;
    no_unsafe.retry_unsafe_methods = false;
    net::RetryingClient careful(inner, clock, no_unsafe, recording_sleep(), constant(0.0));
    inner.script = {Error::transient("net.timeout", "timed out"), response(200)};
    r = send(careful, "POST");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "net.timeout");
}

TEST_F(RetryTest, ServiceUnavailableWithRetryAfterWaitsAtLeastThatLong) {
    inner.script = {response(503, {{"retry-after", "5"}}), response(200)};
    net::RetryingClient client(inner, clock, {}, recording_sleep(), constant(0.5));
    ASSERT_TRUE(send(client).ok());
    EXPECT_EQ(sleeps, (std::vector<milliseconds>{milliseconds(5000)}));
}

TEST_F(RetryTest, ExhaustedBudgetComesBackWithoutARequest) {
    net::RateLimiter limiter({}, clock);
    limiter.set_blocked_until(clock.now() + seconds(3600));
    net::RetryingClient client(inner, clock, {}, recording_sleep(), constant(0.5), &limiter);
    auto r = send(client);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "net.rate_budget");
    EXPECT_EQ(r.error().cls, ErrorClass::rate_limited);
    EXPECT_EQ(r.error().retry_after, seconds(3600));
    EXPECT_TRUE(inner.requests.empty());
}

TEST_F(RetryTest, BackfillRequestsSpendOnlyTheBackfillShareEvenThroughALiveClient) {
    // 10 tokens, half for backfill; five already spent leaves only live's half.
    net::RateLimiter limiter({10, 10, 0.5}, clock);
    for (int i = 0; i < 5; ++i) limiter.on_send();
    net::RetryPolicy policy;
    policy.max_rate_limit_wait = milliseconds(0);  // any wait comes back to the caller
    inner.script = {response(200)};
    net::RetryingClient client(inner, clock, policy, recording_sleep(), constant(0.5), &limiter);
    net::HttpRequest backfill;
    backfill.url = "https://api.example/history";
    backfill.priority = net::Priority::backfill;
    auto r = run(io, client.send(backfill));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "net.rate_budget");
    EXPECT_TRUE(inner.requests.empty());
    // A live request still finds its share.
    net::HttpRequest live;
    live.url = "https://api.example/new";
    auto l = run(io, client.send(live));
    ASSERT_TRUE(l.ok()) << l.error().message;
    EXPECT_EQ(inner.requests.size(), 1u);
}

TEST_F(RetryTest, RateLimiterIsConsultedAndFedEveryAttempt) {
    net::RateLimiter limiter({}, clock);
    inner.script = {response(429, {{"retry-after", "3"}}), response(200)};
    net::RetryingClient client(inner, clock, {}, recording_sleep(), constant(0.5), &limiter);
    ASSERT_TRUE(send(client).ok());
    ASSERT_TRUE(limiter.blocked_until().has_value());
    EXPECT_EQ(*limiter.blocked_until(), SysTime(seconds(1'700'000'003)));
}

}  // namespace
}  // namespace fitbridge::test
