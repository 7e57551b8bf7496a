#pragma once
// One launcher for the fake platform servers (tests/fakes/run NAME): starts
// the fake on a free loopback port, reads its base URL from the first line it
// prints, and talks to its control API (/_fake/...). The process ends with
// the object (and on its own when the test process dies).

#include <rapidjson/document.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "json/json.hpp"
#include "support/process.hpp"
#include "support/raw_http.hpp"

namespace fitbridge::test {

class FakeServer {
public:
    explicit FakeServer(const std::string& platform)
        : m_out(std::filesystem::temp_directory_path() /
                fmt::format("fitbridge-fake-{}-{}-{}.out", platform, ::getpid(), s_count++)) {
        const char* path = std::getenv("PATH");
        const char* home = std::getenv("HOME");
        m_proc = std::make_unique<Process>(
            std::vector<std::string>{std::string(FITBRIDGE_SOURCE_DIR) + "/tests/fakes/run", platform, "--port", "0"},
            std::map<std::string, std::string>{{"PATH", path ? path : "/usr/bin:/bin"}, {"HOME", home ? home : "/tmp"}},
            m_out);
        for (int i = 0; i < 400 && m_base.empty(); ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(25));
            auto text = m_proc->output();
            if (auto nl = text.find('\n'); nl != std::string::npos && text.starts_with("http://"))
                m_base = text.substr(0, nl);
        }
        if (m_base.empty()) throw std::runtime_error("fake " + platform + " did not start: " + m_proc->output());
        m_port = std::stoi(m_base.substr(m_base.rfind(':') + 1));
    }
    ~FakeServer() {
        m_proc.reset();
        std::error_code ec;
        std::filesystem::remove(m_out, ec);
    }
    FakeServer(const FakeServer&) = delete;
    FakeServer& operator=(const FakeServer&) = delete;

    const std::string& base() const { return m_base; }
    int port() const { return m_port; }

    struct Reply {
        int status = 0;
        std::string body;
    };
    // One control request (JSON body) over a fresh connection.
    Reply control(const std::string& method, const std::string& path, const std::string& body = {}) const {
        RawConn c(m_port);
        if (!c.connected()) return {};
        c.send(
            fmt::format("{} {} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\nContent-Type: "
                        "application/json\r\nContent-Length: {}\r\n\r\n{}",
                        method, path, m_port, body.size(), body));
        auto r = c.read_response();
        return Reply{status_of(r), body_of(r)};
    }
    void reset() const { control("POST", "/_fake/reset"); }
    void fault(const std::string& json) const { control("POST", "/_fake/faults", json); }
    rapidjson::Document get_json(const std::string& path) const {
        auto doc = json::parse(control("GET", path).body);
        if (!doc) throw std::runtime_error("fake answered " + path + " with bad JSON");
        return std::move(*doc);
    }
    rapidjson::Document requests() const { return get_json("/_fake/requests?brief=1"); }
    // Requests that match none of the platform's declared operations.
    rapidjson::Document violations() const { return get_json("/_fake/violations"); }

private:
    static inline int s_count = 0;
    std::filesystem::path m_out;
    std::unique_ptr<Process> m_proc;
    std::string m_base;
    int m_port = 0;
};

}  // namespace fitbridge::test
