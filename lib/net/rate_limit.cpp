#include "net/rate_limit.hpp"

#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <charconv>
#include <cmath>

#include "core/time.hpp"

namespace fitbridge::net {

namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::optional<int64_t> to_int(std::string_view s) {
    int64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
    return v;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// "short,daily" as two integers.
std::optional<std::pair<int64_t, int64_t>> parse_pair(std::string_view text) {
    auto comma = text.find(',');
    if (comma == std::string_view::npos) return std::nullopt;
    auto a = to_int(trim(text.substr(0, comma)));
    auto b = to_int(trim(text.substr(comma + 1)));
    if (!a || !b) return std::nullopt;
    return std::pair{*a, *b};
}

}  // namespace

std::optional<SysTime> parse_http_date(std::string_view text) {
    // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
    text = trim(text);
    if (text.size() != 29 || text[3] != ',' || text.substr(26) != "GMT") return std::nullopt;
    static constexpr std::string_view k_months = "JanFebMarAprMayJunJulAugSepOctNovDec";
    auto day = to_int(text.substr(5, 2));
    auto month_pos = k_months.find(text.substr(8, 3));
    auto year = to_int(text.substr(12, 4));
    auto hh = to_int(text.substr(17, 2));
    auto mm = to_int(text.substr(20, 2));
    auto ss = to_int(text.substr(23, 2));
    if (!day || month_pos == std::string_view::npos || month_pos % 3 != 0 || !year || !hh || !mm || !ss ||
        text[19] != ':' || text[22] != ':' || *day < 1 || *day > 31 || *hh > 23 || *mm > 59 || *ss > 60)
        return std::nullopt;
    int64_t days = days_from_civil(*year, static_cast<unsigned>(month_pos / 3 + 1), static_cast<unsigned>(*day));
    return SysTime(seconds(days * 86400 + *hh * 3600 + *mm * 60 + *ss));
}

std::optional<seconds> parse_retry_after(std::string_view value, SysTime now) {
    value = trim(value);
    if (value.empty()) return std::nullopt;
    if (auto delta = to_int(value)) return seconds(std::max<int64_t>(0, *delta));
    auto when = parse_http_date(value);
    if (!when) return std::nullopt;
    // Round up: retrying a fraction of a second early would earn another 429.
    auto wait = std::chrono::ceil<seconds>(*when - now);
    return std::max(wait, seconds(0));
}

SysTime next_quarter_hour(SysTime now) {
    auto t = std::chrono::floor<std::chrono::minutes>(now);
    auto minutes = t.time_since_epoch().count();
    return SysTime(std::chrono::minutes(minutes - minutes % 15 + 15));
}

SysTime next_utc_midnight(SysTime now) {
    return SysTime(std::chrono::floor<std::chrono::days>(now) + std::chrono::days(1));
}

seconds rate_limit_wait(const HttpResponse& response, SysTime now) {
    if (auto ra = parse_retry_after(response.header("retry-after"), now)) return *ra;
    // Strava sends no Retry-After; its windows say when the budget returns.
    std::optional<SysTime> until;
    for (auto [limit_name, usage_name] : {std::pair{"x-ratelimit-limit", "x-ratelimit-usage"},
                                          std::pair{"x-readratelimit-limit", "x-readratelimit-usage"}}) {
        auto limit = parse_pair(response.header(limit_name));
        auto usage = parse_pair(response.header(usage_name));
        if (!limit || !usage) continue;
        SysTime t{};
        if (limit->second > 0 && usage->second >= limit->second)
            t = next_utc_midnight(now);
        else if (limit->first > 0 && usage->first >= limit->first)
            t = next_quarter_hour(now);
        else
            continue;
        until = until ? std::max(*until, t) : t;
    }
    if (until) return std::chrono::ceil<seconds>(*until - now);
    return seconds(60);
}

TokenBucket::TokenBucket(double rate_per_second, double burst, const Clock& clock)
    : m_rate(rate_per_second), m_burst(burst), m_clock(clock), m_tokens(burst), m_last(clock.steady()) {}

void TokenBucket::refill() const {
    auto now = m_clock.steady();
    if (now <= m_last) return;
    double elapsed = std::chrono::duration<double>(now - m_last).count();
    m_tokens = std::min(m_burst, m_tokens + elapsed * m_rate);
    m_last = now;
}

milliseconds TokenBucket::wait_time(double reserve) const {
    refill();
    double missing = 1.0 + reserve - m_tokens;
    if (missing <= 1e-9) return milliseconds(0);
    return milliseconds(static_cast<int64_t>(std::ceil(missing / m_rate * 1000.0 - 1e-6)));
}

void TokenBucket::take() {
    refill();
    m_tokens -= 1.0;
}

double TokenBucket::tokens() const {
    refill();
    return m_tokens;
}

RateLimiter::RateLimiter(RateLimitConfig config, const Clock& clock) : m_config(config), m_clock(clock) {
    if (m_config.rate_per_second > 0)
        m_bucket.emplace(m_config.rate_per_second, std::max(1.0, m_config.burst), m_clock);
}

milliseconds RateLimiter::delay(Priority priority, RequestKind kind) const {
    const SysTime now = m_clock.now();
    milliseconds wait(0);
    if (m_blocked_until && *m_blocked_until > now) wait = std::chrono::ceil<milliseconds>(*m_blocked_until - now);
    const double share = priority == Priority::live ? 1.0 : m_config.backfill_share;
    for (int i = 0; i < 4; ++i) {
        const Window& w = m_windows[i];
        const bool read_window = i >= 2;
        if (w.limit <= 0 || (read_window && kind != RequestKind::read)) continue;
        if (now >= w.resets_at) continue;  // a new window starts empty
        auto allowed = static_cast<int64_t>(std::floor(static_cast<double>(w.limit) * share));
        if (w.used >= allowed) wait = std::max(wait, std::chrono::ceil<milliseconds>(w.resets_at - now));
    }
    if (m_bucket) {
        double reserve = priority == Priority::live ? 0.0 : std::max(1.0, m_config.burst) * (1.0 - share);
        wait = std::max(wait, m_bucket->wait_time(reserve));
    }
    return wait;
}

void RateLimiter::on_send(RequestKind kind) {
    const SysTime now = m_clock.now();
    for (int i = 0; i < 4; ++i) {
        Window& w = m_windows[i];
        if (w.limit <= 0 || (i >= 2 && kind != RequestKind::read)) continue;
        if (now >= w.resets_at) {
            w.used = 0;
            w.resets_at = (i % 2) ? next_utc_midnight(now) : next_quarter_hour(now);
        }
        ++w.used;
    }
    if (m_bucket) m_bucket->take();
}

void RateLimiter::observe(const HttpResponse& response, RequestKind /*kind*/) {
    const SysTime now = m_clock.now();
    auto apply = [&](int base, std::string_view limit_name, std::string_view usage_name) {
        auto limit = parse_pair(response.header(limit_name));
        auto usage = parse_pair(response.header(usage_name));
        if (!limit || !usage) return;
        // The server's count includes requests of other processes using the
        // same application; ours includes requests still in flight, which
        // the answer to an earlier one cannot know of. The larger holds.
        auto merge = [now](const Window& was, int64_t lim, int64_t used, SysTime resets) {
            const bool same = now < was.resets_at && was.resets_at == resets && was.limit == lim;
            return Window{lim, same ? std::max(used, was.used) : used, resets};
        };
        m_windows[base] = merge(m_windows[base], limit->first, usage->first, next_quarter_hour(now));
        m_windows[base + 1] = merge(m_windows[base + 1], limit->second, usage->second, next_utc_midnight(now));
    };
    apply(0, "x-ratelimit-limit", "x-ratelimit-usage");
    apply(2, "x-readratelimit-limit", "x-readratelimit-usage");
    if (response.status == 429) {
        SysTime until = now + rate_limit_wait(response, now);
        if (!m_blocked_until || *m_blocked_until < until) m_blocked_until = until;
    }
}

boost::asio::awaitable<void> RateLimiter::acquire(Priority priority, RequestKind kind) {
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
    for (;;) {
        auto wait = delay(priority, kind);
        if (wait.count() <= 0) break;
        timer.expires_after(wait);
        co_await timer.async_wait(boost::asio::use_awaitable);
    }
    on_send(kind);
}

}  // namespace fitbridge::net
