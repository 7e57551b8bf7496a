#include "providers/kit/mapping.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <ctime>

#include <fmt/format.h>

#include "core/time.hpp"
#include "formats/decode.hpp"

namespace fitbridge::providers::kit {

namespace {

// A finite number: from_chars also reads "inf" and "nan", which no platform
// means as an amount.
std::optional<double> to_double(std::string_view s) {
    double v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
    return v;
}

// Sums and products of finite parts can still overflow.
std::optional<double> finite(double v) { return std::isfinite(v) ? std::optional<double>(v) : std::nullopt; }

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

bool iequal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

}  // namespace

const rapidjson::Value* json_at(const rapidjson::Value& root, std::string_view path) {
    const rapidjson::Value* v = &root;
    while (!path.empty()) {
        const auto dot = path.find('.');
        const std::string part(path.substr(0, dot));
        path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
        if (v->IsObject()) {
            auto it = v->FindMember(part.c_str());
            if (it == v->MemberEnd()) return nullptr;
            v = &it->value;
        } else if (v->IsArray()) {
            auto index = to_double(part);
            if (!index || *index < 0 || *index >= v->Size() || std::floor(*index) != *index) return nullptr;
            v = &(*v)[static_cast<rapidjson::SizeType>(*index)];
        } else {
            return nullptr;
        }
    }
    return v;
}

std::optional<std::string> string_at(const rapidjson::Value& root, std::string_view path) {
    const auto* v = json_at(root, path);
    if (v == nullptr || !v->IsString()) return std::nullopt;
    return std::string(v->GetString(), v->GetStringLength());
}

std::optional<double> number_at(const rapidjson::Value& root, std::string_view path) {
    const auto* v = json_at(root, path);
    if (v == nullptr) return std::nullopt;
    // RapidJSON reads a number past the largest double (1e999) as infinity.
    if (v->IsNumber()) return finite(v->GetDouble());
    if (v->IsString()) return to_double(v->GetString());
    return std::nullopt;
}

std::optional<std::string> id_at(const rapidjson::Value& root, std::string_view path) {
    const auto* v = json_at(root, path);
    if (v == nullptr) return std::nullopt;
    if (v->IsString()) return std::string(v->GetString(), v->GetStringLength());
    if (v->IsInt64()) return std::to_string(v->GetInt64());
    if (v->IsUint64()) return std::to_string(v->GetUint64());
    return std::nullopt;
}

std::optional<double> parse_time(std::string_view text) {
    text = trim(text);
    if (auto t = parse_iso8601(text)) return t;
    // No zone: read as UTC.
    if (text.size() >= 19 && text[10] == 'T') return parse_iso8601(std::string(text) + "Z");
    if (text.size() >= 19 && text[10] == ' ') {
        std::string copy(text);
        copy[10] = 'T';
        return parse_time(copy);
    }
    return std::nullopt;
}

std::optional<double> time_of(const rapidjson::Value& value) {
    if (value.IsNumber()) {
        const double v = value.GetDouble();
        return finite(v > 1e11 ? v / 1000.0 : v);
    }
    if (value.IsString()) return parse_time(value.GetString());
    return std::nullopt;
}

std::string local_seconds(double t) {
    const auto s = static_cast<std::time_t>(std::floor(t));
    std::tm tm{};
    ::gmtime_r(&s, &tm);
    return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                       tm.tm_hour, tm.tm_min, tm.tm_sec);
}

double to_meters(double value, DistanceUnit unit) {
    switch (unit) {
        case DistanceUnit::m: return value;
        case DistanceUnit::km: return value * 1000.0;
        case DistanceUnit::mi: return value * 1609.344;
    }
    return value;
}

std::optional<double> parse_distance(std::string_view text) {
    text = trim(text);
    size_t end = 0;
    while (end < text.size() && (std::isdigit(static_cast<unsigned char>(text[end])) || text[end] == '.')) ++end;
    auto v = to_double(text.substr(0, end));
    if (!v) return std::nullopt;
    const auto unit = trim(text.substr(end));
    if (unit.empty() || iequal(unit, "m")) return *v;
    if (iequal(unit, "km")) return finite(to_meters(*v, DistanceUnit::km));
    if (iequal(unit, "mi")) return finite(to_meters(*v, DistanceUnit::mi));
    return std::nullopt;
}

std::optional<double> parse_duration(std::string_view text) {
    text = trim(text);
    if (text.empty()) return std::nullopt;
    if (auto v = to_double(text)) return *v >= 0 ? v : std::nullopt;
    if (text.front() == 'P') {
        // ISO-8601 duration: PnDTnHnMnS (no years or months: their length varies).
        double total = 0;
        bool in_time = false, any = false;
        size_t i = 1;
        while (i < text.size()) {
            if (text[i] == 'T') {
                in_time = true;
                ++i;
                continue;
            }
            size_t end = i;
            while (end < text.size() && (std::isdigit(static_cast<unsigned char>(text[end])) || text[end] == '.'))
                ++end;
            auto n = to_double(text.substr(i, end - i));
            if (!n || end >= text.size()) return std::nullopt;
            const char u = text[end];
            if (u == 'D' && !in_time)
                total += *n * 86400;
            else if (u == 'H' && in_time)
                total += *n * 3600;
            else if (u == 'M' && in_time)
                total += *n * 60;
            else if (u == 'S' && in_time)
                total += *n;
            else
                return std::nullopt;
            any = true;
            i = end + 1;
        }
        return any ? finite(total) : std::nullopt;
    }
    // h:mm:ss or mm:ss
    double total = 0;
    int parts = 0;
    for (size_t start = 0; start <= text.size();) {
        auto colon = text.find(':', start);
        auto piece = text.substr(start, colon == std::string_view::npos ? std::string_view::npos : colon - start);
        auto n = to_double(piece);
        if (!n || *n < 0) return std::nullopt;
        total = total * 60 + *n;
        ++parts;
        if (colon == std::string_view::npos) break;
        start = colon + 1;
    }
    if (parts < 2 || parts > 3) return std::nullopt;
    return finite(total);
}

std::optional<std::string> family_of(std::span<const SportName> table, std::string_view name) {
    for (const auto& row : table)
        if (iequal(row.platform, name)) return std::string(row.family);
    return formats::family_for_text(name);
}

std::optional<std::string> platform_sport(std::span<const SportName> table, std::string_view family) {
    for (const auto& row : table)
        if (row.family == family) return std::string(row.platform);
    return std::nullopt;
}

}  // namespace fitbridge::providers::kit
