#include "core/sd_notify.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "support/process.hpp"

namespace fitbridge {
namespace {

TEST(SdNotify, NoOpWithoutSocket) {
    ::unsetenv("NOTIFY_SOCKET");
    EXPECT_FALSE(sd_notify("READY=1"));
}

TEST(SdNotify, SendsDatagrams) {
    test::TempDir dir("notify");
    test::NotifyListener s(dir / "notify");
    ::setenv("NOTIFY_SOCKET", s.path().c_str(), 1);
    EXPECT_TRUE(sd_notify("READY=1\nSTATUS=serving"));
    EXPECT_TRUE(sd_notify("STOPPING=1"));
    ::unsetenv("NOTIFY_SOCKET");
    EXPECT_EQ(s.next(std::chrono::seconds(2)), "READY=1\nSTATUS=serving");
    EXPECT_EQ(s.next(std::chrono::seconds(2)), "STOPPING=1");
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
