#pragma once
// Test helper: plain POSIX-socket HTTP/1.1 exchanges with exact bytes, so
// tests can send malformed, partial or hostile requests.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <rapidjson/document.h>

#include <chrono>
#include <cstring>
#include <optional>
#include <string>

namespace fitbridge::test {

class RawConn {
public:
    explicit RawConn(int port) {
        m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<uint16_t>(port));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(m_fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
            ::close(m_fd);
            m_fd = -1;
        }
        timeval tv{5, 0};
        ::setsockopt(m_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    explicit RawConn(const std::string& unix_path) {
        m_fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::strncpy(a.sun_path, unix_path.c_str(), sizeof(a.sun_path) - 1);
        if (::connect(m_fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
            ::close(m_fd);
            m_fd = -1;
        }
        timeval tv{5, 0};
        ::setsockopt(m_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    ~RawConn() {
        if (m_fd >= 0) ::close(m_fd);
    }
    RawConn(const RawConn&) = delete;
    RawConn& operator=(const RawConn&) = delete;

    bool connected() const { return m_fd >= 0; }
    bool send(const std::string& bytes) {
        return ::send(m_fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
    }
    // Reads one response (headers + Content-Length body), or until EOF when
    // there is no length. Returns nullopt on timeout/EOF before any byte.
    std::optional<std::string> read_response() {
        std::string out = std::move(m_pending);
        m_pending.clear();
        for (;;) {
            auto end = out.find("\r\n\r\n");
            if (end != std::string::npos) {
                auto head = out.substr(0, end);
                auto cl = find_header(head, "content-length");
                if (cl) {
                    size_t total = end + 4 + std::stoul(*cl);
                    if (out.size() >= total) {
                        m_pending = out.substr(total);
                        return out.substr(0, total);
                    }
                }
            }
            char buf[4096];
            ssize_t n = ::recv(m_fd, buf, sizeof buf, 0);
            if (n <= 0) {
                if (out.empty()) return std::nullopt;
                return out;
            }
            out.append(buf, static_cast<size_t>(n));
        }
    }
    // Whatever bytes arrive next (empty on EOF or timeout).
    std::string recv_some() {
        char buf[4096];
        ssize_t n = ::recv(m_fd, buf, sizeof buf, 0);
        return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
    }
    // True when the server closed the connection (EOF within the timeout).
    bool closed_by_peer() {
        char c;
        ssize_t n = ::recv(m_fd, &c, 1, 0);
        return n == 0;
    }

    static std::optional<std::string> find_header(const std::string& head, const std::string& lower_name) {
        size_t pos = 0;
        while ((pos = head.find("\r\n", pos)) != std::string::npos) {
            pos += 2;
            auto colon = head.find(':', pos);
            auto eol = head.find("\r\n", pos);
            if (colon == std::string::npos || (eol != std::string::npos && colon > eol)) continue;
            std::string name = head.substr(pos, colon - pos);
            for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
            if (name == lower_name) {
                auto v = head.substr(colon + 1, (eol == std::string::npos ? head.size() : eol) - colon - 1);
                while (!v.empty() && v.front() == ' ') v.erase(0, 1);
                return v;
            }
        }
        return std::nullopt;
    }

private:
    int m_fd = -1;
    std::string m_pending;
};

// Status code of a raw response ("HTTP/1.1 404 Not Found..." -> 404), or 0.
inline int status_of(const std::optional<std::string>& r) {
    if (!r || r->size() < 12) return 0;
    return std::stoi(r->substr(9, 3));
}

inline std::string body_of(const std::optional<std::string>& r) {
    if (!r) return {};
    auto p = r->find("\r\n\r\n");
    return p == std::string::npos ? std::string() : r->substr(p + 4);
}

// A response's status (0: no answer) and body, read as JSON on request.
struct ApiAnswer {
    int status = 0;
    std::string body;
    rapidjson::Document json() const {
        rapidjson::Document d;
        d.Parse(body.c_str());
        return d;
    }
};

}  // namespace fitbridge::test
