#pragma once
// A fixed set of worker threads that run posted tasks in order of posting,
// built so that posting never makes the posting thread wait for a worker.
//
// Why not boost::asio::thread_pool: its idle threads wait on a condition
// variable, and glibc's pthread_cond_signal can block the signalling thread
// until waiters signalled earlier have been scheduled and left (the group
// switch of the condvar since glibc 2.25). Our workers run at a lower CPU
// priority, so on a busy machine the io thread posting a decode waited for a
// starved worker: up to 9 ms in an off-CPU profile of a backfill, which
// every request to the control API queued behind. Here the queue's lock is
// held only to push or pop, and waking a worker is one FUTEX_WAKE.
//
// Header only (providers use the offload pool without linking lib/net).

#include <linux/futex.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "net/task.hpp"

namespace fitbridge::net {

class Workers {
public:
    // `threads` workers (at least one), each with `nice` added to its CPU
    // priority. A worker calls `before_task` (if any) before each task: the
    // daemon's placement of its threads (sched::SpareCpu::follow).
    explicit Workers(size_t threads, int nice = 0, std::function<void()> before_task = {})
        : m_before_task(std::move(before_task)) {
        if (threads == 0) threads = 1;
        m_threads.reserve(threads);
        for (size_t i = 0; i < threads; ++i) m_threads.emplace_back([this, nice] { work(nice); });
    }
    ~Workers() { join(); }
    Workers(const Workers&) = delete;
    Workers& operator=(const Workers&) = delete;

    // Queues `f` (a move-only callable taking nothing) to run on a worker.
    template <typename F>
    void post(F f) {
        push(make_task(std::move(f)));
    }

    // Runs every task posted so far (and any they post) to its end, then
    // stops the workers. Idempotent; posting after join is not allowed.
    void join() {
        if (m_joined) return;
        m_joined = true;
        m_stopping.store(true);
        m_seq.fetch_add(1);
        futex(FUTEX_WAKE_PRIVATE, INT32_MAX);
        for (auto& t : m_threads) t.join();
    }

    size_t size() const { return m_threads.size(); }

    // Lowers the calling thread's priority by `nice` from where it is (a
    // daemon started with a nice value keeps its pools that much below its
    // io thread, capped at 19). Linux applies PRIO_PROCESS with a thread id
    // to that thread alone.
    static void lower_priority(int nice) {
        if (nice == 0) return;
        const auto self = static_cast<id_t>(::gettid());
        errno = 0;
        const int now = ::getpriority(PRIO_PROCESS, self);  // -1 is a valid value: errno tells
        if (errno != 0) return;
        ::setpriority(PRIO_PROCESS, self, std::min(now + nice, 19));
    }

private:
    void push(std::unique_ptr<Task> t) {
        {
            std::lock_guard lock(m_mutex);
            m_queue.push_back(std::move(t));
        }
        // A worker that found the queue empty announced itself idle before
        // reading m_seq; it either sees this task or sleeps on the old
        // m_seq value and the wake below (or the changed value) lets it go.
        m_seq.fetch_add(1);
        if (m_idle.load() > 0) futex(FUTEX_WAKE_PRIVATE, 1);
    }

    std::unique_ptr<Task> pop() {
        std::lock_guard lock(m_mutex);
        if (m_queue.empty()) return nullptr;
        auto t = std::move(m_queue.front());
        m_queue.pop_front();
        return t;
    }

    void work(int nice) {
        lower_priority(nice);
        for (;;) {
            if (auto t = pop()) {
                run(*t);
                continue;
            }
            m_idle.fetch_add(1);
            const uint32_t seq = m_seq.load();
            if (auto t = pop()) {
                m_idle.fetch_sub(1);
                run(*t);
                continue;
            }
            if (m_stopping.load()) {
                m_idle.fetch_sub(1);
                return;
            }
            futex_wait(seq);
            m_idle.fetch_sub(1);
        }
    }

    void run(Task& t) {
        if (m_before_task) m_before_task();
        t.run();
    }

    void futex_wait(uint32_t seen) {
        ::syscall(SYS_futex, reinterpret_cast<uint32_t*>(&m_seq), FUTEX_WAIT_PRIVATE, seen, nullptr, nullptr, 0);
    }
    void futex(int op, int count) {
        ::syscall(SYS_futex, reinterpret_cast<uint32_t*>(&m_seq), op, count, nullptr, nullptr, 0);
    }

    static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t) && std::atomic<uint32_t>::is_always_lock_free);

    const std::function<void()> m_before_task;  // read by every worker, never changed
    std::mutex m_mutex;                         // guards m_queue; held only to push or pop
    std::deque<std::unique_ptr<Task>> m_queue;
    std::atomic<uint32_t> m_seq{0};  // changes at every post: the futex word
    std::atomic<int> m_idle{0};      // workers about to wait or waiting
    std::atomic<bool> m_stopping{false};
    bool m_joined = false;
    std::vector<std::thread> m_threads;
};

}  // namespace fitbridge::net
