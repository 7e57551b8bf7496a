#pragma once
// Group commit for callers on one io thread: calls to submit() made while a
// group is being written are gathered into the next group, and each group
// is handed whole to `write` on the offload pool's disk threads (header
// only, like offload.hpp). A stream of concurrent callers thus pays one
// round of syncs per group instead of one per call, and a lone caller waits
// for nothing but its own write.
//
// Every member is used on one thread (the io thread; groups are drained on
// the first caller's executor); `write` runs on a pool thread and sees only
// the group it was given. An input owns its data: a caller
// cancelled while its group is written (a stop) leaves the write running to
// its end, and gets an empty result.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "net/offload.hpp"

namespace fitbridge::net {

template <typename In, typename Out>
class GroupCommit {
public:
    // Writes one group, returning one output per input, in order.
    using Write = std::function<std::vector<Out>(std::vector<In>&)>;

    GroupCommit(Offload* offload, Write write) : m_state(std::make_shared<State>(offload, std::move(write))) {}

    // Joins the next group and waits for it to be written. nullopt: the
    // caller was cancelled first (the write itself still happens).
    boost::asio::awaitable<std::optional<Out>> submit(In in) {
        const auto executor = co_await boost::asio::this_coro::executor;
        auto waiter = std::make_shared<Waiter>(executor, std::move(in));
        m_state->queue.push_back(waiter);
        if (!m_state->running) {
            m_state->running = true;
            boost::asio::co_spawn(executor, drain(m_state), [](std::exception_ptr) {});
        }
        if (!waiter->done) {  // a group written without suspending is done already
            boost::system::error_code ec;
            co_await waiter->wake.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
        }
        std::optional<Out> out = std::move(waiter->out);
        co_return out;
    }

    // Groups written so far (for tests and profiles).
    size_t groups_written() const { return m_state->groups; }

private:
    struct Waiter {
        Waiter(const boost::asio::any_io_executor& ex, In i) : in(std::move(i)), wake(ex) {
            wake.expires_at(boost::asio::steady_timer::time_point::max());
        }
        In in;
        std::optional<Out> out;
        bool done = false;
        boost::asio::steady_timer wake;
    };
    struct State {
        State(Offload* o, Write w) : offload(o), write(std::move(w)) {}
        Offload* offload;
        Write write;
        std::vector<std::shared_ptr<Waiter>> queue;
        bool running = false;
        size_t groups = 0;
    };

    // Writes groups until none is waiting. The state is shared so that the
    // drain outlives a GroupCommit destroyed while a group is written.
    static boost::asio::awaitable<void> drain(std::shared_ptr<State> state) {
        while (!state->queue.empty()) {
            auto group = std::exchange(state->queue, {});
            auto inputs = std::make_shared<std::vector<In>>();
            inputs->reserve(group.size());
            for (auto& w : group) inputs->push_back(std::move(w->in));
            auto job = [state, inputs]() { return state->write(*inputs); };
            std::vector<Out> outs;
            try {
                outs = co_await run_syncing(state->offload, std::move(job));
            } catch (...) {
                outs.clear();  // a throwing write leaves its callers without a result
            }
            ++state->groups;
            // Callers are woken one per turn of the io_context: woken all at
            // once, their continuations would queue ahead of everything else
            // (a request to the control API waits for the whole group).
            const auto executor = co_await boost::asio::this_coro::executor;
            for (size_t i = 0; i < group.size(); ++i) {
                if (i > 0) co_await boost::asio::post(executor, boost::asio::use_awaitable);
                if (i < outs.size()) group[i]->out = std::move(outs[i]);
                group[i]->done = true;
                group[i]->wake.cancel();
            }
        }
        state->running = false;
    }

    std::shared_ptr<State> m_state;
};

}  // namespace fitbridge::net
