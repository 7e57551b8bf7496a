#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/beast/http/error.hpp>
#include <string_view>

#include "api/request_parse.hpp"
#include "core/log.hpp"

namespace fitbridge::api {

namespace asio = boost::asio;
namespace http = boost::beast::http;

namespace detail {

void configure(Parser& p, const ServerOptions& o) {
    p.header_limit(16 * 1024);
    p.body_limit(static_cast<uint64_t>(o.max_body_bytes));
}

std::optional<Response> read_failure(const boost::system::error_code& ec, const ServerOptions& o) {
    if (ec == http::error::body_limit)
        return error_response(413, "payload_too_large",
                              fmt::format("request body over the {} byte limit", o.max_body_bytes));
    if (ec == http::error::header_limit) return error_response(431, "headers_too_large", "request headers over 16 KiB");
    if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor ||
        ec == asio::error::connection_reset || ec == asio::error::eof || ec == http::error::end_of_stream)
        return std::nullopt;
    return error_response(400, "bad_request", fmt::format("malformed HTTP request: {}", ec.message()));
}

Request head_of(const http::request_header<>& h) {
    Request req;
    req.method = std::string(h.method_string());
    req.target = std::string(h.target());
    for (const auto& f : h) {
        std::string name(f.name_string());
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
        req.headers[name] = std::string(f.value());
    }
    return req;
}

std::optional<Response> screen(Request& req, const Router& router, const GuardOptions& guard, const Route*& route) {
    if (!parse_target(req.target, req.path, req.query))
        return error_response(400, "bad_request", "malformed request target");
    std::map<std::string, std::string> params;
    auto m = router.match(req.method, req.path, params);
    bool is_public =
        m.route && (m.route->public_route || std::find(guard.public_paths.begin(), guard.public_paths.end(),
                                                       m.route->pattern) != guard.public_paths.end());
    // Admission first, so nothing (not even 404 vs 405) is revealed unauthenticated.
    if (auto refused = admit(req, is_public, guard)) return refused;
    if (!m.route) {
        if (!m.allow.empty()) {
            auto r =
                error_response(405, "method_not_allowed", fmt::format("{} is not allowed on {}", req.method, req.path));
            r.headers.emplace_back("Allow", m.allow);
            return r;
        }
        return error_response(404, "not_found", fmt::format("no such endpoint: {}", req.path));
    }
    req.params = std::move(params);
    route = m.route;
    return std::nullopt;
}

Response run(Request& req, const Route& route) {
    if (req.method == "POST" && !req.body.empty()) {
        auto ct = req.header("content-type");
        if (ct.rfind("application/json", 0) != 0)
            return error_response(415, "unsupported_media_type", "POST bodies must be Content-Type: application/json");
    }
    try {
        return route.handler(req);
    } catch (const std::exception& e) {
        log::error("api: {} {} failed: {}", req.method, req.path, e.what());
        return error_response(500, "internal", "internal error; see the daemon's log");
    }
}

}  // namespace detail

namespace {

// Feeds `in` to the parser until the headers (or, with `whole`, the message)
// are complete. False when the input ends first; a parse error is left in ec.
bool feed(detail::Parser& p, std::string_view& in, boost::system::error_code& ec, bool whole) {
    for (;;) {
        if (whole ? p.is_done() : p.is_header_done()) return true;
        if (in.empty()) return false;
        size_t n = p.put(asio::buffer(in.data(), in.size()), ec);
        in.remove_prefix(n);
        if (ec == http::error::need_more) {
            ec = {};
            if (n == 0) return false;
            continue;
        }
        if (ec) return true;
    }
}

}  // namespace

std::optional<Response> handle_request_bytes(std::string_view bytes, const Router& router,
                                             const ServerOptions& options) {
    detail::Parser parser;
    detail::configure(parser, options);
    boost::system::error_code ec;
    if (!feed(parser, bytes, ec, false)) return std::nullopt;
    if (ec) return detail::read_failure(ec, options);
    Request req = detail::head_of(parser.get());
    const Route* route = nullptr;
    if (auto refused = detail::screen(req, router, options.guard, route)) return refused;
    parser.eager(true);
    if (!feed(parser, bytes, ec, true)) return std::nullopt;
    if (ec) return detail::read_failure(ec, options);
    req.body = std::move(parser.get().body());
    Response res = detail::run(req, *route);
    if (req.method == "HEAD") res.body.clear();
    return res;
}

}  // namespace fitbridge::api
