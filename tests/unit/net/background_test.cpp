// Background work on the io thread: its items run in order, one per turn of
// the io_context, so a handler that became ready meanwhile (a request to the
// control API) waits for at most one of them.

#include "net/background.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/connect_pair.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace fitbridge::test {
namespace {

namespace asio = boost::asio;

TEST(Background, AHandlerReadyMeanwhileWaitsForOneBackgroundItemNotForAllOfThem) {
    asio::io_context io(1);
    net::Background background(io);
    std::vector<std::string> order;
    asio::post(io, [&] {
        for (int i = 1; i <= 4; ++i)
            asio::post(background.get_executor(), [&, i] {
                order.push_back("b" + std::to_string(i));
                // Ready during the first item: a request's next step.
                if (i == 1) asio::post(io, [&] { order.push_back("api"); });
            });
    });
    io.run();
    EXPECT_EQ(order, (std::vector<std::string>{"b1", "api", "b2", "b3", "b4"}));
    EXPECT_EQ(background.waiting(), 0u);
}

TEST(Background, BytesArrivingDuringAnItemAreReadBeforeTheNextItem) {
    // A request's bytes arrive while an item runs: the reactor finds them
    // before the next item starts, so the request waits for one item only.
    asio::io_context io(1);
    net::Background background(io);
    asio::local::stream_protocol::socket client(io), server(io);
    asio::local::connect_pair(client, server);
    std::vector<std::string> order;
    char byte = 0;
    server.async_read_some(asio::buffer(&byte, 1),
                           [&](boost::system::error_code ec, size_t) { order.push_back(ec ? "read failed" : "read"); });
    asio::post(io, [&] {
        asio::post(background.get_executor(), [&] {
            order.push_back("b1");
            const char b = 'x';
            ASSERT_EQ(::write(client.native_handle(), &b, 1), 1);  // "arrives" now
        });
        for (int i = 2; i <= 4; ++i)
            asio::post(background.get_executor(), [&, i] { order.push_back("b" + std::to_string(i)); });
    });
    io.run();
    EXPECT_EQ(order, (std::vector<std::string>{"b1", "read", "b2", "b3", "b4"}));
}

TEST(Background, ACoroutineOnItsExecutorRunsOnTheIoThreadWithTimersAndTheIoContextThenRunsDry) {
    asio::io_context io(1);
    net::Background background(io);
    asio::any_io_executor ex = background.get_executor();
    EXPECT_TRUE(ex == asio::any_io_executor(background.get_executor()));
    std::thread::id ran_on;
    int steps = 0;
    asio::co_spawn(
        ex,
        [&]() -> asio::awaitable<void> {
            auto self = co_await asio::this_coro::executor;
            asio::steady_timer t(self);
            for (int i = 0; i < 3; ++i) {
                t.expires_after(std::chrono::milliseconds(1));
                co_await t.async_wait(asio::use_awaitable);
                ++steps;
            }
            ran_on = std::this_thread::get_id();
        },
        asio::detached);
    io.run();  // returns: nothing is left waiting
    EXPECT_EQ(steps, 3);
    EXPECT_EQ(ran_on, std::this_thread::get_id());
}

TEST(Background, DispatchFromOneOfItsItemsQueuesLikePostSoNoItemRunsAnotherInline) {
    asio::io_context io(1);
    net::Background background(io);
    asio::any_io_executor ex = background.get_executor();
    std::vector<std::string> order;
    asio::post(ex, [&] {
        order.push_back("item");
        asio::dispatch(ex, [&] { order.push_back("dispatched"); });
        asio::post(ex, [&] { order.push_back("posted"); });
        order.push_back("item end");
    });
    asio::post(io, [&] { asio::dispatch(ex, [&] { order.push_back("dispatched from outside"); }); });
    io.run();
    EXPECT_EQ(order, (std::vector<std::string>{"item", "item end", "dispatched from outside", "dispatched", "posted"}));
}

TEST(Background, ItemsGivenFromAnotherThreadRunOnTheIoThreadInOrder) {
    asio::io_context io(1);
    net::Background background(io);
    auto guard = asio::make_work_guard(io);
    std::vector<int> seen;
    std::thread giver([&] {
        for (int i = 0; i < 100; ++i) asio::post(background.get_executor(), [&, i] { seen.push_back(i); });
        asio::post(background.get_executor(), [&] { guard.reset(); });
    });
    io.run();
    giver.join();
    ASSERT_EQ(seen.size(), 100u);
    for (int i = 0; i < 100; ++i) EXPECT_EQ(seen[static_cast<size_t>(i)], i);
}

TEST(Background, TheHookRunsOnTheIoThreadBeforeEachItemAndNotBeforeOtherHandlers) {
    asio::io_context io(1);
    std::vector<std::string> order;
    std::thread::id hooked_on;
    net::Background background(io, [&] {
        order.push_back("hook");
        hooked_on = std::this_thread::get_id();
    });
    asio::post(io, [&] {
        asio::post(background.get_executor(), [&] { order.push_back("b1"); });
        asio::post(background.get_executor(), [&] { order.push_back("b2"); });
        asio::post(io, [&] { order.push_back("api"); });
    });
    io.run();
    EXPECT_EQ(order, (std::vector<std::string>{"api", "hook", "b1", "hook", "b2"}));
    EXPECT_EQ(hooked_on, std::this_thread::get_id());
}

TEST(Background, ItemsStillWaitingWhenItGoesAreDroppedUnrun) {
    asio::io_context io(1);
    auto held = std::make_shared<int>(1);
    bool ran = false;
    {
        net::Background background(io);
        asio::post(background.get_executor(), [held, &ran] { ran = true; });
        EXPECT_EQ(background.waiting(), 1u);
    }
    EXPECT_EQ(held.use_count(), 1);
    io.run();  // the queued pump finds its Background gone
    EXPECT_FALSE(ran);
}

}  // namespace
}  // namespace fitbridge::test
