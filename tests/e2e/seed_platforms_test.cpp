// End to end: the real daemon against the SweatStack and Train it All fakes
// over loopback HTTP, 100 activities each way: backfilled from the platform
// into an archive, and from a watched folder onto the platform, exactly once,
// with 429s and 5xx injected into listing, downloads and uploads.

#include <gtest/gtest.h>

#include "formats/decode.hpp"
#include "json/json.hpp"
#include "net/oauth.hpp"
#include "support/daemon.hpp"
#include "support/fake_server.hpp"
#include "support/synth.hpp"

namespace fitbridge::test {
namespace {

namespace fs = std::filesystem;

constexpr int k_count = 100;
constexpr double k_first = 1736496000;         // 2025-01-10T08:00:00Z
constexpr double k_folder_first = 1717228800;  // 2024-06-01T08:00:00Z

size_t files_under(const fs::path& root) {
    size_t n = 0;
    if (!fs::exists(root)) return 0;
    for (const auto& e : fs::recursive_directory_iterator(root))
        if (e.is_regular_file()) ++n;
    return n;
}

// Seeds `k_count` FIT rides on the fake, one every 6 hours from k_first, and
// puts `k_count` other FIT runs (every 6 hours from 2024-06-01) in `folder`:
// before the archive route's `since`, so the archive gets the platform's own
// hundred only, exactly.
void seed_both_ways(const FakeServer& fake, const fs::path& folder) {
    std::string spec = "[";
    for (int i = 0; i < k_count; ++i)
        spec += fmt::format(R"({}{{"start": {}, "type": "ride", "file_b64": "{}"}})", i ? "," : "",
                            k_first + i * 21600.0, net::base64(synth_fit(k_first + i * 21600.0, 60, 2)));
    ASSERT_EQ(fake.control("POST", "/_fake/activities", spec + "]").status, 200);
    fs::create_directories(folder / "staging");
    for (int i = 0; i < k_count; ++i)
        write_text(folder / "staging" / fmt::format("run-{:03}.fit", i),
                   synth_fit(k_folder_first + i * 21600.0, 90, 1));
    fs::create_directories(folder / "out");
    for (const auto& e : fs::directory_iterator(folder / "staging"))
        fs::rename(e.path(), folder / "out" / e.path().filename());
}

std::string config_for(const std::string& platform_account, const std::string& route_from_folder) {
    return R"(api:
  listen: 127.0.0.1:{PORT}
sync:
  max_concurrent_per_account: 6
accounts:
  - id: watch
    provider: folder
    path: {DIR}/watch/out
    settle_time: "0"
    poll_interval: 10s
)" + platform_account +
           R"(  - id: archive
    provider: archive
    root: {DIR}/archive
routes:
  - id: platform-to-archive
    from: [platform]
    to: [archive]
    since: 2025-01-01
)" + route_from_folder;
}

TEST(SynthFit, DecodesAsTheActivityItDescribes) {
    const auto fit = synth_fit(k_first, 60, 1);
    auto s = formats::decode(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(fit.data()), fit.size()));
    ASSERT_TRUE(s.ok) << s.error;
    EXPECT_TRUE(s.is_activity);
    EXPECT_EQ(s.start_time, k_first);
    EXPECT_EQ(s.sport_family, "run");
    EXPECT_EQ(s.total_elapsed_time, 60.0);
}

TEST(SweatStackE2E, HundredEachWayExactlyOnceThrough429sAnd5xx) {
    TempDir dir("sweat-e2e");
    FakeServer fake("sweatstack");
    write_text(dir / "sweat.token", "test-api-key\n");
    seed_both_ways(fake, dir / "watch");
    ASSERT_EQ(fake.control("POST", "/_fake/faults", R"([
        {"method": "GET", "path": "/api/v1/activities/", "count": 3, "status": 429, "headers": [["Retry-After", "1"]]},
        {"method": "GET", "path": "/api/v1/activities/", "count": 2, "status": 502},
        {"method": "GET", "path": "/api/v1/activities/act_", "count": 4, "status": 503},
        {"method": "POST", "path": "/api/v1/activities/upload", "count": 4, "status": 429,
         "headers": [["Retry-After", "1"]], "body": "{\"detail\":\"Too Many Requests\"}"},
        {"method": "POST", "path": "/api/v1/activities/upload", "count": 2, "status": 503},
        {"method": "GET", "path": "/api/v1/sources/", "count": 3, "status": 500}])")
                  .status,
              200);
    Daemon d(dir, config_for(R"(  - id: platform
    provider: sweatstack
    base_url: )" + fake.base() + R"(
    token_file: {DIR}/sweat.token
    poll_interval: 10s
)",
                             R"(  - id: folder-to-platform
    from: [watch]
    to: [platform]
    since: 2024-01-01
)"));
    ASSERT_TRUE(d.start()) << d.log();
    auto done = [&] {
        return fake.get_json("/_fake/activities").Size() == 2 * k_count && files_under(dir / "archive") == k_count;
    };
    ASSERT_TRUE(Daemon::eventually(done, std::chrono::seconds(300)))
        << fake.get_json("/_fake/activities").Size() << " on the fake, " << files_under(dir / "archive")
        << " archived\n"
        << d.log_excerpt(4000);
    std::this_thread::sleep_for(std::chrono::seconds(3));
    // Exactly once: one processed source per file; the archive holds the
    // platform's hundred.
    EXPECT_EQ(files_under(dir / "archive"), static_cast<size_t>(k_count));
    auto sources = fake.get_json("/_fake/sources");
    EXPECT_EQ(sources.Size(), static_cast<rapidjson::SizeType>(k_count));
    for (const auto& s : sources.GetArray()) EXPECT_STREQ(s["status"].GetString(), "processed");
    EXPECT_EQ(fake.get_json("/_fake/activities").Size(), static_cast<rapidjson::SizeType>(2 * k_count));
    EXPECT_GT(fake.count("POST", "/api/v1/activities/upload", 429), 0);
    EXPECT_GT(fake.count("POST", "/api/v1/activities/upload", 503), 0);
    // Batched: fewer requests than files.
    EXPECT_LT(fake.count("POST", "/api/v1/activities/upload", 200), k_count);
    EXPECT_EQ(fake.violations().Size(), 0u);

    // A restart sends nothing again.
    const int uploads = fake.count("POST", "/api/v1/activities/upload");
    ASSERT_EQ(d.stop(), 0);
    ASSERT_TRUE(d.start()) << d.log();
    std::this_thread::sleep_for(std::chrono::seconds(4));
    EXPECT_EQ(fake.count("POST", "/api/v1/activities/upload"), uploads);
    EXPECT_EQ(fake.get_json("/_fake/sources").Size(), static_cast<rapidjson::SizeType>(k_count));
    EXPECT_EQ(d.stop(), 0);
}

TEST(TrainItAllE2E, HundredEachWayExactlyOnceThrough429sAnd5xx) {
    TempDir dir("tia-e2e");
    FakeServer fake("trainitall");
    seed_both_ways(fake, dir / "watch");
    ASSERT_EQ(fake.control("POST", "/_fake/faults", R"([
        {"method": "GET", "path": "/api/external/v1/activities", "count": 3, "status": 429,
         "headers": [["Retry-After", "1"]]},
        {"method": "GET", "path": "/api/external/v1/activities", "count": 2, "status": 502},
        {"method": "GET", "path": "/api/external/v1/activities/act_", "count": 4, "status": 503},
        {"method": "POST", "path": "/api/external/v1/fit-files", "count": 4, "status": 429,
         "headers": [["Retry-After", "1"]], "body": "{\"error\":\"Too many requests.\",\"errorCode\":\"rate_limited\"}"},
        {"method": "POST", "path": "/api/external/v1/fit-files", "count": 2, "status": 503}])")
                  .status,
              200);
    // Short-lived access tokens: the daemon rotates the refresh token as it goes.
    fake.control("POST", "/_fake/config", R"({"access_lifetime_s": 70})");
    auto grant = json::parse(fake.control("POST", "/_fake/grant", "{}").body);
    Daemon d(dir, config_for(R"(  - id: platform
    provider: trainitall
    base_url: )" + fake.base() + R"(
    client_id: fitbridge
    poll_interval: 10s
)",
                             R"(  - id: folder-to-platform
    from: [watch]
    to: [platform]
    since: 2024-01-01
)"));
    ASSERT_TRUE(d.start()) << d.log();
    auto posted = d.call("POST", "/v1/accounts/platform/credentials",
                         fmt::format(R"({{"kind": "oauth2", "access_token": "{}", "refresh_token": "{}",
                                         "expires_in": 70}})",
                                     (*grant)["access_token"].GetString(), (*grant)["refresh_token"].GetString()));
    ASSERT_EQ(posted.status, 200) << posted.body;
    // The route's first backfill ran before there were credentials and failed;
    // storing them runs it again.
    auto done = [&] {
        return fake.get_json("/_fake/activities").Size() == 2 * k_count && files_under(dir / "archive") == k_count;
    };
    ASSERT_TRUE(Daemon::eventually(done, std::chrono::seconds(300)))
        << fake.get_json("/_fake/activities").Size() << " on the fake, " << files_under(dir / "archive")
        << " archived\n"
        << d.log_excerpt(4000);
    std::this_thread::sleep_for(std::chrono::seconds(3));
    EXPECT_EQ(files_under(dir / "archive"), static_cast<size_t>(k_count));
    // Every FIT imported once: a second copy would have been answered as a duplicate.
    EXPECT_EQ(fake.count("POST", "/api/external/v1/fit-files", 201), k_count);
    EXPECT_EQ(fake.count("POST", "/api/external/v1/fit-files", 200), 0);
    EXPECT_EQ(fake.count("POST", "/api/external/v1/activities"), 0);  // every original here is a FIT
    EXPECT_GT(fake.count("POST", "/api/external/v1/fit-files", 429), 0);
    EXPECT_GT(fake.count("POST", "/api/external/v1/fit-files", 503), 0);
    EXPECT_EQ(fake.violations().Size(), 0u);

    // Killed outright and started again: the rotated refresh token it saved still works.
    d.kill9();
    fake.control("POST", "/_fake/expire");
    const int refreshes = fake.get_json("/_fake/tokens")["refreshes"].GetInt();
    ASSERT_TRUE(d.start()) << d.log();
    ASSERT_EQ(d.call("POST", "/v1/accounts/platform/sync").status, 202);
    ASSERT_TRUE(Daemon::eventually([&] { return fake.get_json("/_fake/tokens")["refreshes"].GetInt() > refreshes; },
                                   std::chrono::seconds(30)))
        << d.log();
    std::this_thread::sleep_for(std::chrono::seconds(3));
    auto accounts = d.call("GET", "/v1/accounts").json();
    std::string state = "(no such account)";
    for (const auto& a : accounts["accounts"].GetArray())
        if (std::string_view(a["id"].GetString()) == "platform") state = a["state"].GetString();
    EXPECT_EQ(state, "ok");
    EXPECT_EQ(fake.count("POST", "/api/external/v1/fit-files", 201), k_count);
    EXPECT_EQ(d.stop(), 0);
}

}  // namespace
}  // namespace fitbridge::test
