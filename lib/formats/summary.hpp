#pragma once
// The decoded summary of one activity file: the contract of
// ../shared/docs/activity-summary.md (`fitbridge inspect --json`), plus the
// canonical fields the sync engine needs. Optional fields print as JSON null.

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace fitbridge::formats {

// `unknown`: the bytes (or the gzip payload) are none of the formats.
enum class Format { fit, gpx, tcx, unknown };

struct Summary {
    // Identity and integrity.
    Format format = Format::fit;
    bool gzipped = false;
    uint64_t bytes = 0;          // size as stored
    std::string sha256;          // of the bytes as stored
    std::string content_sha256;  // of the decompressed payload
    bool ok = false;
    std::string error;  // one line; empty when ok

    // Activity values (activity-summary.md).
    std::optional<std::string> sport;
    std::optional<std::string> sport_family;
    std::optional<double> start_time;  // Unix seconds, UTC
    std::optional<double> total_elapsed_time;
    std::optional<double> total_timer_time;
    std::optional<double> total_distance;
    int64_t records = 0;
    int64_t records_with_position = 0;
    std::optional<int64_t> laps;
    std::optional<double> first_lat, first_lon, last_lat, last_lon;
    std::optional<double> avg_hr, max_hr, avg_power;
    std::optional<double> rec_avg_hr, rec_max_hr, rec_avg_power;

    // FIT only (absent from JSON for other formats).
    std::optional<int64_t> fit_files_in_chain;
    std::optional<std::string> file_type;     // file_id.type enum name or number
    std::optional<std::string> manufacturer;  // enum name or number as text
    bool manufacturer_is_number = false;      // print manufacturer as a JSON int
    bool file_type_is_number = false;
    std::optional<int64_t> product;
    std::optional<int64_t> sessions;
    std::optional<std::string> sub_sport;
    std::map<std::string, int64_t> msg_counts;

    // Not an activity (FIT course/settings/..., GPX route-only, TCX workout/course):
    // decodes fine but the daemon skips it with this reason.
    bool is_activity = true;
    std::string not_activity_reason;

    // True when any record carries power / heart rate (used to pick the richer copy).
    bool has_power = false;
    bool has_hr = false;
};

std::string_view format_name(Format f, bool gzipped);

}  // namespace fitbridge::formats
