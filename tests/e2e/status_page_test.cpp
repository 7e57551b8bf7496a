// End to end: the status page and its sign-in through the real binary and
// its real server (headers as sent on the wire), and the activity fields the
// page's chart reads.

#include <gtest/gtest.h>

#include <regex>

#include "support/daemon.hpp"

namespace fitbridge::test {
namespace {

namespace fs = std::filesystem;

constexpr const char* k_config = R"(api:
  listen: 127.0.0.1:{PORT}
accounts:
  - id: inbox
    provider: folder
    path: {DIR}/inbox
    settle_time: "0"
    poll_interval: 10s
  - id: archive
    provider: archive
    root: {DIR}/archive
routes:
  - id: inbox-to-archive
    from: [inbox]
    to: [archive]
)";

class StatusPageTest : public ::testing::Test {
protected:
    StatusPageTest()
        : m_dir("e2e-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name())),
          m_daemon(m_dir, k_config) {
        fs::create_directories(m_dir / "inbox");
    }
    void SetUp() override { ASSERT_TRUE(m_daemon.start()) << m_daemon.log(); }
    void TearDown() override { m_daemon.stop(); }

    // One raw exchange: the whole response, head and body.
    std::string exchange(const std::string& request_head, const std::string& body = "") {
        RawConn c(m_daemon.port());
        c.send(request_head + "Connection: close\r\n\r\n" + body);
        return c.read_response().value_or("");
    }
    std::string host() const { return "Host: 127.0.0.1:" + std::to_string(m_daemon.port()) + "\r\n"; }
    std::string bearer() const { return "Authorization: Bearer " + m_daemon.token() + "\r\n"; }

    TempDir m_dir;
    Daemon m_daemon;
};

std::string head_of(const std::string& r) { return r.substr(0, r.find("\r\n\r\n")); }

TEST_F(StatusPageTest, ThePageIsServedWithItsSecurityHeaders) {
    auto r = exchange("GET / HTTP/1.1\r\n" + host());
    EXPECT_EQ(status_of(r), 200);
    auto head = head_of(r);
    EXPECT_EQ(RawConn::find_header(head, "content-type"), "text/html; charset=utf-8");
    EXPECT_EQ(RawConn::find_header(head, "content-security-policy"),
              "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
              "base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    EXPECT_EQ(RawConn::find_header(head, "x-frame-options"), "DENY");
    EXPECT_EQ(RawConn::find_header(head, "x-content-type-options"), "nosniff");
    EXPECT_EQ(RawConn::find_header(head, "cache-control"), "no-store");
    EXPECT_EQ(body_of(r).rfind("<!doctype html>", 0), 0u);

    r = exchange("GET /app.js HTTP/1.1\r\n" + host());
    EXPECT_EQ(status_of(r), 200);
    EXPECT_EQ(RawConn::find_header(head_of(r), "content-type"), "text/javascript; charset=utf-8");
}

TEST_F(StatusPageTest, TheApiAdmitsThePagesOriginOnly) {
    const auto port = std::to_string(m_daemon.port());
    EXPECT_EQ(status_of(exchange("GET /v1/status HTTP/1.1\r\n" + host())), 401);
    for (const auto& origin : {"http://127.0.0.1:" + port, "http://localhost:" + port}) {
        SCOPED_TRACE(origin);
        EXPECT_EQ(status_of(exchange("GET /v1/status HTTP/1.1\r\n" + host() + bearer() + "Origin: " + origin + "\r\n")),
                  200);
    }
    auto r =
        exchange("GET /v1/status HTTP/1.1\r\n" + host() + bearer() + "Origin: http://evil.example:" + port + "\r\n");
    EXPECT_EQ(status_of(r), 403);
    EXPECT_EQ(body_of(r), "{\"error\":{\"code\":\"forbidden_origin\",\"message\":\"Origin 'http://evil.example:" +
                              port + "' may not use this API\"}}\n");
}

TEST_F(StatusPageTest, OpenPrintsALinkWhoseCodeIsTradedOnceForTheToken) {
    auto [code, out] = m_daemon.cli({"open", "--no-browser"}, "open.log");
    ASSERT_EQ(code, 0) << out;
    std::smatch m;
    const std::string prefix = "http://127.0.0.1:" + std::to_string(m_daemon.port()) + "/#code=";
    ASSERT_TRUE(std::regex_search(out, m, std::regex(prefix + "([0-9a-f]{32})\n"))) << out;
    EXPECT_NE(out.find("Open this link within 120 s; it signs one browser in, once:\n  " + prefix), std::string::npos)
        << out;
    const std::string body = "{\"code\":\"" + m[1].str() + "\"}";
    const std::string post =
        "POST /v1/signin HTTP/1.1\r\n" + host() + "Origin: http://127.0.0.1:" + std::to_string(m_daemon.port()) +
        "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    auto r = exchange(post, body);
    EXPECT_EQ(status_of(r), 200);
    EXPECT_EQ(body_of(r), "{\"token\":\"" + m_daemon.token() + "\"}\n");
    r = exchange(post, body);
    EXPECT_EQ(status_of(r), 401);
    // The code never appears in the daemon's log.
    EXPECT_EQ(m_daemon.log().find(m[1].str()), std::string::npos);
}

TEST_F(StatusPageTest, AnActivityNamesItsSourcesButNotItsSinks) {
    fs::copy_file(fs::path(FITBRIDGE_SOURCE_DIR) / "tests/data/fit/garmin-fenix2-run.fit", m_dir / "ride.fit");
    fs::rename(m_dir / "ride.fit", m_dir / "inbox" / "ride.fit");
    ApiAnswer a;
    ASSERT_TRUE(Daemon::eventually([&] {
        a = m_daemon.call("GET", "/v1/activities");
        return a.body.find("\"delivered\"") != std::string::npos;
    })) << a.body;
    EXPECT_NE(a.body.find("\"deliveries\":{\"archive\":\"delivered\"},\"sources\":[\"inbox\"]}"), std::string::npos)
        << a.body;
    a = m_daemon.call("GET", "/v1/activities/1");
    EXPECT_NE(a.body.find("\"deliveries\":{\"archive\":\"delivered\"},\"sources\":[\"inbox\"],\"links\":["),
              std::string::npos)
        << a.body;
}

}  // namespace
}  // namespace fitbridge::test
