#pragma once
// Planning: which sinks an activity should reach, by the configured routes,
// and for each sink that it should not reach, why.

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "pipeline/reason.hpp"

namespace fitbridge::pipeline {

struct ActivityFacts {
    std::optional<double> start_time;
    std::optional<std::string> sport_family;
    std::vector<std::string> accounts;  // accounts holding a copy (links)
    bool ambiguous = false;
};

struct Planned {
    std::string sink;
    std::string route;              // the route that decided
    std::optional<Reason> skipped;  // nullopt: deliver
};

// One entry per sink reached by any route whose `from` holds a copy. Where
// several routes reach one sink, delivering wins over skipping.
std::vector<Planned> plan(const ActivityFacts& activity, std::span<const config::RouteConfig> routes);

}  // namespace fitbridge::pipeline
