#pragma once
// A small blocking HTTP/1.1 client for the control API on this machine (TCP
// loopback or a unix socket), used by the CLI's client commands. Not for the
// platforms: those go through the async client.

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace fitbridge::net {

struct LocalResponse {
    int status = 0;
    std::string content_type;
    std::string body;
};

struct LocalRequest {
    std::string method = "GET";
    std::string target = "/";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
};

// `address` is "host:port" or "unix:/path". Connection failures are transient
// errors naming the address.
Result<LocalResponse> local_request(const std::string& address, const LocalRequest& request,
                                    std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace fitbridge::net
