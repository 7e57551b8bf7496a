#include "providers/kit/session.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

namespace fitbridge::providers::kit {

// One renewal in progress; concurrent requests park on the timer.
struct SessionSource::Flight {
    explicit Flight(boost::asio::any_io_executor executor) : done(std::move(executor)) {}
    boost::asio::steady_timer done;
    std::optional<Result<void>> result;
};

SessionSource::SessionSource(Options options, SignIn sign_in, Refresh refresh, net::TokenStore* store,
                             const Clock& clock)
    : m_options(std::move(options)),
      m_sign_in(std::move(sign_in)),
      m_refresh(std::move(refresh)),
      m_store(store),
      m_clock(clock) {}

SessionSource::~SessionSource() = default;

std::string SessionSource::header() const { return fmt::format("{} {}", m_options.scheme, m_current->access_token); }

boost::asio::awaitable<Result<std::string>> SessionSource::authorization() {
    if (!m_loaded) {
        m_loaded = true;
        if (m_store != nullptr) {
            auto loaded = m_store->load(m_options.account);
            if (loaded && *loaded && (*loaded)->kind == m_options.kind) m_current = **loaded;
        }
    }
    const bool expiring =
        m_current && m_current->expires_at && m_clock.now() + m_options.skew >= *m_current->expires_at;
    if (!m_current || expiring || m_force) {
        std::shared_ptr<Flight> flight = m_flight;
        if (flight) {
            boost::system::error_code ec;
            co_await flight->done.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
        } else {
            flight = std::make_shared<Flight>(co_await boost::asio::this_coro::executor);
            flight->done.expires_at(boost::asio::steady_timer::time_point::max());
            m_flight = flight;
            flight->result = co_await renew();
            m_flight.reset();
            flight->done.cancel();
        }
        if (!flight->result) co_return Error::transient("session.cancelled", "the sign-in was cancelled");
        if (!*flight->result) co_return flight->result->error();
    }
    co_return header();
}

boost::asio::awaitable<Result<void>> SessionSource::renew() {
    const bool for_401 = m_force;
    std::optional<Result<net::Credentials>> fresh;
    if (m_refresh && m_current && !m_current->refresh_token.empty()) {
        auto refreshed = co_await m_refresh(*m_current);
        if (refreshed || refreshed.error().cls != ErrorClass::auth) fresh = std::move(refreshed);
    }
    if (!fresh) fresh = co_await m_sign_in();
    if (!*fresh) co_return fresh->error();
    net::Credentials c = std::move(**fresh);
    c.kind = m_options.kind;
    // Kept before use: a refresh may have retired the old refresh token.
    if (m_store != nullptr)
        if (auto saved = m_store->save(m_options.account, c); !saved) co_return saved.error();
    m_current = std::move(c);
    m_force = false;
    m_renewed_for_401 = for_401 ? m_current->access_token : std::string();
    m_renewed_at = m_clock.now();
    co_return Result<void>{};
}

bool SessionSource::invalidate(const std::string& authorization) {
    if (!m_current || authorization != header()) return true;  // a newer session exists already
    // A session made right after a 401 drew one too within a minute: the
    // platform refuses the account, not the session. (Later, it may simply
    // have expired early.)
    if (!m_renewed_for_401.empty() && m_renewed_for_401 == m_current->access_token &&
        m_clock.now() - m_renewed_at < std::chrono::minutes(1))
        return false;
    m_force = true;
    return true;
}

}  // namespace fitbridge::providers::kit
