#pragma once
// Apple Health's export.xml, parsed as a stream (libexpat): the file is often
// over a gigabyte, so nothing but the workouts (and, on a second pass, the
// heart-rate samples inside chosen windows) is kept. Dates such as
// "2022-06-01 07:30:00 +0200" become UTC; units (min, km, mi, ...) SI.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "providers/health_export/workout.hpp"

namespace fitbridge::providers::health_export {

// "2022-06-01 07:30:00 +0200" as Unix seconds; nullopt when malformed.
std::optional<double> parse_apple_date(std::string_view text);

// The fixes of a workout route file (GPX 1.1 as the export writes it: trkpt
// with ele and time). Points without a time or position are left out; a file
// that is not GPX, or holds no timed point, is a permanent error.
Result<std::vector<Fix>> parse_route_gpx(std::string_view gpx, std::string_view where);

class AppleParser {
public:
    // `where` names the file in error messages. With `heart_rate_windows`
    // empty the parser collects workouts; otherwise it collects only the
    // heart-rate samples that fall inside one of the windows.
    explicit AppleParser(std::string where, std::vector<Window> heart_rate_windows = {});
    ~AppleParser();
    AppleParser(const AppleParser&) = delete;
    AppleParser& operator=(const AppleParser&) = delete;

    // Feeds the next chunk (`last` for the final one). An error names the
    // file, line and column; what was parsed before it is kept.
    Result<void> feed(std::string_view chunk, bool last);

    // Workouts in file order. Their `route` is the path the export names
    // ("/workout-routes/route_1.gpx"), relative to export.xml's folder.
    std::vector<Workout>& workouts();
    // Samples inside the windows, sorted by time once the last chunk or an
    // error was fed.
    std::vector<HeartRate>& heart_rate();

    struct State;

private:
    std::unique_ptr<State> m_state;
};

}  // namespace fitbridge::providers::health_export
