#pragma once
// How the offload pools hand results back to the io thread without taking
// the io_context's lock.
//
// boost::asio::post from another thread locks the io_context's scheduler
// and, still holding that lock, writes the eventfd that wakes the io thread.
// The io thread can then run on the poster's CPU and block on the same lock
// while the poster, a lower priority worker, waits for a CPU: the io thread
// and every request to the control API wait for the pool. Here a worker
// pushes its result onto a lock-free stack and writes an eventfd (the first
// result of a burst only); the io thread, woken by its reactor, takes the
// whole stack and posts each result from its own thread, which needs no
// lock with an io_context run by one thread.
//
// The lane waits on its eventfd only while results are expected, so an
// io_context with nothing else to do still runs dry. Header only.

#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <cstdint>
#include <deque>
#include <memory>
#include <system_error>
#include <utility>

#include "net/task.hpp"

namespace fitbridge::net {

class ReturnLane {
public:
    // Results come back to `home`, the executor of an io_context run by one
    // thread (the daemon's io thread).
    explicit ReturnLane(boost::asio::any_io_executor home) : m_state(std::make_shared<State>(std::move(home))) {}
    // Results never taken (the io_context stopped first) are dropped with
    // what they hold; a pending wait ends without touching the lane.
    ~ReturnLane() { m_state->close(); }
    ReturnLane(const ReturnLane&) = delete;
    ReturnLane& operator=(const ReturnLane&) = delete;

    const boost::asio::any_io_executor& home() const { return m_state->home; }

    // On the io thread, before the work starts: one result will come back.
    void expect() {
        ++m_state->expected;
        if (!m_state->waiting) wait(m_state);
    }

    // On any thread, once per expect(), while the lane exists: hands `f` (a
    // move-only callable) back; it runs on the io thread in a turn of its own.
    template <typename F>
    void give_back(F f) {
        State& s = *m_state;
        Node* n = make_task(std::move(f)).release();
        Node* old = s.head.load(std::memory_order_relaxed);
        do {
            n->next = old;
        } while (!s.head.compare_exchange_weak(old, n, std::memory_order_release, std::memory_order_relaxed));
        if (old == nullptr) {
            // The stack was empty: nobody has rung for what is on it yet.
            const uint64_t one = 1;
            [[maybe_unused]] auto w = ::write(s.fd, &one, sizeof one);
        }
    }

    // Results handed back so far (io thread; for tests and diagnostics).
    uint64_t returned() const { return m_state->returned; }

private:
    using Node = Task;  // linked through Task::next

    // Shared with a pending wait, which may end after the lane is gone.
    struct State {
        explicit State(boost::asio::any_io_executor h)
            : home(std::move(h)), fd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)), bell(home) {
            if (fd < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
            bell.assign(fd);
        }
        ~State() { drop(head.exchange(nullptr)); }
        void close() {
            closed = true;
            boost::system::error_code ec;
            bell.close(ec);  // closes fd and cancels a pending wait
        }
        static void drop(Node* n) {
            while (n != nullptr) {
                Node* next = n->next;
                delete n;
                n = next;
            }
        }
        boost::asio::any_io_executor home;
        int fd;
        boost::asio::posix::stream_descriptor bell;
        std::atomic<Node*> head{nullptr};  // results handed back, newest first
        uint64_t expected = 0;             // io thread only, as are the rest
        uint64_t returned = 0;
        bool waiting = false;
        bool closed = false;
        std::deque<std::unique_ptr<Node>> taken;  // to be run, oldest first
        bool handing = false;                     // a hand_one is queued
    };

    static void wait(const std::shared_ptr<State>& state) {
        state->waiting = true;
        state->bell.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                               [state](const boost::system::error_code& ec) { rung(state, ec); });
    }

    // On the io thread: takes every result on the stack, oldest first.
    static void rung(const std::shared_ptr<State>& state, const boost::system::error_code& ec) {
        State& s = *state;
        s.waiting = false;
        if (ec || s.closed) return;
        uint64_t count = 0;
        [[maybe_unused]] auto r = ::read(s.fd, &count, sizeof count);  // before the take: a later push rings again
        Node* list = s.head.exchange(nullptr, std::memory_order_acquire);
        Node* oldest_first = nullptr;
        while (list != nullptr) {
            Node* next = list->next;
            list->next = oldest_first;
            oldest_first = list;
            list = next;
        }
        while (oldest_first != nullptr) {
            std::unique_ptr<Node> n(oldest_first);
            oldest_first = n->next;
            --s.expected;
            ++s.returned;
            s.taken.push_back(std::move(n));
        }
        if (!s.taken.empty() && !s.handing) {
            s.handing = true;
            hand_one(state);
        }
        if (s.expected > 0) wait(state);
    }

    // Results taken together still run one per turn of the io thread, so
    // that what became ready meanwhile (a request to the API) runs between
    // them.
    static void hand_one(const std::shared_ptr<State>& state) {
        boost::asio::post(state->home, [state] {
            State& s = *state;
            if (s.taken.empty()) {
                s.handing = false;
                return;
            }
            auto n = std::move(s.taken.front());
            s.taken.pop_front();
            n->run();
            // Queued after what the result itself made ready.
            if (!s.taken.empty())
                hand_one(state);
            else
                s.handing = false;
        });
    }

    std::shared_ptr<State> m_state;
};

}  // namespace fitbridge::net
