#pragma once
// A login that POSTs a JSON body with the user's password and reads a
// session token out of the JSON answer: the shape of most unofficial
// platforms' web and app logins (MyWhoosh, iGPSport). It is what a
// Platform::login function calls; PlatformClient keeps the session and logs in
// again when it expires or draws a 401.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

#include "core/clock.hpp"
#include "net/http_client.hpp"
#include "net/oauth.hpp"
#include "providers/kit/platform.hpp"

namespace fitbridge::providers::kit {

struct PasswordLogin {
    std::string url{};   // the login endpoint, absolute
    std::string body{};  // the JSON body (password included)
    net::Headers headers{};
    std::string_view token_path{};    // dotted path of the access token: "AccessToken", "data.access_token"
    std::string_view refresh_path{};  // of a refresh token, if any
    // Without an expiry in the answer (expires_in_path) or in the token (a
    // JWT's `exp`), the session is taken to last this long; nullopt: until a 401.
    std::string_view expires_in_path{};
    std::optional<std::chrono::seconds> lifetime{};
    // The platform's verdict on a 2xx JSON answer that may still be a refusal
    // (MyWhoosh `Success: false`, iGPSport `code != 0`): the reason to show
    // (the account's needs_reauth line), or nullopt when the login succeeded.
    std::function<std::optional<std::string>(const rapidjson::Value& answer)> refusal{};
    net::Priority priority = net::Priority::live;
};

// Sends the login. Errors, all worded "<title> ... login ...": a refusal
// (401/403/400/422 or the `refusal` verdict) is an auth error
// "<name>.login_refused" carrying the platform's message; 429 is rate_limited
// (Retry-After kept); 5xx and transport failures are transient; an answer
// that is not JSON, or JSON without the token, is a permanent
// "<name>.bad_answer" (a changed API: the account shows it, nothing retries in
// a loop).
Task<net::Credentials> password_login(net::HttpClient& http, const Platform& platform, const PasswordLogin& login,
                                      const Clock& clock);

// The payload of a JWT (header.payload.signature, base64url JSON) when it is
// a JSON object; nullopt when `token` is not such a JWT.
std::optional<rapidjson::Document> jwt_payload(std::string_view token);

// The `exp` claim of a JWT (header.payload.signature, base64url JSON), or
// nullopt when `token` is not a JWT or has no numeric `exp`.
std::optional<SysTime> jwt_expiry(std::string_view token);

}  // namespace fitbridge::providers::kit
