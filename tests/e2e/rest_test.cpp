// End to end with the "Becoming a provider" fakes (provider: rest): 100
// activities each way, exactly once, with 429s and 5xx injected: from a
// platform with originals (the contract under other names) into the archive,
// and from a folder into the contract's example API (created from the
// summary); and an example platform without files, whose activities are kept
// as metadata: created on a summary sink, unavailable for the archive.

#include <gtest/gtest.h>

#include <fmt/format.h>

#include "core/time.hpp"
#include "net/oauth.hpp"
#include "support/daemon.hpp"
#include "support/fake_server.hpp"
#include "support/synth.hpp"

namespace fitbridge::test {
namespace {

namespace fs = std::filesystem;

constexpr int k_count = 100;
// 2024-01-01T07:00:00Z, one activity a day.
constexpr double k_first = 1704092400;

size_t files_under(const fs::path& dir) {
    size_t n = 0;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec); it != fs::recursive_directory_iterator(); ++it)
        if (it->is_regular_file() && it->path().filename().string()[0] != '.') ++n;
    return n;
}

// The rest_custom fake's mapping (tests/fakes/rest_contract.py CUSTOM).
constexpr std::string_view k_custom_mapping = R"(
    list: {path: /api/v2/workouts, after: from, before: to, time: iso8601, page: page, per_page: limit, page_size: 20, first_page: 0, items: data.items}
    get: {path: "/api/v2/workouts/{id}"}
    file: {path: "/api/v2/workouts/{id}/original"}
    update: {method: PUT, path: "/api/v2/workouts/{id}"}
    create: {path: /api/v2/uploads, body: multipart}
    fields: {id: workout_id, name: title, sport: activity, start: started_at, duration: elapsed, distance: distance_km, distance_unit: km, description: notes, gear: equipment_id}
)";

int deliveries_in(const Daemon& d, const std::string& state) {
    auto p = d.call("POST", "/v1/plan", "{}").json();
    if (!p.IsObject() || !p.HasMember("totals")) return -1;
    return p["totals"][state.c_str()].GetInt();
}

TEST(RestE2E, HundredActivitiesFromAPlatformWithOriginalsIntoTheArchiveExactlyOnce) {
    TempDir dir("rest-e2e-in");
    FakeServer fake("rest_custom");
    write_text(dir / "rest.key", "test-api-key\n");
    std::string seed = "[";
    for (int i = 0; i < k_count; ++i) {
        const double start = k_first + i * 86400.0;
        seed +=
            fmt::format(R"({}{{"start": {}, "type": "ride", "name": "Ride {}", "duration": 59, "file_b64": "{}"}})",
                        i ? "," : "", start, i, net::base64(synth_gpx(start, 60, 45.0, 7.0, fmt::format("R{}", i))));
    }
    ASSERT_EQ(fake.control("POST", "/_fake/activities", seed + "]").status, 200);
    // Pages and files refused with 429s (Retry-After 1) and 5xx, interleaved.
    ASSERT_EQ(fake.control("POST", "/_fake/faults", R"([
        {"path": "/api/v2/workouts", "method": "GET", "count": 3, "status": 429, "headers": [["Retry-After", "1"]]},
        {"path": "/api/v2/workouts", "method": "GET", "count": 2, "status": 503},
        {"path": "/api/v2/workouts/", "method": "GET", "count": 2, "status": 502}])")
                  .status,
              200);

    Daemon d(dir, R"(api:
  listen: 127.0.0.1:{PORT}
accounts:
  - id: acme
    provider: rest
    base_url: )" + fake.base() +
                      R"(
    api_key_file: {DIR}/rest.key)" +
                      std::string(k_custom_mapping) +
                      R"(  - id: archive
    provider: archive
    root: {DIR}/archive
routes:
  - id: acme-to-archive
    from: [acme]
    to: [archive]
    since: 2023-12-01
)");
    ASSERT_TRUE(d.start()) << d.log();
    ASSERT_TRUE(Daemon::eventually([&] { return files_under(dir / "archive") >= static_cast<size_t>(k_count); },
                                   std::chrono::seconds(180)))
        << files_under(dir / "archive") << " archived\n"
        << d.log_excerpt(3000);
    ASSERT_TRUE(Daemon::eventually([&] { return deliveries_in(d, "already_delivered") == k_count; }))
        << d.call("POST", "/v1/plan", "{}").body.substr(0, 300);
    EXPECT_EQ(files_under(dir / "archive"), static_cast<size_t>(k_count));
    // The faults were felt, and every original was fetched once it was answered.
    EXPECT_EQ(fake.count("GET", "/api/v2/workouts", 429), 3);
    EXPECT_GE(fake.count("GET", "/api/v2/workouts", 503), 1);
    EXPECT_EQ(fake.count("GET", "/api/v2/workouts/[^/]+/original", 502), 2);
    EXPECT_EQ(fake.count("GET", "/api/v2/workouts/[^/]+/original", 200), k_count);
    EXPECT_EQ(fake.violations().Size(), 0u);

    // Polled again and restarted: nothing more.
    ASSERT_EQ(d.call("POST", "/v1/accounts/acme/sync").status, 202);
    std::this_thread::sleep_for(std::chrono::seconds(2));
    ASSERT_EQ(d.stop(), 0);
    ASSERT_TRUE(d.start()) << d.log();
    std::this_thread::sleep_for(std::chrono::seconds(2));
    EXPECT_EQ(files_under(dir / "archive"), static_cast<size_t>(k_count));
    EXPECT_EQ(fake.count("GET", "/api/v2/workouts/[^/]+/original", 200), k_count);
    EXPECT_EQ(d.stop(), 0);
}

TEST(RestE2E, HundredActivitiesFromAFolderIntoTheContractsExampleApiExactlyOnce) {
    TempDir dir("rest-e2e-out");
    FakeServer fake("rest");
    write_text(dir / "rest.key", "test-api-key\n");
    for (int i = 0; i < k_count; ++i)
        write_text(dir / "staging" / fmt::format("ride-{:03}.gpx", i),
                   synth_gpx(k_first + i * 86400.0, 60, 45.0, 7.0, fmt::format("R{}", i)));
    fs::create_directories(dir / "inbox");
    for (const auto& e : fs::directory_iterator(dir / "staging"))
        fs::rename(e.path(), dir / "inbox" / e.path().filename());
    // Creates refused with 429s (Retry-After 1) and 5xx; the duplicate check's
    // listing with 5xx.
    ASSERT_EQ(fake.control("POST", "/_fake/faults", R"([
        {"path": "/activities", "method": "POST", "count": 4, "status": 429, "headers": [["Retry-After", "1"]]},
        {"path": "/activities", "method": "POST", "count": 2, "status": 503},
        {"path": "/activities", "method": "GET", "count": 2, "status": 500}])")
                  .status,
              200);

    Daemon d(dir, R"(api:
  listen: 127.0.0.1:{PORT}
accounts:
  - id: inbox
    provider: folder
    path: {DIR}/inbox
    settle_time: "0"
  - id: acme
    provider: rest
    base_url: )" + fake.base() +
                      R"(
    api_key_file: {DIR}/rest.key
routes:
  - id: inbox-to-acme
    from: [inbox]
    to: [acme]
)");
    ASSERT_TRUE(d.start()) << d.log();
    auto on_fake = [&] { return static_cast<int>(fake.get_json("/_fake/activities").Size()); };
    ASSERT_TRUE(Daemon::eventually([&] { return on_fake() >= k_count; }, std::chrono::seconds(240)))
        << on_fake() << " on the fake\n"
        << d.log_excerpt(3000);
    ASSERT_TRUE(Daemon::eventually([&] { return deliveries_in(d, "already_delivered") == k_count; }))
        << d.call("POST", "/v1/plan", "{}").body.substr(0, 300);
    EXPECT_EQ(on_fake(), k_count);
    EXPECT_EQ(fake.count("POST", "/activities", 429), 4);
    EXPECT_EQ(fake.count("POST", "/activities", 503), 2);
    EXPECT_EQ(fake.count("POST", "/activities", 201), k_count);  // each created once
    EXPECT_EQ(fake.violations().Size(), 0u);
    // Each with the summary's start time, in the contract's words.
    auto stored = fake.get_json("/_fake/activities");
    std::set<double> starts;
    for (const auto& a : stored.GetArray()) {
        starts.insert(a["start"].GetDouble());
        EXPECT_STREQ(a["type"].GetString(), "ride");
    }
    EXPECT_EQ(starts.size(), static_cast<size_t>(k_count));
    EXPECT_EQ(*starts.begin(), k_first);

    ASSERT_EQ(d.stop(), 0);
    ASSERT_TRUE(d.start()) << d.log();
    std::this_thread::sleep_for(std::chrono::seconds(2));
    EXPECT_EQ(on_fake(), k_count);
    EXPECT_EQ(d.stop(), 0);
}

TEST(RestE2E, APlatformWithoutFilesIsKeptAsMetadataForSummarySinksAndUnavailableForTheArchive) {
    TempDir dir("rest-e2e-meta");
    FakeServer source("rest");
    FakeServer sink("rest");
    write_text(dir / "rest.key", "test-api-key\n");
    ASSERT_EQ(source
                  .control("POST", "/_fake/activities",
                           fmt::format(R"({{"start": {}, "type": "run", "name": "Track session", "duration": 2700,
                                            "distance_m": 8046.72}})",
                                       k_first))
                  .status,
              200);
    Daemon d(dir, R"(api:
  listen: 127.0.0.1:{PORT}
accounts:
  - id: acme
    provider: rest
    base_url: )" + source.base() +
                      R"(
    api_key_file: {DIR}/rest.key
  - id: other
    provider: rest
    base_url: )" + sink.base() +
                      R"(
    api_key_file: {DIR}/rest.key
  - id: archive
    provider: archive
    root: {DIR}/archive
routes:
  - id: out
    from: [acme]
    to: [other, archive]
    since: 2023-12-01
)");
    ASSERT_TRUE(d.start()) << d.log();
    ASSERT_TRUE(Daemon::eventually([&] { return sink.get_json("/_fake/activities").Size() == 1; }))
        << d.log_excerpt(3000);
    auto created = sink.get_json("/_fake/activities");
    EXPECT_STREQ(created[0]["name"].GetString(), "Track session");
    EXPECT_STREQ(created[0]["type"].GetString(), "run");
    EXPECT_EQ(created[0]["start"].GetDouble(), k_first);
    EXPECT_EQ(created[0]["duration"].GetInt(), 2700);
    EXPECT_NEAR(created[0]["distance_m"].GetDouble(), 8046.72, 1);
    ASSERT_TRUE(Daemon::eventually([&] {
        auto acts = d.call("GET", "/v1/activities?state=skipped").json();
        return acts.IsObject() && acts["activities"].Size() == 1;
    })) << d.call("GET", "/v1/activities").body;
    EXPECT_NE(d.log().find("deliver activity 1 -> archive: skipped unavailable: the platform serves no original file"),
              std::string::npos)
        << d.log();
    EXPECT_EQ(files_under(dir / "archive"), 0u);
    EXPECT_EQ(d.stop(), 0);
}

}  // namespace
}  // namespace fitbridge::test
