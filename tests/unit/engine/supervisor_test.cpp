// The supervisor's loops on the daemon's executor, which queues everything
// (net::Background): a cancellation reaches the loop inside cancel()'s own
// item, not in a later one that could run after the loop had ended.

#include "engine/supervisor.hpp"

#include <gtest/gtest.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "net/background.hpp"

namespace fitbridge::engine {
namespace {

namespace asio = boost::asio;

TEST(Supervisor, ACancelReachesALoopOnAQueuingExecutorInCancelsOwnTurn) {
    asio::io_context io(1);
    net::Background background(io);
    asio::any_io_executor ex = background.get_executor();
    Supervisor supervisor(ex);
    std::optional<asio::cancellation_state> state;
    bool aborted = false;
    const int64_t id = supervisor.spawn("loop", true, [&]() -> asio::awaitable<void> {
        state = co_await asio::this_coro::cancellation_state;
        asio::steady_timer wait(ex);
        wait.expires_after(std::chrono::hours(1));
        try {
            co_await wait.async_wait(asio::use_awaitable);
        } catch (const boost::system::system_error& e) {
            aborted = e.code() == asio::error::operation_aborted;
        }
    });
    std::vector<std::string> seen;
    asio::steady_timer later(io);
    later.expires_after(std::chrono::milliseconds(1));
    later.async_wait([&](boost::system::error_code) {
        ASSERT_TRUE(state.has_value());
        supervisor.cancel(id);
        // Queued right behind cancel()'s item. A cancellation handed on
        // through a further queued item (which could run after the loop had
        // ended and freed the slot it points into) would not be there yet.
        asio::post(ex, [&] {
            seen.push_back(state->cancelled() == asio::cancellation_type::terminal ? "cancelled" : "not yet");
        });
    });
    io.run();
    EXPECT_EQ(seen, (std::vector<std::string>{"cancelled"}));
    EXPECT_TRUE(aborted);
    EXPECT_EQ(supervisor.running(), 0u);
}

TEST(Supervisor, AFinishedLoopIsNotCancelledAgain) {
    asio::io_context io(1);
    net::Background background(io);
    Supervisor supervisor(background.get_executor());
    int runs = 0;
    const int64_t id = supervisor.spawn("loop", false, [&]() -> asio::awaitable<void> {
        ++runs;
        co_return;
    });
    io.run();
    EXPECT_EQ(runs, 1);
    EXPECT_EQ(supervisor.running(), 0u);
    supervisor.cancel(id);  // gone: nothing to do
    io.restart();
    EXPECT_EQ(io.run(), 0u);
}

}  // namespace
}  // namespace fitbridge::engine
