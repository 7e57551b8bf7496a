#pragma once
// Background work on the io thread that lets the control API go first.
//
// The io thread runs its handlers in the order they became ready. During a
// backfill dozens of the engine's handlers are ready at once (downloads,
// decodes and copies coming back, ledger writes), and a request's next step
// (its read, its answer) queued behind all of them: 2-3 ms at the 99th
// percentile at one connection, though no single handler was that long.
// Work given to a Background executor waits in its own queue instead, and
// the io_context sees one "pump" at a time that runs one item and, if more
// are waiting, queues the next pump behind whatever else became ready
// meanwhile. A request then waits for at most one background item.
//
// Everything still runs on the io thread, one handler at a time: the state
// keeps its one owner. Items run in the order they were given. Header only.

#include <boost/asio/execution/blocking.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <type_traits>
#include <utility>

#include "net/task.hpp"

namespace fitbridge::net {

class Background {
    struct State;

public:
    // An executor for the engine's work: any_io_executor can hold it, and
    // I/O objects made with it use `io`'s services.
    class Executor {
    public:
        explicit Executor(State* state) noexcept : m_state(state) {}

        boost::asio::io_context& query(boost::asio::execution::context_t) const noexcept { return m_state->io; }
        // Everything given to it queues, asio::dispatch included: an item
        // never runs another inline, so a request waits for one item at
        // most. (co_spawn dispatches a cancellation to the coroutine unless
        // the completion handler has no associated executor; the engine's
        // handlers have none, see engine::on_finish.)
        static constexpr boost::asio::execution::blocking_t query(boost::asio::execution::blocking_t) noexcept {
            return boost::asio::execution::blocking.never;
        }
        Executor require(boost::asio::execution::blocking_t::never_t) const noexcept { return *this; }

        template <typename F>
        void execute(F&& f) const {
            m_state->push(make_task(std::decay_t<F>(std::forward<F>(f))));
        }

        friend bool operator==(const Executor& a, const Executor& b) noexcept { return a.m_state == b.m_state; }
        friend bool operator!=(const Executor& a, const Executor& b) noexcept { return a.m_state != b.m_state; }

    private:
        State* m_state;
    };

    // `io` must outlive this object; this object must outlive every use of
    // its executor (items still queued when it goes are dropped unrun).
    // `before_item` (if any) runs on the io thread before each item: the
    // daemon's placement of its threads (sched::SpareCpu::follow).
    explicit Background(boost::asio::io_context& io, std::function<void()> before_item = {})
        : m_state(std::make_unique<State>(io, std::move(before_item))) {}
    ~Background() { m_state->closed(); }
    Background(const Background&) = delete;
    Background& operator=(const Background&) = delete;

    Executor get_executor() const noexcept { return Executor(m_state.get()); }

    // Items waiting for their turn (tests).
    size_t waiting() const {
        std::lock_guard lock(m_state->mutex);
        return m_state->queue.size();
    }

private:
    // Shared with the pump queued on the io_context, which may run after
    // the Background is gone (it then does nothing).
    struct State {
        State(boost::asio::io_context& c, std::function<void()> before)
            : io(c), before_item(std::move(before)), alive(std::make_shared<bool>(true)) {}

        // Any thread (mostly the io thread).
        void push(std::unique_ptr<Task> t) {
            bool post = false;
            {
                std::lock_guard lock(mutex);
                queue.push_back(std::move(t));
                post = !pump_queued;
                pump_queued = true;
            }
            if (post) queue_pump();
        }

        // A pump lets one turn of the io_context pass first, so that the
        // reactor looks for ready sockets before the item: what it finds (a
        // request's bytes) is then queued ahead of the item, and a request
        // waits for the item it arrived during, not for the next one too.
        void queue_pump() {
            boost::asio::post(io, [this, weak = std::weak_ptr<bool>(alive)] {
                if (!weak.lock()) return;
                boost::asio::post(io, [this, weak] {
                    if (weak.lock()) pump();
                });
            });
        }

        // The io thread: one item, with the next pump queued first so that
        // what became ready meanwhile runs before it.
        void pump() {
            std::unique_ptr<Task> t;
            bool more = false;
            {
                std::lock_guard lock(mutex);
                if (queue.empty()) {  // dropped meanwhile
                    pump_queued = false;
                    return;
                }
                t = std::move(queue.front());
                queue.pop_front();
                more = pump_queued = !queue.empty();
            }
            if (more) queue_pump();
            if (before_item) before_item();
            t->run();
        }

        void closed() {
            std::deque<std::unique_ptr<Task>> dropped;
            {
                std::lock_guard lock(mutex);
                dropped.swap(queue);
            }
            alive.reset();
        }

        boost::asio::io_context& io;
        const std::function<void()> before_item;
        std::shared_ptr<bool> alive;  // expires with the Background
        mutable std::mutex mutex;     // guards queue and pump_queued
        std::deque<std::unique_ptr<Task>> queue;
        bool pump_queued = false;
    };

    std::unique_ptr<State> m_state;
};

}  // namespace fitbridge::net
