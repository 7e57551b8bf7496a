#pragma once
// A session token a platform hands out for its own kind of sign-in (an OAuth
// password grant, a browser cookie exchanged for a bearer token): obtained on
// first use, kept in the token store under its own kind, renewed shortly
// before it expires (with its refresh token when it has one, by signing in
// again otherwise or when the refresh is refused), and renewed once after a
// 401. A platform installs it with PlatformClient::set_token_source.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "net/oauth.hpp"
#include "providers/provider.hpp"

namespace fitbridge::providers::kit {

class SessionSource final : public net::TokenSource {
public:
    // Signs in from scratch: the new session. Auth errors mean the account's
    // secret was refused (the account needs re-authorising).
    using SignIn = std::function<Task<net::Credentials>()>;
    // Renews `current` with its refresh token. An auth error (the refresh
    // token expired or was revoked) falls back to SignIn; any other error is
    // returned as it is.
    using Refresh = std::function<Task<net::Credentials>(const net::Credentials& current)>;

    struct Options {
        std::string account{};
        std::string kind = "session";   // the credentials kind it is stored under
        std::string scheme = "Bearer";  // Authorization: <scheme> <token>
        std::chrono::seconds skew{60};  // renewed this long before expires_at
    };

    SessionSource(Options options, SignIn sign_in, Refresh refresh, net::TokenStore* store, const Clock& clock);
    ~SessionSource() override;

    boost::asio::awaitable<Result<std::string>> authorization() override;
    bool invalidate(const std::string& authorization) override;

    // The session in use (for tests and diagnostics).
    const std::optional<net::Credentials>& current() const { return m_current; }

private:
    struct Flight;
    boost::asio::awaitable<Result<void>> renew();
    std::string header() const;

    Options m_options;
    SignIn m_sign_in;
    Refresh m_refresh;
    net::TokenStore* m_store;
    const Clock& m_clock;
    std::optional<net::Credentials> m_current;
    std::shared_ptr<Flight> m_flight;
    bool m_loaded = false;
    bool m_force = false;
    std::string m_renewed_for_401;  // the token a 401-triggered renewal produced
    SysTime m_renewed_at{};         // when
};

}  // namespace fitbridge::providers::kit
