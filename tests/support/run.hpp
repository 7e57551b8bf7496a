#pragma once
// Test helper: runs one coroutine to completion and hands back what it
// returned (a coroutine that does not finish in time fails the test instead of
// hanging it), or an io_context until a condition holds.

#include <gtest/gtest.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

namespace fitbridge::test {

inline constexpr std::chrono::milliseconds k_run_timeout = std::chrono::seconds(60);

// Runs `task` on `io` until it finishes and returns its value (an exception it
// throws is rethrown). Other work on `io`, such as pooled connections, may stay
// behind. Past `timeout`, or when `io` runs out of work first, the test fails
// and std::runtime_error is thrown.
template <typename T>
T run(boost::asio::io_context& io, boost::asio::awaitable<T> task, std::chrono::milliseconds timeout = k_run_timeout) {
    // Result<T> has no default constructor, which co_spawn's completion needs
    // for a value, so a void coroutine carries the value out. Its state is
    // shared, not on this stack: a coroutine abandoned at the deadline may
    // still be resumed by whoever runs `io` next.
    struct State {
        std::optional<T> out;
        std::exception_ptr failure;
        bool done = false;
    };
    auto state = std::make_shared<State>();
    auto carry = [](std::shared_ptr<State> s, boost::asio::awaitable<T> t) -> boost::asio::awaitable<void> {
        s->out.emplace(co_await std::move(t));
    };
    boost::asio::co_spawn(io, carry(state, std::move(task)), [state](std::exception_ptr e) {
        state->failure = e;
        state->done = true;
    });
    io.restart();
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!state->done) {
        if (io.run_one_until(deadline) > 0) continue;
        if (state->done) break;
        const std::string why = std::chrono::steady_clock::now() >= deadline
                                    ? "the coroutine did not finish within " + std::to_string(timeout.count()) + " ms"
                                    : std::string("the io_context ran out of work before the coroutine finished");
        ADD_FAILURE() << why;
        throw std::runtime_error(why);
    }
    if (state->failure) std::rethrow_exception(state->failure);
    return std::move(*state->out);
}

// The same on a fresh io_context of its own.
template <typename T>
T run(boost::asio::awaitable<T> task, std::chrono::milliseconds timeout = k_run_timeout) {
    boost::asio::io_context io;
    return run(io, std::move(task), timeout);
}

// Runs `io` in short slices until `done()` holds or `timeout` passes, for work
// that never finishes on its own (a daemon's loops, a file watcher); whether
// done() holds at the end.
template <typename Pred>
bool run_until(boost::asio::io_context& io, Pred done, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
        io.restart();  // it stops whenever it runs out of work
        io.run_for(std::chrono::milliseconds(5));
    }
    return done();
}

}  // namespace fitbridge::test
