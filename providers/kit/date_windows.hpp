#pragma once
// Date-window listings: platforms whose list call takes a first and a last
// day (both included) and refuses spans longer than some number of days get
// the wanted time range as consecutive windows, newest first.

#include <optional>
#include <string>
#include <vector>

namespace fitbridge::providers::kit {

struct DateWindow {
    std::string first{};  // YYYY-MM-DD (UTC), included
    std::string last{};   // YYYY-MM-DD (UTC), included
};

// Windows of at most `max_days` days covering the UTC days of [since, until)
// widened by `pad_days` on each side (a platform filtering on local dates),
// newest window first; none when until <= since.
std::vector<DateWindow> date_windows(double since, double until, int max_days, int pad_days = 0);

// The UTC day of Unix seconds, "YYYY-MM-DD".
std::string utc_day(double unix_seconds);

}  // namespace fitbridge::providers::kit
