#include "providers/health_export/apple.hpp"

#include <expat.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

#include <fmt/format.h>
#include <pugixml.hpp>

#include "core/hash.hpp"
#include "core/time.hpp"
#include "formats/decode.hpp"

namespace fitbridge::providers::health_export {

namespace {

constexpr std::string_view k_type_prefix = "HKWorkoutActivityType";
constexpr std::string_view k_distance_prefix = "HKQuantityTypeIdentifierDistance";
constexpr std::string_view k_heart_rate = "HKQuantityTypeIdentifierHeartRate";

bool digits(std::string_view s, size_t pos, size_t n, int& out) {
    if (pos + n > s.size()) return false;
    out = 0;
    for (size_t i = pos; i < pos + n; ++i) {
        if (s[i] < '0' || s[i] > '9') return false;
        out = out * 10 + (s[i] - '0');
    }
    return true;
}

std::optional<double> number(std::string_view s) {
    double v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
    return v;
}

std::optional<double> seconds_of(double value, std::string_view unit) {
    if (unit == "min" || unit.empty()) return value * 60;
    if (unit == "s" || unit == "sec") return value;
    if (unit == "hr" || unit == "h") return value * 3600;
    if (unit == "ms") return value / 1000;
    return std::nullopt;
}

std::optional<double> metres_of(double value, std::string_view unit) {
    if (unit == "km") return value * 1000;
    if (unit == "m") return value;
    if (unit == "mi") return value * 1609.344;
    if (unit == "yd") return value * 0.9144;
    if (unit == "ft") return value * 0.3048;
    if (unit == "cm") return value / 100;
    return std::nullopt;
}

const char* attribute(const XML_Char** atts, std::string_view name) {
    for (size_t i = 0; atts[i] != nullptr; i += 2)
        if (name == atts[i]) return atts[i + 1];
    return nullptr;
}

std::string_view attr(const XML_Char** atts, std::string_view name) {
    const char* v = attribute(atts, name);
    return v != nullptr ? std::string_view(v) : std::string_view();
}

}  // namespace

std::optional<double> parse_apple_date(std::string_view s) {
    // YYYY-MM-DD HH:MM:SS +HHMM
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0, oh = 0, om = 0;
    if (s.size() != 25 || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':' || s[19] != ' ' ||
        (s[20] != '+' && s[20] != '-'))
        return std::nullopt;
    if (!digits(s, 0, 4, y) || !digits(s, 5, 2, mo) || !digits(s, 8, 2, d) || !digits(s, 11, 2, h) ||
        !digits(s, 14, 2, mi) || !digits(s, 17, 2, se) || !digits(s, 21, 2, oh) || !digits(s, 23, 2, om))
        return std::nullopt;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60 || oh > 14 || om > 59) return std::nullopt;
    const int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
    const int64_t offset = (s[20] == '-' ? -1 : 1) * (int64_t{oh} * 3600 + int64_t{om} * 60);
    return static_cast<double>(days * 86400 + int64_t{h} * 3600 + int64_t{mi} * 60 + se - offset);
}

Result<std::vector<Fix>> parse_route_gpx(std::string_view gpx, std::string_view where) {
    pugi::xml_document doc;
    const auto parsed = doc.load_buffer(gpx.data(), gpx.size(), pugi::parse_default, pugi::encoding_utf8);
    if (!parsed)
        return Error::permanent("health_export.malformed", fmt::format("{}: not a GPX file at byte {}: {}", where,
                                                                       parsed.offset, parsed.description()));
    const auto gpx_node = doc.child("gpx");
    if (!gpx_node) return Error::permanent("health_export.malformed", fmt::format("{}: not a GPX file", where));
    std::vector<Fix> fixes;
    for (auto trk : gpx_node.children("trk"))
        for (auto seg : trk.children("trkseg"))
            for (auto pt : seg.children("trkpt")) {
                auto lat = number(pt.attribute("lat").value());
                auto lon = number(pt.attribute("lon").value());
                auto t = parse_iso8601(pt.child_value("time"));
                if (!lat || !lon || !t || std::abs(*lat) > 90 || std::abs(*lon) > 180) continue;
                Fix f{*t, *lat, *lon, number(pt.child_value("ele"))};
                if (!fixes.empty() && f.time < fixes.back().time) continue;  // out of order: dropped
                fixes.push_back(f);
            }
    if (fixes.empty())
        return Error::permanent("health_export.malformed", fmt::format("{}: the route holds no timed point", where));
    return fixes;
}

struct AppleParser::State {
    std::string where;
    XML_Parser parser = nullptr;
    std::vector<Window> windows;  // merged, sorted
    std::vector<Workout> workouts;
    std::vector<HeartRate> heart_rate;
    std::optional<Workout> current;
    std::string current_type;  // Apple's type without its prefix
    bool in_route = false;
    int depth = 0;
    int workout_depth = -1;

    bool in_window(double t) const {
        auto it =
            std::upper_bound(windows.begin(), windows.end(), t, [](double v, const Window& w) { return v < w.first; });
        return it != windows.begin() && t <= std::prev(it)->second;
    }

    void start(const char* name, const XML_Char** atts) {
        ++depth;
        const std::string_view n(name);
        if (!windows.empty()) {
            if (n == "Record" && attr(atts, "type") == k_heart_rate) {
                auto t = parse_apple_date(attr(atts, "startDate"));
                auto v = number(attr(atts, "value"));
                if (t && v && in_window(*t)) heart_rate.push_back({*t, *v});
            }
            return;
        }
        if (n == "Workout" && !current) {
            start_workout(atts);
        } else if (!current) {
            return;
        } else if (n == "MetadataEntry" && depth == workout_depth + 1) {
            if (attr(atts, "key") == "HKIndoorWorkout") current->indoor = attr(atts, "value") == "1";
        } else if (n == "WorkoutStatistics" && attr(atts, "type").starts_with(k_distance_prefix)) {
            auto sum = number(attr(atts, "sum"));
            auto m = sum ? metres_of(*sum, attr(atts, "unit")) : std::nullopt;
            if (m && !current->distance_m) current->distance_m = m;
        } else if (n == "WorkoutRoute") {
            in_route = true;
        } else if (n == "FileReference" && in_route && current->route.empty()) {
            current->route = std::string(attr(atts, "path"));
        }
    }

    void start_workout(const XML_Char** atts) {
        Workout w;
        std::string_view type = attr(atts, "workoutActivityType");
        if (type.starts_with(k_type_prefix)) type.remove_prefix(k_type_prefix.size());
        auto start = parse_apple_date(attr(atts, "startDate"));
        auto end = parse_apple_date(attr(atts, "endDate"));
        if (!start || !end || *end < *start) return;  // not a workout anyone can place in time: left out
        w.start = *start;
        w.end = *end;
        current_type = type.empty() ? "Other" : std::string(type);
        w.kind = words_of(current_type);
        w.family = formats::family_for_text(current_type).value_or("other");
        w.source = std::string(attr(atts, "sourceName"));
        if (auto d = number(attr(atts, "duration"))) w.duration_s = seconds_of(*d, attr(atts, "durationUnit"));
        if (auto d = number(attr(atts, "totalDistance")); d && *d > 0)
            w.distance_m = metres_of(*d, attr(atts, "totalDistanceUnit"));
        // Start, sport and recording app identify a workout in every export
        // of the phone, whatever time zone the phone formats its dates in.
        w.id = fmt::format("apple:{}:{}:{}", format_iso8601(w.start), current_type, sha256_hex(w.source).substr(0, 8));
        current = std::move(w);
        workout_depth = depth;
    }

    void end(const char* name) {
        const std::string_view n(name);
        if (current && n == "WorkoutRoute") in_route = false;
        if (current && n == "Workout" && depth == workout_depth) {
            workouts.push_back(std::move(*current));
            current.reset();
            workout_depth = -1;
        }
        --depth;
    }
};

AppleParser::AppleParser(std::string where, std::vector<Window> windows) : m_state(std::make_unique<State>()) {
    auto& s = *m_state;
    s.where = std::move(where);
    std::sort(windows.begin(), windows.end());
    for (const auto& w : windows) {
        if (!s.windows.empty() && w.first <= s.windows.back().second)
            s.windows.back().second = std::max(s.windows.back().second, w.second);
        else
            s.windows.push_back(w);
    }
    s.parser = XML_ParserCreate(nullptr);
    XML_SetUserData(s.parser, &s);
    XML_SetElementHandler(
        s.parser,
        [](void* data, const XML_Char* name, const XML_Char** atts) { static_cast<State*>(data)->start(name, atts); },
        [](void* data, const XML_Char* name) { static_cast<State*>(data)->end(name); });
}

AppleParser::~AppleParser() {
    if (m_state->parser != nullptr) XML_ParserFree(m_state->parser);
}

Result<void> AppleParser::feed(std::string_view chunk, bool last) {
    auto& s = *m_state;
    Result<void> status;
    if (chunk.size() > static_cast<size_t>(INT32_MAX))
        status = Error::permanent("health_export.malformed", fmt::format("{}: chunk too large", s.where));
    else if (XML_Parse(s.parser, chunk.data(), static_cast<int>(chunk.size()), last ? 1 : 0) == XML_STATUS_ERROR)
        status = Error::permanent(
            "health_export.malformed",
            fmt::format("{}: line {}, column {}: {}", s.where, XML_GetCurrentLineNumber(s.parser),
                        XML_GetCurrentColumnNumber(s.parser) + 1, XML_ErrorString(XML_GetErrorCode(s.parser))));
    // The samples are sorted at the end, whether or not the end was well-formed.
    if (last || !status)
        std::stable_sort(s.heart_rate.begin(), s.heart_rate.end(),
                         [](const HeartRate& a, const HeartRate& b) { return a.time < b.time; });
    return status;
}

std::vector<Workout>& AppleParser::workouts() { return m_state->workouts; }
std::vector<HeartRate>& AppleParser::heart_rate() { return m_state->heart_rate; }

}  // namespace fitbridge::providers::health_export
