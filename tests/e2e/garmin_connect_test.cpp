// End to end: the real daemon against the Garmin Connect fake over loopback
// HTTP. 300 rides from a Zwift folder go to Garmin Connect exactly once, 30 of
// them answered 409 "Duplicate activity" (the watch uploaded them already);
// 200 originals (ZIP-wrapped FIT) come from Garmin Connect into an archive,
// 10 answering 500 and 5 broken ZIPs / HTML pages, each an error on that
// activity alone. The first account gets its DI tokens handed over, the second
// signs in by itself.

#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "json/json.hpp"
#include "net/oauth.hpp"
#include "support/daemon.hpp"
#include "support/fake_server.hpp"
#include "support/synth.hpp"

namespace fitbridge::test {
namespace {

namespace fs = std::filesystem;

constexpr double k_first = 1736496000;  // 2025-01-10T08:00:00Z

size_t files_under(const fs::path& root) {
    size_t n = 0;
    if (!fs::exists(root)) return 0;
    for (const auto& e : fs::recursive_directory_iterator(root))
        if (e.is_regular_file()) ++n;
    return n;
}

// "<state>: <last_error>" of an account.
std::string account_line(Daemon& d, std::string_view id) {
    auto accounts = d.call("GET", "/v1/accounts").json();
    for (const auto& a : accounts["accounts"].GetArray())
        if (std::string_view(a["id"].GetString()) == id)
            return std::string(a["state"].GetString()) + ": " +
                   (a["last_error"].IsString() ? a["last_error"].GetString() : "");
    return "(no such account)";
}

std::string account_state(Daemon& d, std::string_view id) {
    auto accounts = d.call("GET", "/v1/accounts").json();
    for (const auto& a : accounts["accounts"].GetArray())
        if (std::string_view(a["id"].GetString()) == id) return a["state"].GetString();
    return "(no such account)";
}

TEST(GarminConnectE2E, ThreeHundredZwiftRidesExactlyOnceWithTheWatchsDuplicates) {
    constexpr int k_rides = 300;
    TempDir dir("garmin-e2e-up");
    FakeServer fake("garmin");
    // Every tenth ride is on Garmin Connect already (the watch uploaded it).
    std::string watch = "[";
    for (int i = 0; i < k_rides; i += 10)
        watch += fmt::format(R"({}{{"start": {}, "type": "ride", "name": "Watch ride {}"}})", i ? "," : "",
                             k_first + i * 7200.0, i);
    ASSERT_EQ(fake.seed_activities(watch + "]").size(), 30u);
    fs::create_directories(dir / "zwift");
    for (int i = 0; i < k_rides; ++i)
        write_text(dir / "zwift" / fmt::format("2025-01-{:03}.fit", i), synth_fit(k_first + i * 7200.0, 90, 2));
    ASSERT_EQ(fake.control("POST", "/_fake/faults", R"([
        {"method": "POST", "path": "/upload-service/upload", "count": 3, "status": 503},
        {"method": "POST", "path": "/upload-service/upload", "count": 2, "status": 429,
         "headers": [["Retry-After", "1"]]}])")
                  .status,
              200);
    auto grant = json::parse(fake.control("POST", "/_fake/grant", "{}").body);
    Daemon d(dir, R"(api:
  listen: 127.0.0.1:{PORT}
sync:
  max_concurrent_per_account: 6
accounts:
  - id: zwift
    provider: folder
    path: {DIR}/zwift
    settle_time: "0"
    poll_interval: 10s
  - id: garmin
    provider: garmin_connect
    credentials: stored
    base_url: )" + fake.base() +
                      R"(
    auth_url: )" + fake.base() +
                      R"(
    sso_url: )" + fake.base() +
                      R"(
    min_request_interval_ms: 5
    poll_interval: 10s
routes:
  - id: zwift-to-garmin
    from: [zwift]
    to: [garmin]
    since: 2025-01-01
)");
    ASSERT_TRUE(d.start()) << d.log();
    auto posted = d.call("POST", "/v1/accounts/garmin/credentials",
                         fmt::format(R"({{"kind": "oauth2", "access_token": "{}", "refresh_token": "{}"}})",
                                     (*grant)["access_token"].GetString(), (*grant)["refresh_token"].GetString()));
    ASSERT_EQ(posted.status, 200) << posted.body;
    auto settled = [&] {
        return fake.count("POST", "/upload-service/upload", 201) + fake.count("POST", "/upload-service/upload", 409) ==
               k_rides;
    };
    ASSERT_TRUE(Daemon::eventually(settled, std::chrono::seconds(300)))
        << fake.count("POST", "/upload-service/upload", 201) << " created, "
        << fake.count("POST", "/upload-service/upload", 409) << " duplicates\n"
        << d.log_excerpt(4000);
    std::this_thread::sleep_for(std::chrono::seconds(3));
    // Exactly once: 270 new activities, 30 recognised, none twice.
    EXPECT_EQ(fake.count("POST", "/upload-service/upload", 201), k_rides - 30);
    EXPECT_EQ(fake.count("POST", "/upload-service/upload", 409), 30);
    EXPECT_EQ(fake.get_json("/_fake/activities").Size(), static_cast<rapidjson::SizeType>(k_rides));
    EXPECT_GT(fake.count("POST", "/upload-service/upload", 503), 0);
    EXPECT_EQ(fake.violations().Size(), 0u);
    auto dups = d.call("GET", "/v1/activities?state=duplicate&limit=500").json();
    ASSERT_TRUE(dups.HasMember("activities")) << d.call("GET", "/v1/activities?state=duplicate").body;
    EXPECT_EQ(dups["activities"].Size(), 30u);
    EXPECT_EQ(account_state(d, "garmin"), "ok");

    // A restart sends nothing again.
    const int uploads = fake.count("POST", "/upload-service/upload");
    ASSERT_EQ(d.stop(), 0);
    ASSERT_TRUE(d.start()) << d.log();
    std::this_thread::sleep_for(std::chrono::seconds(4));
    EXPECT_EQ(fake.count("POST", "/upload-service/upload"), uploads);
    EXPECT_EQ(d.stop(), 0);
}

TEST(GarminConnectE2E, TwoHundredOriginalsIntoAnArchiveThroughMissingAndBrokenFiles) {
    constexpr int k_count = 200;
    TempDir dir("garmin-e2e-down");
    FakeServer fake("garmin");
    // The last 50 days, so that every poll (overlap_days: 60) lists them all.
    const double now = std::floor(std::chrono::duration<double>(SystemClock().now().time_since_epoch()).count());
    const double first = now - (k_count + 1) * 21600.0;
    // Every twentieth answers 500 (no file); five are broken ZIPs or a page.
    const std::map<int, std::string> broken{{3, "none"}, {43, "two"}, {83, "text"}, {123, "truncated"}, {163, "html"}};
    std::string spec = "[";
    for (int i = 0; i < k_count; ++i) {
        std::string download = "\"zip\"";
        if (i % 20 == 7) download = "500";
        if (broken.contains(i)) download = "\"" + broken.at(i) + "\"";
        spec += fmt::format(R"({}{{"start": {}, "type": "ride", "file_b64": "{}", "download": {}}})", i ? "," : "",
                            first + i * 21600.0, net::base64(synth_fit(first + i * 21600.0, 60, 2)), download);
    }
    const auto ids = fake.seed_activities(spec + "]");
    ASSERT_EQ(ids.size(), static_cast<size_t>(k_count));
    write_text(dir / "garmin-password", "correct horse\n");
    Daemon d(dir, R"(api:
  listen: 127.0.0.1:{PORT}
sync:
  max_concurrent_per_account: 6
accounts:
  - id: garmin
    provider: garmin_connect
    username: rider@example.com
    password_file: {DIR}/garmin-password
    base_url: )" + fake.base() +
                      R"(
    auth_url: )" + fake.base() +
                      R"(
    sso_url: )" + fake.base() +
                      R"(
    min_request_interval_ms: 0
    page_size: 50
    overlap_days: 60
    poll_interval: 10s
  - id: archive
    provider: archive
    root: {DIR}/archive
routes:
  - id: garmin-to-archive
    from: [garmin]
    to: [archive]
    since: 2025-01-01
)");
    ASSERT_TRUE(d.start()) << d.log();
    constexpr size_t k_archived = k_count - 10 - 5;
    ASSERT_TRUE(
        Daemon::eventually([&] { return files_under(dir / "archive") == k_archived; }, std::chrono::seconds(300)))
        << files_under(dir / "archive") << " archived\n"
        << d.log_excerpt(4000);
    std::this_thread::sleep_for(std::chrono::seconds(3));
    EXPECT_EQ(files_under(dir / "archive"), k_archived);
    EXPECT_EQ(fake.get_json("/_fake/tokens")["logins"].GetInt(), 1);  // signed in once, by itself
    EXPECT_EQ(account_state(d, "garmin"), "ok");
    EXPECT_EQ(fake.violations().Size(), 0u);
    // Each broken original is an error on that activity, named in the log;
    // each one without a file is skipped as unavailable with Garmin's reason.
    const std::string log = d.log();
    for (const auto& [i, mode] : broken) EXPECT_NE(log.find("activity " + ids[i]), std::string::npos) << mode;
    EXPECT_NE(log.find("an empty ZIP archive for activity " + ids[3]), std::string::npos);
    EXPECT_NE(log.find("with several activity files"), std::string::npos);
    EXPECT_NE(log.find("a damaged or truncated ZIP archive for activity " + ids[123]), std::string::npos);
    EXPECT_NE(log.find("Garmin Connect serves no original file for activity " + ids[7]), std::string::npos);
    // Nothing lost: the broken ones are fetched again on the next poll.
    const int before = fake.count("GET", "/download-service/files/activity/" + ids[3]);
    ASSERT_EQ(d.call("POST", "/v1/accounts/garmin/sync").status, 202);
    ASSERT_TRUE(
        Daemon::eventually([&] { return fake.count("GET", "/download-service/files/activity/" + ids[3]) > before; },
                           std::chrono::seconds(60)));
    EXPECT_EQ(fake.count("GET", "/download-service/files/activity/" + ids[28], 200), 1);  // a good one: once
    EXPECT_EQ(d.stop(), 0);
}

TEST(GarminConnectE2E, ASignInThatWaitsForACodeFinishesWhenTheCodeIsPosted) {
    TempDir dir("garmin-e2e-mfa");
    FakeServer fake("garmin");
    fake.control("POST", "/_fake/config", R"({"login": "mfa"})");
    const double now = std::floor(std::chrono::duration<double>(SystemClock().now().time_since_epoch()).count());
    fake.seed_activities(fmt::format(R"({{"start": {}, "type": "ride", "file_b64": "{}"}})", now - 7200,
                                     net::base64(synth_fit(now - 7200, 60, 2))));
    write_text(dir / "garmin-password", "correct horse\n");
    Daemon d(dir, R"(api:
  listen: 127.0.0.1:{PORT}
accounts:
  - id: garmin
    provider: garmin_connect
    username: rider@example.com
    password_file: {DIR}/garmin-password
    base_url: )" + fake.base() +
                      R"(
    auth_url: )" + fake.base() +
                      R"(
    sso_url: )" + fake.base() +
                      R"(
    min_request_interval_ms: 0
    poll_interval: 10s
  - id: archive
    provider: archive
    root: {DIR}/archive
routes:
  - id: garmin-to-archive
    from: [garmin]
    to: [archive]
)");
    ASSERT_TRUE(d.start()) << d.log();
    ASSERT_TRUE(Daemon::eventually([&] { return account_line(d, "garmin").starts_with("needs_reauth: "); },
                                   std::chrono::seconds(30)))
        << account_line(d, "garmin") << "\n"
        << d.log();
    const auto why = account_line(d, "garmin");
    EXPECT_NE(why.find("Garmin asks for the verification code it sent by email"), std::string::npos) << why;
    EXPECT_NE(why.find("hand DI tokens over instead"), std::string::npos) << why;
    // Polls go on without signing in again.
    std::this_thread::sleep_for(std::chrono::seconds(12));
    EXPECT_EQ(fake.get_json("/_fake/tokens")["logins"].GetInt(), 1);

    auto empty = d.call("POST", "/v1/accounts/garmin/credentials", R"({"kind": "mfa_code"})");
    EXPECT_EQ(empty.status, 400) << empty.body;
    auto posted = d.call("POST", "/v1/accounts/garmin/credentials", R"({"kind": "mfa_code", "code": "123456"})");
    ASSERT_EQ(posted.status, 200) << posted.body;
    ASSERT_TRUE(Daemon::eventually([&] { return files_under(dir / "archive") == 1; }, std::chrono::seconds(60)))
        << account_line(d, "garmin") << "\n"
        << d.log();
    EXPECT_EQ(account_line(d, "garmin"), "ok: ");
    EXPECT_EQ(fake.get_json("/_fake/tokens")["mfa_checks"].GetInt(), 1);
    EXPECT_EQ(fake.get_json("/_fake/tokens")["logins"].GetInt(), 1);
    EXPECT_EQ(fake.violations().Size(), 0u);
    EXPECT_EQ(d.stop(), 0);
}

}  // namespace
}  // namespace fitbridge::test
