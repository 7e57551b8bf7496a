// End to end: the real daemon with a TrainingPeaks personal-route account
// (cookie_file, against the TrainingPeaks fake) backfilling device files into
// an archive through 90-day date windows, with a failing window and an
// expired bearer token on the way; then an expired cookie puts the account in
// needs_reauth with the reason to copy it again.

#include <gtest/gtest.h>

#include "core/time.hpp"
#include "json/json.hpp"
#include "net/oauth.hpp"
#include "support/daemon.hpp"
#include "support/fake_server.hpp"
#include "support/synth.hpp"

namespace fitbridge::test {
namespace {

namespace fs = std::filesystem;

constexpr int k_workouts = 20;
constexpr double k_first = 1736496000;  // 2025-01-10T08:00:00Z

size_t files_under(const fs::path& root) {
    size_t n = 0;
    if (!fs::exists(root)) return 0;
    for (const auto& e : fs::recursive_directory_iterator(root))
        if (e.is_regular_file()) ++n;
    return n;
}

TEST(TrainingPeaksE2E, PersonalRouteBackfillsDeviceFilesAndAnExpiredCookieNeedsReauth) {
    TempDir dir("tp-e2e");
    FakeServer tp("trainingpeaks");
    write_text(dir / "tp-cookie", "Production_tpAuth=tp-cookie-value-123\n");
    // One workout every 12 days through 2025 (several 90-day windows), and a planned one.
    std::string spec = "[";
    for (int i = 0; i < k_workouts; ++i) {
        const double start = k_first + i * 12 * 86400.0;
        spec += fmt::format(R"({}{{"start": {}, "sport": "ride", "file_b64": "{}"}})", i ? "," : "", start,
                            net::base64(synth_fit(start, 60, 2)));
    }
    spec += fmt::format(R"(, {{"start": {}, "sport": "run", "planned": true}}])", k_first + 3 * 86400.0);
    ASSERT_EQ(tp.control("POST", "/_fake/activities", spec).status, 200);
    ASSERT_EQ(tp.control("POST", "/_fake/faults", R"([
        {"method": "GET", "path": "/fitness/v6/athletes/3141592/workouts/2025", "count": 1, "status": 503},
        {"method": "GET", "path": "/fitness/v6/athletes/3141592/workouts/2000005/details", "count": 1,
         "status": 401, "body": "{\"Message\":\"Authorization has been denied for this request.\"}"}])")
                  .status,
              200);
    Daemon d(dir, R"(api:
  listen: 127.0.0.1:{PORT}
accounts:
  - id: tp
    provider: trainingpeaks
    base_url: )" + tp.base() +
                      R"(
    cookie_file: {DIR}/tp-cookie
    poll_interval: 10s
  - id: archive
    provider: archive
    root: {DIR}/archive
routes:
  - id: tp-to-archive
    from: [tp]
    to: [archive]
    since: 2025-01-01
)");
    ASSERT_TRUE(d.start()) << d.log();
    ASSERT_TRUE(
        Daemon::eventually([&] { return files_under(dir / "archive") == k_workouts; }, std::chrono::seconds(120)))
        << files_under(dir / "archive") << " archived\n"
        << d.log_excerpt(4000);
    std::this_thread::sleep_for(std::chrono::seconds(2));
    EXPECT_EQ(files_under(dir / "archive"), static_cast<size_t>(k_workouts));
    // Every list request stayed within 90 days; the 401 was cured by a second exchange.
    auto log = tp.requests();
    for (const auto& r : log.GetArray()) {
        const std::string path = r["path"].GetString();
        if (!path.starts_with("/fitness/v6/athletes/3141592/workouts/20")) continue;
        const auto first = path.substr(path.size() - 21, 10), last = path.substr(path.size() - 10);
        const auto days =
            (parse_iso8601(last + "T00:00:00Z").value_or(0) - parse_iso8601(first + "T00:00:00Z").value_or(0)) / 86400 +
            1;
        EXPECT_LE(days, 90) << path;
    }
    EXPECT_GE(tp.get_json("/_fake/tokens")["exchanges"].GetInt(), 2);
    EXPECT_EQ(tp.violations().Size(), 0u);

    // The cookie expires: the next poll puts the account in needs_reauth, saying what to do.
    tp.control("POST", "/_fake/expire", R"({"cookie": true})");
    ASSERT_EQ(d.call("POST", "/v1/accounts/tp/sync").status, 202);
    std::string state, reason;
    ASSERT_TRUE(Daemon::eventually(
        [&] {
            auto accounts = d.call("GET", "/v1/accounts").json();
            for (const auto& a : accounts["accounts"].GetArray())
                if (std::string_view(a["id"].GetString()) == "tp") {
                    state = a["state"].GetString();
                    reason = a["last_error"].IsString() ? a["last_error"].GetString() : "";
                }
            return state == "needs_reauth";
        },
        std::chrono::seconds(30)))
        << state << " " << reason << "\n"
        << d.log_excerpt(3000);
    EXPECT_NE(reason.find("copy the Production_tpAuth cookie again"), std::string::npos) << reason;
    EXPECT_EQ(d.stop(), 0);
}

}  // namespace
}  // namespace fitbridge::test
