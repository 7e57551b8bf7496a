// End to end with the SportTracks fake: 100 workouts each way, exactly once,
// with 429s and 5xx injected. From SportTracks into the archive (a TCX built
// from each workout's samples; workouts entered by hand are kept as metadata
// and are unavailable for the archive), and from a folder into SportTracks
// through fileUpload.

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <regex>

#include "support/daemon.hpp"
#include "support/fake_server.hpp"
#include "support/synth.hpp"

namespace fitbridge::test {
namespace {

namespace fs = std::filesystem;

constexpr int k_count = 100;
constexpr double k_first = 1704092400;  // 2024-01-01T07:00:00Z, one workout a day

size_t files_under(const fs::path& dir) {
    size_t n = 0;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec); it != fs::recursive_directory_iterator(); ++it)
        if (it->is_regular_file() && it->path().filename().string()[0] != '.') ++n;
    return n;
}

// GET a URL on 127.0.0.1 as a browser would: the status and the Location header.
std::pair<int, std::string> browse(const std::string& url) {
    static const std::regex k_url(R"(http://127\.0\.0\.1:(\d+)(/.*))");
    std::smatch m;
    if (!std::regex_match(url, m, k_url)) return {0, ""};
    RawConn c(std::stoi(m[1].str()));
    c.send("GET " + m[2].str() + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    auto r = c.read_response();
    const std::string text = r.value_or("");
    std::string location;
    if (auto p = text.find("\r\nLocation: "); p != std::string::npos) {
        p += 12;
        location = text.substr(p, text.find("\r\n", p) - p);
    }
    return {status_of(r), location};
}

int plan_total(const Daemon& d, const char* key) {
    auto p = d.call("POST", "/v1/plan", "{}").json();
    return p.IsObject() && p.HasMember("totals") ? p["totals"][key].GetInt() : -1;
}

TEST(SportTracksE2E, HundredWorkoutsIntoTheArchiveAsTcxExactlyOnceAndManualEntriesAsMetadata) {
    TempDir dir("st-e2e-in");
    FakeServer fake("sporttracks");
    write_text(dir / "st.token", "test-oauth-token\n");
    std::string seed = "[";
    for (int i = 0; i < k_count; ++i)
        seed += fmt::format(R"({}{{"start": {}, "type": "{}", "name": "Workout {}", "duration": 1800, "distance": 9000,
                               "samples": true, "points": 40}})",
                            i ? "," : "", k_first + i * 86400.0, i % 2 ? "Running" : "Cycling", i);
    for (int i = 0; i < 3; ++i)  // entered by hand: no samples
        seed += fmt::format(R"(,{{"start": {}, "type": "Swimming", "name": "Pool {}", "duration": 2400,
                               "distance": 2000}})",
                            k_first + i * 86400.0 + 43200, i);
    ASSERT_EQ(fake.control("POST", "/_fake/activities", seed + "]").status, 200);
    ASSERT_EQ(fake.control("POST", "/_fake/faults", R"([
        {"path": "/api/v2/fitnessActivities", "method": "GET", "count": 3, "status": 429, "headers": [["Retry-After", "1"]]},
        {"path": "/api/v2/fitnessActivities/", "method": "GET", "count": 3, "status": 503}])")
                  .status,
              200);

    Daemon d(dir, R"(api:
  listen: 127.0.0.1:{PORT}
accounts:
  - id: st
    provider: sporttracks
    base_url: )" + fake.base() +
                      R"(
    token_file: {DIR}/st.token
    page_size: 25
  - id: archive
    provider: archive
    root: {DIR}/archive
routes:
  - id: st-to-archive
    from: [st]
    to: [archive]
    since: 2023-12-01
)");
    ASSERT_TRUE(d.start()) << d.log();
    ASSERT_TRUE(Daemon::eventually([&] { return files_under(dir / "archive") >= static_cast<size_t>(k_count); },
                                   std::chrono::seconds(180)))
        << files_under(dir / "archive") << " archived\n"
        << d.log_excerpt(3000);
    ASSERT_TRUE(Daemon::eventually([&] { return plan_total(d, "already_delivered") == k_count; }))
        << d.call("POST", "/v1/plan", "{}").body.substr(0, 300);
    EXPECT_EQ(files_under(dir / "archive"), static_cast<size_t>(k_count));
    // Every archived file is a TCX.
    for (const auto& e : fs::recursive_directory_iterator(dir / "archive"))
        if (e.is_regular_file() && e.path().filename().string()[0] != '.') {
            EXPECT_EQ(e.path().extension(), ".tcx");
        }
    // The manual entries: kept as activities, unavailable for the archive.
    auto skipped = d.call("GET", "/v1/activities?state=skipped").json();
    ASSERT_TRUE(skipped.IsObject()) << d.call("GET", "/v1/activities?state=skipped").body;
    EXPECT_EQ(skipped["activities"].Size(), 3u);
    EXPECT_NE(d.log().find("skipped unavailable: the workout has no recorded samples"), std::string::npos);
    EXPECT_GE(fake.count("GET", "/api/v2/fitnessActivities.*", 429), 3);
    EXPECT_EQ(fake.count("GET", "/api/v2/fitnessActivities.*", 503), 3);
    EXPECT_EQ(fake.violations().Size(), 0u);

    ASSERT_EQ(d.stop(), 0);
    ASSERT_TRUE(d.start()) << d.log();
    std::this_thread::sleep_for(std::chrono::seconds(2));
    EXPECT_EQ(files_under(dir / "archive"), static_cast<size_t>(k_count));
    EXPECT_EQ(d.stop(), 0);
}

TEST(SportTracksE2E, HundredRidesFromAFolderIntoSportTracksExactlyOnce) {
    TempDir dir("st-e2e-out");
    FakeServer fake("sporttracks");
    write_text(dir / "st.token", "test-oauth-token\n");
    for (int i = 0; i < k_count; ++i)
        write_text(dir / "staging" / fmt::format("ride-{:03}.gpx", i),
                   synth_gpx(k_first + i * 86400.0, 60, 45.0, 7.0, fmt::format("R{}", i)));
    fs::create_directories(dir / "inbox");
    for (const auto& e : fs::directory_iterator(dir / "staging"))
        fs::rename(e.path(), dir / "inbox" / e.path().filename());
    ASSERT_EQ(fake.control("POST", "/_fake/faults", R"([
        {"path": "/api/v2/fileUpload", "count": 4, "status": 429, "headers": [["Retry-After", "1"]]},
        {"path": "/api/v2/fileUpload", "count": 2, "status": 503},
        {"path": "/api/v2/fitnessActivities", "method": "GET", "count": 2, "status": 500}])")
                  .status,
              200);

    Daemon d(dir, R"(api:
  listen: 127.0.0.1:{PORT}
accounts:
  - id: inbox
    provider: folder
    path: {DIR}/inbox
    settle_time: "0"
  - id: st
    provider: sporttracks
    base_url: )" + fake.base() +
                      R"(
    token_file: {DIR}/st.token
routes:
  - id: inbox-to-st
    from: [inbox]
    to: [st]
)");
    ASSERT_TRUE(d.start()) << d.log();
    auto on_fake = [&] { return static_cast<int>(fake.get_json("/_fake/activities").Size()); };
    ASSERT_TRUE(Daemon::eventually([&] { return on_fake() >= k_count; }, std::chrono::seconds(240)))
        << on_fake() << " on the fake\n"
        << d.log_excerpt(3000);
    ASSERT_TRUE(Daemon::eventually([&] { return plan_total(d, "already_delivered") == k_count; }))
        << d.call("POST", "/v1/plan", "{}").body.substr(0, 300);
    EXPECT_EQ(on_fake(), k_count);
    EXPECT_EQ(fake.count("POST", "/api/v2/fileUpload", 429), 4);
    EXPECT_EQ(fake.count("POST", "/api/v2/fileUpload", 503), 2);
    EXPECT_EQ(fake.count("POST", "/api/v2/fileUpload", 200), k_count);
    EXPECT_EQ(fake.violations().Size(), 0u);

    ASSERT_EQ(d.stop(), 0);
    ASSERT_TRUE(d.start()) << d.log();
    std::this_thread::sleep_for(std::chrono::seconds(2));
    EXPECT_EQ(on_fake(), k_count);
    EXPECT_EQ(d.stop(), 0);
}

TEST(SportTracksE2E, AuthWithStateThenTheDaemonUploadsWithTheToken) {
    TempDir dir("st-e2e-auth");
    FakeServer fake("sporttracks");
    write_text(dir / "st-secret", "test-client-secret\n");
    fs::create_directories(dir / "inbox");
    Daemon d(dir, R"(api:
  listen: 127.0.0.1:{PORT}
accounts:
  - id: inbox
    provider: folder
    path: {DIR}/inbox
    settle_time: "0"
  - id: st
    provider: sporttracks
    base_url: )" + fake.base() +
                      R"(
    client_id: fitbridge-test
    client_secret_file: {DIR}/st-secret
routes:
  - id: inbox-to-st
    from: [inbox]
    to: [st]
)");
    ASSERT_TRUE(d.start()) << d.log();
    write_text(dir / "inbox" / "ride.gpx", synth_gpx(k_first, 60));

    Process auth({FITBRIDGE_BINARY, "auth", "--timeout", "30", "st"}, d.env(), dir / "auth.log");
    std::string url;
    ASSERT_TRUE(Daemon::eventually(
        [&] {
            static const std::regex k_line(R"(\n  (http://\S+/oauth2/authorize\?\S+)\n)");
            std::smatch m;
            auto out = auth.output();
            if (!std::regex_search(out, m, k_line)) return false;
            url = m[1].str();
            return true;
        },
        std::chrono::seconds(10)))
        << auth.output();
    EXPECT_NE(url.find("client_id=fitbridge-test"), std::string::npos) << url;
    EXPECT_TRUE(std::regex_search(url, std::regex("[?&]state=[^&]+"))) << url;
    // The fake refuses an authorization without state; this one goes through.
    auto [status, location] = browse(url);
    ASSERT_EQ(status, 302) << url;
    EXPECT_NE(location.find("/callback?code="), std::string::npos) << location;
    EXPECT_EQ(browse(location).first, 200);
    ASSERT_EQ(auth.wait(std::chrono::seconds(20)), 0) << auth.output();

    // The ride goes out with the access token; the account has a refresh token
    // and a two-hour expiry, never shown.
    ASSERT_TRUE(Daemon::eventually([&] { return fake.count("POST", "/api/v2/fileUpload", 200) == 1; })) << d.log();
    auto log = fake.requests_with_bodies();
    std::string bearer;
    for (const auto& r : log.GetArray()) {
        if (std::string(r["path"].GetString()) != "/api/v2/fileUpload") continue;
        for (const auto& h : r["headers"].GetArray())
            if (std::string(h[0].GetString()) == "Authorization") bearer = h[1].GetString();
    }
    EXPECT_EQ(bearer, "Bearer access-1");
    auto accounts = d.call("GET", "/v1/accounts");
    EXPECT_EQ(accounts.body.find("access-1"), std::string::npos);
    EXPECT_EQ(accounts.body.find("refresh-1"), std::string::npos);
    auto acc = accounts.json();
    for (const auto& a : acc["accounts"].GetArray()) {
        if (std::string(a["id"].GetString()) != "st") continue;
        EXPECT_STREQ(a["credentials"]["kind"].GetString(), "oauth2");
        EXPECT_TRUE(a["credentials"]["refreshable"].GetBool());
        EXPECT_TRUE(a["credentials"]["expires_at"].IsString());
    }
    EXPECT_EQ(d.stop(), 0);
}

}  // namespace
}  // namespace fitbridge::test
