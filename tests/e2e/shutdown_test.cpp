// End to end: SIGTERM while an upload to Intervals.icu stalls (the fake holds
// the request for 30 s) ends the daemon within 5 s; the interrupted delivery
// is reconciled at the next start and the ride arrives exactly once.

#include <gtest/gtest.h>

#include "support/daemon.hpp"
#include "support/fake_server.hpp"
#include "support/synth.hpp"

namespace fitbridge::test {
namespace {

TEST(ShutdownE2E, SigtermCancelsAStalledUploadAndTheNextStartDeliversItOnce) {
    TempDir dir("shutdown-e2e");
    FakeServer fake("intervals");
    write_text(dir / "icu.key", "test-api-key\n");
    // The first upload is held for 30 s and then dropped without an answer:
    // it never lands, so only the upload after the restart may create the ride.
    ASSERT_EQ(fake.control("POST", "/_fake/faults",
                           R"({"method": "POST", "path": "/api/v1/athlete/", "count": 1, "delay_ms": 30000,
                               "close": true})")
                  .status,
              200);
    std::filesystem::create_directories(dir / "inbox");
    write_text(dir / "inbox" / "ride.gpx", synth_gpx(1700000000, 60));

    Daemon d(dir, R"(api:
  listen: 127.0.0.1:{PORT}
accounts:
  - id: inbox
    provider: folder
    path: {DIR}/inbox
    settle_time: "0"
    poll_interval: 10s
  - id: icu
    provider: intervals_icu
    base_url: )" + fake.base() +
                      R"(
    api_key_file: {DIR}/icu.key
routes:
  - id: inbox-to-icu
    from: [inbox]
    to: [icu]
)");
    ASSERT_TRUE(d.start()) << d.log();
    const std::string k_uploads = "/api/v1/athlete/[^/]+/activities";
    ASSERT_TRUE(Daemon::eventually([&] { return fake.count("POST", k_uploads) == 1; })) << d.log();

    const auto sent = std::chrono::steady_clock::now();
    EXPECT_EQ(d.stop(), 0);
    const auto took = std::chrono::steady_clock::now() - sent;
    EXPECT_LT(took, std::chrono::seconds(5)) << d.log();
    // Ended by cancellation, not abandoned at the end of the grace period.
    EXPECT_NE(d.log().find("shutdown: the engine stopped"), std::string::npos) << d.log();
    EXPECT_EQ(d.log().find("grace period"), std::string::npos) << d.log();
    EXPECT_EQ(fake.get_json("/_fake/activities").Size(), 0u);

    // The next start asks Intervals.icu first (not there), then uploads once.
    ASSERT_TRUE(d.start()) << d.log();
    auto delivered = [&] {
        auto p = d.call("POST", "/v1/plan", "{}").json();
        return p.IsObject() && p["totals"]["already_delivered"].GetInt() == 1;
    };
    ASSERT_TRUE(Daemon::eventually(delivered)) << d.log();
    EXPECT_EQ(fake.get_json("/_fake/activities").Size(), 1u);
    EXPECT_EQ(fake.count("POST", k_uploads), 2);
    auto acts = d.call("GET", "/v1/activities").json();
    ASSERT_EQ(acts["activities"].Size(), 1u);
    EXPECT_EQ(d.stop(), 0);
}

}  // namespace
}  // namespace fitbridge::test
