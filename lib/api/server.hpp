#pragma once
// The control API's HTTP/1.1 server (Beast, coroutines on the io_context it
// is given, its handlers there or on an owner's thread): keep-alive, body-size
// limit, slow-client timeouts, a connection cap that makes room by closing the
// oldest idle or unfinished connection, admission through api/guard, graceful
// stop, and server-sent-event streams.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "api/guard.hpp"
#include "api/router.hpp"
#include "core/error.hpp"

namespace boost::asio {
class io_context;
}

namespace fitbridge::api {

struct ServerOptions {
    std::string listen = "127.0.0.1:8787";  // "host:port" (port 0 = any) or "unix:/path"
    int64_t max_body_bytes = 1 << 20;
    // Time for a request's headers to arrive (from the connection's start or a
    // kept-alive request's first byte); then request_timeout for the body.
    std::chrono::milliseconds header_timeout{5000};
    std::chrono::milliseconds request_timeout{30000};
    std::chrono::milliseconds idle_timeout{60000};
    int64_t max_connections = 64;
    GuardOptions guard;
    // Called as each request's headers are read (the daemon counts requests
    // as activity: it gives back idle memory only after a quiet second).
    std::function<void()> on_request;
};

// Handles one request given as raw bytes exactly as a connection would: the
// same parser and limits, admission on the headers before the body, routing,
// and the handler. nullopt when the server would send nothing (the bytes end
// before the request does, so it would wait and time out). For fuzzing.
std::optional<Response> handle_request_bytes(std::string_view bytes, const Router& router,
                                             const ServerOptions& options);

// Runs a function on another thread: posts it to that thread's io_context.
using Poster = std::function<void(std::function<void()>)>;

class Server {
public:
    // Serves on `io`, run by one thread. Without an `owner` the handlers run
    // there too. With one, `io` is the server's own and the handlers belong
    // to the owner: each request's handler is handed to `owner` and the
    // request waits for it, except on routes that run on the server's thread
    // (RunsOn::server), which are answered at once, however busy the owner
    // is. `io` must then outlive whatever `owner` has been handed and not
    // run: it holds the request's coroutine, resumed on `io`.
    Server(boost::asio::io_context& io, ServerOptions options, const Router& router, Poster owner = {});
    // Call when `io` no longer runs (or on its thread).
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Binds and starts accepting. Fails (fatal) with the address when it
    // cannot bind, e.g. the port is taken. Call before `io` runs, or on its
    // thread.
    Result<void> start();
    // The bound address, e.g. "127.0.0.1:41234" or "unix:/run/fitbridge.sock";
    // set by start(), read from any thread after it.
    std::string local_address() const;
    // Replaces admission and timeout settings (config reload); the listen
    // address is kept. From any thread: applied on the server's.
    void update(const ServerOptions& options);
    // Stops accepting, closes idle connections, lets requests in flight finish
    // (with Connection: close), ends event streams; force-closes whatever is
    // left after `grace`. `done` runs once every connection is gone, on the
    // owner's thread (on `io`'s without an owner). From any thread.
    void stop(std::chrono::milliseconds grace, std::function<void()> done);

private:
    struct Impl;
    std::shared_ptr<Impl> m_impl;
};

}  // namespace fitbridge::api
