// Events: persisted in the ledger (numbered, pruned), then handed to the
// listeners behind GET /v1/events. Also the small shared helpers of parts.hpp.

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "engine/parts.hpp"
#include "json/json.hpp"

namespace fitbridge::engine {

namespace asio = boost::asio;

asio::awaitable<void> Wake::wait(std::chrono::steady_clock::duration d) {
    if (pending) {
        pending = false;
        co_return;
    }
    timer.expires_after(d);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    pending = false;
}

std::string event_json(std::initializer_list<std::pair<std::string_view, std::string>> fields) {
    json::Builder b;
    b.w.StartObject();
    for (const auto& [k, v] : fields) {
        b.key(k);
        b.string(v);
    }
    b.w.EndObject();
    return b.str();
}

int Engine::add_listener(EventListener listener) {
    int id = m_next_listener++;
    m_listeners.emplace(id, std::move(listener));
    return id;
}

void Engine::remove_listener(int id) { m_listeners.erase(id); }

boost::asio::awaitable<bool> Engine::commit_together(std::function<void()> write) {
    return m_shared_commit.write([this, write = std::move(write)] {
        const auto held = static_cast<std::ptrdiff_t>(m_held_events.size());
        try {
            write();
        } catch (...) {
            // Rolled back alone: so are the events it emitted.
            m_held_events.erase(m_held_events.begin() + held, m_held_events.end());
            throw;
        }
    });
}

void Engine::emit(const std::string& type, const std::string& data_json) {
    store::EventRow e;
    e.type = type;
    e.data = data_json;
    e.at = m_ledger.now();
    e.id = m_ledger.append_event(type, data_json);
    if (e.id % 1000 == 0) m_ledger.prune_events(10000);
    if (m_events_held > 0) {
        m_held_events.push_back(std::move(e));
        return;
    }
    publish(e);
}

void Engine::publish(const store::EventRow& e) {
    // Listeners may remove themselves while being called.
    auto copy = m_listeners;
    for (auto& [id, l] : copy) l(e);
}

}  // namespace fitbridge::engine
