#pragma once
// Test helper: synthetic Apple Health and Samsung Health exports, written the
// way the phones write them (export.xml with its DOCTYPE, Records before
// Workouts, route GPX files under workout-routes/; Samsung's exercise table
// with a title line and JSON lists under jsons/).

#include <zip.h>

#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/files.hpp"
#include "core/time.hpp"

namespace fitbridge::test {

struct SynthWorkout {
    double start = 0;  // Unix seconds
    int minutes = 30;
    std::string type = "Running";  // without HKWorkoutActivityType
    double km = 5;
    bool route = true;
    bool ios16 = false;  // distance in WorkoutStatistics rather than on the Workout
    std::string source = "Alice's Apple Watch";
};

// "2022-06-01 07:30:00 +0200": `unix` shown in a zone `offset_min` east of UTC.
inline std::string apple_date(double unix, int offset_min) {
    const std::string iso = format_iso8601(unix + offset_min * 60);  // YYYY-MM-DDTHH:MM:SSZ
    char zone[16];
    const int a = offset_min < 0 ? -offset_min : offset_min;
    std::snprintf(zone, sizeof zone, "%c%02d%02d", offset_min < 0 ? '-' : '+', a / 60, a % 60);
    return iso.substr(0, 10) + " " + iso.substr(11, 8) + " " + zone;
}

// The heart rate the synthetic watch records `k` samples into a workout.
inline int synth_bpm(int k) { return 120 + k % 40; }

inline std::string route_member(size_t i) { return "workout-routes/route_" + std::to_string(i) + ".gpx"; }

// export.xml for `workouts`: heart-rate Records every `hr_every_s` during each
// workout, a few step Records, then the Workouts.
inline std::string apple_export_xml(const std::vector<SynthWorkout>& workouts, int offset_min = 120,
                                    int hr_every_s = 5) {
    std::string s =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<!DOCTYPE HealthData [\n<!ELEMENT HealthData (ExportDate,Me,(Record|Workout)*)>\n"
        "<!ATTLIST HealthData locale CDATA #REQUIRED>\n]>\n"
        "<HealthData locale=\"en_GB\">\n <ExportDate value=\"" +
        apple_date(1.8e9, offset_min) + "\"/>\n <Me HKCharacteristicTypeIdentifierDateOfBirth=\"1990-01-01\"/>\n";
    for (const auto& w : workouts) {
        for (int k = 0; k * hr_every_s <= w.minutes * 60; ++k) {
            const std::string d = apple_date(w.start + k * hr_every_s, offset_min);
            s += " <Record type=\"HKQuantityTypeIdentifierHeartRate\" sourceName=\"" + w.source +
                 "\" unit=\"count/min\" creationDate=\"" + d + "\" startDate=\"" + d + "\" endDate=\"" + d +
                 "\" value=\"" + std::to_string(synth_bpm(k)) +
                 "\">\n  <MetadataEntry key=\"HKMetadataKeyHeartRateMotionContext\" value=\"2\"/>\n </Record>\n";
        }
        const std::string d = apple_date(w.start - 3600, offset_min);
        s += " <Record type=\"HKQuantityTypeIdentifierStepCount\" sourceName=\"iPhone\" unit=\"count\" startDate=\"" +
             d + "\" endDate=\"" + d + "\" value=\"42\"/>\n";
    }
    for (size_t i = 0; i < workouts.size(); ++i) {
        const auto& w = workouts[i];
        const std::string start = apple_date(w.start, offset_min);
        const std::string end = apple_date(w.start + w.minutes * 60, offset_min);
        s += " <Workout workoutActivityType=\"HKWorkoutActivityType" + w.type + "\" duration=\"" +
             std::to_string(w.minutes) + "\" durationUnit=\"min\"";
        if (!w.ios16 && w.km > 0) s += " totalDistance=\"" + std::to_string(w.km) + "\" totalDistanceUnit=\"km\"";
        s += " sourceName=\"" + w.source + "\" sourceVersion=\"9.1\" device=\"&lt;&lt;HKDevice: 0x1&gt;&gt;\" " +
             "creationDate=\"" + end + "\" startDate=\"" + start + "\" endDate=\"" + end + "\">\n";
        s += "  <MetadataEntry key=\"HKIndoorWorkout\" value=\"0\"/>\n";
        if (w.ios16 && w.km > 0)
            s += "  <WorkoutStatistics type=\"HKQuantityTypeIdentifierDistanceWalkingRunning\" startDate=\"" + start +
                 "\" endDate=\"" + end + "\" sum=\"" + std::to_string(w.km) + "\" unit=\"km\"/>\n";
        if (w.route)
            s += "  <WorkoutRoute sourceName=\"" + w.source + "\" startDate=\"" + start + "\" endDate=\"" + end +
                 "\">\n   <MetadataEntry key=\"HKMetadataKeySyncVersion\" value=\"2\"/>\n   <FileReference path=\"/" +
                 route_member(i) + "\"/>\n  </WorkoutRoute>\n";
        s += " </Workout>\n";
    }
    s += "</HealthData>\n";
    return s;
}

// The route GPX of a workout: one point every `every_s`, moving north.
inline std::string apple_route_gpx(const SynthWorkout& w, int every_s = 2) {
    std::string s =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<gpx version=\"1.1\" creator=\"Apple Health Export\" "
        "xmlns=\"http://www.topografix.com/GPX/1/1\">\n <trk><name>Route</name><trkseg>\n";
    for (int t = 0; t <= w.minutes * 60; t += every_s) {
        char buf[256];
        std::snprintf(buf, sizeof buf,
                      "  <trkpt lon=\"%.7f\" lat=\"%.7f\"><ele>%.1f</ele><time>%s</time><extensions><speed>2.8</speed>"
                      "<course>0</course><hAcc>3</hAcc><vAcc>2</vAcc></extensions></trkpt>\n",
                      7.0, 45.0 + t * 0.00002, 100.0 + t % 7, format_iso8601(w.start + t).c_str());
        s += buf;
    }
    s += " </trkseg></trk>\n</gpx>\n";
    return s;
}

// The members of an Apple export: apple_health_export/export.xml and the routes.
inline std::vector<std::pair<std::string, std::string>> apple_export_members(const std::vector<SynthWorkout>& workouts,
                                                                             int offset_min = 120) {
    std::vector<std::pair<std::string, std::string>> m{
        {"apple_health_export/export.xml", apple_export_xml(workouts, offset_min)},
        {"apple_health_export/export_cda.xml", "<ClinicalDocument/>\n"}};
    for (size_t i = 0; i < workouts.size(); ++i)
        if (workouts[i].route) m.emplace_back("apple_health_export/" + route_member(i), apple_route_gpx(workouts[i]));
    return m;
}

inline void write_zip(const std::filesystem::path& path,
                      const std::vector<std::pair<std::string, std::string>>& members) {
    std::filesystem::create_directories(path.parent_path());
    int err = 0;
    zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
    if (z == nullptr) throw std::runtime_error("cannot create " + path.string());
    for (const auto& [name, data] : members) {
        zip_source_t* src = zip_source_buffer(z, data.data(), data.size(), 0);
        if (src == nullptr || zip_file_add(z, name.c_str(), src, ZIP_FL_OVERWRITE) < 0)
            throw std::runtime_error("cannot add " + name);
    }
    if (zip_close(z) != 0) throw std::runtime_error("cannot write " + path.string());
}

inline void write_tree(const std::filesystem::path& root,
                       const std::vector<std::pair<std::string, std::string>>& members) {
    for (const auto& [name, data] : members) {
        std::filesystem::create_directories((root / name).parent_path());
        auto r = write_file_atomic(root / name, data, 0644);
        if (!r) throw std::runtime_error(r.error().message);
    }
}

}  // namespace fitbridge::test
