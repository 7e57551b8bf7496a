#pragma once
// One launcher for the fake platform servers (tests/fakes/run NAME): starts
// the fake on a free loopback port, reads its base URL from the first line it
// prints, and talks to its control API (/_fake/..., tests/fakes/README.md).
// The process ends with the object (and on its own when the test process dies).

#include <rapidjson/document.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "json/json.hpp"
#include "support/process.hpp"
#include "support/raw_http.hpp"

namespace fitbridge::test {

// The bytes of a request log's `body_b64` (characters outside the alphabet,
// such as padding, are skipped).
inline std::string decode_base64(std::string_view in) {
    std::string out;
    uint32_t acc = 0;
    int bits = 0;
    for (char c : in) {
        const int v = c >= 'A' && c <= 'Z'   ? c - 'A'
                      : c >= 'a' && c <= 'z' ? c - 'a' + 26
                      : c >= '0' && c <= '9' ? c - '0' + 52
                      : c == '+'             ? 62
                      : c == '/'             ? 63
                                             : -1;
        if (v < 0) continue;
        acc = (acc << 6) | static_cast<uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((acc >> bits) & 0xff));
        }
    }
    return out;
}

class FakeServer {
public:
    // Starts tests/fakes/run `platform`; throws, with what the fake printed,
    // when it has not said where it listens within 10 s.
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

    // http://127.0.0.1:PORT, for an account's base_url.
    const std::string& base() const { return m_base; }
    int port() const { return m_port; }

    // One control request (JSON body) over a fresh connection; status 0 when
    // the fake did not answer.
    ApiAnswer control(const std::string& method, const std::string& path, const std::string& body = {}) const {
        RawConn c(m_port);
        if (!c.connected()) return {};
        c.send(
            fmt::format("{} {} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\nContent-Type: "
                        "application/json\r\nContent-Length: {}\r\n\r\n{}",
                        method, path, m_port, body.size(), body));
        auto r = c.read_response();
        return ApiAnswer{status_of(r), body_of(r)};
    }
    void reset() const { control("POST", "/_fake/reset"); }
    void fault(const std::string& json) const { control("POST", "/_fake/faults", json); }
    // The JSON a control GET answers; throws when it is not JSON.
    rapidjson::Document get_json(const std::string& path) const {
        auto doc = json::parse(control("GET", path).body);
        if (!doc) throw std::runtime_error("fake answered " + path + " with bad JSON");
        return std::move(*doc);
    }
    // The request log without bodies (cheap to poll).
    rapidjson::Document requests() const { return get_json("/_fake/requests?brief=1"); }
    // The request log with each request's body.
    rapidjson::Document requests_with_bodies() const { return get_json("/_fake/requests"); }
    // Seeds activities through the fake's control API (`spec`: one object or
    // an array); the ids it gave them, in order.
    std::vector<std::string> seed_activities(const std::string& spec) const {
        auto doc = json::parse(control("POST", "/_fake/activities", spec).body);
        if (!doc || !doc->IsArray()) throw std::runtime_error("fake refused the activities: " + spec);
        std::vector<std::string> out;
        for (const auto& v : doc->GetArray()) out.emplace_back(v.GetString());
        return out;
    }
    // Every logged API request as "METHOD path?query", oldest first.
    std::vector<std::string> request_lines() const {
        std::vector<std::string> out;
        const auto log = requests();
        for (const auto& r : log.GetArray()) {
            const std::string q = r["query"].GetString();
            out.push_back(
                fmt::format("{} {}{}", r["method"].GetString(), r["path"].GetString(), q.empty() ? "" : "?" + q));
        }
        return out;
    }
    // Requests that match none of the platform's declared operations.
    rapidjson::Document violations() const { return get_json("/_fake/violations"); }
    // Logged API requests with `method` whose whole path matches `path_regex`,
    // optionally only those answered with `status`.
    int count(const std::string& method, const std::string& path_regex, std::optional<int> status = {}) const {
        const auto log = requests();
        const std::regex re(path_regex);
        int n = 0;
        for (const auto& r : log.GetArray()) {
            if (method != r["method"].GetString() || !std::regex_match(r["path"].GetString(), re)) continue;
            if (status && !(r["status"].IsInt() && r["status"].GetInt() == *status)) continue;
            ++n;
        }
        return n;
    }

private:
    static inline int s_count = 0;
    std::filesystem::path m_out;
    std::unique_ptr<Process> m_proc;
    std::string m_base;
    int m_port = 0;
};

}  // namespace fitbridge::test
