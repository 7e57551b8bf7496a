#pragma once
// Request admission for the control API: DNS-rebinding (Host) and cross-site
// (Origin) protection and bearer-token authentication, as pure functions.

#include <optional>
#include <string>
#include <vector>

#include "api/http.hpp"

namespace fitbridge::api {

struct GuardOptions {
    std::string token;                         // the bearer token
    std::vector<std::string> allowed_hosts;    // besides localhost, 127.0.0.1, [::1]
    std::vector<std::string> allowed_origins;  // exact "scheme://host[:port]" values
    // Route patterns served without the token besides the routes marked
    // public (e.g. "/metrics" for a local scraper); Host and Origin still apply.
    std::vector<std::string> public_paths;
};

// True when a Host header value names this machine (or a configured name);
// any port is accepted.
bool host_allowed(const std::string& host, const std::vector<std::string>& extra);

// Checks Host, Origin and (unless the route is public) the bearer token.
// Returns the refusal, or nullopt when the request may proceed.
std::optional<Response> admit(const Request& req, bool public_route, const GuardOptions& options);

}  // namespace fitbridge::api
