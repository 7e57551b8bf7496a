#pragma once
// Mapping platform JSON into FitBridge's terms: values by dotted path, times
// (epoch seconds or milliseconds, ISO-8601 with or without a zone), distances
// in m/km/mi, durations ("1:02:03", "PT1H2M3S", seconds) and sport-name
// tables between a platform's names and FitBridge's sport families.

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

namespace fitbridge::providers::kit {

// The value at "a.b.0.c" (object keys and array indices), or null.
const rapidjson::Value* json_at(const rapidjson::Value& root, std::string_view path);
std::optional<std::string> string_at(const rapidjson::Value& root, std::string_view path);
std::optional<double> number_at(const rapidjson::Value& root, std::string_view path);
// An id at `path`: a string, or an integral number as its decimal text.
std::optional<std::string> id_at(const rapidjson::Value& root, std::string_view path);

// "2025-01-10T08:00:00Z", "...+01:00", "...T08:00:00.250" (no zone: read as
// UTC, which is what comparing local times with local bounds needs), or a date.
std::optional<double> parse_time(std::string_view text);
// A JSON time: a number is epoch seconds (milliseconds when above 1e11), a string ISO-8601.
std::optional<double> time_of(const rapidjson::Value& value);
// "YYYY-MM-DDTHH:MM:SS" of Unix seconds, no zone (platforms reading it as a local time).
std::string local_seconds(double unix_seconds);

enum class DistanceUnit { m, km, mi };
double to_meters(double value, DistanceUnit unit);
// "5 km", "3.1mi", "4200 m", "4200" (meters).
std::optional<double> parse_distance(std::string_view text);

// "1:02:03", "62:03", "PT1H2M3S", "PT45.5S", "3723", "3723.5" -> seconds.
std::optional<double> parse_duration(std::string_view text);

// One row of a platform's sport names.
struct SportName {
    std::string_view platform{};  // the platform's name, e.g. "VirtualRide"
    std::string_view family{};    // FitBridge's family, e.g. "ride"
};

// The family of a platform's sport name: the table (case-insensitive), else
// FitBridge's own reading of sport words (formats::family_for_text).
std::optional<std::string> family_of(std::span<const SportName> table, std::string_view name);
// The platform's name for a family: the first row for it, or nullopt.
std::optional<std::string> platform_sport(std::span<const SportName> table, std::string_view family);

}  // namespace fitbridge::providers::kit
