#pragma once
// The request handling shared by the server's connections and
// handle_request_bytes: Beast's parser with the server's limits, and the steps
// between the bytes and a handler. Internal to lib/api (it carries Beast
// types); in its own file so that fuzzing can instrument it without the
// server's coroutines.

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <optional>

#include "api/server.hpp"

namespace fitbridge::api::detail {

using Parser = boost::beast::http::request_parser<boost::beast::http::string_body>;

// Applies the server's header and body limits.
void configure(Parser& p, const ServerOptions& o);

// The answer to a failed read, or nullopt when there is nobody to answer
// (the client left, reset, or timed out).
std::optional<Response> read_failure(const boost::system::error_code& ec, const ServerOptions& o);

// Method, target and lower-cased headers of a parsed request head.
Request head_of(const boost::beast::http::request_header<>& h);

// Target, routing and admission on the headers alone, so a refused client
// never gets to send its body. Sets `route` (and req.path/query/params) when
// the request may proceed; otherwise returns the refusal.
std::optional<Response> screen(Request& req, const Router& router, const GuardOptions& guard, const Route*& route);

// The admitted request with its body: content type, then the handler (an
// exception becomes a 500 and a log line).
Response run(Request& req, const Route& route);

}  // namespace fitbridge::api::detail
