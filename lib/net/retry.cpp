#include "net/retry.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cmath>
#include <memory>
#include <random>

namespace fitbridge::net {

using std::chrono::milliseconds;

SleepFn timer_sleep() {
    return [](milliseconds d) -> boost::asio::awaitable<void> {
        boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
        timer.expires_after(d);
        co_await timer.async_wait(boost::asio::use_awaitable);
    };
}

JitterFn seeded_jitter(uint64_t seed) {
    auto engine = std::make_shared<std::mt19937_64>(seed);
    return [engine] { return std::uniform_real_distribution<double>(0.0, 1.0)(*engine); };
}

JitterFn random_jitter() { return seeded_jitter(std::random_device{}()); }

milliseconds backoff_delay(const RetryPolicy& policy, int retry, double unit) {
    double ceiling = static_cast<double>(policy.base_delay.count()) * std::pow(2.0, std::min(retry, 40));
    ceiling = std::min(ceiling, static_cast<double>(policy.max_delay.count()));
    unit = std::clamp(unit, 0.0, 1.0);
    return milliseconds(static_cast<int64_t>(std::floor(ceiling * unit)));
}

RetryingClient::RetryingClient(HttpClient& inner, const Clock& clock, RetryPolicy policy, SleepFn sleep,
                               JitterFn jitter, RateLimiter* limiter, Priority priority)
    : m_inner(inner),
      m_clock(clock),
      m_policy(policy),
      m_sleep(std::move(sleep)),
      m_jitter(std::move(jitter)),
      m_limiter(limiter),
      m_priority(priority) {}

boost::asio::awaitable<Result<HttpResponse>> RetryingClient::send(HttpRequest request) {
    // The query may carry a token (Strava accepts access_token=), so messages name the path only.
    const std::string what = fmt::format("{} {}", request.method, request.url.substr(0, request.url.find('?')));
    const bool unsafe = request.method == "POST" || request.method == "PATCH";
    const RequestKind kind =
        request.method == "GET" || request.method == "HEAD" ? RequestKind::read : RequestKind::write;
    // A backfill request stays in the backfill share even through a live client.
    const Priority priority = request.priority == Priority::backfill ? Priority::backfill : m_priority;
    for (int attempt = 1;; ++attempt) {
        if (m_limiter) {
            // A budget that is gone for longer than we would sleep (Strava's
            // daily window) goes back to the caller to persist and reschedule.
            auto wait = m_limiter->delay(priority, kind);
            if (wait > m_policy.max_rate_limit_wait) {
                Error blocked{"net.rate_budget", ErrorClass::rate_limited,
                              fmt::format("{}: request budget exhausted for {} s", what,
                                          std::chrono::ceil<std::chrono::seconds>(wait).count()),
                              std::chrono::ceil<std::chrono::seconds>(wait)};
                Result<HttpResponse> out(std::move(blocked));
                co_return out;
            }
            co_await m_limiter->acquire(priority, kind);
        }
        auto result = co_await m_inner.send(request);
        Error error;
        if (result) {
            if (m_limiter) m_limiter->observe(*result, kind);
            auto classified = classify_status(*result, what, m_clock);
            if (!classified || !classified->retryable()) co_return result;
            error = std::move(*classified);
        } else {
            error = result.error();
            if (!error.retryable() || error.code == "net.cancelled" || (unsafe && !m_policy.retry_unsafe_methods))
                co_return error;
        }
        if (attempt >= m_policy.max_attempts) co_return error;
        milliseconds wait;
        if (error.cls == ErrorClass::rate_limited) {
            wait = std::chrono::duration_cast<milliseconds>(error.retry_after.value_or(std::chrono::seconds(60)));
            if (wait > m_policy.max_rate_limit_wait) co_return error;
        } else {
            wait = backoff_delay(m_policy, attempt - 1, m_jitter());
            // A 503 may say when the service is back; never retry before that.
            if (result) {
                if (auto ra = parse_retry_after(result->header("retry-after"), m_clock.now())) {
                    auto asked = std::chrono::duration_cast<milliseconds>(*ra);
                    if (asked > m_policy.max_rate_limit_wait) co_return error;
                    wait = std::max(wait, asked);
                }
            }
        }
        co_await m_sleep(wait);
    }
}

}  // namespace fitbridge::net
