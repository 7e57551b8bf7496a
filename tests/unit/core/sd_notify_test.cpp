#include "core/sd_notify.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace fitbridge {
namespace {

class NotifySocket {
public:
    NotifySocket() {
        m_path = "/tmp/fb-notify-" + std::to_string(::getpid());
        ::unlink(m_path.c_str());
        m_fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::strncpy(a.sun_path, m_path.c_str(), sizeof(a.sun_path) - 1);
        EXPECT_EQ(::bind(m_fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
        timeval tv{2, 0};
        ::setsockopt(m_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    ~NotifySocket() {
        ::close(m_fd);
        ::unlink(m_path.c_str());
    }
    std::string receive() {
        char buf[512];
        ssize_t n = ::recv(m_fd, buf, sizeof buf, 0);
        return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
    }
    const std::string& path() const { return m_path; }

private:
    std::string m_path;
    int m_fd = -1;
};

TEST(SdNotify, NoOpWithoutSocket) {
    ::unsetenv("NOTIFY_SOCKET");
    EXPECT_FALSE(sd_notify("READY=1"));
}

TEST(SdNotify, SendsDatagrams) {
    NotifySocket s;
    ::setenv("NOTIFY_SOCKET", s.path().c_str(), 1);
    EXPECT_TRUE(sd_notify("READY=1\nSTATUS=serving"));
    EXPECT_TRUE(sd_notify("STOPPING=1"));
    ::unsetenv("NOTIFY_SOCKET");
    EXPECT_EQ(s.receive(), "READY=1\nSTATUS=serving");
    EXPECT_EQ(s.receive(), "STOPPING=1");
}

TEST(SdNotify, WatchdogInterval) {
    ::unsetenv("WATCHDOG_PID");
    ::setenv("WATCHDOG_USEC", "3000000", 1);
    EXPECT_EQ(sd_watchdog_interval(), std::chrono::microseconds(3000000));
    ::setenv("WATCHDOG_PID", "1", 1);  // meant for another process
    EXPECT_EQ(sd_watchdog_interval(), std::nullopt);
    ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
    EXPECT_EQ(sd_watchdog_interval(), std::chrono::microseconds(3000000));
    ::setenv("WATCHDOG_USEC", "soon", 1);
    EXPECT_EQ(sd_watchdog_interval(), std::nullopt);
    ::unsetenv("WATCHDOG_USEC");
    ::unsetenv("WATCHDOG_PID");
    EXPECT_EQ(sd_watchdog_interval(), std::nullopt);
}

}  // namespace
}  // namespace fitbridge
