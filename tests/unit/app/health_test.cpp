// /healthz and the health members of /v1/status, from the engine's Health.

#include <gtest/gtest.h>

#include "app/routes.hpp"

namespace fitbridge::app {
namespace {

engine::LoopTrouble trouble(std::string name, bool core, bool down) {
    return {std::move(name), core, down, "database is locked", 2, 1.25};
}

std::string status_json(const engine::Health& h) {
    json::Builder b;
    b.w.StartObject();
    write_health(b, h);
    b.w.EndObject();
    return b.str();
}

TEST(Health, AllLoopsRunning) {
    engine::Health h;
    auto r = healthz(h);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "{\"status\":\"ok\"}");
    EXPECT_EQ(status_json(h), "{\"state\":\"ok\",\"loops\":[]}");
}

TEST(Health, ACoreLoopDownAnswers503WithTheReason) {
    engine::Health h{true, {trouble("delivery loop of sink", true, true), trouble("backfill job 3", false, false)}};
    auto r = healthz(h);
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(r.body, "{\"status\":\"degraded\",\"reason\":\"delivery loop of sink failed: database is locked\"}");
    EXPECT_EQ(status_json(h),
              "{\"state\":\"degraded\",\"loops\":["
              "{\"name\":\"delivery loop of sink\",\"core\":true,\"state\":\"down\",\"reason\":\"database is "
              "locked\",\"failures\":2,\"seconds_since_failure\":1.3},"
              "{\"name\":\"backfill job 3\",\"core\":false,\"state\":\"restarted\",\"reason\":\"database is "
              "locked\",\"failures\":2,\"seconds_since_failure\":1.3}]}");
}

TEST(Health, ARestartedOrNonCoreLoopDegradesStatusButNotHealth) {
    engine::Health h{false, {trouble("poller of src", true, false)}};
    EXPECT_EQ(healthz(h).status, 200);
    EXPECT_NE(status_json(h).find("\"state\":\"degraded\""), std::string::npos);
}

}  // namespace
}  // namespace fitbridge::app
