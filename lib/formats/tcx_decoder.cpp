// Garmin Training Center (TCX v2) to Summary (activity-summary.md, "TCX").
// Totals come from the laps (the device's own numbers); the rec_* values and
// positions come from the trackpoints. Elements match on local names.

#include <algorithm>
#include <optional>
#include <string>

#include "core/time.hpp"
#include "formats/decode.hpp"
#include "formats/xml_util.hpp"

namespace fitbridge::formats {

namespace {

using xml::child;
using xml::local_name;

// Value of a <X><Value>n</Value></X> heart-rate element.
std::optional<double> bpm_value(const pugi::xml_node& n) {
    if (!n) return std::nullopt;
    pugi::xml_node v = child(n, "Value");
    return v ? xml::parse_number(v.child_value()) : std::nullopt;
}

// First leaf named `name` under `node` (depth-first), for Extensions/LX/AvgWatts
// and Extensions/TPX/Watts whatever the extension prefix.
pugi::xml_node find_leaf(const pugi::xml_node& node, std::string_view name) {
    for (pugi::xml_node c = node.first_child(); c; c = c.next_sibling()) {
        if (c.type() != pugi::node_element) continue;
        if (xml::is_leaf(c)) {
            if (local_name(c) == name) return c;
        } else if (pugi::xml_node f = find_leaf(c, name)) {
            return f;
        }
    }
    return {};
}

// A running weighted mean that returns a single contributor's value exactly.
struct WeightedMean {
    double weighted_sum = 0, weight = 0, plain_sum = 0;
    int64_t n = 0;
    std::optional<double> first;
    void add(double value, double w) {
        if (!first) first = value;
        weighted_sum += value * w;
        weight += w;
        plain_sum += value;
        ++n;
    }
    std::optional<double> mean() const {
        if (n == 0) return std::nullopt;
        if (n == 1) return first;
        if (weight > 0) return weighted_sum / weight;
        return plain_sum / static_cast<double>(n);  // every lap has zero time: weights say nothing
    }
};

class TcxWalker {
public:
    explicit TcxWalker(Summary& out) : m_out(out) {}

    void activity(const pugi::xml_node& act) {
        ++m_activities;
        if (!m_out.sport) {
            pugi::xml_attribute sport = act.attribute("Sport");
            if (sport) m_out.sport = std::string(sport.value());
        }
        std::optional<double> id_time;
        if (pugi::xml_node id = child(act, "Id")) id_time = parse_iso8601(id.child_value());
        if (id_time && !m_first_id) m_first_id = id_time;
        m_activity_first_lap_start.reset();
        m_activity_first_point.reset();
        m_activity_last_point.reset();
        for (pugi::xml_node c = act.first_child(); c; c = c.next_sibling()) {
            if (c.type() == pugi::node_element && local_name(c) == "Lap") lap(c);
        }
        // Elapsed runs from the activity's start (its Id) to its last
        // trackpoint; an Id that is not a time falls back to the lap start.
        std::optional<double> start = id_time ? id_time : m_activity_first_lap_start;
        if (!start) start = m_activity_first_point;
        if (start && m_activity_last_point) {
            m_elapsed = m_elapsed.value_or(0) + (*m_activity_last_point - *start);
        }
    }

    // A course's Lap elements count as laps and its track points as records
    // (positions included); its lap totals and times are not activity values.
    void course(const pugi::xml_node& c) {
        for (pugi::xml_node t = c.first_child(); t; t = t.next_sibling()) {
            if (t.type() != pugi::node_element) continue;
            std::string_view n = local_name(t);
            if (n == "Lap") {
                ++m_laps;
            } else if (n == "Track") {
                track(t);
            }
        }
    }

    int64_t activities() const { return m_activities; }

    void finish_activity() {
        Summary& s = m_out;
        s.laps = m_laps;
        s.total_timer_time = m_timer;
        s.total_distance = m_distance;
        s.start_time = m_first_id ? m_first_id : (m_first_lap_start ? m_first_lap_start : m_first_point);
        s.total_elapsed_time = m_elapsed;
        s.avg_hr = m_lap_hr.mean();
        s.max_hr = m_lap_max_hr;
        if (m_lap_power.n > 0) {
            s.avg_power = m_lap_power.mean();
        } else if (m_power_n > 0) {
            s.avg_power = m_power_sum / static_cast<double>(m_power_n);
        }
        if (s.sport) s.sport_family = family_for_text(*s.sport);
        finish_records();
    }

    void finish_records() {
        Summary& s = m_out;
        if (m_hr_n > 0) {
            s.rec_avg_hr = m_hr_sum / static_cast<double>(m_hr_n);
            s.rec_max_hr = m_hr_max;
            s.has_hr = true;
        }
        if (m_power_n > 0) {
            s.rec_avg_power = m_power_sum / static_cast<double>(m_power_n);
            s.has_power = true;
        }
    }

    // Course and workout files: the lap count (0 without Lap elements) and what
    // the records give; no activity values.
    void finish_non_activity() { m_out.laps = m_laps; }

private:
    void lap(const pugi::xml_node& lap_node) {
        ++m_laps;
        if (auto st = parse_iso8601(lap_node.attribute("StartTime").value())) {
            if (!m_first_lap_start) m_first_lap_start = st;
            if (!m_activity_first_lap_start) m_activity_first_lap_start = st;
        }
        std::optional<double> lap_time;
        for (pugi::xml_node c = lap_node.first_child(); c; c = c.next_sibling()) {
            if (c.type() != pugi::node_element) continue;
            std::string_view n = local_name(c);
            if (n == "TotalTimeSeconds") {
                lap_time = xml::parse_number(c.child_value());
                if (lap_time) m_timer = m_timer.value_or(0) + *lap_time;
            } else if (n == "DistanceMeters") {
                if (auto d = xml::parse_number(c.child_value())) m_distance = m_distance.value_or(0) + *d;
            } else if (n == "MaximumHeartRateBpm") {
                if (auto v = bpm_value(c)) m_lap_max_hr = m_lap_max_hr ? std::max(*m_lap_max_hr, *v) : *v;
            } else if (n == "Track") {
                track(c);
            }
        }
        // Weighted means need the lap's time, which may follow the values.
        if (auto v = bpm_value(child(lap_node, "AverageHeartRateBpm"))) m_lap_hr.add(*v, lap_time.value_or(0));
        if (pugi::xml_node ext = child(lap_node, "Extensions")) {
            if (pugi::xml_node w = find_leaf(ext, "AvgWatts")) {
                if (auto v = xml::parse_number(w.child_value())) m_lap_power.add(*v, lap_time.value_or(0));
            }
        }
    }

    void track(const pugi::xml_node& trk) {
        for (pugi::xml_node tp = trk.first_child(); tp; tp = tp.next_sibling()) {
            if (tp.type() != pugi::node_element || local_name(tp) != "Trackpoint") continue;
            trackpoint(tp);
        }
    }

    // Only the first Time/Position/HeartRateBpm/Extensions child counts: a
    // repeated element must not count a trackpoint twice (a fuzz finding).
    void trackpoint(const pugi::xml_node& tp) {
        ++m_out.records;
        bool seen_time = false, seen_position = false, seen_hr = false, seen_ext = false;
        for (pugi::xml_node c = tp.first_child(); c; c = c.next_sibling()) {
            if (c.type() != pugi::node_element) continue;
            std::string_view n = local_name(c);
            if (n == "Time" && !seen_time) {
                seen_time = true;
                if (auto t = parse_iso8601(c.child_value())) {
                    if (!m_first_point) m_first_point = t;
                    if (!m_activity_first_point) m_activity_first_point = t;
                    m_activity_last_point = t;
                }
            } else if (n == "Position" && !seen_position) {
                seen_position = true;
                position(c);
            } else if (n == "HeartRateBpm" && !seen_hr) {
                seen_hr = true;
                if (auto v = bpm_value(c)) {
                    m_hr_sum += *v;
                    m_hr_max = m_hr_n == 0 ? *v : std::max(m_hr_max, *v);
                    ++m_hr_n;
                }
            } else if (n == "Extensions" && !seen_ext) {
                seen_ext = true;
                if (pugi::xml_node w = find_leaf(c, "Watts")) {
                    if (auto v = xml::parse_number(w.child_value())) {
                        m_power_sum += *v;
                        ++m_power_n;
                    }
                }
            }
        }
    }

    void position(const pugi::xml_node& pos) {
        pugi::xml_node lat_n = child(pos, "LatitudeDegrees");
        pugi::xml_node lon_n = child(pos, "LongitudeDegrees");
        if (!lat_n || !lon_n) return;
        auto lat = xml::parse_number(lat_n.child_value());
        auto lon = xml::parse_number(lon_n.child_value());
        if (!lat || !lon || std::abs(*lat) > 90 || std::abs(*lon) > 180) return;
        ++m_out.records_with_position;
        if (!m_out.first_lat) {
            m_out.first_lat = lat;
            m_out.first_lon = lon;
        }
        m_out.last_lat = lat;
        m_out.last_lon = lon;
    }

    Summary& m_out;
    int64_t m_activities = 0;
    int64_t m_laps = 0;
    std::optional<double> m_timer, m_distance, m_elapsed;
    std::optional<double> m_first_id, m_first_lap_start, m_first_point;
    std::optional<double> m_activity_first_lap_start, m_activity_first_point, m_activity_last_point;
    WeightedMean m_lap_hr, m_lap_power;
    std::optional<double> m_lap_max_hr;
    double m_hr_sum = 0, m_hr_max = 0, m_power_sum = 0;
    int64_t m_hr_n = 0, m_power_n = 0;
};

// Activity elements sit under Activities, directly or inside a
// MultiSportSession (FirstSport/NextSport); Folders only hold references.
void collect_activities(const pugi::xml_node& node, TcxWalker& walker) {
    for (pugi::xml_node c = node.first_child(); c; c = c.next_sibling()) {
        if (c.type() != pugi::node_element) continue;
        std::string_view n = local_name(c);
        if (n == "Activity") {
            walker.activity(c);
        } else if (n == "MultiSportSession" || n == "FirstSport" || n == "NextSport") {
            collect_activities(c, walker);
        }
    }
}

}  // namespace

void decode_tcx(std::span<const uint8_t> payload, Summary& out) {
    pugi::xml_document doc;
    if (auto err = xml::load(doc, payload, "TCX")) {
        out.ok = false;
        out.error = *err;
        return;
    }
    pugi::xml_node root = doc.document_element();
    if (local_name(root) != "TrainingCenterDatabase") {
        out.ok = false;
        out.error = "not a TCX document: root element is <" + std::string(root.name()) + ">";
        return;
    }
    TcxWalker walker(out);
    pugi::xml_node courses, workouts;
    for (pugi::xml_node c = root.first_child(); c; c = c.next_sibling()) {
        if (c.type() != pugi::node_element) continue;
        std::string_view n = local_name(c);
        if (n == "Activities") {
            collect_activities(c, walker);
        } else if (n == "Courses" && !courses) {
            courses = c;
        } else if (n == "Workouts" && !workouts) {
            workouts = c;
        }
    }
    out.ok = true;
    out.error.clear();
    if (walker.activities() > 0) {
        walker.finish_activity();
        return;
    }
    out.is_activity = false;
    if (courses) {
        for (pugi::xml_node c = courses.first_child(); c; c = c.next_sibling()) {
            if (c.type() == pugi::node_element && local_name(c) == "Course") walker.course(c);
        }
        out.not_activity_reason = "TCX course: not an activity";
    } else if (workouts) {
        out.not_activity_reason = "TCX workout: not an activity";
    } else {
        out.not_activity_reason = "TCX without activities, courses or workouts: not an activity";
    }
    walker.finish_non_activity();
}

}  // namespace fitbridge::formats
