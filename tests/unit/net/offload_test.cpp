// The offload pool: run_each runs its calls side by side on the pool and
// resumes the caller on its own executor once all of them have returned.

#include "net/offload.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace fitbridge::test {
namespace {

namespace asio = boost::asio;

// Runs `task` to its end on a fresh io_context (nothing else keeps it busy):
// run() must not return before the pool's calls are done.
template <typename Task>
std::exception_ptr run_on_io(Task task, std::thread::id& resumed_on) {
    asio::io_context io;
    std::exception_ptr error;
    bool done = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            co_await task();
            resumed_on = std::this_thread::get_id();
        },
        [&](std::exception_ptr e) {
            error = e;
            done = true;
        });
    io.run();
    EXPECT_TRUE(done);
    return error;
}

TEST(Offload, RunEachRunsEveryCallSideBySideAndResumesOnTheCallersThread) {
    net::Offload pool(3, 0);
    std::mutex m;
    std::condition_variable cv;
    int arrived = 0;
    std::vector<int> out(3, -1);
    std::vector<std::thread::id> ran_on(3);
    // Each call waits until all three have started: run one after the other,
    // they would time out.
    auto f = [&](size_t i) {
        std::unique_lock lock(m);
        ++arrived;
        cv.notify_all();
        const bool all = cv.wait_for(lock, std::chrono::seconds(10), [&] { return arrived == 3; });
        out[i] = all ? static_cast<int>(i * 10) : -2;
        ran_on[i] = std::this_thread::get_id();
    };
    std::thread::id resumed_on;
    auto error = run_on_io([&]() -> asio::awaitable<void> { co_await pool.run_each(3, f); }, resumed_on);
    EXPECT_FALSE(error);
    EXPECT_EQ(out, (std::vector<int>{0, 10, 20}));
    EXPECT_EQ(resumed_on, std::this_thread::get_id());
    for (const auto& id : ran_on) EXPECT_NE(id, std::this_thread::get_id());
}

TEST(Offload, RunEachRethrowsAFailedCallAfterTheOthersFinished) {
    net::Offload pool(2, 0);
    std::atomic<int> finished{0};
    auto f = [&](size_t i) {
        if (i == 1) throw std::runtime_error("call 1 failed");
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        ++finished;
    };
    std::thread::id resumed_on;
    auto error = run_on_io([&]() -> asio::awaitable<void> { co_await pool.run_each(4, f); }, resumed_on);
    ASSERT_TRUE(error);
    EXPECT_EQ(finished.load(), 3);
    try {
        std::rethrow_exception(error);
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "call 1 failed");
    }
}

TEST(Offload, RunEachWithoutAPoolRunsInOrderRightHere) {
    std::vector<size_t> order;
    const auto here = std::this_thread::get_id();
    auto f = [&](size_t i) {
        EXPECT_EQ(std::this_thread::get_id(), here);
        order.push_back(i);
    };
    std::thread::id resumed_on;
    auto error = run_on_io([&]() -> asio::awaitable<void> { co_await net::run_each(nullptr, 3, f); }, resumed_on);
    EXPECT_FALSE(error);
    EXPECT_EQ(order, (std::vector<size_t>{0, 1, 2}));
}

TEST(Offload, RunGivesTheCallersThreadTheValueComputedOnThePool) {
    net::Offload pool(1, 0, 1);
    std::thread::id computed_on;
    std::thread::id resumed_on;
    std::string got;
    std::string synced;
    auto error = run_on_io(
        [&]() -> asio::awaitable<void> {
            got = co_await pool.run([&] {
                computed_on = std::this_thread::get_id();
                return std::string("decoded");
            });
            synced = co_await pool.run_disk([] { return std::string("synced"); });
        },
        resumed_on);
    EXPECT_FALSE(error);
    EXPECT_EQ(got, "decoded");
    EXPECT_EQ(synced, "synced");
    EXPECT_NE(computed_on, std::this_thread::get_id());
    EXPECT_EQ(resumed_on, std::this_thread::get_id());
}

TEST(Offload, RunRethrowsOnTheCallersThreadWhatTheWorkThrew) {
    net::Offload pool(1, 0, 0);
    std::thread::id resumed_on;
    int after = 0;
    auto error = run_on_io(
        [&]() -> asio::awaitable<void> {
            co_await pool.run([] { return 1; });
            try {
                co_await pool.run([]() -> int { throw std::runtime_error("bad file"); });
            } catch (const std::runtime_error& e) {
                after = std::string(e.what()) == "bad file" ? 2 : -1;
            }
            co_await pool.run([&] { after += 1; });  // void work
        },
        resumed_on);
    EXPECT_FALSE(error);
    EXPECT_EQ(after, 3);
}

TEST(Offload, ResultsForCallersOnItsHomeExecutorComeBackThroughTheLaneAndOthersArePosted) {
    asio::io_context io(1);
    net::Offload pool(io.get_executor(), 2, 0, 1);
    int got = 0;
    size_t each = 0;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            got = co_await pool.run([] { return 20; });
            got += co_await pool.run_disk([] { return 1; });
            auto count = [&](size_t) { ++each; };  // one call at a time (a single pool thread would do too)
            co_await pool.run_each(1, count);
        },
        asio::detached);
    io.run();
    EXPECT_EQ(got, 21);
    EXPECT_EQ(each, 1u);
    EXPECT_EQ(pool.returned_through_lane(), 3u);

    // A caller on another io_context gets its result posted to it.
    asio::io_context other;
    int elsewhere = 0;
    asio::co_spawn(
        other, [&]() -> asio::awaitable<void> { elsewhere = co_await pool.run([] { return 5; }); }, asio::detached);
    other.run();
    EXPECT_EQ(elsewhere, 5);
    EXPECT_EQ(pool.returned_through_lane(), 3u);
}

}  // namespace
}  // namespace fitbridge::test
