#pragma once
// Test helper: synthetic but valid activity files with chosen start times, so
// tests can make hundreds of distinct activities that never match each other.

#include <cmath>
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

}  // namespace fitbridge::test
