// End to end: the real daemon with a Zwift cloud account (against the Zwift
// fake: Keycloak login, activity list, FIT files from the bucket stand-in)
// and a Zwift folder holding the same 50 rides, both routed to Intervals.icu
// (its fake): one copy of each ride arrives, whether the two copies are the
// same bytes (content hash) or the cloud's file differs (matched by time).
// A ride still in progress on Zwift is held back and delivered once it ends;
// a changed password puts the account in needs_reauth with Keycloak's reason.

#include <gtest/gtest.h>

#include "json/json.hpp"
#include "net/oauth.hpp"
#include "support/daemon.hpp"
#include "support/fake_server.hpp"
#include "support/synth.hpp"

namespace fitbridge::test {
namespace {

namespace fs = std::filesystem;

constexpr int k_rides = 50;
constexpr int k_reencoded = 10;         // the cloud's file differs from the folder's for these
constexpr double k_first = 1736496000;  // 2025-01-10T08:00:00Z

TEST(ZwiftCloudE2E, CloudAndFolderHoldingTheSameRidesGiveOneCopyEachOnIntervals) {
    TempDir dir("zwift-cloud-e2e");
    FakeServer zwift("zwift");
    FakeServer icu("intervals");
    write_text(dir / "icu.key", "test-api-key\n");
    write_text(dir / "zwift-password", "zwift-password\n");

    std::string spec = "[";
    fs::create_directories(dir / "staging");
    for (int i = 0; i < k_rides; ++i) {
        const double start = k_first + i * 86400.0;
        const bool reencoded = i >= k_rides - k_reencoded;
        // A re-encoded copy: the same ride, its clock a second off (other bytes, same shape).
        const std::string cloud = synth_fit(reencoded ? start + 1 : start, 60, 2);
        spec += fmt::format(R"({}{{"start": {}, "duration": 60, "sport": "ride", "file_b64": "{}"}})", i ? "," : "",
                            reencoded ? start + 1 : start, net::base64(cloud));
        write_text(dir / "staging" / fmt::format("ride-{:02}.fit", i), synth_fit(start, 60, 2));
    }
    ASSERT_EQ(zwift.control("POST", "/_fake/activities", spec + "]").status, 200);
    fs::create_directories(dir / "zwift-folder");
    for (const auto& e : fs::directory_iterator(dir / "staging"))
        fs::rename(e.path(), dir / "zwift-folder" / e.path().filename());
    // A few faults on the way: the listing and the bucket each fail once.
    ASSERT_EQ(zwift
                  .control("POST", "/_fake/faults", R"([
        {"method": "GET", "path": "/api/profiles/5120001/activities", "count": 1, "status": 503},
        {"method": "GET", "path": "/files/", "count": 2, "status": 500,
         "body": "<Error><Code>InternalError</Code></Error>"}])")
                  .status,
              200);

    Daemon d(dir, R"(api:
  listen: 127.0.0.1:{PORT}
accounts:
  - id: zwift-folder
    provider: folder
    path: {DIR}/zwift-folder
    settle_time: "0"
    poll_interval: 10s
  - id: zwift-cloud
    provider: zwift
    username: rider@example.com
    password_file: {DIR}/zwift-password
    auth_url: )" + zwift.base() +
                      R"(
    base_url: )" + zwift.base() +
                      R"(
    files_url: )" + zwift.base() +
                      R"(/files/{bucket}/{key}
    poll_interval: 10s
  - id: icu
    provider: intervals_icu
    base_url: )" + icu.base() +
                      R"(
    api_key_file: {DIR}/icu.key
routes:
  - id: zwift-to-icu
    from: [zwift-folder, zwift-cloud]
    to: [icu]
    since: 2025-01-01
)");
    ASSERT_TRUE(d.start()) << d.log();
    const std::string k_uploads = "/api/v1/athlete/[^/]+/activities";
    auto on_icu = [&] { return icu.get_json("/_fake/activities").Size(); };
    // Both sources fully read: every cloud file fetched, every ride on Intervals.icu.
    auto settled = [&] {
        return on_icu() == static_cast<rapidjson::SizeType>(k_rides) && zwift.count("GET", "/files/.*", 200) >= k_rides;
    };
    ASSERT_TRUE(Daemon::eventually(settled, std::chrono::seconds(240)))
        << on_icu() << " on Intervals.icu, " << zwift.count("GET", "/files/.*", 200) << " cloud files fetched\n"
        << "daemon: " << d.state() << "\n"
        << d.log_excerpt(4000);
    std::this_thread::sleep_for(std::chrono::seconds(3));
    EXPECT_EQ(on_icu(), static_cast<rapidjson::SizeType>(k_rides));
    EXPECT_EQ(icu.count("POST", k_uploads, 201), k_rides);
    EXPECT_EQ(icu.count("POST", k_uploads, 200), 0);  // never sent twice
    auto activities = d.call("GET", "/v1/activities?limit=500").json();
    ASSERT_TRUE(activities.IsObject()) << d.call("GET", "/v1/activities?limit=500").body.substr(0, 300);
    EXPECT_EQ(activities["activities"].Size(), static_cast<rapidjson::SizeType>(k_rides));
    // The bucket never saw a Zwift token; the API always asked for JSON.
    auto log = zwift.requests();
    for (const auto& r : log.GetArray()) {
        const std::string path = r["path"].GetString();
        std::string auth, accept;
        for (const auto& h : r["headers"].GetArray()) {
            if (std::string_view(h[0].GetString()) == "Authorization") auth = h[1].GetString();
            if (std::string_view(h[0].GetString()) == "Accept") accept = h[1].GetString();
        }
        if (path.starts_with("/files/")) {
            EXPECT_EQ(auth, "") << path;
        }
        if (path.starts_with("/api/")) {
            EXPECT_EQ(accept, "application/json") << path;
        }
    }
    EXPECT_EQ(zwift.get_json("/_fake/tokens")["password_grants"].GetInt(), 1);
    EXPECT_EQ(zwift.violations().Size(), 0u);

    // A ride in progress now: listed, held back, delivered once it has ended.
    const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    auto live = json::parse(
        zwift.control("POST", "/_fake/activities", fmt::format(R"({{"start": {}, "in_progress": true}})", now - 600))
            .body);
    const std::string live_id = (*live)[0].GetString();
    ASSERT_EQ(d.call("POST", "/v1/accounts/zwift-cloud/sync").status, 202);
    std::this_thread::sleep_for(std::chrono::seconds(6));
    EXPECT_EQ(on_icu(), static_cast<rapidjson::SizeType>(k_rides));
    ASSERT_EQ(zwift
                  .control("POST", "/_fake/finish",
                           fmt::format(R"({{"id": "{}", "file_b64": "{}"}})", live_id,
                                       net::base64(synth_fit(now - 600, 60, 2))))
                  .status,
              200);
    ASSERT_TRUE(Daemon::eventually([&] { return on_icu() == static_cast<rapidjson::SizeType>(k_rides + 1); },
                                   std::chrono::seconds(60)))
        << on_icu() << " on Intervals.icu\n"
        << d.log_excerpt(4000);

    // The password changes on Zwift and the session ends: Keycloak's
    // invalid_grant puts the account in needs_reauth with its reason.
    zwift.control("POST", "/_fake/config", R"({"password": "changed"})");
    zwift.control("POST", "/_fake/expire", R"({"refresh": true})");
    ASSERT_EQ(d.call("POST", "/v1/accounts/zwift-cloud/sync").status, 202);
    std::string state, reason;
    ASSERT_TRUE(Daemon::eventually(
        [&] {
            auto accounts = d.call("GET", "/v1/accounts").json();
            for (const auto& a : accounts["accounts"].GetArray())
                if (std::string_view(a["id"].GetString()) == "zwift-cloud") {
                    state = a["state"].GetString();
                    reason = a["last_error"].IsString() ? a["last_error"].GetString() : "";
                }
            return state == "needs_reauth";
        },
        std::chrono::seconds(30)))
        << state << " " << reason;
    EXPECT_NE(reason.find("Zwift refused the login of rider@example.com: Invalid user credentials (invalid_grant)"),
              std::string::npos)
        << reason;
    EXPECT_EQ(on_icu(), static_cast<rapidjson::SizeType>(k_rides + 1));
    EXPECT_EQ(d.stop(), 0);
}

}  // namespace
}  // namespace fitbridge::test
