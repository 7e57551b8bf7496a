#include "providers/kit/track.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/time.hpp"

namespace fitbridge::providers::kit {

namespace {

std::string escape(std::string_view text) {
    std::string out;
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            default:
                // XML 1.0 has no other control characters than tab and line breaks.
                if (static_cast<unsigned char>(c) >= 0x20 || c == '\t' || c == '\n' || c == '\r') out.push_back(c);
        }
    }
    return out;
}

std::string_view tcx_sport(const std::optional<std::string>& family) {
    if (family == "ride") return "Biking";
    if (family == "run") return "Running";
    return "Other";
}

// Up to millimetres / 1e-7 degrees: what devices record, without float noise.
std::string num(double v, int decimals) {
    std::string s = fmt::format("{:.{}f}", v, decimals);
    if (s.find('.') != std::string::npos) {
        while (s.back() == '0') s.pop_back();
        if (s.back() == '.') s.pop_back();
    }
    return s == "-0" ? "0" : s;
}

void write_point(std::string& out, double start, const TrackPoint& p) {
    out += "<Trackpoint><Time>" + format_iso8601(start + p.offset_s) + "</Time>";
    if (p.lat && p.lon)
        out += "<Position><LatitudeDegrees>" + num(*p.lat, 7) + "</LatitudeDegrees><LongitudeDegrees>" +
               num(*p.lon, 7) + "</LongitudeDegrees></Position>";
    if (p.altitude_m) out += "<AltitudeMeters>" + num(*p.altitude_m, 2) + "</AltitudeMeters>";
    if (p.distance_m) out += "<DistanceMeters>" + num(*p.distance_m, 2) + "</DistanceMeters>";
    if (p.heart_rate && *p.heart_rate >= 1 && *p.heart_rate <= 255)
        out += fmt::format("<HeartRateBpm><Value>{}</Value></HeartRateBpm>", std::lround(*p.heart_rate));
    if (p.cadence && *p.cadence >= 0 && *p.cadence <= 254)
        out += fmt::format("<Cadence>{}</Cadence>", std::lround(*p.cadence));
    if (p.watts && *p.watts >= 0)
        out += fmt::format("<Extensions><TPX xmlns=\"{}\"><Watts>{}</Watts></TPX></Extensions>",
                           "http://www.garmin.com/xmlschemas/ActivityExtension/v2", std::lround(*p.watts));
    out += "</Trackpoint>";
}

}  // namespace

std::vector<TrackPoint> points_of(const Streams& s) {
    std::vector<TrackPoint> out(s.time_s.size());
    auto at = [](const std::vector<double>& v, size_t i) {
        return i < v.size() && std::isfinite(v[i]) ? std::optional<double>(v[i]) : std::nullopt;
    };
    for (size_t i = 0; i < out.size(); ++i) {
        out[i].offset_s = s.time_s[i];
        out[i].lat = at(s.lat, i);
        out[i].lon = at(s.lon, i);
        out[i].altitude_m = at(s.altitude_m, i);
        out[i].distance_m = at(s.distance_m, i);
        out[i].heart_rate = at(s.heart_rate, i);
        out[i].cadence = at(s.cadence, i);
        out[i].watts = at(s.watts, i);
    }
    return out;
}

Result<std::string> write_tcx(const Track& t) {
    if (t.points.empty()) return Error::permanent("track.empty", "no samples to build an activity file from");
    for (size_t i = 1; i < t.points.size(); ++i)
        if (!(t.points[i].offset_s >= t.points[i - 1].offset_s))
            return Error::permanent("track.order",
                                    fmt::format("sample {} is earlier than the one before it ({} s < {} s)", i,
                                                t.points[i].offset_s, t.points[i - 1].offset_s));
    const double last = t.points.back().offset_s;
    const double elapsed = std::max(t.elapsed_s.value_or(last), last);
    std::optional<double> total = t.distance_m;
    if (!total)
        for (auto it = t.points.rbegin(); it != t.points.rend() && !total; ++it) total = it->distance_m;

    std::vector<TrackLap> laps = t.laps;
    if (laps.empty()) laps.push_back(TrackLap{0, t.moving_s.value_or(elapsed), total});
    std::sort(laps.begin(), laps.end(),
              [](const auto& a, const auto& b) { return a.start_offset_s < b.start_offset_s; });
    // Lap distances add up to the activity's distance, which is what a
    // decoder reports as the total.
    if (total) {
        double given = 0;
        bool all = true;
        for (const auto& l : laps) {
            all = all && l.distance_m.has_value();
            given += l.distance_m.value_or(0);
        }
        for (auto& l : laps) {
            if (all && given > 0)
                l.distance_m = *l.distance_m * *total / given;
            else
                l.distance_m = laps.size() == 1 ? *total : *total * l.elapsed_s / std::max(1.0, elapsed);
        }
    }

    std::string out =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<TrainingCenterDatabase xmlns=\"http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2\">\n"
        "<Activities>\n";
    out += fmt::format("<Activity Sport=\"{}\">\n<Id>{}</Id>\n", tcx_sport(t.family), format_iso8601(t.start));
    size_t next = 0;
    for (size_t li = 0; li < laps.size(); ++li) {
        const auto& l = laps[li];
        out += fmt::format("<Lap StartTime=\"{}\">\n<TotalTimeSeconds>{}</TotalTimeSeconds>\n",
                           format_iso8601(t.start + l.start_offset_s), num(l.elapsed_s, 3));
        if (l.distance_m) out += "<DistanceMeters>" + num(*l.distance_m, 2) + "</DistanceMeters>\n";
        out +=
            "<Calories>0</Calories>\n<Intensity>Active</Intensity>\n<TriggerMethod>Manual</TriggerMethod>\n<Track>\n";
        const bool final_lap = li + 1 == laps.size();
        while (next < t.points.size() && (final_lap || t.points[next].offset_s < laps[li + 1].start_offset_s)) {
            write_point(out, t.start, t.points[next++]);
            out += "\n";
        }
        // The activity ends at its elapsed time even when sampling stopped earlier.
        if (final_lap && elapsed > last)
            out += "<Trackpoint><Time>" + format_iso8601(t.start + elapsed) + "</Time></Trackpoint>\n";
        out += "</Track>\n</Lap>\n";
    }
    if (!t.notes.empty()) out += "<Notes>" + escape(t.notes) + "</Notes>\n";
    out += "</Activity>\n</Activities>\n</TrainingCenterDatabase>\n";
    return out;
}

}  // namespace fitbridge::providers::kit
