#include "core/side_by_side.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace fitbridge {
namespace {

// Work that returns only once `width` calls are inside it at the same time
// (or after 10 s), recording the kernel thread ids that ran it.
struct Meeting {
    explicit Meeting(size_t w) : width(w) {}
    void operator()(size_t) {
        std::unique_lock lock(mutex);
        tids.insert(::gettid());
        if (++inside == width) met = true;
        cv.notify_all();
        cv.wait_for(lock, std::chrono::seconds(10), [&] { return met; });
    }
    size_t width;
    std::mutex mutex;
    std::condition_variable cv;
    size_t inside = 0;
    bool met = false;
    std::set<pid_t> tids;
};

TEST(SideBySide, RunsEveryIndexExactlyOnce) {
    for (size_t n : {0u, 1u, 2u, 7u, 8u, 9u, 100u}) {
        std::vector<std::atomic<int>> runs(n);
        for_each_side_by_side(n, [&](size_t i) { ++runs[i]; });
        for (size_t i = 0; i < n; ++i) EXPECT_EQ(runs[i].load(), 1) << "n " << n << " index " << i;
    }
}

TEST(SideBySide, EightRunAtOnceOnHelpersThatAreKeptBetweenCalls) {
    Meeting first(8);
    for_each_side_by_side(8, std::ref(first));
    ASSERT_TRUE(first.met) << "only " << first.inside << " ran at once";
    EXPECT_EQ(first.tids.size(), 8u);
    EXPECT_TRUE(first.tids.contains(::gettid()));  // the caller is one of them
    Meeting second(8);
    for_each_side_by_side(8, std::ref(second));
    ASSERT_TRUE(second.met);
    // The same seven helpers: none started for the second call.
    EXPECT_EQ(second.tids, first.tids);
}

TEST(SideBySide, CallersOnSeveralThreadsShareTheHelpers) {
    std::vector<std::vector<std::atomic<int>>> runs(4);
    for (auto& r : runs) r = std::vector<std::atomic<int>>(50);
    std::vector<std::thread> callers;
    for (size_t c = 0; c < runs.size(); ++c)
        callers.emplace_back([&, c] {
            for (int round = 0; round < 20; ++round) for_each_side_by_side(50, [&](size_t i) { ++runs[c][i]; });
        });
    for (auto& t : callers) t.join();
    for (size_t c = 0; c < runs.size(); ++c)
        for (size_t i = 0; i < 50; ++i) EXPECT_EQ(runs[c][i].load(), 20) << "caller " << c << " index " << i;
}

}  // namespace
}  // namespace fitbridge
