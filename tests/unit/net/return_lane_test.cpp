// The lane through which pool threads hand results back to the io thread:
// each result runs once, on the io thread, oldest first; the io_context runs
// dry once nothing more is expected; a lane destroyed first drops what it
// still holds.

#include "net/return_lane.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace fitbridge::test {
namespace {

namespace asio = boost::asio;

TEST(ReturnLane, ResultsRunOnTheIoThreadOldestFirstAndTheIoContextThenRunsDry) {
    asio::io_context io(1);
    net::ReturnLane lane(io.get_executor());
    std::vector<int> order;
    std::vector<std::thread::id> ran_on;
    std::thread worker;
    asio::post(io, [&] {
        for (int i = 0; i < 3; ++i) lane.expect();
        worker = std::thread([&] {
            for (int i = 0; i < 3; ++i)
                lane.give_back([&, i] {
                    order.push_back(i);
                    ran_on.push_back(std::this_thread::get_id());
                });
        });
    });
    io.run();  // returns only once all three came back
    worker.join();
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
    for (const auto& id : ran_on) EXPECT_EQ(id, std::this_thread::get_id());
    EXPECT_EQ(lane.returned(), 3u);
}

TEST(ReturnLane, ALaneExpectingNothingKeepsNoWorkOutstanding) {
    asio::io_context io(1);
    net::ReturnLane lane(io.get_executor());
    EXPECT_EQ(io.run(), 0u);
}

TEST(ReturnLane, ResultsFromManyThreadsEachRunOnceAndTheLaneWaitsAgainBetweenBursts) {
    asio::io_context io(1);
    net::ReturnLane lane(io.get_executor());
    constexpr int k_threads = 4;
    constexpr int k_each = 2000;
    std::vector<int> runs(k_threads * k_each, 0);  // io thread only
    std::vector<std::thread> workers;
    asio::post(io, [&] {
        for (int i = 0; i < k_threads * k_each; ++i) lane.expect();
        for (int t = 0; t < k_threads; ++t)
            workers.emplace_back([&, t] {
                for (int i = 0; i < k_each; ++i) {
                    lane.give_back([&runs, k = t * k_each + i] { ++runs[static_cast<size_t>(k)]; });
                    if (i % 500 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));  // bursts
                }
            });
    });
    io.run();
    for (auto& w : workers) w.join();
    for (size_t k = 0; k < runs.size(); ++k) ASSERT_EQ(runs[k], 1) << "result " << k;
    EXPECT_EQ(lane.returned(), static_cast<uint64_t>(k_threads * k_each));
}

TEST(ReturnLane, ALaneDestroyedBeforeItsResultsWereTakenDropsThemWithoutRunningThem) {
    asio::io_context io(1);
    auto held = std::make_shared<int>(7);
    bool ran = false;
    {
        net::ReturnLane lane(io.get_executor());
        lane.expect();
        lane.give_back([held, &ran] { ran = true; });
        EXPECT_EQ(held.use_count(), 2);
    }
    io.run();  // the cancelled wait ends without touching the lane
    EXPECT_FALSE(ran);
    EXPECT_EQ(held.use_count(), 1);
}

TEST(ReturnLane, ResultsTakenTogetherRunOnePerTurnSoAHandlerReadyMeanwhileRunsBetweenThem) {
    asio::io_context io(1);
    net::ReturnLane lane(io.get_executor());
    std::vector<std::string> order;
    asio::post(io, [&] {
        for (int i = 0; i < 3; ++i) lane.expect();
        for (int i = 1; i <= 3; ++i)
            lane.give_back([&, i] {
                order.push_back("r" + std::to_string(i));
                if (i == 1) asio::post(io, [&] { order.push_back("api"); });
            });
    });
    io.run();
    EXPECT_EQ(order, (std::vector<std::string>{"r1", "api", "r2", "r3"}));
}

}  // namespace
}  // namespace fitbridge::test
