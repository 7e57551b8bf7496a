#pragma once
// The engine's info-level log lines: one per ingest, delivery, skip and
// failure, and one summary per sync or backfill job. Short, one line each,
// fields in a fixed order so they can be grepped; free text from files and
// platforms is flattened to one line and bounded. Internal to lib/engine.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fitbridge::engine {

// A time to the minute, "2024-10-14T05:04Z"; "-" when unknown.
std::string log_minute(std::optional<double> unix_seconds);
// Text from outside on one line: control characters become spaces, double
// quotes single ones, and it is cut to `max` bytes (on a UTF-8 boundary) with "…".
std::string log_text(std::string_view text, size_t max = 160);

// `ingest zwift: 2024-10-14T05:04Z ride 42.1 km "Morning Ride" -> activity 17 (new)`
std::string ingest_line(std::string_view account, std::optional<double> start, const std::optional<std::string>& sport,
                        std::optional<double> distance_m, std::string_view name, int64_t activity,
                        std::string_view how);
// `skip zwift item a1b2: not_an_activity: no track points` (also `fail ...`).
std::string item_line(std::string_view verb, std::string_view account, std::string_view item, std::string_view reason,
                      std::string_view detail);
// `deliver activity 17 -> archive: new 2024/10/x.fit`, `...: duplicate i55`,
// `...: skipped sport_filtered`, `...: failed sink_transient: 503 ... (retry 2024-10-14T05:09Z)`.
std::string delivery_line(int64_t activity, std::string_view sink, std::string_view state,
                          const std::optional<std::string>& remote_id, const std::optional<std::string>& reason,
                          const std::optional<std::string>& message, std::optional<double> retry_at);
// `sync zwift: listed 12, new 3, skipped 1, failed 0 in 2.3 s` (`, error: ...` when it ended early).
std::string summary_line(std::string_view what, int64_t listed, int64_t fresh, int64_t skipped, int64_t failed,
                         double seconds, const std::optional<std::string>& error);

}  // namespace fitbridge::engine
