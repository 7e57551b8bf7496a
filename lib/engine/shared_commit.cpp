#include "engine/shared_commit.hpp"

#include <SQLiteCpp/Savepoint.h>

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <deque>
#include <exception>
#include <utility>
#include <vector>

namespace fitbridge::engine {

namespace asio = boost::asio;

struct SharedCommit::Joined {
    Joined(const asio::any_io_executor& ex, std::function<void()> w) : write(std::move(w)), wake(ex) {
        wake.expires_at(asio::steady_timer::time_point::max());
    }
    std::function<void()> write;
    std::exception_ptr error;
    bool done = false;       // committed, or failed with `error`
    bool abandoned = false;  // its caller was cut short first: never runs
    asio::steady_timer wake;
    std::shared_ptr<Joined> next;  // the caller it wakes once resumed
};

struct SharedCommit::State {
    State(asio::any_io_executor ex, SQLite::Database& d, Around a, size_t max, std::chrono::microseconds w)
        : executor(std::move(ex)),
          db(d),
          around(std::move(a)),
          max_writes(max == 0 ? 1 : max),
          window(w),
          timer(executor) {}
    asio::any_io_executor executor;
    SQLite::Database& db;
    Around around;
    size_t max_writes;
    std::chrono::microseconds window;
    asio::steady_timer timer;  // the window, armed while writes wait
    std::deque<std::shared_ptr<Joined>> pending;
    bool posted = false;  // a commit is posted or its window armed
    bool timed = false;   // ... by the timer
    int64_t commits = 0;
};

SharedCommit::SharedCommit(asio::any_io_executor executor, SQLite::Database& db, Around around, size_t max_writes,
                           std::chrono::microseconds window)
    : m_state(std::make_shared<State>(std::move(executor), db, std::move(around), max_writes, window)) {}

SharedCommit::~SharedCommit() {
    // A posted commit finds the state gone; the callers resume with false.
    for (auto& j : m_state->pending) {
        j->abandoned = true;
        j->wake.cancel();
    }
    m_state->pending.clear();
}

int64_t SharedCommit::commits() const { return m_state->commits; }

asio::awaitable<bool> SharedCommit::write(std::function<void()> write) {
    auto joined = std::make_shared<Joined>(m_state->executor, std::move(write));
    m_state->pending.push_back(joined);
    if (!m_state->posted)
        schedule(m_state, m_state->window.count() == 0);
    else if (m_state->timed && m_state->pending.size() >= m_state->max_writes)
        m_state->timer.cancel();  // full: no need to wait out the window
    boost::system::error_code ec;
    co_await joined->wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    // From here on `this` may be gone (destroyed while we waited): only
    // what `joined` holds is used.
    if (auto next = std::exchange(joined->next, nullptr)) {
        // The next caller of the same commit resumes in a turn of its own.
        asio::post(next->wake.get_executor(), [next] { next->wake.cancel(); });
    }
    if (!joined->done) {
        // Cut short before its commit ran (a stop): it never will.
        joined->abandoned = true;
        co_return false;
    }
    if (joined->error) std::rethrow_exception(joined->error);
    co_return true;
}

void SharedCommit::schedule(const std::shared_ptr<State>& state, bool now) {
    State& s = *state;
    s.posted = true;
    s.timed = !now;
    auto next = [weak = std::weak_ptr<State>(state)](auto...) {
        if (auto st = weak.lock()) commit_next(st);
    };
    if (now) {
        // At the end of the queue: what became ready meanwhile joins first.
        asio::post(s.executor, std::move(next));
    } else {
        // Cancelled (full) or expired alike: the commit runs.
        s.timer.expires_after(s.window);
        s.timer.async_wait(std::move(next));
    }
}

void SharedCommit::commit_next(const std::shared_ptr<State>& state) {
    State& s = *state;
    s.posted = false;
    s.timed = false;
    std::vector<std::shared_ptr<Joined>> batch;
    while (!s.pending.empty() && batch.size() < s.max_writes) {
        auto j = std::move(s.pending.front());
        s.pending.pop_front();
        if (!j->abandoned) batch.push_back(std::move(j));
    }
    if (!batch.empty()) run(s, batch);
    // The rest waited their window already: in the next turn, after these
    // callers (one short transaction per turn).
    if (!s.pending.empty() && !s.posted) schedule(state, true);
}

void SharedCommit::run(State& s, const std::vector<std::shared_ptr<Joined>>& batch) {
    std::exception_ptr failed;
    try {
        s.around([&] {
            for (auto& j : batch) {
                SQLite::Savepoint point(s.db, "shared_commit");
                try {
                    j->write();
                    point.release();
                } catch (...) {
                    j->error = std::current_exception();
                    point.rollback();  // "ROLLBACK TO": this write's changes only
                    s.db.exec("RELEASE SAVEPOINT shared_commit");
                }
            }
        });
        ++s.commits;
    } catch (...) {
        failed = std::current_exception();
    }
    // Their callers resume one per turn (each wakes the next), so what they
    // do next (an upload each) does not run back to back.
    for (size_t i = 0; i < batch.size(); ++i) {
        batch[i]->done = true;
        if (failed) batch[i]->error = failed;
        if (i + 1 < batch.size()) batch[i]->next = batch[i + 1];
    }
    batch.front()->wake.cancel();
}

}  // namespace fitbridge::engine
