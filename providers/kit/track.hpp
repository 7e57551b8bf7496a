#pragma once
// Activity files built from what a platform offers instead of an original:
// sampled streams (time, position, altitude, heart rate, ...) written as a
// TCX file that FitBridge's own decoders, and other platforms, read like any
// recorded file. The summary the file decodes to keeps the totals given
// (distance, elapsed time), not what the samples happen to add up to.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace fitbridge::providers::kit {

// One sample, `offset_s` after the activity's start.
struct TrackPoint {
    double offset_s = 0;
    std::optional<double> lat{}, lon{};
    std::optional<double> altitude_m{};
    std::optional<double> distance_m{};  // cumulative
    std::optional<double> heart_rate{};
    std::optional<double> cadence{};
    std::optional<double> watts{};
};

struct TrackLap {
    double start_offset_s = 0;
    double elapsed_s = 0;
    std::optional<double> distance_m{};
};

struct Track {
    double start = 0;                     // Unix seconds, UTC
    std::optional<std::string> family{};  // FitBridge's sport family: ride -> Biking, run -> Running
    std::optional<double> distance_m{};   // the activity's total; else the last cumulative sample
    std::optional<double> elapsed_s{};    // else the last sample's offset
    std::optional<double> moving_s{};     // timer time, when the platform knows it
    std::string notes{};                  // written as the activity's Notes (the platform's name, sport)
    std::vector<TrackLap> laps{};         // empty: one lap over the whole activity
    std::vector<TrackPoint> points{};
};

// The TCX (TrainingCenterDatabase v2) text of `track`: one Activity whose Id
// is the start, its laps with the given totals (lap distances scaled so they
// add up to the activity's distance), the samples as Trackpoints. An empty
// track, or samples out of time order, is a permanent error.
Result<std::string> write_tcx(const Track& track);

// Samples from parallel stream arrays (any may be empty; `time_s` gives the
// count), as platforms such as Strava and SportTracks serve them.
struct Streams {
    std::vector<double> time_s, lat, lon, altitude_m, distance_m, heart_rate, cadence, watts;
};
std::vector<TrackPoint> points_of(const Streams& streams);

}  // namespace fitbridge::providers::kit
