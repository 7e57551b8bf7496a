#pragma once
// What FitBridge takes from a phone's health export: its workouts (Apple
// Health's export.xml, Samsung Health's exercise table) and heart-rate
// samples, plain values with no XML or CSV left in them.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fitbridge::providers::health_export {

struct Workout {
    std::string id{};      // stable across exports of the same phone (the source item's remote id)
    std::string kind{};    // the app's sport in words: "Running", "Traditional Strength Training"
    std::string family{};  // FitBridge's sport family (lib/core/sport.hpp)
    std::string source{};  // the recording app or watch, as the export names it
    double start = 0;      // Unix seconds, UTC
    double end = 0;
    std::optional<double> duration_s{};  // time moving, when the export gives it
    std::optional<double> distance_m{};
    bool indoor = false;
    std::string route{};       // member holding the GPS track (Apple: a GPX, Samsung: a JSON list); empty: none
    std::string heart_rate{};  // Samsung: member holding the live samples; Apple reads them from export.xml
};

// One position of a GPS track.
struct Fix {
    double time = 0;  // Unix seconds
    double lat = 0, lon = 0;
    std::optional<double> altitude_m{};
};

struct HeartRate {
    double time = 0;  // Unix seconds
    double bpm = 0;
};

// A time window [first, second] in Unix seconds.
using Window = std::pair<double, double>;

// The heart rate at `time` from `samples` (sorted by time): the last sample at
// or before it when it is at most `max_gap_s` old, else the next one when it
// comes within `max_gap_s`; nullopt when neither is that close.
std::optional<double> heart_rate_at(const std::vector<HeartRate>& samples, double time, double max_gap_s = 30);

// "TraditionalStrengthTraining" -> "Traditional Strength Training".
std::string words_of(std::string_view camel_case);

}  // namespace fitbridge::providers::health_export
