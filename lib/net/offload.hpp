#pragma once
// Blocking work off the io thread (header only: providers use it without
// linking the network module): decoding a file, writing it and syncing
// it run on small pools whose threads have a lower CPU priority (nice 10)
// than the io thread, so a request to the control API is served between an
// ingest's items instead of waiting behind their CPU and disk work. The
// engine owns one and hands it to providers (providers::Context::offload).
//
// Two pools: one for work that keeps a CPU busy (decoding, hashing, writing
// a file without syncing it) and one for work that mostly waits for the
// disk (fsync, a WAL checkpoint). A decode never queues behind another
// call's fsync (on a journalled file system that is a journal commit,
// milliseconds), and syncs issued side by side let the file system commit
// them together. The pools are net::Workers: handing them work never makes
// the io thread wait for one of their (lower priority) threads.

#include <atomic>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>

#include "net/return_lane.hpp"
#include "net/workers.hpp"

namespace fitbridge::net {

class Offload {
public:
    // `threads` CPU pool threads and `disk_threads` for syncs (0: syncs run
    // on the CPU pool too); `nice` is added to each one's priority. Each
    // thread calls `before_task` (if any) before each task (Workers).
    explicit Offload(size_t threads = 3, int nice = 10, size_t disk_threads = 4,
                     const std::function<void()>& before_task = {})
        : m_pool(threads, nice, before_task),
          m_disk(disk_threads > 0 ? std::make_unique<Workers>(disk_threads, nice, before_task) : nullptr) {}
    // The same, with results for callers on `home` (the io thread's
    // executor, its io_context run by that thread alone) handed back through
    // a ReturnLane instead of boost::asio::post.
    Offload(boost::asio::any_io_executor home, size_t threads = 3, int nice = 10, size_t disk_threads = 4,
            const std::function<void()>& before_task = {})
        : m_lane(std::make_unique<ReturnLane>(std::move(home))),
          m_pool(threads, nice, before_task),
          m_disk(disk_threads > 0 ? std::make_unique<Workers>(disk_threads, nice, before_task) : nullptr) {}
    ~Offload() {
        m_pool.join();
        if (m_disk) m_disk->join();
    }
    Offload(const Offload&) = delete;
    Offload& operator=(const Offload&) = delete;

    // Results handed back through the lane so far (tests, diagnostics).
    uint64_t returned_through_lane() const { return m_lane ? m_lane->returned() : 0; }

    // Runs `f` on the pool and resumes on the caller's executor with its
    // result (or rethrows what it threw). No cancellation crosses to the
    // pool: `f` runs to its end.
    template <typename F>
    boost::asio::awaitable<std::invoke_result_t<F>> run(F f) {
        return run_on(m_pool, std::move(f));
    }

    // The same, for work that mostly waits for the disk: a write with its
    // fsync, a batch's syncs.
    template <typename F>
    boost::asio::awaitable<std::invoke_result_t<F>> run_disk(F f) {
        return run_on(disk_pool(), std::move(f));
    }

    // Runs f(0) ... f(n - 1) on the pool side by side and resumes on the
    // caller's executor once every one has returned; the first exception
    // thrown is rethrown then. `f` must outlive the wait.
    template <typename F>
    boost::asio::awaitable<void> run_each(size_t n, F& f) {
        if (n == 0) co_return;
        auto initiate = [this, n, &f](auto handler) {
            using Handler = decltype(handler);
            auto back = this->way_back(handler);
            auto state = std::make_shared<EachState<Handler, decltype(back)>>(std::move(handler), std::move(back), n);
            for (size_t i = 0; i < n; ++i)
                m_pool.post([state, i, &f] {
                    try {
                        f(i);
                    } catch (...) {
                        std::lock_guard lock(state->mutex);
                        if (!state->error) state->error = std::current_exception();
                    }
                    if (state->left.fetch_sub(1) != 1) return;
                    auto way = std::move(state->back);  // the last call takes the work back
                    way.send([state] { std::move(state->handler)(state->error); });
                });
        };
        co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>, void(std::exception_ptr)>(
            initiate, boost::asio::use_awaitable);
    }

    // Runs `f` on the disk pool, nobody waiting for it (a checkpoint).
    template <typename F>
    void post_disk(F f) {
        disk_pool().post(std::move(f));
    }

private:
    // What the calls of one run_each share: the caller's handler, its
    // executor (keeping work outstanding), the calls still running, the
    // first exception.
    template <typename Handler, typename Back>
    struct EachState {
        EachState(Handler h, Back b, size_t calls) : handler(std::move(h)), back(std::move(b)), left(calls) {}
        Handler handler;
        Back back;
        std::atomic<size_t> left;
        std::mutex mutex;
        std::exception_ptr error;
    };

    // How a pool's answer gets back to the caller's executor: through the
    // lane when the caller runs on the lane's io thread, else posted. The
    // executor's work stays outstanding until then either way (its
    // io_context does not run out of work), and is given up on the caller's
    // thread, after the answer ran: given up on the pool thread, it could
    // reach an io_context that has finished and gone meanwhile, or a new one
    // made in its place (a test's io_context on the stack ran out of work
    // that way). send() is called once and takes the work with it.
    template <typename Executor>
    struct Back {
        ReturnLane* lane;
        Executor executor;
        template <typename F>
        void send(F f) {
            auto target = boost::asio::prefer(executor, boost::asio::execution::outstanding_work.untracked);
            auto answer = [f = std::move(f), work = std::move(executor)]() mutable { f(); };
            if (lane != nullptr)
                lane->give_back(std::move(answer));
            else
                boost::asio::post(target, std::move(answer));
        }
    };

    // On the caller's thread, as the work is handed to a pool.
    template <typename Handler>
    auto way_back(const Handler& handler) {
        auto ex = boost::asio::get_associated_executor(handler);
        ReturnLane* lane = m_lane && ex == m_lane->home() ? m_lane.get() : nullptr;
        if (lane != nullptr) lane->expect();
        auto tracked = boost::asio::prefer(ex, boost::asio::execution::outstanding_work.tracked);
        return Back<decltype(tracked)>{lane, std::move(tracked)};
    }

    template <typename F>
    boost::asio::awaitable<std::invoke_result_t<F>> run_on(Workers& pool, F f) {
        using R = std::invoke_result_t<F>;
        auto initiate = [this, &pool](auto handler, F fn) {
            auto back = this->way_back(handler);
            pool.post([handler = std::move(handler), back = std::move(back), fn = std::move(fn)]() mutable {
                std::exception_ptr error;
                if constexpr (std::is_void_v<R>) {
                    try {
                        fn();
                    } catch (...) {
                        error = std::current_exception();
                    }
                    back.send([handler = std::move(handler), error]() mutable { std::move(handler)(error); });
                } else {
                    std::optional<R> out;
                    try {
                        out.emplace(fn());
                    } catch (...) {
                        error = std::current_exception();
                    }
                    back.send([handler = std::move(handler), error, out = std::move(out)]() mutable {
                        std::move(handler)(error, std::move(out));
                    });
                }
            });
        };
        if constexpr (std::is_void_v<R>) {
            co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>, void(std::exception_ptr)>(
                initiate, boost::asio::use_awaitable, std::move(f));
        } else {
            auto r = co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>,
                                                          void(std::exception_ptr, std::optional<R>)>(
                initiate, boost::asio::use_awaitable, std::move(f));
            co_return std::move(*r);
        }
    }

    Workers& disk_pool() { return m_disk ? *m_disk : m_pool; }

    // Returns for callers on the io thread; declared first so that it
    // outlives the workers that hand results to it.
    std::unique_ptr<ReturnLane> m_lane;
    Workers m_pool;                   // CPU work
    std::unique_ptr<Workers> m_disk;  // syncs; null: m_pool
};

// `offload->run_each(n, f)`, or each call right here when there is no pool.
template <typename F>
boost::asio::awaitable<void> run_each(Offload* offload, size_t n, F& f) {
    if (offload == nullptr) {
        for (size_t i = 0; i < n; ++i) f(i);
        co_return;
    }
    co_await offload->run_each(n, f);
}

// `offload->run(f)`, or `f()` right here when there is no pool (tests, tools).
template <typename F>
boost::asio::awaitable<std::invoke_result_t<F>> run_blocking(Offload* offload, F f) {
    if (offload == nullptr) co_return f();
    co_return co_await offload->run(std::move(f));
}

// `offload->run_disk(f)`, or `f()` right here when there is no pool.
template <typename F>
boost::asio::awaitable<std::invoke_result_t<F>> run_syncing(Offload* offload, F f) {
    if (offload == nullptr) co_return f();
    co_return co_await offload->run_disk(std::move(f));
}

}  // namespace fitbridge::net
