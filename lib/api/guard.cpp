#include "api/guard.hpp"

#include <algorithm>

#include "core/hash.hpp"

namespace fitbridge::api {

namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

// "name:port" / "[v6]:port" / "name" -> "name" / "[v6]".
std::string strip_port(const std::string& host) {
    if (!host.empty() && host.front() == '[') {
        auto close = host.find(']');
        if (close == std::string::npos) return host;
        return host.substr(0, close + 1);
    }
    auto colon = host.find(':');
    return colon == std::string::npos ? host : host.substr(0, colon);
}

}  // namespace

bool host_allowed(const std::string& host_header, const std::vector<std::string>& extra) {
    auto host = lower(strip_port(host_header));
    if (host.empty()) return false;
    if (host == "localhost" || host == "127.0.0.1" || host == "[::1]") return true;
    return std::any_of(extra.begin(), extra.end(), [&](const std::string& e) { return lower(e) == host; });
}

std::optional<Response> admit(const Request& req, bool public_route, const GuardOptions& options) {
    auto host = req.header("host");
    if (host.empty()) return error_response(400, "bad_request", "missing Host header");
    if (!host_allowed(host, options.allowed_hosts))
        return error_response(421, "misdirected_request", "Host '" + host + "' is not served here");
    auto origin = req.header("origin");
    if (!origin.empty()) {
        bool ok = std::find(options.allowed_origins.begin(), options.allowed_origins.end(), origin) !=
                  options.allowed_origins.end();
        if (!ok) {
            // Same-machine pages are allowed: http(s)://<allowed host>[:port].
            auto sep = origin.find("://");
            auto scheme = sep == std::string::npos ? std::string() : lower(origin.substr(0, sep));
            ok = (scheme == "http" || scheme == "https") && origin.find('/', sep + 3) == std::string::npos &&
                 host_allowed(origin.substr(sep + 3), options.allowed_hosts);
        }
        if (!ok) return error_response(403, "forbidden_origin", "Origin '" + origin + "' may not use this API");
    }
    if (public_route) return std::nullopt;
    auto auth = req.header("authorization");
    static constexpr std::string_view k_bearer = "Bearer ";
    if (auth.size() <= k_bearer.size() || lower(auth.substr(0, k_bearer.size())) != "bearer ") {
        auto r = error_response(401, "unauthorized", "missing bearer token (see <state dir>/api-token)");
        r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"fitbridge\"");
        return r;
    }
    if (!constant_time_equal(auth.substr(k_bearer.size()), options.token)) {
        auto r = error_response(401, "unauthorized", "wrong bearer token");
        r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"fitbridge\", error=\"invalid_token\"");
        return r;
    }
    return std::nullopt;
}

}  // namespace fitbridge::api
