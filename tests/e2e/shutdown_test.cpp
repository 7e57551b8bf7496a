// End to end: SIGTERM while an upload to Intervals.icu stalls (the fake holds
// the request for 30 s) ends the daemon within 5 s; the interrupted delivery
// is reconciled at the next start and the ride arrives exactly once.

#include <gtest/gtest.h>

#include <regex>

#include "support/daemon.hpp"
#include "support/synth.hpp"

namespace fitbridge::test {
namespace {

// tests/fakes/run intervals on a free port; the first line it prints is the base URL.
class Fake {
public:
    explicit Fake(const TempDir& dir)
        : m_proc({"/usr/bin/env", "bash", std::string(FITBRIDGE_SOURCE_DIR) + "/tests/fakes/run", "intervals", "--port",
                  "0"},
                 {{"PATH", "/usr/bin:/bin"}}, dir / "fake.log") {
        Daemon::eventually(
            [&] {
                auto out = m_proc.output();
                auto p = out.find("http://");
                if (p == std::string::npos) return false;
                m_base = out.substr(p, out.find('\n', p) - p);
                return true;
            },
            std::chrono::seconds(10));
        m_port = m_base.empty() ? 0 : std::stoi(m_base.substr(m_base.rfind(':') + 1));
    }
    const std::string& base_url() const { return m_base; }
    ApiAnswer control(const std::string& method, const std::string& path, const std::string& body = "") const {
        RawConn c(m_port);
        c.send(method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" +
               "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
        auto r = c.read_response();
        return {status_of(r), body_of(r)};
    }
    // Requests received (answered or not) whose method and path match.
    int count(const std::string& method, const std::string& path_regex) const {
        auto log = control("GET", "/_fake/requests?brief=1").json();
        int n = 0;
        std::regex re(path_regex);
        for (const auto& r : log.GetArray())
            n += std::string(r["method"].GetString()) == method && std::regex_match(r["path"].GetString(), re);
        return n;
    }

private:
    Process m_proc;
    std::string m_base;
    int m_port = 0;
};

TEST(ShutdownE2E, SigtermCancelsAStalledUploadAndTheNextStartDeliversItOnce) {
    TempDir dir("shutdown-e2e");
    Fake fake(dir);
    ASSERT_FALSE(fake.base_url().empty());
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
    base_url: )" + fake.base_url() +
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
    EXPECT_EQ(fake.control("GET", "/_fake/activities").json().Size(), 0u);

    // The next start asks Intervals.icu first (not there), then uploads once.
    ASSERT_TRUE(d.start()) << d.log();
    auto delivered = [&] {
        auto p = d.call("POST", "/v1/plan", "{}").json();
        return p.IsObject() && p["totals"]["already_delivered"].GetInt() == 1;
    };
    ASSERT_TRUE(Daemon::eventually(delivered)) << d.log();
    EXPECT_EQ(fake.control("GET", "/_fake/activities").json().Size(), 1u);
    EXPECT_EQ(fake.count("POST", k_uploads), 2);
    auto acts = d.call("GET", "/v1/activities").json();
    ASSERT_EQ(acts["activities"].Size(), 1u);
    EXPECT_EQ(d.stop(), 0);
}

}  // namespace
}  // namespace fitbridge::test
