#pragma once
// Matching: is an incoming recording a workout FitBridge already knows?
// Pure functions over small facts, so every rule is unit-testable.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace fitbridge::pipeline {

// The facts matching looks at, for a known activity or an incoming copy.
struct Facts {
    int64_t activity_id = 0;                  // 0 for the incoming copy
    std::vector<std::string> content_sha256;  // every known copy's content hash
    std::optional<double> start_time;         // Unix seconds
    std::optional<std::string> sport_family;
    std::optional<double> elapsed_s;
    std::optional<double> distance_m;
    int64_t records = 0;
    // First and last recorded positions (degrees), when the copy has GPS.
    std::optional<std::pair<double, double>> first_position;
    std::optional<std::pair<double, double>> last_position;
};

struct MatchOptions {
    double tolerance_s = 300;  // start times this close are candidates
    double ratio = 0.05;       // durations/distances within this fraction
};

enum class MatchKind { none, exact, time, time_shifted, ambiguous };

struct MatchResult {
    MatchKind kind = MatchKind::none;
    std::vector<int64_t> activity_ids;  // one for exact/time/time_shifted; several for ambiguous
    double confidence = 0;              // 1.0 for exact
};

std::string_view to_string(MatchKind k);

// Exact content hash first; then start within tolerance, compatible sport
// family, and (where both sides have them) duration and distance within the
// ratio. A copy whose clock was shifted by whole quarter-hours (a time-zone
// mistake) matches only when it is visibly the same recording: equal record
// counts, duration and distance within 1%, and first and last positions
// within about a metre. Several candidates: ambiguous, never merged.
MatchResult match(const Facts& incoming, std::span<const Facts> known, const MatchOptions& options);

// True when two sport families can describe the same workout ("other" or an
// unknown family is compatible with anything).
bool compatible_sport(const std::optional<std::string>& a, const std::optional<std::string>& b);

// Which of two copies of one workout to deliver: power beats none, heart rate
// beats none, then more records. Returns true when `a` is richer than `b`.
struct Richness {
    bool has_power = false;
    bool has_hr = false;
    int64_t records = 0;
};
bool richer(const Richness& a, const Richness& b);

}  // namespace fitbridge::pipeline
