#pragma once
// Absolute http(s) URLs split into the parts a connection needs, plus the
// percent-encoding used by query strings and form bodies.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace fitbridge::net {

struct Url {
    std::string scheme;  // "http" or "https", lower-case
    std::string host;    // lower-case; IPv6 literals without brackets
    uint16_t port = 0;   // explicit or the scheme's default
    std::string target;  // path and query, at least "/"

    // "host" or "host:port" as the Host header wants it (port only when not the default).
    std::string host_header() const;
    // scheme://host:port, the key connections are pooled under.
    std::string origin() const;
    std::string str() const;
};

// Parses an absolute http:// or https:// URL; anything else is a permanent error.
Result<Url> parse_url(std::string_view text);

// Resolves a Location header against the URL it came from (absolute,
// scheme-relative "//host/..", absolute-path "/..", or relative "x").
Result<Url> resolve_url(const Url& base, std::string_view location);

// Percent-encodes everything but RFC 3986 unreserved characters.
std::string url_encode(std::string_view text);
// Decodes %XX and '+' (as in form bodies and query strings).
std::string url_decode(std::string_view text);
// "a=1&b=x%20y": an application/x-www-form-urlencoded body or a query string.
std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields);
// Splits "a=1&b=2" into decoded pairs (order kept).
std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query);

}  // namespace fitbridge::net
