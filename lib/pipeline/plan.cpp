#include "pipeline/plan.hpp"

#include <algorithm>

#include "core/time.hpp"

namespace fitbridge::pipeline {

namespace {
bool contains(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}
}  // namespace

std::vector<Planned> plan(const ActivityFacts& a, std::span<const config::RouteConfig> routes) {
    std::vector<Planned> out;
    for (const auto& route : routes) {
        bool fed = std::any_of(route.from.begin(), route.from.end(),
                               [&](const std::string& f) { return contains(a.accounts, f); });
        if (!fed) continue;
        for (const auto& sink : route.to) {
            Planned p{sink, route.id, std::nullopt};
            if (contains(a.accounts, sink)) {
                p.skipped = Reason::already_on_sink;
            } else if (route.since && a.start_time && *a.start_time < parse_iso8601(*route.since).value_or(0)) {
                p.skipped = Reason::before_route_since;
            } else if (!route.sports.empty() && !contains(route.sports, a.sport_family.value_or("other"))) {
                p.skipped = Reason::sport_filtered;
            } else if (a.ambiguous) {
                p.skipped = Reason::ambiguous_match;
            }
            auto existing = std::find_if(out.begin(), out.end(), [&](const Planned& x) { return x.sink == sink; });
            if (existing == out.end()) {
                out.push_back(std::move(p));
            } else if (existing->skipped && !p.skipped) {
                *existing = std::move(p);
            }
        }
    }
    return out;
}

}  // namespace fitbridge::pipeline
