#pragma once
// Credentials and the Authorization header: API keys (Basic, Intervals.icu
// style), static bearer tokens, and OAuth2 with refresh before expiry,
// single-flight per account, rotated refresh tokens persisted before use, and
// one refresh after a 401. Plus the PKCE code flow with a loopback redirect.

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "net/http_client.hpp"

namespace fitbridge::store {
class Store;
}

namespace fitbridge::net {

struct Credentials {
    std::string kind;  // api_key | oauth2 | basic | token (the credentials.kind column)
    std::string access_token;
    std::string refresh_token;
    std::optional<SysTime> expires_at;  // nullopt: does not expire
    std::string scope;
};

// Where an account's credentials live. save() returns only once the
// credentials are durable, so a crash after it cannot lose a rotated token.
class TokenStore {
public:
    virtual ~TokenStore() = default;
    virtual Result<std::optional<Credentials>> load(const std::string& account) = 0;
    virtual Result<void> save(const std::string& account, const Credentials& credentials) = 0;
};

// The store's `credentials` table (the account row must exist); each save is
// one transaction.
class SqliteTokenStore final : public TokenStore {
public:
    SqliteTokenStore(store::Store& store, const Clock& clock) : m_store(store), m_clock(clock) {}
    Result<std::optional<Credentials>> load(const std::string& account) override;
    Result<void> save(const std::string& account, const Credentials& credentials) override;

private:
    store::Store& m_store;
    const Clock& m_clock;
};

// Produces the Authorization header value for one account's requests.
class TokenSource {
public:
    virtual ~TokenSource() = default;
    // The header value, or an auth error when the account needs re-authorising.
    virtual boost::asio::awaitable<Result<std::string>> authorization() = 0;
    // Reports that `authorization` (a value returned above) drew a 401; true
    // when asking authorization() again may help (one refresh per rejection).
    virtual bool invalidate(const std::string& authorization) = 0;
};

std::string base64(std::string_view bytes);
// URL-safe alphabet, no padding (RFC 7636 appendix A).
std::string base64url(std::string_view bytes);

// "Basic base64(API_KEY:<key>)", Intervals.icu's personal key scheme.
std::unique_ptr<TokenSource> make_api_key_source(std::string key);
std::unique_ptr<TokenSource> make_basic_source(std::string user, std::string password);
std::unique_ptr<TokenSource> make_bearer_source(std::string token);

struct OAuthEndpoints {
    std::string authorize_url;
    std::string token_url;
    std::string client_id;
    std::string client_secret;
    std::string redirect_uri;
    std::string scope;
    // A confidential client authenticates with HTTP Basic (client_id:secret)
    // rather than form fields; a client without a secret sends its client_id
    // in the form either way (a public client, PKCE only).
    bool basic_auth = false;
};

// The token endpoint's client authentication: the form's client_id (and
// client_secret) fields, or an Authorization: Basic header.
void authenticate_client(const OAuthEndpoints& endpoints, HttpRequest& request,
                         std::vector<std::pair<std::string, std::string>>& form);

// OAuth2 for one account. Refreshes `skew` before expiry; concurrent callers
// share one refresh; the new tokens are saved before anyone uses them.
class OAuth2TokenSource final : public TokenSource {
public:
    OAuth2TokenSource(HttpClient& http, TokenStore& store, std::string account, OAuthEndpoints endpoints,
                      const Clock& clock, std::chrono::seconds skew = std::chrono::seconds(60));
    ~OAuth2TokenSource() override;

    boost::asio::awaitable<Result<std::string>> authorization() override;
    bool invalidate(const std::string& authorization) override;
    // True once a refresh was refused or a refreshed token drew a 401 too.
    bool needs_reauth() const { return m_dead; }

private:
    struct Flight;
    boost::asio::awaitable<Result<void>> refresh();

    HttpClient& m_http;
    TokenStore& m_store;
    std::string m_account;
    OAuthEndpoints m_endpoints;
    const Clock& m_clock;
    std::chrono::seconds m_skew;
    std::optional<Credentials> m_credentials;
    std::shared_ptr<Flight> m_flight;
    bool m_force_refresh = false;
    bool m_dead = false;
    std::string m_refreshed_for_401;  // the access token a 401-triggered refresh produced
};

// What send_authorized does with a 401 that a refresh did not cure.
enum class Final401 {
    error,     // an auth error (the caller marks the account needs_reauth)
    response,  // the 401 response itself, for a provider that words its own errors
};

// Sends `request` with `tokens`' Authorization; after a 401 lets the source
// refresh once and resends. Other statuses come back as responses.
boost::asio::awaitable<Result<HttpResponse>> send_authorized(HttpClient& http, TokenSource& tokens, HttpRequest request,
                                                             const Clock& clock, Final401 final_401 = Final401::error);

struct Pkce {
    std::string verifier;   // 43 characters of base64url randomness
    std::string challenge;  // base64url(SHA-256(verifier)), method S256
};
Pkce make_pkce();
std::string pkce_challenge(std::string_view verifier);
// An unguessable `state` value for one authorization attempt.
std::string make_state();
// The URL the user opens: response_type=code, client_id, redirect_uri, scope, state, S256 challenge.
std::string authorization_url(const OAuthEndpoints& endpoints, std::string_view state, std::string_view challenge);
// The token endpoint request for an authorization code (form body).
HttpRequest code_exchange_request(const OAuthEndpoints& endpoints, std::string_view code, std::string_view verifier);
// Reads a token endpoint answer (access_token, refresh_token, expires_at or
// expires_in, scope). A missing refresh_token keeps `previous`'s.
Result<Credentials> parse_token_response(const HttpResponse& response, SysTime now,
                                         const Credentials* previous = nullptr);
boost::asio::awaitable<Result<Credentials>> exchange_code(HttpClient& http, const OAuthEndpoints& endpoints,
                                                          std::string code, std::string verifier, const Clock& clock);

// A blocking one-shot listener on 127.0.0.1 for the browser's redirect
// (`fitbridge auth ACCOUNT`). Plain sockets: it runs before the daemon loop.
class LoopbackListener {
public:
    // Port 0 picks a free one. Throws std::runtime_error when it cannot bind.
    explicit LoopbackListener(uint16_t port = 0);
    ~LoopbackListener();
    LoopbackListener(const LoopbackListener&) = delete;
    LoopbackListener& operator=(const LoopbackListener&) = delete;

    uint16_t port() const { return m_port; }
    std::string redirect_uri(std::string_view path = "/callback") const;

    struct Callback {
        std::string code;
        std::string scope;  // what the user actually granted, when the platform says
    };
    // Waits for the redirect carrying `code` and the expected `state`; a wrong
    // state is a permanent error, a denial an auth error, no visit a transient timeout.
    Result<Callback> wait(std::string_view expected_state, std::chrono::milliseconds timeout);

private:
    int m_fd = -1;
    uint16_t m_port = 0;
};

}  // namespace fitbridge::net
