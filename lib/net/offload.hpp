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
// them together.

#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>

namespace fitbridge::net {

class Offload {
public:
    // `threads` CPU pool threads and `disk_threads` for syncs (0: syncs run
    // on the CPU pool too); `nice` is added to each one's priority.
    explicit Offload(size_t threads = 3, int nice = 10, size_t disk_threads = 4)
        : m_pool(threads),
          m_disk(disk_threads > 0 ? std::make_unique<boost::asio::thread_pool>(disk_threads) : nullptr),
          m_nice(nice) {}
    ~Offload() {
        m_pool.join();
        if (m_disk) m_disk->join();
    }
    Offload(const Offload&) = delete;
    Offload& operator=(const Offload&) = delete;

    // Runs `f` on the pool and resumes on the caller's executor with its
    // result. No cancellation crosses to the pool: `f` runs to its end.
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
            // The caller's executor keeps work outstanding until the last call returns.
            auto tracked = boost::asio::prefer(boost::asio::get_associated_executor(handler),
                                               boost::asio::execution::outstanding_work.tracked);
            auto state =
                std::make_shared<EachState<Handler, decltype(tracked)>>(std::move(handler), std::move(tracked), n);
            for (size_t i = 0; i < n; ++i)
                boost::asio::post(m_pool, [state, i, &f, nice = m_nice] {
                    lower_priority(nice);
                    try {
                        f(i);
                    } catch (...) {
                        std::lock_guard lock(state->mutex);
                        if (!state->error) state->error = std::current_exception();
                    }
                    if (state->left.fetch_sub(1) != 1) return;
                    auto ex = state->executor;
                    boost::asio::post(ex, [state] { std::move(state->handler)(state->error); });
                });
        };
        co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>, void(std::exception_ptr)>(
            initiate, boost::asio::use_awaitable);
    }

    // Runs `f` on the disk pool, nobody waiting for it (a checkpoint).
    template <typename F>
    void post_disk(F f) {
        boost::asio::post(disk_pool(), [f = std::move(f), nice = m_nice]() mutable {
            lower_priority(nice);
            f();
        });
    }

    // Lowers the calling thread's priority by `nice`, once per thread (Linux
    // applies PRIO_PROCESS with a thread id to that thread alone).
    static void lower_priority(int nice) {
        thread_local bool lowered = false;
        if (lowered || nice == 0) return;
        lowered = true;
        ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), nice);
    }

private:
    // What the calls of one run_each share: the caller's handler, its
    // executor (keeping work outstanding), the calls still running, the
    // first exception.
    template <typename Handler, typename Executor>
    struct EachState {
        EachState(Handler h, Executor e, size_t calls) : handler(std::move(h)), executor(std::move(e)), left(calls) {}
        Handler handler;
        Executor executor;
        std::atomic<size_t> left;
        std::mutex mutex;
        std::exception_ptr error;
    };

    template <typename F>
    static boost::asio::awaitable<std::optional<std::invoke_result_t<F>>> on_pool(F f, int nice) {
        lower_priority(nice);
        co_return f();
    }

    template <typename F>
    boost::asio::awaitable<std::invoke_result_t<F>> run_on(boost::asio::thread_pool& pool, F f) {
        auto job = on_pool(std::move(f), m_nice);
        auto r = co_await boost::asio::co_spawn(
            pool.get_executor(), std::move(job),
            boost::asio::bind_cancellation_slot(boost::asio::cancellation_slot(), boost::asio::use_awaitable));
        co_return std::move(*r);
    }

    boost::asio::thread_pool& disk_pool() { return m_disk ? *m_disk : m_pool; }

    boost::asio::thread_pool m_pool;                   // CPU work
    std::unique_ptr<boost::asio::thread_pool> m_disk;  // syncs; null: m_pool
    int m_nice;
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
