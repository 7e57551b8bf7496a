// End to end: the real binary, started as systemd would, talked to over sockets.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "core/sched.hpp"
#include "support/daemon.hpp"
#include "support/synth.hpp"

namespace fitbridge::test {
namespace {

class DaemonTest : public ::testing::Test {
protected:
    DaemonTest()
        : m_dir("e2e-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name())),
          m_daemon(m_dir) {}

    // Reads the bound port from READY's STATUS line.
    static int port_from_ready(const std::string& ready) {
        auto p = ready.find("serving API on 127.0.0.1:");
        if (p == std::string::npos) return 0;
        return std::stoi(ready.substr(p + 25));
    }

    TempDir m_dir;
    Daemon m_daemon;
};

TEST_F(DaemonTest, ServesStatusAndStopsOnSigterm) {
    write_text(m_dir / "fitbridge.yaml", "api:\n  listen: 127.0.0.1:0\n");
    Process& d = m_daemon.launch();
    NotifyListener& notify = m_daemon.notify();
    auto ready = notify.wait_for("READY=1");
    ASSERT_FALSE(ready.empty()) << d.output();
    int port = port_from_ready(ready);
    ASSERT_GT(port, 0) << ready;

    RawConn health(port);
    health.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    auto h = health.read_response();
    EXPECT_EQ(status_of(h), 200);
    EXPECT_EQ(body_of(h), "{\"status\":\"ok\"}\n");

    RawConn status(port);
    status.send("GET /v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + m_daemon.token() +
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
    d.signal(SIGTERM);
    EXPECT_EQ(notify.wait_for("STOPPING=1"), "STOPPING=1");
    EXPECT_EQ(d.wait(std::chrono::seconds(5)), 0) << d.output();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
    EXPECT_NE(d.output().find("fitbridge stopped"), std::string::npos);
}

TEST_F(DaemonTest, RunsOnEmbeddedDefaultWithoutConfigFile) {
    Process& d = m_daemon.launch({{"FITBRIDGE_API_LISTEN", "127.0.0.1:0"}});
    NotifyListener& notify = m_daemon.notify();
    ASSERT_FALSE(notify.wait_for("READY=1").empty()) << d.output();
    EXPECT_NE(d.output().find("running on the embedded default"), std::string::npos) << d.output();
    EXPECT_NE(d.output().find("inbox: drop FIT, GPX or TCX files (gzipped or not) into "), std::string::npos)
        << d.output();
    d.signal(SIGINT);
    EXPECT_EQ(d.wait(), 0);
}

TEST_F(DaemonTest, BadConfigExits78WithPosition) {
    write_text(m_dir / "fitbridge.yaml", "api:\n  listen: 127.0.0.1:0\n  lisen: oops\n");
    Process& d = m_daemon.launch();
    EXPECT_EQ(d.wait(), 78);
    EXPECT_NE(d.output().find((m_dir / "fitbridge.yaml").string() + ":3:3: api.lisen: unknown key"), std::string::npos)
        << d.output();
}

TEST_F(DaemonTest, PortInUseExits1) {
    int port = free_port();
    write_text(m_dir / "fitbridge.yaml", "api:\n  listen: 127.0.0.1:" + std::to_string(port) + "\n");
    ASSERT_TRUE(m_daemon.start()) << m_daemon.log();
    auto [second_code, second_out] = m_daemon.cli({"serve"}, "second.log");
    EXPECT_EQ(second_code, 1);
    EXPECT_NE(second_out.find("cannot bind control API on 127.0.0.1:" + std::to_string(port)), std::string::npos)
        << second_out;
}

TEST_F(DaemonTest, SighupReloadsAndKeepsOldConfigWhenInvalid) {
    write_text(m_dir / "fitbridge.yaml", "api:\n  listen: 127.0.0.1:0\n");
    Process& d = m_daemon.launch();
    NotifyListener& notify = m_daemon.notify();
    auto ready = notify.wait_for("READY=1");
    int port = port_from_ready(ready);
    ASSERT_GT(port, 0) << d.output();
    auto status = [&]() {
        RawConn c(port);
        c.send("GET /v1/config HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + m_daemon.token() + "\r\n\r\n");
        return body_of(c.read_response());
    };
    EXPECT_NE(status().find("\"log_level\":\"info\""), std::string::npos);

    write_text(m_dir / "fitbridge.yaml", "api:\n  listen: 127.0.0.1:0\nlog_level: [loud]\n");
    d.signal(SIGHUP);
    EXPECT_EQ(notify.wait_for("RELOADING=1"), "RELOADING=1");
    EXPECT_EQ(notify.wait_for("READY=1"), "READY=1");
    EXPECT_NE(d.output().find("reload: keeping the running configuration:"), std::string::npos) << d.output();
    EXPECT_NE(status().find("\"log_level\":\"info\""), std::string::npos);

    write_text(m_dir / "fitbridge.yaml", "api:\n  listen: 127.0.0.1:0\nlog_level: warn\n");
    d.signal(SIGHUP);
    EXPECT_EQ(notify.wait_for("READY=1"), "READY=1");
    EXPECT_NE(status().find("\"log_level\":\"warn\""), std::string::npos);
    d.signal(SIGTERM);
    EXPECT_EQ(d.wait(), 0);
}

TEST_F(DaemonTest, PetsTheWatchdog) {
    write_text(m_dir / "fitbridge.yaml", "api:\n  listen: 127.0.0.1:0\n");
    m_daemon.launch({{"WATCHDOG_USEC", "200000"}});
    NotifyListener& notify = m_daemon.notify();
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
    Process& d = m_daemon.launch();
    NotifyListener& notify = m_daemon.notify();
    ASSERT_FALSE(notify.wait_for("READY=1").empty()) << d.output();
    auto [scode, sout] = m_daemon.cli({"status"}, "status2.out");
    EXPECT_EQ(scode, 0) << sout;
    EXPECT_NE(sout.find("accounts:\n  rides            folder         ok\n"), std::string::npos) << sout;
    auto [jcode, jout] = m_daemon.cli({"status", "--json"}, "status3.out");
    EXPECT_EQ(jcode, 0);
    EXPECT_EQ(jout.rfind("{\"version\":", 0), 0u) << jout;
    auto [hcode, hout] = m_daemon.cli({"healthcheck"}, "health.out");
    EXPECT_EQ(hcode, 0);
    EXPECT_EQ(hout, "ok\n");
    auto [ccode, cout] = m_daemon.cli({"config", "show"}, "show.out");
    EXPECT_EQ(ccode, 0);
    EXPECT_NE(cout.find("min_bytes: 2048"), std::string::npos) << cout;
    d.signal(SIGTERM);
    EXPECT_EQ(d.wait(), 0);
    auto [dcode, dout] = m_daemon.cli({"healthcheck"}, "health2.out");
    EXPECT_EQ(dcode, 1);
    EXPECT_NE(dout.find("cannot reach FitBridge at 127.0.0.1:" + std::to_string(port)), std::string::npos) << dout;
}

TEST_F(DaemonTest, ConfigCheckExitCodes) {
    write_text(m_dir / "good.yaml", "log_level: debug\n");
    write_text(m_dir / "bad.yaml", "routes: 5\n");
    auto [good_code, good_out] = m_daemon.cli({"config", "check", (m_dir / "good.yaml").string()}, "g.out");
    EXPECT_EQ(good_code, 0);
    EXPECT_EQ(good_out, (m_dir / "good.yaml").string() + ": ok (0 accounts, 0 routes)\n");
    auto [bad_code, bad_out] = m_daemon.cli({"config", "check", (m_dir / "bad.yaml").string()}, "b.out");
    EXPECT_EQ(bad_code, 78);
    EXPECT_EQ(bad_out, (m_dir / "bad.yaml").string() + ":1:9: routes: expected a list, got a scalar\n");
    auto [example_code, example_out] = m_daemon.cli(
        {"config", "check", std::string(FITBRIDGE_SOURCE_DIR) + "/config/fitbridge.example.yaml"}, "e.out");
    EXPECT_EQ(example_code, 0) << example_out;
    EXPECT_EQ(m_daemon.cli({"frobnicate"}, "u.out").first, 2);
}

// /proc/PID/task/TID/status's Cpus_allowed_list ("0-1").
std::string cpus_of(int pid, int tid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("Cpus_allowed_list:", 0) == 0) return line.substr(line.find_first_not_of(" \t", 18));
    return "";
}

// The thread of `pid` named `name`; 0 when there is none.
int thread_named(int pid, const std::string& name) {
    for (const auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
        std::ifstream in(e.path() / "comm");
        std::string comm;
        std::getline(in, comm);
        if (comm == name) return std::stoi(e.path().filename().string());
    }
    return 0;
}

TEST_F(DaemonTest, WhileTheApiHasClientsTheEnginesItemsRunOffOneCpuAndOnEveryCpuOtherwise) {
    const sched::Cpus all = sched::allowed_cpus();
    if (all.size() < 2) GTEST_SKIP() << "one CPU: nothing to spare";
    const std::string every = sched::describe(all), engine = sched::describe(sched::all_but_one(all));
    write_text(m_dir / "fitbridge.yaml",
               "api:\n  listen: 127.0.0.1:" + std::to_string(m_daemon.port()) +
                   "\naccounts:\n  - id: inbox\n    provider: folder\n    path: " + (m_dir / "inbox").string() +
                   "\n    settle_time: \"0\"\n  - id: archive\n    provider: archive\n"
                   "    root: " +
                   (m_dir / "archive").string() + "\nroutes:\n  - id: r\n    from: [inbox]\n    to: [archive]\n");
    std::filesystem::create_directories(m_dir / "inbox");
    std::filesystem::create_directories(m_dir / "staging");
    Process& d = m_daemon.launch();
    ASSERT_FALSE(m_daemon.notify().wait_for("READY=1").empty()) << d.output();
    EXPECT_NE(d.output().find("cpus: " + every + "; while the control API has clients the engine keeps off CPU " +
                              std::to_string(all.front())),
              std::string::npos)
        << d.output();
    const int api = thread_named(d.pid(), "fitbridge-api");
    ASSERT_GT(api, 0);
    auto archived = [&] {
        size_t n = 0;
        if (std::filesystem::exists(m_dir / "archive"))
            for (const auto& e : std::filesystem::recursive_directory_iterator(m_dir / "archive"))
                n += e.is_regular_file() ? 1 : 0;
        return n;
    };
    auto drop = [&](int i) {
        const auto name = "ride" + std::to_string(i) + ".gpx";
        write_text(m_dir / "staging" / name, synth_gpx(1.7e9 + i * 86400.0));
        std::filesystem::rename(m_dir / "staging" / name, m_dir / "inbox" / name);
    };
    const auto deadline = [] { return std::chrono::steady_clock::now() + std::chrono::seconds(30); };

    // A client asks for the status every 50 ms, from before a ride is
    // dropped until it is archived: the io thread's items run off the spare
    // CPU, the API's thread on every CPU.
    EXPECT_EQ(m_daemon.call("GET", "/v1/status").status, 200);
    drop(1);
    for (auto until = deadline(); archived() < 1 && std::chrono::steady_clock::now() < until;) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        EXPECT_EQ(m_daemon.call("GET", "/v1/status").status, 200);
    }
    ASSERT_EQ(archived(), 1u) << d.output();
    EXPECT_EQ(cpus_of(d.pid(), d.pid()), engine);
    EXPECT_EQ(cpus_of(d.pid(), api), every);

    // No client for longer than the hold (1 s): the next ride's items run on every CPU.
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    drop(2);
    for (auto until = deadline(); archived() < 2 && std::chrono::steady_clock::now() < until;)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ASSERT_EQ(archived(), 2u) << d.output();
    EXPECT_EQ(cpus_of(d.pid(), d.pid()), every);
    EXPECT_EQ(cpus_of(d.pid(), api), every);
    d.signal(SIGTERM);
    EXPECT_EQ(d.wait(), 0);
}

}  // namespace
}  // namespace fitbridge::test
