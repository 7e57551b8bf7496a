// End to end: the real daemon against the Ride with GPS fake over loopback
// HTTP, both ways at once: trips backfilled from Ride with GPS into an
// archive (two of them answering an HTML page instead of their TCX export:
// an error on those trips alone), and rides from a watched folder created on
// Ride with GPS exactly once through 429s and 503s, each waited for while it
// is processed, then named and given the gear of gear_map; a rename at the
// name authority (the folder) renames the trip; a restart sends nothing.

#include <gtest/gtest.h>

#include <set>

#include "json/json.hpp"
#include "support/daemon.hpp"
#include "support/fake_server.hpp"
#include "support/synth.hpp"

namespace fitbridge::test {
namespace {

namespace fs = std::filesystem;

constexpr int k_trips = 30;
constexpr int k_rides = 20;
constexpr double k_first = 1736496000;         // 2025-01-10T08:00:00Z
constexpr double k_folder_first = 1717228800;  // 2024-06-01T08:00:00Z

std::string tail_of(const std::string& log) { return log.size() > 6000 ? log.substr(log.size() - 6000) : log; }

size_t files_under(const fs::path& root) {
    size_t n = 0;
    if (!fs::exists(root)) return 0;
    for (const auto& e : fs::recursive_directory_iterator(root))
        if (e.is_regular_file()) ++n;
    return n;
}

TEST(RideWithGpsE2E, BothWaysWithNamesAndGearInStep) {
    TempDir dir("rwgps-e2e");
    FakeServer fake("ridewithgps");
    write_text(dir / "rwgps.key", "test-api-key\n");
    write_text(dir / "rwgps.token", "test-auth-token\n");
    std::string spec = "[";
    for (int i = 0; i < k_trips; ++i)
        // Not whole hours apart, distances apart: no two read as one ride
        // shifted by a time zone.
        spec +=
            fmt::format(R"({}{{"start": {}, "name": "trip {}", "activity_type": "cycling:road", "duration": 3600,
                                 "distance": {}, "export": "{}"}})",
                        i ? "," : "", k_first + i * 22000.0, i, 30000 + 1500 * i, i == 4 || i == 17 ? "html" : "tcx");
    const auto seeded = fake.seed_activities(spec + "]");
    ASSERT_EQ(seeded.size(), static_cast<size_t>(k_trips));
    ASSERT_EQ(fake.control("POST", "/_fake/config", R"({"processing_lists": 1})").status, 200);
    fs::create_directories(dir / "watch" / "staging");
    for (int i = 0; i < k_rides; ++i)
        write_text(dir / "watch" / "staging" / fmt::format("ride-{:03}.fit", i),
                   synth_fit(k_folder_first + i * 21600.0, 90, 2));
    fs::create_directories(dir / "watch" / "out");
    for (const auto& e : fs::directory_iterator(dir / "watch" / "staging"))
        fs::rename(e.path(), dir / "watch" / "out" / e.path().filename());
    ASSERT_EQ(fake.control("POST", "/_fake/faults", R"([
        {"method": "GET", "path": "/api/v1/trips.json", "count": 2, "status": 429, "headers": [["Retry-After", "1"]],
         "body": "{\"error\":\"Too many requests\"}"},
        {"method": "GET", "path": "/trips/", "count": 2, "status": 503},
        {"method": "POST", "path": "/trips.json", "count": 2, "status": 503,
         "body": "{\"error\":\"Service unavailable\"}"},
        {"method": "PUT", "path": "/trips/", "count": 1, "status": 500}])")
                  .status,
              200);

    Daemon d(dir, R"(api:
  listen: 127.0.0.1:{PORT}
sync:
  name_authority: watch
  max_concurrent_per_account: 4
accounts:
  - id: watch
    provider: folder
    path: {DIR}/watch/out
    settle_time: "0"
    poll_interval: 10s
  - id: rwgps
    provider: ridewithgps
    base_url: )" + fake.base() +
                      R"(
    api_key_file: {DIR}/rwgps.key
    auth_token_file: {DIR}/rwgps.token
    gear_map: ["ride:275581"]
    poll_interval: 10s
  - id: archive
    provider: archive
    root: {DIR}/archive
routes:
  - id: rwgps-to-archive
    from: [rwgps]
    to: [archive]
    since: 2025-01-01
  - id: folder-to-rwgps
    from: [watch]
    to: [rwgps]
    since: 2024-01-01
)");
    ASSERT_TRUE(d.start()) << d.log();
    auto done = [&] {
        return fake.get_json("/_fake/activities").Size() == k_trips + k_rides &&
               files_under(dir / "archive") == k_trips - 2;
    };
    ASSERT_TRUE(Daemon::eventually(done, std::chrono::seconds(240)))
        << fake.get_json("/_fake/activities").Size() << " on the fake, " << files_under(dir / "archive")
        << " archived\n"
        << tail_of(d.log());
    // Each created trip named after its file and given the mapped gear (the
    // update that answered 500 was sent again).
    auto named = [&] {
        auto all = fake.get_json("/_fake/activities");
        int ok = 0;
        for (const auto& t : all.GetArray())
            if (std::string(t["name"].GetString()).starts_with("ride-") && t["gear"].IsObject() &&
                t["gear"]["id"].GetInt() == 275581)
                ++ok;
        return ok == k_rides;
    };
    ASSERT_TRUE(Daemon::eventually(named, std::chrono::seconds(60))) << tail_of(d.log());
    std::this_thread::sleep_for(std::chrono::seconds(3));

    // Exactly once: one create per ride, the seeded trips untouched.
    auto all = fake.get_json("/_fake/activities");
    EXPECT_EQ(all.Size(), static_cast<rapidjson::SizeType>(k_trips + k_rides));
    std::set<std::string> names;
    for (const auto& t : all.GetArray())
        if (t["file_format"].IsString()) names.insert(t["name"].GetString());
    EXPECT_EQ(names.size(), static_cast<size_t>(k_rides));
    EXPECT_TRUE(names.contains("ride-000"));
    EXPECT_TRUE(names.contains("ride-019"));
    EXPECT_EQ(fake.count("POST", "/trips.json", 200), k_rides);
    EXPECT_EQ(fake.count("POST", "/trips.json", 503), 2);
    EXPECT_GT(fake.count("GET", "/api/v1/trips.json", 429), 0);
    // The two HTML exports are errors on those trips alone, with the reason.
    EXPECT_EQ(files_under(dir / "archive"), static_cast<size_t>(k_trips - 2));
    const std::string log = d.log();
    for (const auto& id : {seeded[4], seeded[17]})
        EXPECT_NE(log.find("for trip " + id + ", not a FIT, TCX or GPX file"), std::string::npos) << id;
    EXPECT_EQ(fake.violations().Size(), 0u);

    // Renaming a ride at the name authority (the folder) renames its trip.
    const int puts = fake.count("PUT", "/trips/[0-9]+\\.json");
    fs::rename(dir / "watch" / "out" / "ride-007.fit", dir / "watch" / "out" / "Alpe du Zwift.fit");
    auto renamed = [&] {
        auto trips = fake.get_json("/_fake/activities");  // outlives the loop
        for (const auto& t : trips.GetArray())
            if (std::string(t["name"].GetString()) == "Alpe du Zwift") return t["gear"].IsObject();
        return false;
    };
    ASSERT_TRUE(Daemon::eventually(renamed, std::chrono::seconds(60))) << d.log();
    EXPECT_EQ(fake.count("PUT", "/trips/[0-9]+\\.json"), puts + 1);

    // A restart sends nothing again.
    const int creates = fake.count("POST", "/trips.json");
    ASSERT_EQ(d.stop(), 0);
    ASSERT_TRUE(d.start()) << d.log();
    std::this_thread::sleep_for(std::chrono::seconds(4));
    EXPECT_EQ(fake.count("POST", "/trips.json"), creates);
    EXPECT_EQ(fake.get_json("/_fake/activities").Size(), static_cast<rapidjson::SizeType>(k_trips + k_rides));
    EXPECT_EQ(d.stop(), 0);
}

}  // namespace
}  // namespace fitbridge::test
