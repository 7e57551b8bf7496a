// End to end: the real binary, started as systemd would, talked to over sockets.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "support/process.hpp"
#include "support/raw_http.hpp"

namespace fitbridge::test {
namespace {

class DaemonTest : public ::testing::Test {
protected:
    DaemonTest() : m_dir("e2e-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name())) {}

    std::map<std::string, std::string> env() const {
        return {{"HOME", m_dir.path().string()},
                {"PATH", "/usr/bin:/bin"},
                {"FITBRIDGE_STATE_DIR", (m_dir / "state").string()},
                {"FITBRIDGE_CONFIG", (m_dir / "fitbridge.yaml").string()},
                {"NOTIFY_SOCKET", (m_dir / "notify").string()}};
    }
    std::unique_ptr<Process> start(std::map<std::string, std::string> extra = {}) {
        auto e = env();
        for (auto& [k, v] : extra) e[k] = v;
        return std::make_unique<Process>(std::vector<std::string>{FITBRIDGE_BINARY, "serve"}, e, m_dir / "log");
    }
    // Reads the bound port from READY's STATUS line.
    static int port_from_ready(const std::string& ready) {
        auto p = ready.find("serving API on 127.0.0.1:");
        if (p == std::string::npos) return 0;
        return std::stoi(ready.substr(p + 25));
    }
    std::string token() const {
        std::ifstream in(m_dir / "state" / "api-token");
        std::string t;
        in >> t;
        return t;
    }

    TempDir m_dir;
};

TEST_F(DaemonTest, ServesStatusAndStopsOnSigterm) {
    write_text(m_dir / "fitbridge.yaml", "api:\n  listen: 127.0.0.1:0\n");
    NotifyListener notify(m_dir / "notify");
    auto d = start();
    auto ready = notify.wait_for("READY=1");
    ASSERT_FALSE(ready.empty()) << d->output();
    int port = port_from_ready(ready);
    ASSERT_GT(port, 0) << ready;

    RawConn health(port);
    health.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    auto h = health.read_response();
    EXPECT_EQ(status_of(h), 200);
    EXPECT_EQ(body_of(h), "{\"status\":\"ok\"}\n");

    RawConn status(port);
    status.send("GET /v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token() +
                "\r\nConnection: close\r\n\r\n");
    auto s = status.read_response();
    EXPECT_EQ(status_of(s), 200);
    EXPECT_NE(
        body_of(s).find("\"config\":{\"path\":\"" + (m_dir / "fitbridge.yaml").string() + "\",\"source\":\"file\"}"),
        std::string::npos)
        << body_of(s);

    // State is private.
    struct stat st {};
    ASSERT_EQ(::stat((m_dir / "state" / "api-token").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    ASSERT_EQ(::stat((m_dir / "state" / "fitbridge.db").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);

    auto t0 = std::chrono::steady_clock::now();
    d->signal(SIGTERM);
    EXPECT_EQ(notify.wait_for("STOPPING=1"), "STOPPING=1");
    EXPECT_EQ(d->wait(std::chrono::seconds(5)), 0) << d->output();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
    EXPECT_NE(d->output().find("fitbridge stopped"), std::string::npos);
}

TEST_F(DaemonTest, RunsOnEmbeddedDefaultWithoutConfigFile) {
    NotifyListener notify(m_dir / "notify");
    auto d = start({{"FITBRIDGE_API_LISTEN", "127.0.0.1:0"}});
    ASSERT_FALSE(notify.wait_for("READY=1").empty()) << d->output();
    EXPECT_NE(d->output().find("running on the embedded default"), std::string::npos) << d->output();
    EXPECT_NE(d->output().find("inbox: drop FIT, GPX or TCX files (gzipped or not) into "), std::string::npos)
        << d->output();
    d->signal(SIGINT);
    EXPECT_EQ(d->wait(), 0);
}

TEST_F(DaemonTest, BadConfigExits78WithPosition) {
    write_text(m_dir / "fitbridge.yaml", "api:\n  listen: 127.0.0.1:0\n  lisen: oops\n");
    auto d = start();
    EXPECT_EQ(d->wait(), 78);
    EXPECT_NE(d->output().find((m_dir / "fitbridge.yaml").string() + ":3:3: api.lisen: unknown key"), std::string::npos)
        << d->output();
}

TEST_F(DaemonTest, PortInUseExits1) {
    int port = free_port();
    write_text(m_dir / "fitbridge.yaml", "api:\n  listen: 127.0.0.1:" + std::to_string(port) + "\n");
    NotifyListener notify(m_dir / "notify");
    auto first = start();
    ASSERT_FALSE(notify.wait_for("READY=1").empty()) << first->output();
    auto second = std::make_unique<Process>(std::vector<std::string>{FITBRIDGE_BINARY, "serve"}, env(), m_dir / "log2");
    EXPECT_EQ(second->wait(), 1);
    EXPECT_NE(second->output().find("cannot bind control API on 127.0.0.1:" + std::to_string(port)), std::string::npos)
        << second->output();
}

TEST_F(DaemonTest, SighupReloadsAndKeepsOldConfigWhenInvalid) {
    write_text(m_dir / "fitbridge.yaml", "api:\n  listen: 127.0.0.1:0\n");
    NotifyListener notify(m_dir / "notify");
    auto d = start();
    auto ready = notify.wait_for("READY=1");
    int port = port_from_ready(ready);
    ASSERT_GT(port, 0) << d->output();
    auto status = [&]() {
        RawConn c(port);
        c.send("GET /v1/config HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + token() + "\r\n\r\n");
        return body_of(c.read_response());
    };
    EXPECT_NE(status().find("\"log_level\":\"info\""), std::string::npos);

    write_text(m_dir / "fitbridge.yaml", "api:\n  listen: 127.0.0.1:0\nlog_level: [loud]\n");
    d->signal(SIGHUP);
    EXPECT_EQ(notify.wait_for("RELOADING=1"), "RELOADING=1");
    EXPECT_EQ(notify.wait_for("READY=1"), "READY=1");
    EXPECT_NE(d->output().find("reload: keeping the running configuration:"), std::string::npos) << d->output();
    EXPECT_NE(status().find("\"log_level\":\"info\""), std::string::npos);

    write_text(m_dir / "fitbridge.yaml", "api:\n  listen: 127.0.0.1:0\nlog_level: warn\n");
    d->signal(SIGHUP);
    EXPECT_EQ(notify.wait_for("READY=1"), "READY=1");
    EXPECT_NE(status().find("\"log_level\":\"warn\""), std::string::npos);
    d->signal(SIGTERM);
    EXPECT_EQ(d->wait(), 0);
}

TEST_F(DaemonTest, PetsTheWatchdog) {
    write_text(m_dir / "fitbridge.yaml", "api:\n  listen: 127.0.0.1:0\n");
    NotifyListener notify(m_dir / "notify");
    auto d = start({{"WATCHDOG_USEC", "200000"}});
    EXPECT_EQ(notify.wait_for("WATCHDOG=1"), "WATCHDOG=1");
    ASSERT_FALSE(notify.wait_for("READY=1").empty());
    // Keeps petting while idle.
    EXPECT_EQ(notify.wait_for("WATCHDOG=1", std::chrono::milliseconds(500)), "WATCHDOG=1");
    EXPECT_EQ(notify.wait_for("WATCHDOG=1", std::chrono::milliseconds(500)), "WATCHDOG=1");
}

TEST_F(DaemonTest, ClientCommandsTalkToTheDaemon) {
    int port = free_port();
    write_text(m_dir / "fitbridge.yaml", "api:\n  listen: 127.0.0.1:" + std::to_string(port) +
                                             "\naccounts:\n  - id: rides\n    provider: folder\n    path: " +
                                             m_dir.path().string() + "\n    min_bytes: \"2048\"\n");
    NotifyListener notify(m_dir / "notify");
    auto d = start();
    ASSERT_FALSE(notify.wait_for("READY=1").empty()) << d->output();
    auto run = [&](std::vector<std::string> args, const std::string& log) {
        args.insert(args.begin(), FITBRIDGE_BINARY);
        Process p(args, env(), m_dir / log);
        auto code = p.wait();
        return std::make_pair(code.value_or(-1), p.output());
    };
    auto [scode, sout] = run({"status"}, "status2.out");
    EXPECT_EQ(scode, 0) << sout;
    EXPECT_NE(sout.find("accounts:\n  rides            folder         ok\n"), std::string::npos) << sout;
    auto [jcode, jout] = run({"status", "--json"}, "status3.out");
    EXPECT_EQ(jcode, 0);
    EXPECT_EQ(jout.rfind("{\"version\":", 0), 0u) << jout;
    auto [hcode, hout] = run({"healthcheck"}, "health.out");
    EXPECT_EQ(hcode, 0);
    EXPECT_EQ(hout, "ok\n");
    auto [ccode, cout] = run({"config", "show"}, "show.out");
    EXPECT_EQ(ccode, 0);
    EXPECT_NE(cout.find("min_bytes: 2048"), std::string::npos) << cout;
    d->signal(SIGTERM);
    EXPECT_EQ(d->wait(), 0);
    auto [dcode, dout] = run({"healthcheck"}, "health2.out");
    EXPECT_EQ(dcode, 1);
    EXPECT_NE(dout.find("cannot reach FitBridge at 127.0.0.1:" + std::to_string(port)), std::string::npos) << dout;
}

TEST_F(DaemonTest, ConfigCheckExitCodes) {
    write_text(m_dir / "good.yaml", "log_level: debug\n");
    write_text(m_dir / "bad.yaml", "routes: 5\n");
    Process good({FITBRIDGE_BINARY, "config", "check", (m_dir / "good.yaml").string()}, env(), m_dir / "g.out");
    EXPECT_EQ(good.wait(), 0);
    EXPECT_EQ(good.output(), (m_dir / "good.yaml").string() + ": ok (0 accounts, 0 routes)\n");
    Process bad({FITBRIDGE_BINARY, "config", "check", (m_dir / "bad.yaml").string()}, env(), m_dir / "b.out");
    EXPECT_EQ(bad.wait(), 78);
    EXPECT_EQ(bad.output(), (m_dir / "bad.yaml").string() + ":1:9: routes: expected a list, got a scalar\n");
    Process example(
        {FITBRIDGE_BINARY, "config", "check", std::string(FITBRIDGE_SOURCE_DIR) + "/config/fitbridge.example.yaml"},
        env(), m_dir / "e.out");
    EXPECT_EQ(example.wait(), 0) << example.output();
    Process usage({FITBRIDGE_BINARY, "frobnicate"}, env(), m_dir / "u.out");
    EXPECT_EQ(usage.wait(), 2);
}

}  // namespace
}  // namespace fitbridge::test
