// The worker threads behind the offload pool: every posted task runs once,
// in order of posting on a single worker, at the workers' lower priority;
// join runs what is queued, including what tasks post while it waits.

#include "net/workers.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace fitbridge::test {
namespace {

TEST(Workers, OneWorkerRunsTasksInTheOrderTheyWerePostedOffTheCallersThread) {
    std::vector<int> order;
    std::vector<std::thread::id> ran_on;
    {
        net::Workers w(1);
        for (int i = 0; i < 100; ++i)
            w.post([&, i] {
                order.push_back(i);
                ran_on.push_back(std::this_thread::get_id());
            });
        w.join();
    }
    ASSERT_EQ(order.size(), 100u);
    for (int i = 0; i < 100; ++i) EXPECT_EQ(order[static_cast<size_t>(i)], i);
    for (const auto& id : ran_on) {
        EXPECT_NE(id, std::this_thread::get_id());
        EXPECT_EQ(id, ran_on.front());
    }
}

TEST(Workers, PostingWhileEveryWorkerIsBusyReturnsAtOnceAndEveryTaskRunsLater) {
    net::Workers w(2);
    std::promise<void> release;
    auto gate = release.get_future().share();
    std::atomic<int> started{0};
    std::atomic<int> ran{0};
    for (int i = 0; i < 2; ++i)
        w.post([gate, &started] {
            ++started;
            gate.wait();
        });
    while (started.load() < 2) std::this_thread::yield();
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 10000; ++i) w.post([&ran] { ++ran; });
    const auto posting = std::chrono::steady_clock::now() - t0;
    EXPECT_EQ(ran.load(), 0);  // both workers are still held
    EXPECT_LT(posting, std::chrono::seconds(5));
    release.set_value();
    w.join();
    EXPECT_EQ(ran.load(), 10000);
}

TEST(Workers, TasksPostedFromManyThreadsAtOnceEachRunExactlyOnce) {
    std::vector<std::atomic<int>> runs(4 * 5000);
    {
        net::Workers w(3);
        std::vector<std::thread> posters;
        for (int p = 0; p < 4; ++p)
            posters.emplace_back([&, p] {
                for (int i = 0; i < 5000; ++i) w.post([&runs, k = p * 5000 + i] { ++runs[static_cast<size_t>(k)]; });
            });
        for (auto& t : posters) t.join();
    }  // the destructor joins
    for (size_t k = 0; k < runs.size(); ++k) ASSERT_EQ(runs[k].load(), 1) << "task " << k;
}

TEST(Workers, JoinRunsWhatTasksPostWhileItWaits) {
    std::atomic<int> depth{0};
    net::Workers w(2);
    // Each task posts the next one: a chain of 50 that join must see through.
    std::function<void()> step = [&] {
        if (++depth < 50) w.post(step);
    };
    w.post(step);
    w.join();
    EXPECT_EQ(depth.load(), 50);
}

TEST(Workers, EachWorkerRunsAtTheLowerPriorityItWasGiven) {
    const int before = ::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()));
    std::atomic<int> seen{-100};
    {
        net::Workers w(1, 7);
        w.post([&] { seen = ::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid())); });
    }
    EXPECT_EQ(seen.load(), before + 7 > 19 ? 19 : before + 7);
    EXPECT_EQ(::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid())), before);  // the caller's is unchanged
}

TEST(Workers, EachWorkerCallsTheHookBeforeEachTaskOnItsOwnThread) {
    std::mutex m;
    std::vector<std::string> seen;  // "hook <thread>" and "task <thread>", in order
    auto me = [] {
        std::ostringstream s;
        s << std::this_thread::get_id();
        return s.str();
    };
    {
        net::Workers w(1, 0, [&] {
            std::lock_guard l(m);
            seen.push_back("hook " + me());
        });
        for (int i = 0; i < 3; ++i)
            w.post([&] {
                std::lock_guard l(m);
                seen.push_back("task " + me());
            });
        w.join();
    }
    ASSERT_EQ(seen.size(), 6u);
    const std::string worker = seen[0].substr(5);
    EXPECT_NE(worker, me());
    for (size_t i = 0; i < 6; i += 2) {
        EXPECT_EQ(seen[i], "hook " + worker);
        EXPECT_EQ(seen[i + 1], "task " + worker);
    }
}

TEST(Workers, AMoveOnlyTaskIsAccepted) {
    auto value = std::make_unique<int>(41);
    std::atomic<int> seen{0};
    {
        net::Workers w(1);
        w.post([v = std::move(value), &seen] { seen = *v + 1; });
    }
    EXPECT_EQ(seen.load(), 42);
}

}  // namespace
}  // namespace fitbridge::test
