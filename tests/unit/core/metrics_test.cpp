#include "core/metrics.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>

namespace fitbridge::metrics {
namespace {

TEST(Metrics, RendersTheTextFormatExactly) {
    Registry r;
    r.add("fitbridge_requests_total", "Requests sent.", {{"platform", "strava"}, {"class", "2xx"}});
    r.add("fitbridge_requests_total", "Requests sent.", {{"platform", "strava"}, {"class", "2xx"}}, 2);
    r.add("fitbridge_requests_total", "Requests sent.", {{"platform", "icu"}, {"class", "5xx"}});
    r.set("fitbridge_queue", "Deliveries waiting.\nPer sink \\ account.", {{"sink", "a\"b\\c\nd"}}, 2.5);
    r.set("fitbridge_up", "Always one.", {}, 1);
    static constexpr double k_buckets[] = {0.1, 1};
    r.observe("fitbridge_seconds", "Durations.", k_buckets, {{"k", "x"}}, 0.05);
    r.observe("fitbridge_seconds", "Durations.", k_buckets, {{"k", "x"}}, 0.1);
    r.observe("fitbridge_seconds", "Durations.", k_buckets, {{"k", "x"}}, 0.5);
    r.observe("fitbridge_seconds", "Durations.", k_buckets, {{"k", "x"}}, 7);
    EXPECT_EQ(r.render(),
              "# HELP fitbridge_queue Deliveries waiting.\\nPer sink \\\\ account.\n"
              "# TYPE fitbridge_queue gauge\n"
              "fitbridge_queue{sink=\"a\\\"b\\\\c\\nd\"} 2.5\n"
              "# HELP fitbridge_requests_total Requests sent.\n"
              "# TYPE fitbridge_requests_total counter\n"
              "fitbridge_requests_total{platform=\"icu\",class=\"5xx\"} 1\n"
              "fitbridge_requests_total{platform=\"strava\",class=\"2xx\"} 3\n"
              "# HELP fitbridge_seconds Durations.\n"
              "# TYPE fitbridge_seconds histogram\n"
              "fitbridge_seconds_bucket{k=\"x\",le=\"0.1\"} 2\n"
              "fitbridge_seconds_bucket{k=\"x\",le=\"1\"} 3\n"
              "fitbridge_seconds_bucket{k=\"x\",le=\"+Inf\"} 4\n"
              "fitbridge_seconds_sum{k=\"x\"} 7.65\n"
              "fitbridge_seconds_count{k=\"x\"} 4\n"
              "# HELP fitbridge_up Always one.\n"
              "# TYPE fitbridge_up gauge\n"
              "fitbridge_up 1\n");
    EXPECT_EQ(r.value("fitbridge_requests_total", {{"platform", "strava"}, {"class", "2xx"}}), 3);
    EXPECT_EQ(r.value("fitbridge_requests_total", {{"platform", "garmin"}, {"class", "2xx"}}), 0);
}

TEST(Metrics, EmptyRegistryRendersNothing) { EXPECT_EQ(Registry().render(), ""); }

TEST(Metrics, OneNameCannotHaveTwoTypes) {
    Registry r;
    r.add("x_total", "X.", {});
    EXPECT_THROW(r.set("x_total", "X.", {}, 1), std::logic_error);
}

TEST(Metrics, FormatsValues) {
    EXPECT_EQ(format_value(0), "0");
    EXPECT_EQ(format_value(-3), "-3");
    EXPECT_EQ(format_value(1.7e9), "1700000000");
    EXPECT_EQ(format_value(0.001), "0.001");
    EXPECT_EQ(format_value(1e20), "1e+20");
    EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
    EXPECT_EQ(format_value(std::nan("")), "NaN");
}

}  // namespace
}  // namespace fitbridge::metrics
