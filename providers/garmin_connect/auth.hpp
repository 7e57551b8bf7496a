#pragma once
// Garmin Connect's credentials (provider-apis.md §2.1): DI OAuth2 tokens,
// handed over by the user or got by the daemon's own sign-in through the
// mobile JSON flow (sign-in, service ticket, DI token exchange). The access
// token is a JWT whose `client_id` claim names the DI client that refreshes
// it and whose `exp` says when: tokens are renewed 15 minutes before it and
// once after a 401. A sign-in that Garmin stops (MFA, CAPTCHA, 429, a
// Cloudflare 403, a refused password, an answer it no longer understands) is
// never repeated in a loop: the account's requests fail with that auth error
// (the engine marks it needs_reauth) until new tokens, a code or a new
// password arrive.

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "core/clock.hpp"
#include "net/http_client.hpp"
#include "net/oauth.hpp"
#include "store/cursors.hpp"

namespace fitbridge::providers::garmin_connect {

// The claims of a DI access token that renewal needs; nullopt when the token
// is no JWT (or its payload is no JSON object).
struct JwtClaims {
    std::optional<std::string> client_id{};
    std::optional<double> exp{};  // Unix seconds
};
std::optional<JwtClaims> jwt_claims(std::string_view token);

struct AuthSettings {
    std::string account_id{};
    std::string auth_url{};  // DI token endpoint host (https://diauth.garmin.com)
    std::string sso_url{};   // sign-in host (https://sso.garmin.com)
    std::string username{};  // empty: tokens are handed over only
    std::string password_file{};
};

// Where a verification code waits while Garmin asks for one (cursor store, per account).
inline constexpr std::string_view k_mfa_cursor = "garmin_connect.mfa";

// The Authorization source of one account. `http` renews tokens (the shared,
// retrying client); `sign_in` carries the sign-in and the ticket exchange and
// must not retry (a 429 there is never asked again by itself). `tokens` keeps
// the DI tokens (kind oauth2) and receives handed-over ones and codes (kind
// mfa_code); `cursors` keeps a sign-in waiting for a code across restarts.
// Either may be null.
std::unique_ptr<net::TokenSource> make_token_source(AuthSettings settings, net::HttpClient& http,
                                                    std::shared_ptr<net::HttpClient> sign_in, net::TokenStore* tokens,
                                                    store::CursorStore* cursors, const Clock& clock,
                                                    const config::Config& config);

}  // namespace fitbridge::providers::garmin_connect
