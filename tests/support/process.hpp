#pragma once
// Test helper: run the real fitbridge binary as a child process with its own
// environment, stderr captured to a file, and a systemd-style notify socket.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/temp_dir.hpp"  // every process test needs a directory of its own

namespace fitbridge::test {

// A unix datagram socket standing in for systemd's $NOTIFY_SOCKET.
class NotifyListener {
public:
    explicit NotifyListener(const std::filesystem::path& path) : m_path(path) {
        ::unlink(path.c_str());
        m_fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::strncpy(a.sun_path, path.c_str(), sizeof(a.sun_path) - 1);
        ::bind(m_fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    }
    ~NotifyListener() {
        ::close(m_fd);
        ::unlink(m_path.c_str());
    }
    // Waits for the next datagram (empty string on timeout).
    std::string next(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        timeval tv{static_cast<time_t>(timeout.count() / 1000),
                   static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
        ::setsockopt(m_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        char buf[1024];
        ssize_t n = ::recv(m_fd, buf, sizeof buf, 0);
        return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
    }
    // Waits for a datagram containing `needle`, skipping others.
    std::string wait_for(const std::string& needle, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            auto d = next(std::max(left, std::chrono::milliseconds(1)));
            if (d.find(needle) != std::string::npos) return d;
        }
        return {};
    }
    const std::filesystem::path& path() const { return m_path; }

private:
    std::filesystem::path m_path;
    int m_fd = -1;
};

class Process {
public:
    Process(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
            const std::filesystem::path& stderr_path)
        : m_stderr(stderr_path) {
        std::vector<std::string> envs;
        for (const auto& [k, v] : env) envs.push_back(k + "=" + v);
        m_pid = ::fork();
        if (m_pid == 0) {
            int fd = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            ::dup2(fd, 2);
            ::dup2(fd, 1);
            std::vector<char*> argv;
            for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
            argv.push_back(nullptr);
            std::vector<char*> envp;
            for (auto& e : envs) envp.push_back(e.data());
            envp.push_back(nullptr);
            ::execve(argv[0], argv.data(), envp.data());
            ::_exit(127);
        }
    }
    ~Process() {
        if (m_pid > 0 && !m_exit) {
            ::kill(m_pid, SIGKILL);
            ::waitpid(m_pid, nullptr, 0);
        }
    }
    void signal(int sig) { ::kill(m_pid, sig); }
    // Exit code (128+signal when killed), or nullopt if still running after timeout.
    std::optional<int> wait(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!m_exit) {
            int status = 0;
            pid_t r = ::waitpid(m_pid, &status, WNOHANG);
            if (r == m_pid) {
                m_exit = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
                break;
            }
            if (std::chrono::steady_clock::now() > deadline) return std::nullopt;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return m_exit;
    }
    std::string output() const {
        std::ifstream in(m_stderr);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
    pid_t pid() const { return m_pid; }

private:
    pid_t m_pid = -1;
    std::optional<int> m_exit;
    std::filesystem::path m_stderr;
};

// A TCP port that was free a moment ago.
inline int free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    int port = ntohs(a.sin_port);
    ::close(fd);
    return port;
}

}  // namespace fitbridge::test
