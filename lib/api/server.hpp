#pragma once
// The control API's HTTP/1.1 server (Beast, coroutines on the caller's
// io_context): keep-alive, body-size limit, slow-client timeouts, a
// connection cap, admission through api/guard, graceful stop, and
// server-sent-event streams.

#include <chrono>
#include <functional>
#include <memory>
#include <string>

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
    std::chrono::milliseconds request_timeout{30000};
    std::chrono::milliseconds idle_timeout{60000};
    int64_t max_connections = 64;
    GuardOptions guard;
};

class Server {
public:
    Server(boost::asio::io_context& io, ServerOptions options, const Router& router);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Binds and starts accepting. Fails (fatal) with the address when it
    // cannot bind, e.g. the port is taken.
    Result<void> start();
    // The bound address, e.g. "127.0.0.1:41234" or "unix:/run/fitbridge.sock".
    std::string local_address() const;
    // Replaces admission and timeout settings (config reload); the listen
    // address is kept until restart.
    void update(const ServerOptions& options);
    // Stops accepting, closes idle connections, lets requests in flight finish
    // (with Connection: close), ends event streams; force-closes whatever is
    // left after `grace`. `done` runs once every connection is gone.
    void stop(std::chrono::milliseconds grace, std::function<void()> done);
    size_t connection_count() const;

private:
    struct Impl;
    std::shared_ptr<Impl> m_impl;
};

}  // namespace fitbridge::api
