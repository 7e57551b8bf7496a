#include "providers/folder/watcher.hpp"

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "provider_test_util.hpp"

namespace fitbridge::providers::folder {
namespace {

using namespace std::chrono_literals;

// A file that appears in one event (a rename into the folder, as finished
// downloads and sync clients do): `name` made as a dotfile, which the watcher
// ignores, then renamed.
void drop_file(const test::TempDir& dir, const std::string& name) {
    test::write_text(dir / ("." + name), "x");
    std::filesystem::rename(dir / ("." + name), dir / name);
}

// A watcher on a folder of its own that counts its callbacks; `idle(d)` runs
// the io_context for `d` whatever happens.
struct Counting {
    Counting(const std::string& name, InotifyWatcher::Settings settings)
        : dir(name), w(std::make_shared<InotifyWatcher>(io.get_executor(), "inbox", settings)) {}
    bool start() {
        return w->start({dir.path()}, [this] { ++calls; });
    }
    bool called_more_than(int n, std::chrono::milliseconds limit = 5s) {
        return test::run_until(
            io, [&] { return calls > n; }, limit);
    }
    void idle(std::chrono::milliseconds d) {
        test::run_until(
            io, [] { return false; }, d);
    }
    test::TempDir dir;
    boost::asio::io_context io;
    std::shared_ptr<InotifyWatcher> w;
    int calls = 0;
};

// A lone new file is called back at once, not after the quiet time.
TEST(InotifyWatcher, CallsBackAtOnceForALoneNewFile) {
    Counting c("watcher-lone", InotifyWatcher::Settings{true, 2s, 10s});
    ASSERT_TRUE(c.start());
    EXPECT_EQ(c.w->watched_folders(), 1u);
    const auto t0 = std::chrono::steady_clock::now();
    drop_file(c.dir, "ride.fit");
    ASSERT_TRUE(c.called_more_than(0));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);  // well before the 2 s quiet time
    // Nothing came after it: no second callback when the quiet time ends.
    c.idle(2500ms);
    EXPECT_EQ(c.calls, 1);
    c.w->stop();
}

// A burst: its first event calls back, its later events once more after it.
TEST(InotifyWatcher, CallsBackForABurstsFirstFileAndOnceMoreAfterTheBurst) {
    Counting c("watcher-burst", InotifyWatcher::Settings{true, 1s, 10s});
    ASSERT_TRUE(c.start());
    drop_file(c.dir, "ride0.gpx");
    ASSERT_TRUE(c.called_more_than(0));
    for (int i = 1; i < 5; ++i) test::write_text(c.dir / ("ride" + std::to_string(i) + ".gpx"), "x");
    c.idle(300ms);
    EXPECT_EQ(c.calls, 1);  // the burst is not over
    ASSERT_TRUE(c.called_more_than(1));
    c.idle(1500ms);
    EXPECT_EQ(c.calls, 2);
    c.w->stop();
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
