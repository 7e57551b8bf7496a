#pragma once
// Test helper: synthetic but valid activity files with chosen start times, so
// tests can make hundreds of distinct activities that never match each other.

#include <array>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <string>

#include "core/time.hpp"

namespace fitbridge::test {

// A GPX 1.1 ride of `points` one-second track points starting at `start`
// (Unix seconds), moving north-east from (lat, lon); ~2.5 KB for 20 points.
inline std::string synth_gpx(double start, int points = 20, double lat = 45.0, double lon = 7.0,
                             const std::string& name = "Synthetic ride", bool power = false) {
    std::string s =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<gpx version=\"1.1\" creator=\"fitbridge-tests\" xmlns=\"http://www.topografix.com/GPX/1/1\" "
        "xmlns:gpxtpx=\"http://www.garmin.com/xmlschemas/TrackPointExtension/v1\">\n"
        " <trk><name>" +
        name + "</name><type>cycling</type><trkseg>\n";
    for (int i = 0; i < points; ++i) {
        char buf[320];
        std::snprintf(buf, sizeof buf,
                      "  <trkpt lat=\"%.7f\" lon=\"%.7f\"><ele>%.1f</ele><time>%s</time><extensions>"
                      "<gpxtpx:TrackPointExtension><gpxtpx:hr>%d</gpxtpx:hr></gpxtpx:TrackPointExtension>%s"
                      "</extensions></trkpt>\n",
                      lat + i * 0.0001, lon + i * 0.0001, 100.0 + i, format_iso8601(start + i).c_str(), 120 + i % 30,
                      power ? "<power>210</power>" : "");
        s += buf;
    }
    s += " </trkseg></trk>\n</gpx>\n";
    return s;
}

namespace synth_detail {
inline uint16_t fit_crc(uint16_t crc, uint8_t byte) {
    static constexpr uint16_t k_table[16] = {0x0000, 0xCC01, 0xD801, 0x1400, 0xF001, 0x3C00, 0x2800, 0xE401,
                                             0xA001, 0x6C00, 0x7800, 0xB401, 0x5000, 0x9C01, 0x8801, 0x4400};
    uint16_t t = k_table[crc & 0xF];
    crc = static_cast<uint16_t>(((crc >> 4) & 0x0FFF) ^ t ^ k_table[byte & 0xF]);
    t = k_table[crc & 0xF];
    return static_cast<uint16_t>(((crc >> 4) & 0x0FFF) ^ t ^ k_table[(byte >> 4) & 0xF]);
}
inline void put(std::string& s, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
// A definition message: local type, global message number, (field, size, base type) triples.
inline void define(std::string& s, int local, int global, std::initializer_list<std::array<int, 3>> fields) {
    s.push_back(static_cast<char>(0x40 | local));
    s.push_back(0);  // reserved
    s.push_back(0);  // little-endian
    put(s, static_cast<uint64_t>(global), 2);
    s.push_back(static_cast<char>(fields.size()));
    for (const auto& f : fields)
        for (int b : f) s.push_back(static_cast<char>(b));
}
}  // namespace synth_detail

// A FIT activity file (file_id, `seconds` one-second records with heart rate
// and distance, a session and an activity message) starting at `start` (Unix
// seconds); `sport` is FIT's sport number (1 running, 2 cycling).
inline std::string synth_fit(double start, int seconds = 60, int sport = 2) {
    using namespace synth_detail;
    constexpr uint32_t k_fit_epoch = 631065600;
    const auto t0 = static_cast<uint32_t>(start) - k_fit_epoch;
    std::string d;
    define(d, 0, 0, {{{0, 1, 0x00}}, {{1, 2, 0x84}}, {{4, 4, 0x86}}});  // file_id: type, manufacturer, time_created
    d.push_back(0);
    put(d, 4, 1);    // activity
    put(d, 255, 2);  // development
    put(d, t0, 4);
    define(d, 1, 20, {{{253, 4, 0x86}}, {{3, 1, 0x02}}, {{5, 4, 0x86}}});  // record: timestamp, heart_rate, distance
    for (int i = 0; i < seconds; ++i) {
        d.push_back(1);
        put(d, t0 + static_cast<uint32_t>(i), 4);
        put(d, static_cast<uint64_t>(120 + i % 30), 1);
        put(d, static_cast<uint64_t>(i) * 550, 4);  // 5.5 m/s, in centimetres
    }
    // session: timestamp, start_time, total_elapsed_time, total_timer_time, total_distance, sport, sub_sport
    define(d, 2, 18,
           {{{253, 4, 0x86}},
            {{2, 4, 0x86}},
            {{7, 4, 0x86}},
            {{8, 4, 0x86}},
            {{9, 4, 0x86}},
            {{5, 1, 0x00}},
            {{6, 1, 0x00}}});
    d.push_back(2);
    put(d, t0 + static_cast<uint32_t>(seconds), 4);
    put(d, t0, 4);
    put(d, static_cast<uint64_t>(seconds) * 1000, 4);
    put(d, static_cast<uint64_t>(seconds) * 1000, 4);
    put(d, static_cast<uint64_t>(seconds - 1) * 550, 4);
    put(d, static_cast<uint64_t>(sport), 1);
    put(d, 0, 1);
    define(d, 3, 34, {{{253, 4, 0x86}}, {{1, 2, 0x84}}, {{2, 1, 0x00}}});  // activity: timestamp, num_sessions, type
    d.push_back(3);
    put(d, t0 + static_cast<uint32_t>(seconds), 4);
    put(d, 1, 2);
    put(d, 0, 1);  // manual
    std::string out;
    out.push_back(14);
    out.push_back(0x20);
    put(out, 2132, 2);
    put(out, d.size(), 4);
    out += ".FIT";
    uint16_t crc = 0;
    for (char c : out) crc = fit_crc(crc, static_cast<uint8_t>(c));
    put(out, crc, 2);
    out += d;
    crc = 0;
    for (char c : out) crc = fit_crc(crc, static_cast<uint8_t>(c));
    put(out, crc, 2);
    return out;
}

}  // namespace fitbridge::test
