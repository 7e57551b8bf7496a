// libFuzzer target for the health-export parsers (providers/health_export):
// Apple Health's export.xml in both passes, fed in chunks of a size the input
// picks, its route GPX, and Samsung Health's exercise table and JSON lists.
// The first byte picks the parser, the second the chunk size; the rest is the
// file. Besides not crashing, what comes out must be consistent.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "providers/health_export/apple.hpp"
#include "providers/health_export/samsung.hpp"

namespace he = fitbridge::providers::health_export;

namespace {

void check_workouts(const std::vector<he::Workout>& workouts) {
    for (const auto& w : workouts)
        if (w.end < w.start || w.id.empty() || w.family.empty()) std::abort();
}

void check_fixes(const std::vector<he::Fix>& fixes) {
    if (fixes.empty()) std::abort();  // an empty track is an error, not a value
    for (size_t i = 1; i < fixes.size(); ++i)
        if (fixes[i].time < fixes[i - 1].time) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 2) return 0;
    const int which = data[0] % 6;
    const size_t chunk = 1 + data[1];
    const std::string_view text(reinterpret_cast<const char*>(data + 2), size - 2);
    switch (which) {
        case 0:
        case 1: {
            std::vector<he::Window> windows;
            if (which == 1) windows = {{1654061000, 1654070000}, {1654065000, 1654160000}};
            he::AppleParser parser("fuzz.xml", windows);
            bool ok = true;
            for (size_t at = 0; ok && at < text.size(); at += chunk)
                ok = bool(parser.feed(text.substr(at, chunk), false));
            if (ok) ok = bool(parser.feed({}, true));
            check_workouts(parser.workouts());
            const auto& hr = parser.heart_rate();
            if (which == 0 && !hr.empty()) std::abort();
            for (const auto& s : hr)
                if (s.time < 1654061000 || s.time > 1654160000) std::abort();
            if (!std::is_sorted(hr.begin(), hr.end(), [](auto& a, auto& b) { return a.time < b.time; })) std::abort();
            break;
        }
        case 2:
            if (auto f = he::parse_route_gpx(text, "fuzz.gpx")) check_fixes(*f);
            break;
        case 3: {
            const std::vector<std::string> members{"jsons/com.samsung.shealth.exercise/u/a.json"};
            if (auto w = he::parse_samsung_exercises(text, "fuzz.csv", members)) check_workouts(*w);
            break;
        }
        case 4:
            if (auto f = he::parse_samsung_locations(text, "fuzz.json")) check_fixes(*f);
            break;
        default:
            if (auto s = he::parse_samsung_live(text, "fuzz.json")) {
                if (!std::is_sorted(s->begin(), s->end(), [](auto& a, auto& b) { return a.time < b.time; }))
                    std::abort();
            }
            break;
    }
    return 0;
}
