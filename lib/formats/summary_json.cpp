// The contract's JSON line (activity-summary.md). Keys are written in the
// contract's table order so lines diff cleanly; FIT-only keys appear only for
// FIT files, every other key is always present (null when it does not apply).

#include <charconv>

#include <fmt/format.h>

#include "core/time.hpp"
#include "formats/decode.hpp"
#include "formats/summary_json.hpp"
#include "json/json.hpp"

namespace fitbridge::formats {

namespace {

void opt_int(json::Builder& b, const std::optional<int64_t>& v) {
    if (v)
        b.w.Int64(*v);
    else
        b.w.Null();
}

// FIT enum names print as strings; values the profile does not name print as
// the raw number.
void enum_or_number(json::Builder& b, const std::optional<std::string>& v, bool is_number) {
    if (!v) {
        b.w.Null();
        return;
    }
    if (is_number) {
        int64_t n = 0;
        auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
        if (ec == std::errc() && end == v->data() + v->size()) {
            b.w.Int64(n);
            return;
        }
    }
    b.string(*v);
}

std::optional<Format> format_from_name(std::string_view name, bool& gzipped) {
    gzipped = name.ends_with(".gz");
    if (gzipped) name.remove_suffix(3);
    if (name == "fit") return Format::fit;
    if (name == "gpx") return Format::gpx;
    if (name == "tcx") return Format::tcx;
    if (name == "unknown") return Format::unknown;
    return std::nullopt;
}

// An enum written as a name or, when the profile has none, as a number.
void read_enum(const rapidjson::Value& o, const char* key, std::optional<std::string>& v, bool& is_number) {
    auto it = o.FindMember(key);
    if (it == o.MemberEnd()) return;
    if (it->value.IsString()) {
        v = std::string(it->value.GetString(), it->value.GetStringLength());
    } else if (it->value.IsInt64()) {
        v = std::to_string(it->value.GetInt64());
        is_number = true;
    }
}

}  // namespace

Result<Summary> summary_from_json(std::string_view text) {
    auto doc = json::parse(text);
    if (!doc) return doc.error();
    if (!doc->IsObject()) return Error::permanent("summary.json", "a summary must be a JSON object");
    const auto& o = *doc;
    Summary s;
    auto format = json::get_string(o, "format");
    auto f = format ? format_from_name(*format, s.gzipped) : std::nullopt;
    if (!f)
        return Error::permanent("summary.json",
                                fmt::format("summary: 'format' is missing or unknown ('{}')", format.value_or("")));
    s.format = *f;
    s.bytes = static_cast<uint64_t>(json::get_int(o, "bytes").value_or(0));
    s.sha256 = json::get_string(o, "sha256").value_or("");
    s.content_sha256 = json::get_string(o, "content_sha256").value_or("");
    s.ok = json::get_bool(o, "ok").value_or(false);
    s.error = json::get_string(o, "error").value_or("");
    s.sport = json::get_string(o, "sport");
    s.sport_family = json::get_string(o, "sport_family");
    if (auto st = json::get_string(o, "start_time")) {
        s.start_time = parse_iso8601(*st);
        if (!s.start_time)
            return Error::permanent("summary.json", fmt::format("summary: 'start_time' is not ISO 8601 ('{}')", *st));
    }
    s.total_elapsed_time = json::get_number(o, "total_elapsed_time");
    s.total_timer_time = json::get_number(o, "total_timer_time");
    s.total_distance = json::get_number(o, "total_distance");
    s.records = json::get_int(o, "records").value_or(0);
    s.records_with_position = json::get_int(o, "records_with_position").value_or(0);
    s.laps = json::get_int(o, "laps");
    s.first_lat = json::get_number(o, "first_lat");
    s.first_lon = json::get_number(o, "first_lon");
    s.last_lat = json::get_number(o, "last_lat");
    s.last_lon = json::get_number(o, "last_lon");
    s.avg_hr = json::get_number(o, "avg_hr");
    s.max_hr = json::get_number(o, "max_hr");
    s.avg_power = json::get_number(o, "avg_power");
    s.rec_avg_hr = json::get_number(o, "rec_avg_hr");
    s.rec_max_hr = json::get_number(o, "rec_max_hr");
    s.rec_avg_power = json::get_number(o, "rec_avg_power");
    if (s.format == Format::fit) {
        s.fit_files_in_chain = json::get_int(o, "fit_files_in_chain");
        read_enum(o, "file_type", s.file_type, s.file_type_is_number);
        read_enum(o, "manufacturer", s.manufacturer, s.manufacturer_is_number);
        s.product = json::get_int(o, "product");
        s.sessions = json::get_int(o, "sessions");
        s.sub_sport = json::get_string(o, "sub_sport");
        if (auto mc = o.FindMember("msg_counts"); mc != o.MemberEnd() && mc->value.IsObject())
            for (const auto& m : mc->value.GetObject())
                if (m.value.IsInt64()) s.msg_counts[m.name.GetString()] = m.value.GetInt64();
    }
    return s;
}

std::string to_json(const Summary& s, std::string_view file) {
    json::Builder b;
    b.w.StartObject();
    b.field("file", file);
    b.field("format", format_name(s.format, s.gzipped));
    b.field("bytes", s.bytes);
    b.field("sha256", s.sha256);
    b.field("content_sha256", s.content_sha256);
    b.field("ok", s.ok);
    b.key("error");
    if (s.ok)
        b.w.Null();
    else
        b.string(s.error.empty() ? std::string_view("decoding failed (no detail recorded)") : s.error);
    b.field("sport", s.sport);
    b.field("sport_family", s.sport_family);
    b.key("start_time");
    if (s.start_time)
        b.string(format_iso8601(*s.start_time));
    else
        b.w.Null();
    b.field("total_elapsed_time", s.total_elapsed_time);
    b.field("total_timer_time", s.total_timer_time);
    b.field("total_distance", s.total_distance);
    b.field("records", s.records);
    b.field("records_with_position", s.records_with_position);
    b.key("laps");
    opt_int(b, s.laps);
    b.field("first_lat", s.first_lat);
    b.field("first_lon", s.first_lon);
    b.field("last_lat", s.last_lat);
    b.field("last_lon", s.last_lon);
    b.field("avg_hr", s.avg_hr);
    b.field("max_hr", s.max_hr);
    b.field("avg_power", s.avg_power);
    b.field("rec_avg_hr", s.rec_avg_hr);
    b.field("rec_max_hr", s.rec_max_hr);
    b.field("rec_avg_power", s.rec_avg_power);
    if (s.format == Format::fit) {
        b.key("fit_files_in_chain");
        opt_int(b, s.fit_files_in_chain);
        b.key("file_type");
        enum_or_number(b, s.file_type, s.file_type_is_number);
        b.key("manufacturer");
        enum_or_number(b, s.manufacturer, s.manufacturer_is_number);
        b.key("product");
        opt_int(b, s.product);
        b.key("sessions");
        opt_int(b, s.sessions);
        b.field("sub_sport", s.sub_sport);
        b.key("msg_counts");
        b.w.StartObject();
        for (const auto& [name, count] : s.msg_counts) {
            b.key(name);
            b.w.Int64(count);
        }
        b.w.EndObject();
    }
    b.w.EndObject();
    return b.str();
}

}  // namespace fitbridge::formats
