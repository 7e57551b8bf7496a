#pragma once
// Runs the engine's long-lived coroutines (pollers, delivery loops, backfill
// jobs) so that none is lost: an exception that escapes a loop is logged with
// the loop's name, the loop is reported down, and it is started again after
// a backoff. Each loop has its own cancellation signal; cancelling it aborts
// whatever it awaits (timers, sockets), which is how stop() ends uploads.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <chrono>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace fitbridge::engine {

struct SupervisorOptions {
    std::chrono::milliseconds first_backoff{1000};  // doubled after each failure
    std::chrono::milliseconds max_backoff{60000};
    // A run this long without failing resets the backoff, and a loop that
    // failed longer ago than this no longer counts as troubled.
    std::chrono::milliseconds healthy_after{60000};
};

// The cancellation signal of one co_spawn'ed coroutine. cancel() emits it
// from the executor and only while the coroutine has not finished.
struct CancelSlot {
    boost::asio::cancellation_signal signal;
    bool finished = false;  // set by the coroutine's completion handler
};
void cancel(const boost::asio::any_io_executor& executor, std::shared_ptr<CancelSlot> slot);

// co_spawn's completion handler for a coroutine cancelled through `slot`:
// co_spawn(executor, body, on_finish(slot, [](std::exception_ptr) {...})).
//
// Unlike asio::bind_cancellation_slot it has no associated executor, and
// co_spawn then passes an emission on to the coroutine at once. With an
// associated executor co_spawn dispatches the emission instead, holding a
// pointer into the slot; on an executor that queues (net::Background) the
// coroutine could end and free the slot first, and a stop just after
// start-up crashed the daemon that way.
template <typename F>
struct OnFinish {
    using cancellation_slot_type = boost::asio::cancellation_slot;
    cancellation_slot_type get_cancellation_slot() const noexcept { return slot; }
    void operator()(std::exception_ptr e) { f(std::move(e)); }

    cancellation_slot_type slot;
    F f;
};
template <typename F>
OnFinish<std::decay_t<F>> on_finish(const std::shared_ptr<CancelSlot>& slot, F&& f) {
    return {slot->signal.slot(), std::forward<F>(f)};
}

// A loop that failed: down (waiting to be restarted) or restarted recently.
struct LoopTrouble {
    std::string name;
    bool core = true;
    bool down = false;
    std::string reason;  // what the last escaping exception said
    int failures = 0;
    double seconds_since_failure = 0;
};

class Supervisor {
public:
    using Body = std::function<boost::asio::awaitable<void>()>;

    explicit Supervisor(boost::asio::any_io_executor executor, SupervisorOptions options = {});
    ~Supervisor();
    Supervisor(const Supervisor&) = delete;
    Supervisor& operator=(const Supervisor&) = delete;

    // Runs `body()` until it returns; each escaping exception restarts it
    // after the backoff. `core` loops being down make the daemon unhealthy.
    // Returns an id for cancel().
    int64_t spawn(std::string name, bool core, Body body);
    // Cancels one loop (and what it awaits); it is not restarted.
    void cancel(int64_t id);
    // Cancels every loop; spawn() is refused from now on.
    void stop();
    bool stopping() const { return m_state->stopping; }

    // Loops that failed within `healthy_after` or are down now, by name.
    // These three may be called from any thread (the control API's status
    // reads them from its own); the rest belongs to the executor's.
    std::vector<LoopTrouble> troubles() const;
    // True while a core loop waits to be restarted.
    bool core_down() const;
    size_t running() const;

private:
    struct Loop;
    // Shared with the loops' coroutines, which may outlive the supervisor
    // when their io_context runs on after it.
    struct State {
        boost::asio::any_io_executor executor;
        SupervisorOptions options;
        bool stopping = false;
        // Guards `loops` and what troubles() reads of each loop.
        mutable std::mutex mutex;
        std::map<int64_t, std::shared_ptr<Loop>> loops;
        // Takes a loop out; it is destroyed by the caller, after the lock.
        std::shared_ptr<Loop> remove(int64_t id);
    };
    static boost::asio::awaitable<void> run(std::shared_ptr<State> state, std::shared_ptr<Loop> loop);

    std::shared_ptr<State> m_state;
    int64_t m_next_id = 1;
};

// What an exception_ptr says, for logs and /v1/status.
std::string describe(const std::exception_ptr& e);

}  // namespace fitbridge::engine
