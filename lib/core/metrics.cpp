#include "core/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace fitbridge::metrics {

namespace {

std::string escape(std::string_view s, bool quotes) {
    std::string out;
    out.reserve(s.size());
    for (char ch : s) {
        if (ch == '\\')
            out += "\\\\";
        else if (ch == '\n')
            out += "\\n";
        else if (ch == '"' && quotes)
            out += "\\\"";
        else
            out += ch;
    }
    return out;
}

// {a="b",c="d"} with an optional extra pair (a histogram's "le") last.
std::string label_text(const Labels& labels, std::string_view extra_name = {}, std::string_view extra_value = {}) {
    if (labels.empty() && extra_name.empty()) return {};
    std::string out = "{";
    bool first = true;
    auto put = [&](std::string_view k, std::string_view v) {
        if (!first) out += ',';
        first = false;
        out += k;
        out += "=\"";
        out += escape(v, true);
        out += '"';
    };
    for (const auto& [k, v] : labels) put(k, v);
    if (!extra_name.empty()) put(extra_name, extra_value);
    out += '}';
    return out;
}

}  // namespace

std::string format_value(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    if (v == std::floor(v) && std::fabs(v) < 1e15) return fmt::format("{}", static_cast<int64_t>(v));
    return fmt::format("{}", v);
}

Registry::Family& Registry::family(std::string_view name, std::string_view help, Type type,
                                   std::span<const double> buckets) {
    auto it = m_families.find(name);
    if (it == m_families.end()) {
        Family f{type, std::string(help), std::vector<double>(buckets.begin(), buckets.end()), {}};
        it = m_families.emplace(std::string(name), std::move(f)).first;
    } else if (it->second.type != type) {
        throw std::logic_error(fmt::format("metric {} used with two types", name));
    }
    return it->second;
}

void Registry::add(std::string_view name, std::string_view help, const Labels& labels, double by) {
    std::lock_guard lock(m_mutex);
    family(name, help, Type::counter, {}).series[labels].value += by;
}

void Registry::set(std::string_view name, std::string_view help, const Labels& labels, double value) {
    std::lock_guard lock(m_mutex);
    family(name, help, Type::gauge, {}).series[labels].value = value;
}

void Registry::observe(std::string_view name, std::string_view help, std::span<const double> buckets,
                       const Labels& labels, double value) {
    std::lock_guard lock(m_mutex);
    auto& f = family(name, help, Type::histogram, buckets);
    auto& s = f.series[labels];
    if (s.counts.empty()) s.counts.assign(f.buckets.size(), 0);
    auto pos = std::lower_bound(f.buckets.begin(), f.buckets.end(), value);  // first bound >= value
    if (pos != f.buckets.end()) ++s.counts[static_cast<size_t>(pos - f.buckets.begin())];
    ++s.count;
    s.sum += value;
}

double Registry::value(std::string_view name, const Labels& labels) const {
    std::lock_guard lock(m_mutex);
    auto it = m_families.find(name);
    if (it == m_families.end()) return 0;
    auto s = it->second.series.find(labels);
    return s == it->second.series.end() ? 0 : s->second.value;
}

std::string Registry::render() const {
    std::lock_guard lock(m_mutex);
    std::string out;
    for (const auto& [name, f] : m_families) {
        static constexpr std::string_view k_types[] = {"counter", "gauge", "histogram"};
        out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, escape(f.help, false), name,
                           k_types[static_cast<int>(f.type)]);
        for (const auto& [labels, s] : f.series) {
            if (f.type != Type::histogram) {
                out += fmt::format("{}{} {}\n", name, label_text(labels), format_value(s.value));
                continue;
            }
            uint64_t cumulative = 0;
            for (size_t i = 0; i < f.buckets.size(); ++i) {
                cumulative += s.counts[i];
                out += fmt::format("{}_bucket{} {}\n", name, label_text(labels, "le", format_value(f.buckets[i])),
                                   cumulative);
            }
            out += fmt::format("{}_bucket{} {}\n", name, label_text(labels, "le", "+Inf"), s.count);
            out += fmt::format("{}_sum{} {}\n", name, label_text(labels), format_value(s.sum));
            out += fmt::format("{}_count{} {}\n", name, label_text(labels), s.count);
        }
    }
    return out;
}

Registry& global() {
    static Registry r;
    return r;
}

}  // namespace fitbridge::metrics
