#pragma once
// A decorator that retries what may succeed later: transport failures, 5xx
// and 408 with exponential backoff and full jitter, 429 after the wait the
// server asks for. Time and randomness are injected so tests never sleep.

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>

#include "core/clock.hpp"
#include "net/http_client.hpp"
#include "net/rate_limit.hpp"

namespace fitbridge::net {

struct RetryPolicy {
    int max_attempts = 5;                        // including the first
    std::chrono::milliseconds base_delay{500};   // the first backoff's upper bound
    std::chrono::milliseconds max_delay{30000};  // cap of any one backoff
    // A 429 asking for a longer wait is returned at once as rate_limited, so
    // the caller can persist the block instead of holding a coroutine.
    std::chrono::milliseconds max_rate_limit_wait{120000};
    // POST/PATCH may have reached the server before a transport failure;
    // sinks with idempotency keys can allow retrying them.
    bool retry_unsafe_methods = true;
};

using SleepFn = std::function<boost::asio::awaitable<void>(std::chrono::milliseconds)>;
// Returns a uniform number in [0, 1).
using JitterFn = std::function<double()>;

// Sleeps on a steady_timer of the calling coroutine's executor.
SleepFn timer_sleep();
// A jitter source from a seeded PRNG (the default seed comes from the OS).
JitterFn seeded_jitter(uint64_t seed);
JitterFn random_jitter();
// Full jitter: unit * min(cap, base * 2^retry), `retry` counting from 0.
std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int retry, double unit);

class RetryingClient final : public HttpClient {
public:
    // `inner` (and `limiter` when given) must outlive this client. With a
    // limiter, every attempt first acquires a slot at `priority` (or at
    // backfill priority when the request itself says so).
    RetryingClient(HttpClient& inner, const Clock& clock, RetryPolicy policy = {}, SleepFn sleep = timer_sleep(),
                   JitterFn jitter = random_jitter(), RateLimiter* limiter = nullptr,
                   Priority priority = Priority::live);

    // Answers that retrying cannot change (2xx-4xx but 408/429) come back as
    // responses; when attempts run out, a server asks for a wait longer than
    // max_rate_limit_wait, or the limiter's budget is gone for longer than
    // that (code net.rate_budget), the failure comes back as a classified Error.
    boost::asio::awaitable<Result<HttpResponse>> send(HttpRequest request) override;

private:
    HttpClient& m_inner;
    const Clock& m_clock;
    RetryPolicy m_policy;
    SleepFn m_sleep;
    JitterFn m_jitter;
    RateLimiter* m_limiter;
    Priority m_priority;
};

}  // namespace fitbridge::net
