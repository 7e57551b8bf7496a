// libFuzzer target for the platform kit's reading of outside input: the bytes
// as JSON walked with json_at/string_at/number_at/time_of over every path the
// document has, parse_time/parse_duration/parse_distance on the input and on
// every JSON string, and accept_file/unzip_activity on the raw bytes as a
// downloaded body. Besides not crashing, the results keep their promises
// (finite, non-negative amounts; paths find what they name; an accepted file
// is FIT/TCX/GPX or a gzip of one; an error says something).

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "formats/decode.hpp"
#include "formats/gzip.hpp"
#include "json/json.hpp"
#include "providers/kit/files.hpp"
#include "providers/kit/mapping.hpp"
#include "providers/kit/platform.hpp"

namespace {

namespace kit = fitbridge::providers::kit;

constexpr kit::Platform k_platform{.name = "fuzz", .title = "Fuzz platform"};
// Bounds the walk of deeply nested or very wide documents.
constexpr int k_max_paths = 512;
// Unix seconds the kit's local_seconds() round-trips: the years 0001-9999.
constexpr double k_min_time = -62135596800.0;
constexpr double k_max_time = 253402300799.0;

void check(bool ok) {
    if (!ok) __builtin_trap();
}

std::span<const uint8_t> bytes_of(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

void check_time(std::optional<double> t) {
    if (!t) return;
    check(std::isfinite(*t));
    if (*t < k_min_time || *t > k_max_time) return;
    // What the kit writes back into requests reads as the same second.
    const auto again = kit::parse_time(kit::local_seconds(*t));
    check(again.has_value() && *again == std::floor(*t));
}

void check_text(std::string_view text) {
    if (auto d = kit::parse_duration(text)) check(std::isfinite(*d) && *d >= 0);
    if (auto m = kit::parse_distance(text)) check(std::isfinite(*m) && *m >= 0);
    check_time(kit::parse_time(text));
    (void)kit::family_of({}, text);
}

// Walks every value below `v`, checking that json_at finds it again by the
// path that names it (when no key on the way holds a '.' or a NUL, which a
// dotted path cannot name, and no earlier key of the same name hides it).
void walk(const rapidjson::Value& root, const rapidjson::Value& v, const std::string& path, bool nameable,
          int& budget) {
    if (--budget < 0) return;
    if (nameable) check(kit::json_at(root, path) == &v);
    if (v.IsString()) {
        const std::string_view s(v.GetString(), v.GetStringLength());
        check_text(s);
        if (nameable) check(kit::string_at(root, path) == std::string(s));
    }
    if (v.IsNumber() && nameable) {
        const auto n = kit::number_at(root, path);
        check(std::isfinite(v.GetDouble()) ? n == v.GetDouble() : !n);
    }
    if (auto t = kit::time_of(v)) check(std::isfinite(*t));
    if (v.IsString()) check_time(kit::time_of(v));
    if (auto n = kit::number_at(root, path)) check(std::isfinite(*n));
    const std::string prefix = path.empty() ? path : path + ".";
    if (v.IsObject()) {
        for (auto m = v.MemberBegin(); m != v.MemberEnd(); ++m) {
            const std::string_view key(m->name.GetString(), m->name.GetStringLength());
            bool first = true;
            for (auto e = v.MemberBegin(); e != m; ++e)
                if (std::string_view(e->name.GetString(), e->name.GetStringLength()) == key) first = false;
            const bool ok = nameable && first && key.find('.') == std::string_view::npos &&
                            key.find('\0') == std::string_view::npos && !key.empty();
            walk(root, m->value, prefix + std::string(key), ok, budget);
        }
    } else if (v.IsArray()) {
        for (rapidjson::SizeType i = 0; i < v.Size(); ++i)
            walk(root, v[i], prefix + std::to_string(i), nameable, budget);
    }
}

bool is_activity(std::string_view bytes) {
    auto kind = fitbridge::formats::sniff(bytes_of(bytes));
    if (kind == fitbridge::formats::Sniffed::gzip) {
        auto inner = fitbridge::formats::gunzip(bytes_of(bytes), kit::k_max_unpacked);
        if (!inner.error.empty()) return false;
        kind = fitbridge::formats::sniff(inner.payload);
    }
    return kind == fitbridge::formats::Sniffed::fit || kind == fitbridge::formats::Sniffed::gpx ||
           kind == fitbridge::formats::Sniffed::tcx;
}

void check_file(const fitbridge::Result<std::string>& r) {
    if (r) {
        check(is_activity(*r));
    } else {
        check(!r.error().message.empty() && !r.error().code.empty());
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    check_text(input);
    if (auto doc = fitbridge::json::parse(input)) {
        int budget = k_max_paths;
        walk(*doc, *doc, "", true, budget);
        // Paths made of the input's own words: keys that hold dots, indices
        // out of range, paths through scalars.
        (void)kit::json_at(*doc, input.substr(0, 64));
        (void)kit::string_at(*doc, input.substr(0, 64));
    }
    check_file(kit::accept_file(k_platform, std::string(input), "application/octet-stream", "activity 1"));
    check_file(kit::unzip_activity(k_platform, input, "activity 1"));
    (void)kit::body_message(input);
    return 0;
}
