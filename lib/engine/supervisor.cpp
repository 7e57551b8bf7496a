#include "engine/supervisor.hpp"

#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>

#include "core/log.hpp"

namespace fitbridge::engine {

namespace asio = boost::asio;
using Steady = std::chrono::steady_clock;

struct Supervisor::Loop {
    int64_t id = 0;
    std::string name;
    bool core = true;
    Body body;
    std::shared_ptr<CancelSlot> cancel = std::make_shared<CancelSlot>();
    bool cancelled = false;
    bool down = false;
    std::string reason;
    int failures = 0;
    std::optional<Steady::time_point> failed_at;
    std::chrono::milliseconds backoff{0};
};

void cancel(const asio::any_io_executor& executor, std::shared_ptr<CancelSlot> slot) {
    asio::post(executor, [slot = std::move(slot)] {
        if (!slot->finished) slot->signal.emit(asio::cancellation_type::terminal);
    });
}

std::string describe(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& x) {
        return x.what();
    } catch (...) {
        return "an exception of unknown type";
    }
}

Supervisor::Supervisor(asio::any_io_executor executor, SupervisorOptions options) : m_state(std::make_shared<State>()) {
    m_state->executor = std::move(executor);
    m_state->options = options;
}

std::shared_ptr<Supervisor::Loop> Supervisor::State::remove(int64_t id) {
    std::lock_guard lock(mutex);
    auto it = loops.find(id);
    if (it == loops.end()) return nullptr;
    auto loop = std::move(it->second);
    loops.erase(it);
    return loop;
}

Supervisor::~Supervisor() { stop(); }

int64_t Supervisor::spawn(std::string name, bool core, Body body) {
    if (m_state->stopping) return 0;
    auto loop = std::make_shared<Loop>();
    loop->id = m_next_id++;
    loop->name = std::move(name);
    loop->core = core;
    loop->body = std::move(body);
    loop->backoff = m_state->options.first_backoff;
    {
        std::lock_guard lock(m_state->mutex);
        m_state->loops.emplace(loop->id, loop);
    }
    std::weak_ptr<State> state = m_state;
    asio::co_spawn(m_state->executor, run(m_state, loop),
                   on_finish(loop->cancel, [state, slot = loop->cancel, id = loop->id](std::exception_ptr) {
                       // run() catches what the body throws.
                       slot->finished = true;
                       if (auto s = state.lock()) s->remove(id);
                   }));
    return loop->id;
}

void Supervisor::cancel(int64_t id) {
    std::shared_ptr<Loop> loop;
    {
        std::lock_guard lock(m_state->mutex);
        auto it = m_state->loops.find(id);
        if (it == m_state->loops.end()) return;
        loop = it->second;
    }
    loop->cancelled = true;
    engine::cancel(m_state->executor, loop->cancel);
}

void Supervisor::stop() {
    if (m_state->stopping) return;
    m_state->stopping = true;
    std::vector<std::shared_ptr<Loop>> loops;
    {
        std::lock_guard lock(m_state->mutex);
        for (auto& [id, loop] : m_state->loops) loops.push_back(loop);
    }
    for (auto& loop : loops) {
        loop->cancelled = true;
        engine::cancel(m_state->executor, loop->cancel);
    }
}

asio::awaitable<void> Supervisor::run(std::shared_ptr<State> state, std::shared_ptr<Loop> loop) {
    const SupervisorOptions& o = state->options;
    for (;;) {
        const auto started = Steady::now();
        std::exception_ptr failure;
        try {
            co_await loop->body();
        } catch (...) {
            failure = std::current_exception();
        }
        if (loop->cancelled || state->stopping) break;
        if (!failure) break;  // the loop's work is over (a backfill job done, an account gone)
        if (Steady::now() - started >= o.healthy_after) loop->backoff = o.first_backoff;
        std::string reason = describe(failure);
        {
            std::lock_guard lock(state->mutex);
            loop->down = true;
            loop->reason = std::move(reason);
            loop->failures++;
            loop->failed_at = Steady::now();
        }
        log::error("{} failed: {}; restarting it in {} ms", loop->name, loop->reason, loop->backoff.count());
        asio::steady_timer wait(state->executor);
        wait.expires_after(loop->backoff);
        boost::system::error_code ec;
        co_await wait.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (loop->cancelled || state->stopping) break;
        loop->backoff = std::min(loop->backoff * 2, o.max_backoff);
        {
            std::lock_guard lock(state->mutex);
            loop->down = false;
        }
        log::info("{} restarted", loop->name);
    }
    state->remove(loop->id);
}

std::vector<LoopTrouble> Supervisor::troubles() const {
    std::vector<LoopTrouble> out;
    const SupervisorOptions& o = m_state->options;
    const auto now = Steady::now();
    std::lock_guard lock(m_state->mutex);
    for (const auto& [id, loop] : m_state->loops) {
        if (!loop->failed_at) continue;
        if (!loop->down && now - *loop->failed_at >= o.healthy_after) continue;
        out.push_back({loop->name, loop->core, loop->down, loop->reason, loop->failures,
                       std::chrono::duration<double>(now - *loop->failed_at).count()});
    }
    return out;
}

bool Supervisor::core_down() const {
    std::lock_guard lock(m_state->mutex);
    for (const auto& [id, loop] : m_state->loops)
        if (loop->core && loop->down) return true;
    return false;
}

size_t Supervisor::running() const {
    std::lock_guard lock(m_state->mutex);
    return m_state->loops.size();
}

}  // namespace fitbridge::engine
