// GPX 1.0 / 1.1 to Summary (activity-summary.md, "GPX"). Elements are matched
// on local names, so default namespaces, prefixes and GPX 1.0's lack of an
// <extensions> element all read the same.

#include <algorithm>
#include <cmath>
#include <numbers>
#include <optional>
#include <string>

#include "core/time.hpp"
#include "formats/decode.hpp"
#include "formats/xml_util.hpp"

namespace fitbridge::formats {

namespace {

using xml::local_name;

constexpr double k_earth_radius_m = 6371000.0;
constexpr double k_deg_to_rad = std::numbers::pi / 180.0;

struct Position {
    double lat;
    double lon;
};

// Great-circle distance on a sphere of radius 6,371 km (the contract's
// 2-D haversine; elevation is ignored on purpose).
double haversine_m(const Position& a, const Position& b) {
    const double phi1 = a.lat * k_deg_to_rad;
    const double phi2 = b.lat * k_deg_to_rad;
    const double dphi = (b.lat - a.lat) * k_deg_to_rad;
    const double dlambda = (b.lon - a.lon) * k_deg_to_rad;
    const double s1 = std::sin(dphi / 2);
    const double s2 = std::sin(dlambda / 2);
    const double h = s1 * s1 + std::cos(phi1) * std::cos(phi2) * s2 * s2;
    return 2 * k_earth_radius_m * std::asin(std::sqrt(std::min(1.0, h)));
}

std::optional<Position> point_position(const pugi::xml_node& pt) {
    auto lat = xml::parse_number(pt.attribute("lat").value());
    auto lon = xml::parse_number(pt.attribute("lon").value());
    if (!lat || !lon || std::fabs(*lat) > 90 || std::fabs(*lon) > 180) return std::nullopt;
    return Position{*lat, *lon};
}

// Per-record sensor values from extension leaves; the first leaf of each kind
// in document order wins (some writers repeat hr in two namespaces).
struct PointValues {
    std::optional<double> hr;
    std::optional<double> power;
};

void scan_extensions(const pugi::xml_node& node, PointValues& v) {
    for (pugi::xml_node c = node.first_child(); c; c = c.next_sibling()) {
        if (c.type() != pugi::node_element) continue;
        if (!xml::is_leaf(c)) {
            scan_extensions(c, v);
            continue;
        }
        std::string_view n = local_name(c);
        if (!v.hr && (n == "hr" || n == "heartrate")) {
            v.hr = xml::parse_number(c.child_value());
        } else if (!v.power && (n == "power" || n == "watts" || n == "PowerInWatts")) {
            v.power = xml::parse_number(c.child_value());
        }
        // cad/cadence and atemp/temp are recognised by the contract but the
        // summary carries no field for them.
    }
}

class GpxWalker {
public:
    explicit GpxWalker(Summary& out) : m_out(out) {}

    void track(const pugi::xml_node& trk) {
        for (pugi::xml_node c = trk.first_child(); c; c = c.next_sibling()) {
            if (c.type() != pugi::node_element) continue;
            std::string_view n = local_name(c);
            if (n == "trkseg") {
                segment(c);
            } else if (n == "type" && !m_out.sport) {
                std::string_view t = xml::trimmed_text(c);
                if (!t.empty()) m_out.sport = std::string(t);
            }
        }
    }

    void finish() {
        Summary& s = m_out;
        if (m_timed > 0) {
            s.start_time = m_first_time;
            s.total_elapsed_time = m_last_time - m_first_time;
        }
        if (s.records > 0) s.total_distance = m_distance;
        if (m_hr_n > 0) {
            s.rec_avg_hr = m_hr_sum / static_cast<double>(m_hr_n);
            s.rec_max_hr = m_hr_max;
            s.avg_hr = s.rec_avg_hr;  // GPX has no summaries: the records are the summary
            s.max_hr = s.rec_max_hr;
            s.has_hr = true;
        }
        if (m_power_n > 0) {
            s.rec_avg_power = m_power_sum / static_cast<double>(m_power_n);
            s.avg_power = s.rec_avg_power;
            s.has_power = true;
        }
        if (s.sport) s.sport_family = family_for_text(*s.sport);
    }

private:
    void segment(const pugi::xml_node& seg) {
        std::optional<Position> prev;  // distances never bridge two segments
        for (pugi::xml_node pt = seg.first_child(); pt; pt = pt.next_sibling()) {
            if (pt.type() != pugi::node_element || local_name(pt) != "trkpt") continue;
            ++m_out.records;
            if (auto pos = point_position(pt)) {
                ++m_out.records_with_position;
                if (!m_out.first_lat) {
                    m_out.first_lat = pos->lat;
                    m_out.first_lon = pos->lon;
                }
                m_out.last_lat = pos->lat;
                m_out.last_lon = pos->lon;
                if (prev) m_distance += haversine_m(*prev, *pos);
                prev = pos;
            }
            point_children(pt);
        }
    }

    void point_children(const pugi::xml_node& pt) {
        PointValues v;
        bool seen_time = false;  // a repeated <time> must not move the span
        for (pugi::xml_node c = pt.first_child(); c; c = c.next_sibling()) {
            if (c.type() != pugi::node_element) continue;
            std::string_view n = local_name(c);
            if (n == "time" && !seen_time) {
                seen_time = true;
                if (auto t = parse_iso8601(c.child_value())) {
                    if (m_timed++ == 0) m_first_time = *t;
                    m_last_time = *t;
                }
            } else if (n == "extensions" || !xml::is_leaf(c)) {
                scan_extensions(c, v);
            } else if (!v.hr && (n == "hr" || n == "heartrate")) {
                v.hr = xml::parse_number(c.child_value());  // GPX 1.0 puts foreign elements inline
            } else if (!v.power && (n == "power" || n == "watts" || n == "PowerInWatts")) {
                v.power = xml::parse_number(c.child_value());
            }
        }
        if (v.hr) {
            m_hr_sum += *v.hr;
            m_hr_max = m_hr_n == 0 ? *v.hr : std::max(m_hr_max, *v.hr);
            ++m_hr_n;
        }
        if (v.power) {
            m_power_sum += *v.power;
            ++m_power_n;
        }
    }

    Summary& m_out;
    double m_distance = 0;
    int64_t m_timed = 0;  // track points with a parseable time
    double m_first_time = 0, m_last_time = 0;
    double m_hr_sum = 0, m_hr_max = 0, m_power_sum = 0;
    int64_t m_hr_n = 0, m_power_n = 0;
};

}  // namespace

void decode_gpx(std::span<const uint8_t> payload, Summary& out) {
    pugi::xml_document doc;
    if (auto err = xml::load(doc, payload, "GPX")) {
        out.ok = false;
        out.error = *err;
        return;
    }
    pugi::xml_node root = doc.document_element();
    if (local_name(root) != "gpx") {
        out.ok = false;
        out.error = "not a GPX document: root element is <" + std::string(root.name()) + ">";
        return;
    }
    GpxWalker walker(out);
    bool has_route = false;
    for (pugi::xml_node c = root.first_child(); c; c = c.next_sibling()) {
        if (c.type() != pugi::node_element) continue;
        std::string_view n = local_name(c);
        if (n == "trk") {
            walker.track(c);
        } else if (n == "rte") {
            has_route = true;
        }
    }
    walker.finish();
    out.ok = true;
    out.error.clear();
    if (out.records == 0) {
        out.is_activity = false;
        out.not_activity_reason =
            has_route ? "GPX route without a track: not an activity" : "GPX without track points: not an activity";
    }
}

}  // namespace fitbridge::formats
