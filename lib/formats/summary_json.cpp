// The contract's JSON line (activity-summary.md). Keys are written in the
// contract's table order so lines diff cleanly; FIT-only keys appear only for
// FIT files, every other key is always present (null when it does not apply).

#include <charconv>

#include "core/time.hpp"
#include "formats/decode.hpp"
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

}  // namespace

std::string to_json(const Summary& s, std::string_view file) {
    json::Builder b;
    b.w.StartObject();
    b.key("file");
    b.string(file);
    b.key("format");
    b.string(format_name(s.format, s.gzipped));
    b.key("bytes");
    b.w.Uint64(s.bytes);
    b.key("sha256");
    b.string(s.sha256);
    b.key("content_sha256");
    b.string(s.content_sha256);
    b.key("ok");
    b.w.Bool(s.ok);
    b.key("error");
    if (s.ok)
        b.w.Null();
    else
        b.string(s.error.empty() ? std::string_view("decoding failed (no detail recorded)") : s.error);
    b.key("sport");
    b.opt_string(s.sport);
    b.key("sport_family");
    b.opt_string(s.sport_family);
    b.key("start_time");
    if (s.start_time)
        b.string(format_iso8601(*s.start_time));
    else
        b.w.Null();
    b.key("total_elapsed_time");
    b.opt_number(s.total_elapsed_time);
    b.key("total_timer_time");
    b.opt_number(s.total_timer_time);
    b.key("total_distance");
    b.opt_number(s.total_distance);
    b.key("records");
    b.w.Int64(s.records);
    b.key("records_with_position");
    b.w.Int64(s.records_with_position);
    b.key("laps");
    opt_int(b, s.laps);
    b.key("first_lat");
    b.opt_number(s.first_lat);
    b.key("first_lon");
    b.opt_number(s.first_lon);
    b.key("last_lat");
    b.opt_number(s.last_lat);
    b.key("last_lon");
    b.opt_number(s.last_lon);
    b.key("avg_hr");
    b.opt_number(s.avg_hr);
    b.key("max_hr");
    b.opt_number(s.max_hr);
    b.key("avg_power");
    b.opt_number(s.avg_power);
    b.key("rec_avg_hr");
    b.opt_number(s.rec_avg_hr);
    b.key("rec_max_hr");
    b.opt_number(s.rec_max_hr);
    b.key("rec_avg_power");
    b.opt_number(s.rec_avg_power);
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
        b.key("sub_sport");
        b.opt_string(s.sub_sport);
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
