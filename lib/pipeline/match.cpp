#include "pipeline/match.hpp"

#include <algorithm>
#include <cmath>

namespace fitbridge::pipeline {

std::string_view to_string(MatchKind k) {
    switch (k) {
        case MatchKind::none: return "none";
        case MatchKind::exact: return "content_hash";
        case MatchKind::time: return "time";
        case MatchKind::time_shifted: return "time_shifted";
        case MatchKind::ambiguous: return "ambiguous";
    }
    return "none";
}

bool compatible_sport(const std::optional<std::string>& a, const std::optional<std::string>& b) {
    if (!a || !b) return true;
    if (*a == "other" || *b == "other") return true;
    if (*a == *b) return true;
    // A walk recorded as a hike (or the other way) is the same outing.
    auto pair = [&](std::string_view x, std::string_view y) { return (*a == x && *b == y) || (*a == y && *b == x); };
    return pair("walk", "hike");
}

namespace {

// Both present and positive: within ratio of the larger. Otherwise no verdict.
std::optional<bool> close(const std::optional<double>& a, const std::optional<double>& b, double ratio) {
    if (!a || !b || *a <= 0 || *b <= 0) return std::nullopt;
    return std::fabs(*a - *b) <= ratio * std::max(*a, *b);
}

bool shape_agrees(const Facts& x, const Facts& y, double ratio) {
    return close(x.elapsed_s, y.elapsed_s, ratio).value_or(true) &&
           close(x.distance_m, y.distance_m, ratio).value_or(true);
}

// Offset is a whole number of quarter hours (within a minute), up to 14 h.
bool quarter_hour_shift(double offset) {
    double a = std::fabs(offset);
    if (a < 900 - 60 || a > 14 * 3600 + 60) return false;
    double rem = std::fmod(a, 900.0);
    return rem <= 60 || rem >= 900 - 60;
}

bool same_place(const std::optional<std::pair<double, double>>& a, const std::optional<std::pair<double, double>>& b) {
    constexpr double k_deg = 1e-5;  // about a metre
    return a && b && std::fabs(a->first - b->first) <= k_deg && std::fabs(a->second - b->second) <= k_deg;
}

// The same recording with its clock moved: same points, same shape.
bool same_recording(const Facts& x, const Facts& y) {
    return x.records > 0 && x.records == y.records && close(x.elapsed_s, y.elapsed_s, 0.01).value_or(false) &&
           close(x.distance_m, y.distance_m, 0.01).value_or(false) && same_place(x.first_position, y.first_position) &&
           same_place(x.last_position, y.last_position);
}

}  // namespace

MatchResult match(const Facts& incoming, std::span<const Facts> known, const MatchOptions& options) {
    MatchResult r;
    for (const auto& k : known) {
        for (const auto& h : incoming.content_sha256) {
            if (std::find(k.content_sha256.begin(), k.content_sha256.end(), h) != k.content_sha256.end()) {
                r.kind = MatchKind::exact;
                r.activity_ids = {k.activity_id};
                r.confidence = 1.0;
                return r;
            }
        }
    }
    if (!incoming.start_time) return r;
    std::vector<std::pair<int64_t, double>> direct;
    std::vector<int64_t> shifted;
    for (const auto& k : known) {
        if (!k.start_time || !compatible_sport(incoming.sport_family, k.sport_family)) continue;
        const double offset = *incoming.start_time - *k.start_time;
        if (std::fabs(offset) <= options.tolerance_s) {
            if (!shape_agrees(incoming, k, options.ratio)) continue;
            // Closer starts and closer shapes are more certain.
            double conf = 0.9 - 0.3 * std::fabs(offset) / std::max(options.tolerance_s, 1.0);
            direct.emplace_back(k.activity_id, conf);
        } else if (quarter_hour_shift(offset) && same_recording(incoming, k)) {
            shifted.push_back(k.activity_id);
        }
    }
    if (direct.size() == 1) {
        r.kind = MatchKind::time;
        r.activity_ids = {direct[0].first};
        r.confidence = direct[0].second;
    } else if (direct.size() > 1) {
        r.kind = MatchKind::ambiguous;
        for (const auto& d : direct) r.activity_ids.push_back(d.first);
        std::sort(r.activity_ids.begin(), r.activity_ids.end());
    } else if (shifted.size() == 1) {
        r.kind = MatchKind::time_shifted;
        r.activity_ids = shifted;
        r.confidence = 0.6;
    } else if (shifted.size() > 1) {
        r.kind = MatchKind::ambiguous;
        r.activity_ids = shifted;
        std::sort(r.activity_ids.begin(), r.activity_ids.end());
    }
    return r;
}

bool richer(const Richness& a, const Richness& b) {
    if (a.has_power != b.has_power) return a.has_power;
    if (a.has_hr != b.has_hr) return a.has_hr;
    return a.records > b.records;
}

}  // namespace fitbridge::pipeline
