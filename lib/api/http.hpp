#pragma once
// Plain request/response types for the control API. No Beast here, so the
// router and the handlers compile fast and are testable without sockets.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace fitbridge::api {

struct Request {
    std::string method;                          // "GET", "POST", ...
    std::string target;                          // as sent: path and query
    std::string path;                            // percent-decoded path
    std::map<std::string, std::string> query;    // decoded query parameters
    std::map<std::string, std::string> params;   // named path segments from the route
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;

    std::string header(const std::string& lower_name) const {
        auto it = headers.find(lower_name);
        return it == headers.end() ? std::string() : it->second;
    }
};

// A sink for server-sent events: `send` returns false once the client is gone.
class EventStream {
public:
    virtual ~EventStream() = default;
    virtual void send(std::string chunk) = 0;
    virtual bool open() const = 0;
};

struct Response {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    // When set, the server keeps the connection and hands it to this function
    // as a stream (text/event-stream); `body` is sent first.
    std::function<void(std::shared_ptr<EventStream>)> stream;
};

// The JSON error body every failure uses: {"error":{"code":...,"message":...}}.
Response error_response(int status, std::string_view code, std::string_view message);
Response json_response(int status, std::string body);

// Splits and percent-decodes a request target into path and query.
bool parse_target(const std::string& target, std::string& path, std::map<std::string, std::string>& query);

}  // namespace fitbridge::api
