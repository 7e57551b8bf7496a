#include "providers/folder/watcher.hpp"

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "provider_test_util.hpp"

namespace fitbridge::providers::folder {
namespace {

using namespace std::chrono_literals;

TEST(InotifyWatcher, CallsBackOnceForABurstOfNewFiles) {
    test::TempDir dir("watcher-burst");
    boost::asio::io_context io;
    auto w = std::make_shared<InotifyWatcher>(io.get_executor(), "inbox", InotifyWatcher::Settings{true, 50ms, 2000ms});
    int calls = 0;
    ASSERT_TRUE(w->start({dir.path()}, [&] { ++calls; }));
    EXPECT_EQ(w->watched_folders(), 1u);
    for (int i = 0; i < 5; ++i) test::write_text(dir / ("ride" + std::to_string(i) + ".gpx"), "x");
    ASSERT_TRUE(test::run_until(
        io, [&] { return calls > 0; }, 5s));
    test::run_until(
        io, [] { return false; }, 200ms);
    EXPECT_EQ(calls, 1);
    w->stop();
}

// A callback that throws ends that coroutine; the escape is logged with the
// account and the reason rather than dropped, and the watcher still stops cleanly.
TEST(InotifyWatcher, AnExceptionFromTheCallbackIsLoggedNotLost) {
    test::TempDir dir("watcher-throw");
    boost::asio::io_context io;
    auto w = std::make_shared<InotifyWatcher>(io.get_executor(), "inbox", InotifyWatcher::Settings{true, 20ms, 2000ms});
    int calls = 0;
    ASSERT_TRUE(w->start({dir.path()}, [&] {
        ++calls;
        throw std::runtime_error("database is locked");
    }));
    testing::internal::CaptureStderr();
    test::write_text(dir / "ride.gpx", "x");
    test::run_until(
        io, [&] { return calls > 0; }, 5s);
    test::run_until(
        io, [] { return false; }, 50ms);
    const std::string err = testing::internal::GetCapturedStderr();
    EXPECT_EQ(calls, 1);
    EXPECT_NE(err.find("account 'inbox': inotify debounce stopped: database is locked; new files are found by the "
                       "periodic rescan"),
              std::string::npos)
        << err;
    w->stop();
}

}  // namespace
}  // namespace fitbridge::providers::folder
