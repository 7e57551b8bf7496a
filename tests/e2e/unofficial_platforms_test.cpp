// End to end: the real daemon against the MyWhoosh and iGPSport fakes (the two
// platforms Intervals.icu cannot reach, seed 004) and the Intervals.icu fake,
// over loopback HTTP: MyWhoosh's three-year history of 500 rides onto
// Intervals.icu exactly once through 429s, and 300 iGPSport rides onto
// Intervals.icu and into an archive exactly once.

#include <gtest/gtest.h>

#include "json/json.hpp"
#include "net/oauth.hpp"
#include "support/daemon.hpp"
#include "support/fake_server.hpp"
#include "support/synth.hpp"

namespace fitbridge::test {
namespace {

namespace fs = std::filesystem;

size_t files_under(const fs::path& root) {
    size_t n = 0;
    if (!fs::exists(root)) return 0;
    for (const auto& e : fs::recursive_directory_iterator(root))
        if (e.is_regular_file()) ++n;
    return n;
}

// `count` FIT rides from `first`, `step` seconds apart, as a seed list.
std::string rides(int count, double first, double step, const std::string& extra = "") {
    std::string spec = "[";
    for (int i = 0; i < count; ++i)
        spec += fmt::format(R"({}{{"start": {}, "name": "Ride {}", "file_b64": "{}"}})", i ? "," : "", first + i * step,
                            i, net::base64(synth_fit(first + i * step, 60, 2)));
    return spec + extra + "]";
}

std::string icu_account(const FakeServer& icu) {
    return R"(  - id: icu
    provider: intervals_icu
    base_url: )" +
           icu.base() + R"(
    api_key_file: {DIR}/icu.key
)";
}

TEST(MyWhooshE2E, ThreeYearsOf500RidesOntoIntervalsExactlyOnceThrough429s) {
    TempDir dir("mywhoosh-e2e");
    FakeServer whoosh("mywhoosh");
    FakeServer icu("intervals");
    write_text(dir / "icu.key", "test-api-key\n");
    write_text(dir / "mywhoosh-password", "whoosh-pass\n");
    constexpr int k_rides = 500;
    constexpr double k_first = 1609488000;  // 2021-01-01T08:00:00Z
    constexpr double k_step = 3 * 365 * 86400.0 / k_rides;
    // And one ride whose file is MyWhoosh's own .dms: recorded, never uploaded.
    const std::string dms = fmt::format(R"(, {{"start": {}, "name": "DMS ride", "dms": true, "file_b64": "{}"}})",
                                        k_first + 1800, net::base64(synth_fit(k_first + 1800, 60, 2)));
    ASSERT_EQ(whoosh.control("POST", "/_fake/activities", rides(k_rides, k_first, k_step, dms)).status, 200);
    ASSERT_EQ(whoosh
                  .control("POST", "/_fake/faults", R"([
        {"path": "/v2/rider/profile/activities", "count": 3, "status": 429, "headers": [["Retry-After", "1"]],
         "body": "{\"error\":true,\"message\":\"Too Many Attempts.\"}"},
        {"path": "/v2/rider/profile/activities", "count": 2, "status": 502},
        {"path": "/v2/rider/profile/download-activity-file", "count": 6, "status": 429,
         "headers": [["Retry-After", "1"]]},
        {"path": "/files/", "count": 3, "status": 503},
        {"path": "/http-service/api/login", "count": 1, "status": 503}])")
                  .status,
              200);
    ASSERT_EQ(icu.control("POST", "/_fake/faults",
                          R"({"method": "POST", "path": "/api/v1/athlete/", "count": 20, "status": 429,
                              "headers": [["Retry-After", "1"]]})")
                  .status,
              200);
    Daemon d(dir, R"(api:
  listen: 127.0.0.1:{PORT}
sync:
  max_concurrent_per_account: 6
accounts:
  - id: whoosh
    provider: mywhoosh
    username: rider@example.com
    password_file: {DIR}/mywhoosh-password
    auth_url: )" + whoosh.base() +
                      R"(
    base_url: )" + whoosh.base() +
                      R"(
    poll_interval: 10s
)" + icu_account(icu) +
                      R"(routes:
  - id: whoosh-to-icu
    from: [whoosh]
    to: [icu]
)");
    ASSERT_TRUE(d.start()) << d.log();
    auto uploaded = [&] { return icu.get_json("/_fake/activities").Size() == k_rides; };
    ASSERT_TRUE(Daemon::eventually(uploaded, std::chrono::seconds(400)))
        << icu.get_json("/_fake/activities").Size() << " on Intervals.icu\n"
        << d.log_excerpt(4000);
    std::this_thread::sleep_for(std::chrono::seconds(3));
    // Exactly once: every accepted upload created an activity (a 200 is Intervals.icu's duplicate answer).
    const std::string k_uploads = "/api/v1/athlete/[^/]+/activities";
    EXPECT_EQ(icu.get_json("/_fake/activities").Size(), static_cast<rapidjson::SizeType>(k_rides));
    EXPECT_EQ(icu.count("POST", k_uploads, 201), k_rides);
    EXPECT_EQ(icu.count("POST", k_uploads, 200), 0);
    EXPECT_GT(icu.count("POST", k_uploads, 429), 0);
    EXPECT_GT(whoosh.count("POST", "/v2/rider/profile/activities", 429), 0);
    EXPECT_GT(whoosh.count("POST", "/v2/rider/profile/download-activity-file", 429), 0);
    // Each file fetched once, without the MyWhoosh token (the fake refuses it there).
    EXPECT_EQ(whoosh.count("GET", "/files/.*", 200), k_rides + 1);
    EXPECT_EQ(whoosh.count("GET", "/files/.*", 400), 0);
    EXPECT_EQ(whoosh.get_json("/_fake/logins")["logins"].GetInt(), 1);
    EXPECT_EQ(whoosh.violations().Size(), 0u);
    EXPECT_NE(d.log().find("MyWhoosh serves a .dms file for activity"), std::string::npos) << d.log_excerpt(3000);

    // A restart lists only from the newest ride, and sends nothing again.
    whoosh.control("DELETE", "/_fake/requests");
    ASSERT_EQ(d.stop(), 0);
    ASSERT_TRUE(d.start()) << d.log();
    ASSERT_EQ(d.call("POST", "/v1/accounts/whoosh/sync").status, 202);
    ASSERT_TRUE(Daemon::eventually([&] { return whoosh.count("POST", "/v2/rider/profile/activities") > 0; }));
    std::this_thread::sleep_for(std::chrono::seconds(3));
    EXPECT_EQ(icu.count("POST", k_uploads, 201), k_rides);
    EXPECT_EQ(whoosh.count("GET", "/files/.*"), 0);
    EXPECT_LE(whoosh.count("POST", "/v2/rider/profile/activities"), 2);
    EXPECT_EQ(d.stop(), 0);
}

TEST(MyWhooshE2E, ARefusedPasswordIsTheAccountsReasonUntilThePasswordFileIsFixed) {
    TempDir dir("mywhoosh-e2e-reauth");
    FakeServer whoosh("mywhoosh");
    FakeServer icu("intervals");
    write_text(dir / "icu.key", "test-api-key\n");
    write_text(dir / "mywhoosh-password", "not-the-password\n");
    ASSERT_EQ(whoosh.control("POST", "/_fake/activities", rides(3, 1704096000, 86400)).status, 200);
    Daemon d(dir, R"(api:
  listen: 127.0.0.1:{PORT}
accounts:
  - id: whoosh
    provider: mywhoosh
    username: rider@example.com
    password_file: {DIR}/mywhoosh-password
    auth_url: )" + whoosh.base() +
                      R"(
    base_url: )" + whoosh.base() +
                      R"(
    poll_interval: 10s
)" + icu_account(icu) +
                      R"(routes:
  - id: whoosh-to-icu
    from: [whoosh]
    to: [icu]
)");
    ASSERT_TRUE(d.start()) << d.log();
    auto whoosh_account = [&] {
        auto all = d.call("GET", "/v1/accounts").json();
        rapidjson::Document copy;
        for (const auto& a : all["accounts"].GetArray())
            if (std::string_view(a["id"].GetString()) == "whoosh") copy.CopyFrom(a, copy.GetAllocator());
        return copy;
    };
    ASSERT_TRUE(Daemon::eventually([&] {
        auto a = whoosh_account();
        return a.IsObject() && std::string_view(a["state"].GetString()) == "needs_reauth";
    })) << d.log();
    EXPECT_EQ(std::string(whoosh_account()["last_error"].GetString()),
              "MyWhoosh refused the login: Invalid email or password");
    EXPECT_EQ(whoosh.count("POST", "/v2/rider/profile/activities"), 0);
    // The password file is read at each login: fixing it heals the account.
    write_text(dir / "mywhoosh-password", "whoosh-pass\n");
    ASSERT_EQ(d.call("POST", "/v1/accounts/whoosh/sync").status, 202);
    ASSERT_TRUE(
        Daemon::eventually([&] { return icu.get_json("/_fake/activities").Size() == 3; }, std::chrono::seconds(60)))
        << d.log();
    EXPECT_EQ(std::string_view(whoosh_account()["state"].GetString()), "ok");
    EXPECT_EQ(d.stop(), 0);
}

TEST(IGPSportE2E, ThreeHundredRidesOntoIntervalsAndIntoAnArchiveExactlyOnce) {
    TempDir dir("igpsport-e2e");
    FakeServer igs("igpsport");
    FakeServer icu("intervals");
    write_text(dir / "icu.key", "test-api-key\n");
    write_text(dir / "igpsport-password", "igs-pass\n");
    constexpr int k_rides = 300;
    constexpr double k_first = 1672560000;  // 2023-01-01T08:00:00Z
    ASSERT_EQ(igs.control("POST", "/_fake/activities", rides(k_rides, k_first, 2 * 86400.0 + 3600)).status, 200);
    ASSERT_EQ(igs.control("POST", "/_fake/faults", R"([
        {"path": "/web-gateway/web-analyze/activity/queryMyActivity", "count": 2, "status": 429,
         "headers": [["Retry-After", "1"]]},
        {"path": "/web-gateway/web-analyze/activity/queryActivityDetail/", "count": 4, "status": 503},
        {"path": "/oss/fit/", "count": 3, "status": 500}])")
                  .status,
              200);
    // Sessions shorter than the run: the daemon logs in again when refused.
    igs.control("POST", "/_fake/config", R"({"token_lifetime_s": 20})");
    Daemon d(dir, R"(api:
  listen: 127.0.0.1:{PORT}
sync:
  max_concurrent_per_account: 6
accounts:
  - id: igs
    provider: igpsport
    username: rider@example.com
    password_file: {DIR}/igpsport-password
    base_url: )" + igs.base() +
                      R"(
    poll_interval: 10s
)" + icu_account(icu) +
                      R"(  - id: archive
    provider: archive
    root: {DIR}/archive
routes:
  - id: igs-to-icu
    from: [igs]
    to: [icu]
    since: 2022-06-01
  - id: igs-to-archive
    from: [igs]
    to: [archive]
)");
    ASSERT_TRUE(d.start()) << d.log();
    auto done = [&] {
        return icu.get_json("/_fake/activities").Size() == k_rides && files_under(dir / "archive") == k_rides;
    };
    ASSERT_TRUE(Daemon::eventually(done, std::chrono::seconds(300)))
        << icu.get_json("/_fake/activities").Size() << " on Intervals.icu, " << files_under(dir / "archive")
        << " archived\n"
        << d.log_excerpt(4000);
    std::this_thread::sleep_for(std::chrono::seconds(3));
    const std::string k_uploads = "/api/v1/athlete/[^/]+/activities";
    EXPECT_EQ(icu.get_json("/_fake/activities").Size(), static_cast<rapidjson::SizeType>(k_rides));
    EXPECT_EQ(icu.count("POST", k_uploads, 201), k_rides);
    EXPECT_EQ(icu.count("POST", k_uploads, 200), 0);
    EXPECT_EQ(files_under(dir / "archive"), static_cast<size_t>(k_rides));
    // One file per ride from the storage host (a ride listed by both the
    // first poll and the route's backfill is fetched by whichever gets it first).
    EXPECT_GE(igs.count("GET", "/oss/fit/.*", 200), k_rides);
    EXPECT_EQ(igs.count("GET", "/oss/fit/.*", 400), 0);  // never with the token
    EXPECT_GT(igs.count("GET", ".*/queryMyActivity", 429), 0);
    EXPECT_EQ(igs.violations().Size(), 0u);

    // A restart delivers nothing again.
    ASSERT_EQ(d.stop(), 0);
    ASSERT_TRUE(d.start()) << d.log();
    ASSERT_EQ(d.call("POST", "/v1/accounts/igs/sync").status, 202);
    std::this_thread::sleep_for(std::chrono::seconds(4));
    EXPECT_EQ(icu.count("POST", k_uploads, 201), k_rides);
    EXPECT_EQ(files_under(dir / "archive"), static_cast<size_t>(k_rides));
    EXPECT_EQ(d.stop(), 0);
}

}  // namespace
}  // namespace fitbridge::test
