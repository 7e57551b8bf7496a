#pragma once
// The OAuth2 resource-owner password grant and its refresh, as Keycloak
// realms and other token endpoints answer them: a form POST to the token
// URL, a JSON answer (access_token, expires_in, refresh_token,
// refresh_expires_in), and errors as {"error", "error_description"}
// (Keycloak's `invalid_grant` for a wrong password or a dead refresh token).

#include <string>
#include <string_view>

#include "net/http_client.hpp"
#include "net/oauth.hpp"
#include "providers/provider.hpp"

namespace fitbridge::providers::kit {

struct PasswordGrant {
    std::string token_url{};
    std::string client_id{};
    std::string client_secret{};  // empty: a public client (client_id only)
    std::string scope{};          // empty: none asked for
    // Names the platform in errors ("Zwift") and prefixes their codes ("zwift").
    std::string title{};
    std::string platform{};
    net::Priority priority = net::Priority::live;
};

// grant_type=password for `username`. A refused login (400/401 with
// invalid_grant, invalid_client, unauthorized_client...) is an auth error
// "<platform>.invalid_grant" whose message carries the endpoint's
// error_description; 429 and 5xx are transient.
Task<net::Credentials> password_grant(net::HttpClient& http, const PasswordGrant& grant, std::string_view username,
                                      std::string_view password, const Clock& clock);

// grant_type=refresh_token. A refused refresh token is an auth error
// "<platform>.refresh_refused" (the caller signs in again).
Task<net::Credentials> refresh_grant(net::HttpClient& http, const PasswordGrant& grant, const net::Credentials& current,
                                     const Clock& clock);

// The refusal of a token endpoint answer `status`/`body`, worded for people:
// "<error_description> (<error>)", or the error alone.
std::string token_refusal(std::string_view body);

}  // namespace fitbridge::providers::kit
