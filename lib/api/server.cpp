#include "api/server.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <array>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <deque>
#include <mutex>
#include <optional>
#include <set>

#include "api/request_parse.hpp"
#include "core/log.hpp"

namespace fitbridge::api {

using detail::configure;
using detail::head_of;
using detail::Parser;
using detail::read_failure;
using detail::run;
using detail::screen;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Socket = asio::generic::stream_protocol::socket;
using Acceptor = asio::basic_socket_acceptor<asio::generic::stream_protocol>;
using asio::awaitable;
using asio::use_awaitable;

namespace {

// Where a connection is in its request cycle. Only `idle` and `head`
// connections may be closed to make room under the connection cap: they have
// not yet shown a complete, admitted request.
enum class Phase { idle, head, body, busy };

struct Conn : std::enable_shared_from_this<Conn> {
    explicit Conn(Socket s) : sock(std::move(s)), timer(sock.get_executor()) {}
    Socket sock;
    asio::steady_timer timer;
    Phase phase = Phase::idle;
    std::chrono::steady_clock::time_point since = std::chrono::steady_clock::now();  // entered `phase`

    void enter(Phase p) {
        if (p == phase) return;
        // idle -> head keeps its time: a client that opened a connection long
        // ago and trickles a request is as old as its connection.
        if (!(phase == Phase::idle && p == Phase::head)) since = std::chrono::steady_clock::now();
        phase = p;
    }
    bool evictable() const { return phase == Phase::idle || phase == Phase::head; }

    // Closes the socket when the deadline passes: a pending read fails and the
    // session ends. Re-arming replaces the previous deadline.
    void arm(std::chrono::milliseconds d) {
        timer.expires_after(d);
        timer.async_wait([w = weak_from_this()](const boost::system::error_code& ec) {
            if (ec) return;
            if (auto c = w.lock()) {
                boost::system::error_code ignored;
                c->sock.close(ignored);
            }
        });
    }
    void close() {
        boost::system::error_code ignored;
        timer.cancel();
        sock.shutdown(asio::socket_base::shutdown_both, ignored);
        sock.close(ignored);
    }
};

// A server-sent-events stream over one connection. Chunks are queued from
// any thread and written by the connection's own coroutine, on the server's.
class SseStream final : public EventStream, public std::enable_shared_from_this<SseStream> {
public:
    explicit SseStream(asio::any_io_executor ex) : m_wake(ex) {
        m_wake.expires_at(asio::steady_timer::time_point::max());
    }
    void send(std::string chunk) override {
        {
            std::lock_guard lock(m_mutex);
            if (!m_open) return;
            if (m_queue.size() > 1024) {  // a client that does not read loses its stream, not our memory
                m_open = false;
            } else {
                m_queue.push_back(std::move(chunk));
            }
        }
        // The wait is the coroutine's, on the server's thread.
        asio::post(m_wake.get_executor(), [self = shared_from_this()] { self->m_wake.cancel(); });
    }
    bool open() const override { return m_open; }
    // The rest on the server's thread.
    void close() {
        m_open = false;
        m_wake.cancel();
    }
    std::optional<std::string> next() {
        std::lock_guard lock(m_mutex);
        if (m_queue.empty()) return std::nullopt;
        std::string chunk = std::move(m_queue.front());
        m_queue.pop_front();
        return chunk;
    }
    bool empty() {
        std::lock_guard lock(m_mutex);
        return m_queue.empty();
    }
    asio::steady_timer m_wake;

private:
    std::mutex m_mutex;
    std::deque<std::string> m_queue;
    std::atomic<bool> m_open = true;
};

// A handler's response, with the stream it opened (if it did).
struct Answer {
    Response res;
    std::shared_ptr<SseStream> stream;
};

// Runs the handler; a response that streams gets its stream (on `server`, the
// server's executor) and the handler's stream function gets it, in the same
// call, so that no event falls between the response and the stream.
Answer answer(Request& req, const Route& route, const asio::any_io_executor& server) {
    Answer a{run(req, route), nullptr};
    if (a.res.stream && a.res.status == 200) {
        a.stream = std::make_shared<SseStream>(server);
        if (!a.res.body.empty()) a.stream->send(std::move(a.res.body));
        a.res.body.clear();
        try {
            a.res.stream(a.stream);
        } catch (const std::exception& e) {
            log::error("api: {} {}: the event stream could not start: {}", req.method, req.path, e.what());
            a.stream->close();
        }
    }
    return a;
}

// answer() on the owner's thread; the completion resumes the request's
// coroutine on the server's.
template <typename Token>
auto async_answer_on(const Poster& owner, Request& req, const Route& route, asio::any_io_executor server,
                     Token&& token) {
    return asio::async_initiate<Token, void(Answer)>(
        [&owner, &req, &route, server](auto handler) {
            auto h = std::make_shared<std::decay_t<decltype(handler)>>(std::move(handler));
            owner([h, &req, &route, server] {
                Answer a = answer(req, route, server);
                auto ex = asio::get_associated_executor(*h, server);
                asio::post(ex, [h, a = std::move(a)]() mutable { std::move (*h)(std::move(a)); });
            });
        },
        token);
}

std::string reason_text(int status) { return std::string(http::obsolete_reason(static_cast<http::status>(status))); }

}  // namespace

struct Server::Impl : std::enable_shared_from_this<Server::Impl> {
    Impl(asio::io_context& io_, ServerOptions o, const Router& r, Poster owner_)
        : io(io_), options(std::move(o)), router(r), owner(std::move(owner_)), acceptor(io_), grace_timer(io_) {}

    asio::io_context& io;
    ServerOptions options;
    const Router& router;
    Poster owner;  // empty: handlers run on `io`
    Acceptor acceptor;
    std::string bound;
    std::string unix_path;
    std::set<std::shared_ptr<Conn>> conns;
    std::set<std::shared_ptr<SseStream>> streams;
    bool stopping = false;
    asio::steady_timer grace_timer;
    std::function<void()> on_stopped;

    Result<void> start();
    awaitable<void> accept_loop();
    awaitable<void> serve(std::shared_ptr<Conn> c);
    awaitable<void> linger(std::shared_ptr<Conn> c);
    awaitable<void> serve_stream(std::shared_ptr<Conn> c, std::shared_ptr<SseStream> s);
    std::shared_ptr<Conn> oldest_evictable() const;
    void finished(const std::shared_ptr<Conn>& c);
    void stop(std::chrono::milliseconds grace, std::function<void()> done);
    // Where `done` of stop() runs.
    void hand_back(std::function<void()> f) {
        if (owner)
            owner(std::move(f));
        else
            asio::post(io, std::move(f));
    }
};

Result<void> Server::Impl::start() {
    boost::system::error_code ec;
    const auto& l = options.listen;
    auto fail = [&](std::string_view what) {
        return Error{
            "api.listen", ErrorClass::fatal, fmt::format("cannot {} control API on {}: {}", what, l, ec.message()), {}};
    };
    if (l.rfind("unix:", 0) == 0) {
        unix_path = l.substr(5);
        ::unlink(unix_path.c_str());  // a stale socket from a previous run
        asio::local::stream_protocol::endpoint ep(unix_path);
        acceptor.open(asio::generic::stream_protocol(AF_UNIX, 0), ec);
        if (ec) return fail("open");
        acceptor.bind(asio::generic::stream_protocol::endpoint(ep), ec);
        if (ec) return fail("bind");
        ::chmod(unix_path.c_str(), 0600);
        bound = l;
    } else {
        auto colon = l.rfind(':');
        std::string host = l.substr(0, colon);
        if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
        auto addr = asio::ip::make_address(host, ec);
        if (ec) {
            // A name such as "localhost": resolve to loopback only.
            if (host != "localhost") return fail("parse address for");
            addr = asio::ip::make_address("127.0.0.1");
            ec.clear();
        }
        asio::ip::tcp::endpoint ep(addr, static_cast<unsigned short>(std::stoi(l.substr(colon + 1))));
        acceptor.open(asio::generic::stream_protocol(ep.protocol().family(), IPPROTO_TCP), ec);
        if (ec) return fail("open");
        acceptor.set_option(asio::socket_base::reuse_address(true), ec);
        acceptor.bind(asio::generic::stream_protocol::endpoint(ep), ec);
        if (ec) return fail("bind");
        // Read back the port (0 means "any").
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        ::getsockname(acceptor.native_handle(), reinterpret_cast<sockaddr*>(&ss), &len);
        unsigned port = ss.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
                                                 : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
        bound = addr.is_v6() ? fmt::format("[{}]:{}", addr.to_string(), port)
                             : fmt::format("{}:{}", addr.to_string(), port);
    }
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return fail("listen");
    asio::co_spawn(
        io, [self = shared_from_this()]() { return self->accept_loop(); }, asio::detached);
    return {};
}

awaitable<void> Server::Impl::accept_loop() {
    auto self = shared_from_this();
    while (!stopping) {
        boost::system::error_code ec;
        Socket s = co_await acceptor.async_accept(asio::redirect_error(use_awaitable, ec));
        if (ec) {
            if (stopping || ec == asio::error::operation_aborted) break;
            log::warn("api: accept failed: {}", ec.message());
            continue;
        }
        if (s.local_endpoint().protocol().family() != AF_UNIX) {
            s.set_option(asio::ip::tcp::no_delay(true), ec);
        }
        // Reads and writes are tried at once before waiting (serve()).
        s.non_blocking(true, ec);
        if (ec) {
            log::warn("api: cannot make a connection non-blocking: {}", ec.message());
            continue;
        }
        auto c = std::make_shared<Conn>(std::move(s));
        if (static_cast<int64_t>(conns.size()) >= options.max_connections) {
            // Make room by closing the connection that has waited longest
            // without a complete request: slow or stalled clients cannot keep
            // everyone else out. Only when every slot is serving an admitted
            // request does the newcomer get a 503.
            if (auto victim = oldest_evictable()) {
                log::debug("api: connection cap ({}) reached; closing the oldest idle or unfinished connection",
                           options.max_connections);
                conns.erase(victim);
                victim->close();
            } else {
                auto msg = std::make_shared<std::string>(
                    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\n"
                    "Retry-After: 1\r\nContent-Length: 74\r\n\r\n"
                    "{\"error\":{\"code\":\"busy\",\"message\":\"too many connections, retry later\"}}\n");
                asio::async_write(c->sock, asio::buffer(*msg), [c, msg](auto, auto) { c->close(); });
                continue;
            }
        }
        conns.insert(c);
        asio::co_spawn(
            io, [self, c]() { return self->serve(c); }, asio::detached);
    }
}

std::shared_ptr<Conn> Server::Impl::oldest_evictable() const {
    std::shared_ptr<Conn> oldest;
    for (const auto& c : conns)
        if (c->evictable() && (!oldest || c->since < oldest->since)) oldest = c;
    return oldest;
}

awaitable<void> Server::Impl::serve(std::shared_ptr<Conn> c) {
    auto self = shared_from_this();
    beast::flat_buffer buf;
    bool first = true;
    for (;;) {
        boost::system::error_code ec;
        if (buf.size() == 0) {
            c->enter(Phase::idle);
            if (stopping) break;
            c->arm(first ? options.header_timeout : options.idle_timeout);
            co_await c->sock.async_wait(asio::socket_base::wait_read, asio::redirect_error(use_awaitable, ec));
            if (ec) break;
        }
        c->enter(Phase::head);
        Parser parser;
        configure(parser, options);
        // What has arrived is parsed at once, and only what is still on its
        // way is waited for: each asynchronous step costs the request a turn
        // of the io_context, and during a backfill a turn can include an
        // engine item. (The socket is non-blocking: a read that would wait
        // fails with would_block, and the parser keeps its progress.)
        // The header deadline is armed only to wait: a connection the client
        // closed ends here without one, which would have left the reactor's
        // timer set to wake the idle daemon when it expired.
        http::read_header(c->sock, buf, parser, ec);
        if (ec == asio::error::would_block) {
            ec = {};
            c->arm(options.header_timeout);
            co_await http::async_read_header(c->sock, buf, parser, asio::redirect_error(use_awaitable, ec));
        }
        Answer a;
        Response& res = a.res;
        bool keep_alive = false;
        bool unread = true;          // request bytes may be left in the socket
        std::optional<Request> req;  // kept for the owner's thread while its handler runs there
        if (ec) {
            auto failed = read_failure(ec, options);
            if (!failed) break;
            res = std::move(*failed);
        } else {
            req = head_of(parser.get());
            if (options.on_request) options.on_request();
            const Route* route = nullptr;
            if (auto refused = screen(*req, router, options.guard, route)) {
                res = std::move(*refused);  // the body (if any) is unread: the connection closes
            } else {
                c->enter(Phase::body);
                c->arm(options.request_timeout);
                if (!parser.is_done()) {
                    http::read(c->sock, buf, parser, ec);
                    if (ec == asio::error::would_block) {
                        ec = {};
                        co_await http::async_read(c->sock, buf, parser, asio::redirect_error(use_awaitable, ec));
                    }
                }
                if (ec) {
                    auto failed = read_failure(ec, options);
                    if (!failed) break;
                    res = std::move(*failed);
                } else {
                    c->enter(Phase::busy);
                    unread = false;
                    req->body = std::move(parser.get().body());
                    auto here = c->sock.get_executor();
                    if (owner && route->runs_on == RunsOn::owner)
                        a = co_await async_answer_on(owner, *req, *route, here, use_awaitable);
                    else
                        a = answer(*req, *route, here);
                    keep_alive = parser.get().keep_alive() && !stopping;
                }
            }
            if (req->method == "HEAD") res.body.clear();
        }
        c->enter(Phase::busy);
        c->timer.cancel();
        if (a.stream) {
            auto s = std::move(a.stream);
            streams.insert(s);
            if (stopping) s->close();  // stop() came while the handler ran on the owner's thread
            co_await serve_stream(c, s);
            streams.erase(s);
            break;
        }
        http::response<http::string_body> out{static_cast<http::status>(res.status), 11};
        out.set(http::field::server, "fitbridge");
        out.set(http::field::content_type, res.content_type);
        out.set(http::field::cache_control, "no-store");
        out.set("X-Content-Type-Options", "nosniff");
        for (const auto& [k, v] : res.headers) out.set(k, v);
        if (!res.body.empty() && res.content_type == "application/json" && res.body.back() != '\n') res.body += '\n';
        out.body() = std::move(res.body);
        out.keep_alive(keep_alive);
        out.prepare_payload();
        c->arm(options.request_timeout);
        // Written at once as far as the socket takes it (all of it, unless
        // the client is slow to read); the serializer keeps the progress.
        http::response_serializer<http::string_body> sr{out};
        http::write(c->sock, sr, ec);
        if (ec == asio::error::would_block) {
            ec = {};
            co_await http::async_write(c->sock, sr, asio::redirect_error(use_awaitable, ec));
        }
        if (!ec && unread) co_await linger(c);
        if (ec || !keep_alive) break;
        first = false;
    }
    c->close();
    finished(c);
}

// Closing a socket with unread request bytes makes the kernel answer with a
// reset, which can destroy the response before the client reads it. So after
// answering a request whose body was not read: half-close, and discard what
// the client still sends for a moment.
awaitable<void> Server::Impl::linger(std::shared_ptr<Conn> c) {
    boost::system::error_code ec;
    c->enter(Phase::idle);  // answered: may be closed to make room
    c->sock.shutdown(asio::socket_base::shutdown_send, ec);
    c->arm(std::chrono::seconds(1));
    std::array<char, 4096> discard;
    for (size_t total = 0; !ec && total < (256u << 10);) {
        total += co_await c->sock.async_read_some(asio::buffer(discard), asio::redirect_error(use_awaitable, ec));
    }
}

awaitable<void> Server::Impl::serve_stream(std::shared_ptr<Conn> c, std::shared_ptr<SseStream> s) {
    // Close-delimited body: headers now, then events as they come, heartbeat
    // comments every 15 s so dead clients are noticed.
    std::string head = fmt::format(
        "HTTP/1.1 200 {}\r\nServer: fitbridge\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
        "Connection: close\r\nX-Accel-Buffering: no\r\n\r\n",
        reason_text(200));
    boost::system::error_code ec;
    co_await asio::async_write(c->sock, asio::buffer(head), asio::redirect_error(use_awaitable, ec));
    if (ec) co_return;
    // Detect the client going away: any read result ends the stream.
    auto probe = std::make_shared<std::array<char, 64>>();
    c->sock.async_read_some(asio::buffer(*probe), [s, probe](const boost::system::error_code&, size_t) { s->close(); });
    while (s->open() && !stopping) {
        auto chunk = s->next();
        if (!chunk) {
            s->m_wake.expires_after(std::chrono::seconds(15));
            boost::system::error_code wait_ec;
            co_await s->m_wake.async_wait(asio::redirect_error(use_awaitable, wait_ec));
            if (!wait_ec && s->empty()) s->send(": keepalive\n\n");
            continue;
        }
        c->arm(options.request_timeout);
        co_await asio::async_write(c->sock, asio::buffer(*chunk), asio::redirect_error(use_awaitable, ec));
        c->timer.cancel();
        if (ec) break;
    }
    s->close();
}

void Server::Impl::finished(const std::shared_ptr<Conn>& c) {
    conns.erase(c);
    if (stopping && conns.empty()) {
        grace_timer.cancel();
        if (on_stopped) {
            auto f = std::move(on_stopped);
            on_stopped = nullptr;
            hand_back(std::move(f));
        }
    }
}

void Server::Impl::stop(std::chrono::milliseconds grace, std::function<void()> done) {
    stopping = true;
    boost::system::error_code ec;
    acceptor.close(ec);
    on_stopped = std::move(done);
    for (const auto& s : streams) s->close();
    // Idle keep-alive connections close now; busy ones finish their request.
    std::vector<std::shared_ptr<Conn>> idle;
    for (const auto& c : conns)
        if (c->phase == Phase::idle) idle.push_back(c);
    for (const auto& c : idle) c->close();
    if (conns.empty()) {
        if (on_stopped) {
            auto f = std::move(on_stopped);
            on_stopped = nullptr;
            hand_back(std::move(f));
        }
        return;
    }
    grace_timer.expires_after(grace);
    grace_timer.async_wait([w = weak_from_this()](const boost::system::error_code& e) {
        if (e) return;
        if (auto i = w.lock()) {
            auto left = i->conns;
            if (!left.empty()) log::warn("api: closing {} connection(s) still busy at shutdown", left.size());
            for (const auto& c : left) c->close();
        }
    });
}

Server::Server(asio::io_context& io, ServerOptions options, const Router& router, Poster owner)
    : m_impl(std::make_shared<Impl>(io, std::move(options), router, std::move(owner))) {}

Server::~Server() {
    boost::system::error_code ec;
    m_impl->acceptor.close(ec);
    for (const auto& c : m_impl->conns) c->close();
    if (!m_impl->unix_path.empty()) ::unlink(m_impl->unix_path.c_str());
}

Result<void> Server::start() { return m_impl->start(); }

std::string Server::local_address() const { return m_impl->bound; }

void Server::update(const ServerOptions& options) {
    asio::post(m_impl->io, [impl = m_impl, options] {
        auto listen = impl->options.listen;
        impl->options = options;
        impl->options.listen = listen;
    });
}

void Server::stop(std::chrono::milliseconds grace, std::function<void()> done) {
    asio::post(m_impl->io,
               [impl = m_impl, grace, done = std::move(done)]() mutable { impl->stop(grace, std::move(done)); });
}

}  // namespace fitbridge::api
