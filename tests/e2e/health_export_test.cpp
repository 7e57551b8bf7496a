// End to end: Apple Health exports dropped into a watched folder, with the
// real daemon, onto the Intervals.icu fake (429s injected) and into an
// archive. Workouts with a route arrive as TCX files with heart rate, exactly
// once; the ones without are kept as summaries and skipped as unavailable; a
// newer export of the same phone, written in another time zone, adds only its
// new workouts; a restart sends nothing again.

#include <gtest/gtest.h>

#include <thread>

#include "support/daemon.hpp"
#include "support/fake_server.hpp"
#include "support/health_export.hpp"

namespace fitbridge::test {
namespace {

namespace fs = std::filesystem;

constexpr double k_first = 1672560000;  // 2023-01-01T08:00:00Z

size_t files_under(const fs::path& dir) {
    size_t n = 0;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec); it != fs::recursive_directory_iterator(); ++it)
        if (it->is_regular_file() && it->path().filename().string()[0] != '.') ++n;
    return n;
}

// `count` workouts 18 days apart; every fourth is strength training without a route.
std::vector<SynthWorkout> workouts(int count) {
    static const char* k_types[] = {"Running", "Cycling", "Walking"};
    std::vector<SynthWorkout> out;
    for (int i = 0; i < count; ++i) {
        SynthWorkout w{.start = k_first + i * 18 * 86400.0, .minutes = 20 + i % 7, .type = k_types[i % 3], .km = 4};
        if (i % 4 == 3) {
            w.type = "TraditionalStrengthTraining";
            w.route = false;
            w.km = 0;
        }
        out.push_back(w);
    }
    return out;
}

// Written beside the watched folder, then moved in whole, as a phone's share sheet or a sync client does.
void drop(const TempDir& dir, const std::string& name, const std::vector<SynthWorkout>& w, int offset_min) {
    write_zip(dir / "staging" / name, apple_export_members(w, offset_min));
    fs::rename(dir / "staging" / name, dir / "exports" / name);
}

TEST(HealthExportE2E, ExportsDroppedInAFolderReachIntervalsAndTheArchiveOnceEach) {
    TempDir dir("health-e2e");
    FakeServer icu("intervals");
    write_text(dir / "icu.key", "test-api-key\n");
    fs::create_directories(dir / "exports");
    ASSERT_EQ(icu.control("POST", "/_fake/faults",
                          R"({"method": "POST", "path": "/api/v1/athlete/", "count": 6, "status": 429,
                              "headers": [["Retry-After", "1"]]})")
                  .status,
              200);
    Daemon d(dir, R"(api:
  listen: 127.0.0.1:{PORT}
accounts:
  - id: health
    provider: health_export
    path: {DIR}/exports
    settle_time: 0
  - id: icu
    provider: intervals_icu
    base_url: )" + icu.base() +
                      R"(
    api_key_file: {DIR}/icu.key
  - id: archive
    provider: archive
    root: {DIR}/archive
routes:
  - id: health-out
    from: [health]
    to: [icu, archive]
    since: 2020-01-01
)");
    ASSERT_TRUE(d.start()) << d.log();

    // 40 workouts, 30 of them with a route.
    drop(dir, "export-2024.zip", workouts(40), 60);
    auto both = [&](size_t n) {
        return icu.get_json("/_fake/activities").Size() == n && files_under(dir / "archive") == n;
    };
    ASSERT_TRUE(Daemon::eventually([&] { return both(30); }, std::chrono::seconds(180)))
        << icu.get_json("/_fake/activities").Size() << " on Intervals.icu, " << files_under(dir / "archive")
        << " archived\n"
        << d.log_excerpt(4000);
    for (const auto& e : fs::recursive_directory_iterator(dir / "archive"))
        if (e.is_regular_file() && e.path().filename().string()[0] != '.') {
            EXPECT_EQ(e.path().extension(), ".tcx") << e.path();
            auto text = read_file(e.path());
            ASSERT_TRUE(text) << text.error().message;
            EXPECT_NE(text->find("<HeartRateBpm><Value>"), std::string::npos) << e.path();
        }
    // The ten without a route: kept as summaries, unavailable for both sinks.
    ASSERT_TRUE(Daemon::eventually([&] {
        auto skipped = d.call("GET", "/v1/activities?state=skipped").json();
        return skipped.IsObject() && skipped["activities"].Size() == 10;
    })) << d.call("GET", "/v1/activities?state=skipped").body.substr(0, 600);
    EXPECT_NE(
        d.log().find("skipped unavailable: no GPS route in the Apple Health export: kept as the workout's summary"),
        std::string::npos)
        << d.log_excerpt(3000);
    EXPECT_NE(d.log().find("account 'health': read 40 workouts from " + (dir / "exports/export-2024.zip").string()),
              std::string::npos);

    // Months later the phone, now in New York, exports again: 45 workouts, 5 new (4 with a route).
    drop(dir, "export-2025.zip", workouts(45), -300);
    ASSERT_TRUE(Daemon::eventually([&] { return both(34); }, std::chrono::seconds(120)))
        << icu.get_json("/_fake/activities").Size() << " on Intervals.icu, " << files_under(dir / "archive")
        << " archived\n"
        << d.log_excerpt(4000);
    std::this_thread::sleep_for(std::chrono::seconds(3));
    const std::string k_uploads = "/api/v1/athlete/[^/]+/activities";
    EXPECT_EQ(icu.count("POST", k_uploads, 201), 34);
    EXPECT_EQ(icu.count("POST", k_uploads, 200), 0);  // no duplicate ever offered
    EXPECT_GT(icu.count("POST", k_uploads, 429), 0);
    EXPECT_EQ(files_under(dir / "archive"), 34u);
    auto account = d.call("GET", "/v1/accounts").json();
    ASSERT_TRUE(account.IsObject());
    for (const auto& a : account["accounts"].GetArray()) {
        if (std::string_view(a["id"].GetString()) == "health") {
            EXPECT_STREQ(a["state"].GetString(), "ok");
        }
    }

    // A restart reads both exports again and sends nothing.
    ASSERT_EQ(d.stop(), 0);
    ASSERT_TRUE(d.start()) << d.log();
    ASSERT_EQ(d.call("POST", "/v1/accounts/health/sync").status, 202);
    std::this_thread::sleep_for(std::chrono::seconds(4));
    EXPECT_EQ(icu.count("POST", k_uploads, 201), 34);
    EXPECT_EQ(files_under(dir / "archive"), 34u);
    EXPECT_EQ(d.stop(), 0);
}

}  // namespace
}  // namespace fitbridge::test
