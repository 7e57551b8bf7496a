#pragma once
// Per-provider request budgets: a token bucket (steady pacing), the windows a
// platform announces in its headers (Strava's 15-minute and daily counts), and
// a "blocked until" instant that outlives the process. Backfill may only spend
// a share of each budget so live polling always finds some left.

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "net/http_client.hpp"

namespace fitbridge::net {

// Strava counts reads (everything but uploads) in a second, smaller window.
enum class RequestKind { read, write };

// "Sun, 06 Nov 1994 08:49:37 GMT" (IMF-fixdate) to a time; nullopt when malformed.
std::optional<SysTime> parse_http_date(std::string_view text);
// A Retry-After value (delta seconds or HTTP-date) as a wait from `now`,
// never negative; nullopt when malformed.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value, SysTime now);
// The next :00/:15/:30/:45 boundary after `now`, and the next UTC midnight.
SysTime next_quarter_hour(SysTime now);
SysTime next_utc_midnight(SysTime now);
// How long to stay away after a 429: Retry-After when present, else the end of
// the exhausted Strava window, else a minute.
std::chrono::seconds rate_limit_wait(const HttpResponse& response, SysTime now);

// Tokens refill continuously at `rate` per second up to `burst`.
class TokenBucket {
public:
    TokenBucket(double rate_per_second, double burst, const Clock& clock);
    // Time until one token above `reserve` is available (zero: now).
    std::chrono::milliseconds wait_time(double reserve = 0) const;
    // Spends one token (the count may go negative when callers ignore wait_time).
    void take();
    double tokens() const;

private:
    void refill() const;

    double m_rate;
    double m_burst;
    const Clock& m_clock;
    mutable double m_tokens;
    mutable std::chrono::steady_clock::time_point m_last;
};

struct RateLimitConfig {
    double rate_per_second = 0;  // 0: no token bucket (e.g. Strava relies on its headers)
    double burst = 1;
    // Share of each window's limit (and of the bucket's burst) backfill may
    // use; the rest stays for live polling.
    double backfill_share = 0.5;
};

// One provider's budget. Not thread-safe: it lives on the io_context thread.
class RateLimiter {
public:
    RateLimiter(RateLimitConfig config, const Clock& clock);

    // How long a request must wait before it may be sent (zero: now).
    std::chrono::milliseconds delay(Priority priority, RequestKind kind = RequestKind::read) const;
    // Counts a request being sent against the bucket and the known windows.
    void on_send(RequestKind kind = RequestKind::read);
    // Reads Strava-style usage headers and, on 429, blocks until the wait is over.
    void observe(const HttpResponse& response, RequestKind kind = RequestKind::read);
    // Waits (steady_timer on the caller's executor) until delay() is zero, then counts the request.
    boost::asio::awaitable<void> acquire(Priority priority, RequestKind kind = RequestKind::read);

    // The block the caller persists across restarts (accounts.blocked_until).
    std::optional<SysTime> blocked_until() const { return m_blocked_until; }
    void set_blocked_until(std::optional<SysTime> until) { m_blocked_until = until; }

    struct Window {
        int64_t limit = 0;  // 0: unknown, not enforced
        int64_t used = 0;
        SysTime resets_at{};
    };
    // Windows as last seen: overall short/daily, read short/daily.
    const Window& window(bool read, bool daily) const { return m_windows[(read ? 2 : 0) + (daily ? 1 : 0)]; }

private:
    RateLimitConfig m_config;
    const Clock& m_clock;
    std::optional<TokenBucket> m_bucket;
    std::optional<SysTime> m_blocked_until;
    Window m_windows[4];
};

}  // namespace fitbridge::net
