#pragma once
// Test helper: the one launcher of the real fitbridge binary: a daemon in a
// temp directory (its home, state, config and notify socket all inside it),
// started and restarted as a real process, a small API client for it, and
// client commands run in the same environment.

#include <rapidjson/document.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <utility>

#include "support/process.hpp"
#include "support/raw_http.hpp"
#include "support/temp_dir.hpp"

namespace fitbridge::test {

class Daemon {
public:
    // `config_yaml` may use {DIR} for the temp directory and {PORT} for a free
    // port (the one call() talks to); it is written to DIR/fitbridge.yaml.
    Daemon(const TempDir& dir, std::string config_yaml) : Daemon(dir) {
        for (auto [key, value] :
             {std::pair<std::string, std::string>{"{DIR}", dir.path().string()}, {"{PORT}", std::to_string(m_port)}}) {
            for (size_t p; (p = config_yaml.find(key)) != std::string::npos;) config_yaml.replace(p, key.size(), value);
        }
        write_text(dir / "fitbridge.yaml", config_yaml);
    }
    // A daemon whose DIR/fitbridge.yaml the test writes itself, or leaves out
    // (the embedded default).
    explicit Daemon(const TempDir& dir) : m_dir(dir), m_port(free_port()) {}

    // The environment every fitbridge process of this daemon runs with.
    std::map<std::string, std::string> env() const {
        std::map<std::string, std::string> e{{"HOME", m_dir.path().string()},
                                             {"PATH", "/usr/bin:/bin"},
                                             {"FITBRIDGE_STATE_DIR", (m_dir / "state").string()},
                                             {"FITBRIDGE_CONFIG", (m_dir / "fitbridge.yaml").string()},
                                             {"NOTIFY_SOCKET", (m_dir / "notify").string()}};
        for (const auto& [k, v] : extra_env) e[k] = v;
        return e;
    }
    // More environment for every later start (e.g. JOURNAL_STREAM).
    std::map<std::string, std::string> extra_env;
    // Starts `fitbridge serve` with `more_env` over env(), listening on a
    // fresh notify socket, and returns without waiting for it.
    Process& launch(const std::map<std::string, std::string>& more_env = {}) {
        m_notify.reset();  // its destructor unlinks the socket path: before binding anew
        m_notify = std::make_unique<NotifyListener>(m_dir / "notify");
        auto e = env();
        for (const auto& [k, v] : more_env) e[k] = v;
        m_proc = std::make_unique<Process>(std::vector<std::string>{FITBRIDGE_BINARY, "serve"}, e,
                                           m_dir / ("log" + std::to_string(++m_starts)));
        return *m_proc;
    }
    // Starts and waits for READY=1 (false on failure, with the log in `log()`).
    bool start() {
        launch();
        return !m_notify->wait_for("READY=1").empty();
    }
    // What the last launch sent to $NOTIFY_SOCKET.
    NotifyListener& notify() { return *m_notify; }
    void kill9() {
        m_proc->signal(SIGKILL);
        m_proc->wait();
    }
    std::optional<int> stop() {
        m_proc->signal(SIGTERM);
        return m_proc->wait(std::chrono::seconds(10));
    }
    std::string log() const { return m_proc ? m_proc->output() : std::string(); }
    // The log for a failure message: whole when it is at most `n` bytes, else
    // its start (the configuration it read) and its end (where it stopped).
    std::string log_excerpt(size_t n) const {
        const std::string all = log();
        if (all.size() <= n) return all;
        const size_t head = n / 4;
        const size_t tail = n - head;
        return all.substr(0, head) + "\n[... " + std::to_string(all.size() - n) + " bytes ...]\n" +
               all.substr(all.size() - tail);
    }
    // For a test that timed out waiting on the daemon: its exit status, or
    // each of its threads' name, state and kernel wait channel
    // (/proc/PID/task), which tells a dead daemon from a stuck one and where.
    std::string state() {
        if (!m_proc) return "not started";
        if (auto code = m_proc->wait(std::chrono::milliseconds(0)))
            return "exited with status " + std::to_string(*code);
        std::string out = "running, pid " + std::to_string(m_proc->pid()) + ";";
        const auto tasks = std::filesystem::path("/proc") / std::to_string(m_proc->pid()) / "task";
        std::error_code ec;
        for (const auto& t : std::filesystem::directory_iterator(tasks, ec)) {
            auto read = [&](const char* name) {
                std::ifstream in(t.path() / name);
                std::string v;
                std::getline(in, v);
                return v;
            };
            const std::string stat = read("stat");  // "tid (comm) S ...": the state follows the last ')'
            const auto close = stat.rfind(')');
            const std::string state = close == std::string::npos ? "?" : stat.substr(close + 2, 1);
            out += " " + t.path().filename().string() + " (" + read("comm") + ") " + state + " " + read("wchan") + ";";
        }
        return out;
    }
    int port() const { return m_port; }
    std::string token() const {
        std::ifstream in(m_dir / "state" / "api-token");
        std::string t;
        in >> t;
        return t;
    }
    ApiAnswer call(const std::string& method, const std::string& target, const std::string& body = "",
                   const std::string& extra_headers = "") const {
        RawConn c(m_port);
        std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token() +
                          "\r\nConnection: close\r\n" + extra_headers;
        if (!body.empty() || method == "POST")
            req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
        c.send(req + "\r\n" + body);
        auto r = c.read_response();
        return {status_of(r), body_of(r)};
    }
    // Runs `fitbridge args...` in env() with its output in DIR/`log_name`:
    // the exit code (-1 when it is still running after `timeout`) and output.
    std::pair<int, std::string> cli(std::vector<std::string> args, const std::string& log_name,
                                    std::chrono::milliseconds timeout = std::chrono::seconds(20)) const {
        args.insert(args.begin(), FITBRIDGE_BINARY);
        Process p(args, env(), m_dir / log_name);
        auto code = p.wait(timeout);
        return {code.value_or(-1), p.output()};
    }
    // Polls `pred` every 100 ms until true or the timeout passes.
    template <typename Pred>
    static bool eventually(Pred pred, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            if (pred()) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        return pred();
    }

private:
    const TempDir& m_dir;
    int m_port;
    int m_starts = 0;
    std::unique_ptr<NotifyListener> m_notify;
    std::unique_ptr<Process> m_proc;
};

}  // namespace fitbridge::test
