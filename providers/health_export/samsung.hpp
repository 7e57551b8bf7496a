#pragma once
// Samsung Health's personal-data export: the exercise table
// (com.samsung.shealth.exercise.<stamp>.csv: a title line, then a header of
// "com.samsung.health.exercise.<column>" names) and, per exercise, JSON
// lists of its positions (location_data) and live samples (live_data) under
// jsons/com.samsung.shealth.exercise/.

#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "providers/health_export/workout.hpp"

namespace fitbridge::providers::health_export {

// Whether `member` is an export's exercise table.
bool is_samsung_exercise_table(std::string_view member);

// The workouts of the exercise table `csv` (read from `where`); `members` are
// the export's files, where each exercise's JSON files are looked up by
// name. Rows without a usable start or end are left out; a table without
// the start_time column is a permanent error.
Result<std::vector<Workout>> parse_samsung_exercises(std::string_view csv, std::string_view where,
                                                     const std::vector<std::string>& members);

// A location_data list: [{"latitude", "longitude", "altitude", "start_time" (ms)}].
Result<std::vector<Fix>> parse_samsung_locations(std::string_view json, std::string_view where);
// A live_data list: [{"start_time" (ms), "heart_rate", ...}]; samples without heart rate are left out.
Result<std::vector<HeartRate>> parse_samsung_live(std::string_view json, std::string_view where);

}  // namespace fitbridge::providers::health_export
