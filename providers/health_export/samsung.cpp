#include "providers/health_export/samsung.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <map>
#include <optional>
#include <unordered_map>

#include <fmt/format.h>

#include "core/time.hpp"
#include "json/json.hpp"

namespace fitbridge::providers::health_export {

namespace {

constexpr std::string_view k_table_prefix = "com.samsung.shealth.exercise.";
constexpr std::string_view k_column_prefix = "com.samsung.health.exercise.";

struct Sport {
    int code;
    std::string_view kind;
    std::string_view family;
};

// Samsung's exercise_type codes (its SDK's EXERCISE_TYPE table) for the
// sports FitBridge tells apart; any other code is "Exercise", family other.
constexpr std::array k_sports{
    Sport{1001, "Walking", "walk"},
    Sport{1002, "Running", "run"},
    Sport{11007, "Cycling", "ride"},
    Sport{13001, "Hiking", "hike"},
    Sport{13003, "Backpacking", "hike"},
    Sport{13004, "Mountain Biking", "ride"},
    Sport{14001, "Swimming", "swim"},
    Sport{14003, "Canoeing", "row"},
    Sport{14007, "Kayaking", "row"},
    Sport{14010, "Rowing", "row"},
    Sport{15003, "Exercise Bike", "ride"},
    Sport{15004, "Rowing Machine", "row"},
    Sport{15005, "Treadmill", "run"},
    Sport{16001, "Cross-Country Skiing", "ski"},
    Sport{16002, "Downhill Skiing", "ski"},
    Sport{16007, "Snowboarding", "ski"},
    Sport{16008, "Alpine Skiing", "ski"},
    Sport{16009, "Snowshoeing", "hike"},
    Sport{9001, "Pilates", "yoga"},
    Sport{9002, "Yoga", "yoga"},
    Sport{10007, "Circuit Training", "strength"},
};

Error malformed(std::string message) { return Error::permanent("health_export.malformed", std::move(message)); }

// The fields of one CSV line starting at `pos` (quotes and doubled quotes as
// RFC 4180); moves `pos` past the line's end.
std::vector<std::string> csv_line(std::string_view text, size_t& pos) {
    std::vector<std::string> fields(1);
    bool quoted = false;
    while (pos < text.size()) {
        const char c = text[pos++];
        if (quoted) {
            if (c == '"' && pos < text.size() && text[pos] == '"') {
                fields.back().push_back('"');
                ++pos;
            } else if (c == '"') {
                quoted = false;
            } else {
                fields.back().push_back(c);
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            fields.emplace_back();
        } else if (c == '\n') {
            break;
        } else if (c != '\r') {
            fields.back().push_back(c);
        }
    }
    return fields;
}

std::optional<double> number(std::string_view s) {
    double v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
    return v;
}

// "2021-05-01 07:12:34.000", UTC.
std::optional<double> samsung_time(std::string_view s) {
    if (s.size() < 19 || s[10] != ' ') return std::nullopt;
    std::string iso(s);
    iso[10] = 'T';
    iso += 'Z';
    return parse_iso8601(iso);
}

std::string_view file_name(std::string_view member) {
    const auto slash = member.rfind('/');
    return slash == std::string_view::npos ? member : member.substr(slash + 1);
}

}  // namespace

bool is_samsung_exercise_table(std::string_view member) {
    const auto name = file_name(member);
    return name.starts_with(k_table_prefix) && name.ends_with(".csv") &&
           std::count(member.begin(), member.end(), '/') <= 1;
}

Result<std::vector<Workout>> parse_samsung_exercises(std::string_view csv, std::string_view where,
                                                     const std::vector<std::string>& members) {
    size_t pos = 0;
    csv_line(csv, pos);  // the title line: "com.samsung.shealth.exercise,<version>,<count>"
    const auto header = csv_line(csv, pos);
    std::map<std::string, size_t, std::less<>> column;
    for (size_t i = 0; i < header.size(); ++i) {
        std::string_view name = header[i];
        if (name.starts_with(k_column_prefix)) name.remove_prefix(k_column_prefix.size());
        column.emplace(std::string(name), i);
    }
    if (!column.contains("start_time") || !column.contains("end_time"))
        return malformed(fmt::format("{}: line 2 is no exercise header (no start_time and end_time columns)", where));
    // Each exercise's JSON files, by file name.
    std::unordered_map<std::string_view, std::string_view> json_files;
    for (const auto& m : members)
        if (m.find("com.samsung.shealth.exercise/") != std::string::npos && m.ends_with(".json"))
            json_files.emplace(file_name(m), m);

    std::vector<Workout> out;
    while (pos < csv.size()) {
        const auto row = csv_line(csv, pos);
        auto field = [&](std::string_view name) -> std::string_view {
            auto it = column.find(name);
            return it != column.end() && it->second < row.size() ? std::string_view(row[it->second])
                                                                 : std::string_view();
        };
        auto start = samsung_time(field("start_time"));
        auto end = samsung_time(field("end_time"));
        if (!start || !end || *end < *start) continue;
        Workout w;
        w.start = *start;
        w.end = *end;
        int code = 0;  // not a whole number in range: no sport FitBridge knows
        const auto type = field("exercise_type");
        if (std::from_chars(type.data(), type.data() + type.size(), code).ptr != type.data() + type.size()) code = 0;
        const auto sport =
            std::find_if(k_sports.begin(), k_sports.end(), [&](const Sport& s) { return s.code == code; });
        w.kind = sport != k_sports.end() ? std::string(sport->kind) : "Exercise";
        w.family = sport != k_sports.end() ? std::string(sport->family) : "other";
        w.source = "Samsung Health";
        if (auto ms = number(field("duration")); ms && *ms > 0) w.duration_s = *ms / 1000;
        if (auto m = number(field("distance")); m && *m > 0) w.distance_m = *m;
        if (auto it = json_files.find(field("location_data")); it != json_files.end()) w.route = it->second;
        if (auto it = json_files.find(field("live_data")); it != json_files.end()) w.heart_rate = it->second;
        const auto uuid = field("datauuid");
        w.id = uuid.empty() ? fmt::format("samsung:{}:{}", format_iso8601(w.start), code)
                            : fmt::format("samsung:{}", uuid);
        out.push_back(std::move(w));
    }
    return out;
}

Result<std::vector<Fix>> parse_samsung_locations(std::string_view text, std::string_view where) {
    auto doc = json::parse(text);
    if (!doc) return malformed(fmt::format("{}: {}", where, doc.error().message));
    if (!doc->IsArray()) return malformed(fmt::format("{}: expected a list of positions", where));
    std::vector<Fix> fixes;
    for (const auto& v : doc->GetArray()) {
        if (!v.IsObject()) continue;
        auto lat = json::get_number(v, "latitude");
        auto lon = json::get_number(v, "longitude");
        auto ms = json::get_number(v, "start_time");
        if (!lat || !lon || !ms || std::abs(*lat) > 90 || std::abs(*lon) > 180) continue;
        Fix f{*ms / 1000, *lat, *lon, json::get_number(v, "altitude")};
        if (!fixes.empty() && f.time < fixes.back().time) continue;
        fixes.push_back(f);
    }
    if (fixes.empty()) return malformed(fmt::format("{}: the list holds no timed position", where));
    return fixes;
}

Result<std::vector<HeartRate>> parse_samsung_live(std::string_view text, std::string_view where) {
    auto doc = json::parse(text);
    if (!doc) return malformed(fmt::format("{}: {}", where, doc.error().message));
    if (!doc->IsArray()) return malformed(fmt::format("{}: expected a list of samples", where));
    std::vector<HeartRate> samples;
    for (const auto& v : doc->GetArray()) {
        if (!v.IsObject()) continue;
        auto ms = json::get_number(v, "start_time");
        auto hr = json::get_number(v, "heart_rate");
        if (ms && hr && *hr > 0) samples.push_back({*ms / 1000, *hr});
    }
    std::stable_sort(samples.begin(), samples.end(),
                     [](const HeartRate& a, const HeartRate& b) { return a.time < b.time; });
    return samples;
}

}  // namespace fitbridge::providers::health_export
