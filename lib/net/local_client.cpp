#include "net/local_client.hpp"

#include <fmt/format.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

namespace fitbridge::net {

namespace asio = boost::asio;
namespace http = boost::beast::http;

namespace {

template <typename Stream>
Result<LocalResponse> exchange(Stream& stream, const std::string& host, const LocalRequest& req) {
    http::request<http::string_body> r{http::string_to_verb(req.method), req.target, 11};
    r.set(http::field::host, host);
    r.set(http::field::user_agent, "fitbridge-cli");
    for (const auto& [k, v] : req.headers) r.set(k, v);
    if (!req.body.empty() || req.method == "POST") {
        r.body() = req.body;
        r.prepare_payload();
    }
    http::write(stream, r);
    boost::beast::flat_buffer buf;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    http::read(stream, buf, parser);
    auto& res = parser.get();
    LocalResponse out;
    out.status = static_cast<int>(res.result_int());
    out.content_type = std::string(res[http::field::content_type]);
    out.body = std::move(res.body());
    return out;
}

}  // namespace

Result<LocalResponse> local_request(const std::string& address, const LocalRequest& request,
                                    std::chrono::milliseconds timeout) {
    asio::io_context io;
    try {
        if (address.rfind("unix:", 0) == 0) {
            asio::local::stream_protocol::socket sock(io);
            sock.connect(asio::local::stream_protocol::endpoint(address.substr(5)));
            // Blocking sockets: bound the wait with SO_RCVTIMEO/SO_SNDTIMEO.
            struct timeval tv {
                static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>((timeout.count() % 1000) * 1000)
            };
            ::setsockopt(sock.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
            ::setsockopt(sock.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
            return exchange(sock, "localhost", request);
        }
        auto colon = address.rfind(':');
        if (colon == std::string::npos)
            return Error::permanent("net.address", fmt::format("bad address '{}'", address));
        std::string host = address.substr(0, colon);
        std::string port = address.substr(colon + 1);
        std::string connect_host = host;
        if (connect_host.size() > 2 && connect_host.front() == '[')
            connect_host = connect_host.substr(1, connect_host.size() - 2);
        // A daemon listening on all interfaces is reached through loopback.
        if (connect_host == "0.0.0.0" || connect_host.empty()) connect_host = "127.0.0.1";
        if (connect_host == "::") connect_host = "::1";
        asio::ip::tcp::resolver resolver(io);
        auto endpoints = resolver.resolve(connect_host, port);
        asio::ip::tcp::socket sock(io);
        asio::connect(sock, endpoints);
        struct timeval tv {
            static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>((timeout.count() % 1000) * 1000)
        };
        ::setsockopt(sock.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(sock.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        const bool loopback_name = connect_host == "127.0.0.1" || connect_host == "::1";
        std::string host_header =
            loopback_name ? (connect_host == "::1" ? "[::1]:" + port : "127.0.0.1:" + port) : address;
        return exchange(sock, host_header, request);
    } catch (const boost::system::system_error& e) {
        return Error::transient("net.local",
                                fmt::format("cannot reach FitBridge at {}: {}", address, e.code().message()));
    }
}

}  // namespace fitbridge::net
