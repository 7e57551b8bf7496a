#pragma once
// UTC timestamps in ISO-8601 and back.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fitbridge {

// Formats Unix time (seconds, may carry a fraction) as "YYYY-MM-DDTHH:MM:SS[.fff]Z".
// Whole seconds print no fraction; fractions print trimmed to milliseconds.
std::string format_iso8601(double unix_seconds);

// Parses ISO-8601 date-times as found in GPX/TCX and APIs: "2020-01-02T03:04:05Z",
// with optional fraction and numeric offset ("+02:00"), or a bare date
// ("2020-01-02", midnight UTC). Returns Unix seconds, or nullopt when malformed.
std::optional<double> parse_iso8601(std::string_view text);

// Days since 1970-01-01 for a civil date (proleptic Gregorian).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);

}  // namespace fitbridge
