#include "providers/kit/date_windows.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace fitbridge::providers::kit {

namespace {

constexpr double k_day_s = 86400;

// Days since 1970-01-01 -> civil date (H. Hinnant's algorithm).
std::string civil(int64_t days) {
    days += 719468;
    const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    const auto doe = static_cast<unsigned>(days - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t y = static_cast<int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    return fmt::format("{:04}-{:02}-{:02}", y + (m <= 2 ? 1 : 0), m, d);
}

int64_t day_of(double unix_seconds) { return static_cast<int64_t>(std::floor(unix_seconds / k_day_s)); }

}  // namespace

std::string utc_day(double unix_seconds) { return civil(day_of(unix_seconds)); }

std::vector<DateWindow> date_windows(double since, double until, int max_days, int pad_days) {
    std::vector<DateWindow> out;
    if (until <= since || max_days < 1) return out;
    const int64_t first = day_of(since) - pad_days;
    // until is exclusive: its own day is needed only when it is not midnight.
    const int64_t last = day_of(std::nextafter(until, since)) + pad_days;
    for (int64_t end = last; end >= first; end -= max_days) {
        const int64_t start = std::max(first, end - max_days + 1);
        out.push_back(DateWindow{civil(start), civil(end)});
    }
    return out;
}

}  // namespace fitbridge::providers::kit
