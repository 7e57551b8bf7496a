#include "pipeline/plan.hpp"

#include <gtest/gtest.h>

namespace fitbridge::pipeline {
namespace {

config::RouteConfig route(std::string id, std::vector<std::string> from, std::vector<std::string> to,
                          std::optional<std::string> since = std::nullopt, std::vector<std::string> sports = {}) {
    config::RouteConfig r;
    r.id = std::move(id);
    r.from = std::move(from);
    r.to = std::move(to);
    r.since = std::move(since);
    r.sports = std::move(sports);
    return r;
}

TEST(Plan, DeliversAlongRoutesWithReasonsForTheRest) {
    std::vector<config::RouteConfig> routes{
        route("a", {"zwift"}, {"archive", "icu"}, "2020-01-01"),
        route("b", {"garmin"}, {"strava"}),
        route("c", {"zwift"}, {"strava"}, std::nullopt, {"run"}),
    };
    ActivityFacts ride{1600000000, "ride", {"zwift"}, false};  // 2020-09-13
    auto p = plan(ride, routes);
    ASSERT_EQ(p.size(), 3u);
    EXPECT_EQ(p[0].sink, "archive");
    EXPECT_FALSE(p[0].skipped);
    EXPECT_EQ(p[1].sink, "icu");
    EXPECT_FALSE(p[1].skipped);
    EXPECT_EQ(p[2].sink, "strava");
    EXPECT_EQ(p[2].skipped, Reason::sport_filtered);

    ActivityFacts old{1500000000, "ride", {"zwift"}, false};  // 2017
    auto q = plan(old, routes);
    EXPECT_EQ(q[0].skipped, Reason::before_route_since);

    ActivityFacts on_sink{1600000000, "ride", {"zwift", "icu"}, false};
    EXPECT_EQ(plan(on_sink, routes)[1].skipped, Reason::already_on_sink);

    ActivityFacts ambiguous{1600000000, "ride", {"zwift"}, true};
    EXPECT_EQ(plan(ambiguous, routes)[0].skipped, Reason::ambiguous_match);

    ActivityFacts elsewhere{1600000000, "ride", {"coros"}, false};
    EXPECT_TRUE(plan(elsewhere, routes).empty());
}

TEST(Plan, DeliveringRouteWinsOverSkippingRoute) {
    std::vector<config::RouteConfig> routes{route("runs", {"zwift"}, {"icu"}, std::nullopt, {"run"}),
                                            route("all", {"zwift"}, {"icu"})};
    auto p = plan({1600000000, "ride", {"zwift"}, false}, routes);
    ASSERT_EQ(p.size(), 1u);
    EXPECT_FALSE(p[0].skipped);
    EXPECT_EQ(p[0].route, "all");
}

TEST(Reason, NamesRoundTrip) {
    for (auto r : {Reason::decode_failed, Reason::sink_rate_limited, Reason::cancelled}) {
        EXPECT_EQ(reason_from_string(to_string(r)), r);
        EXPECT_FALSE(describe(r).empty());
    }
    EXPECT_EQ(reason_from_string("nope"), std::nullopt);
}

}  // namespace
}  // namespace fitbridge::pipeline
