#pragma once
// Helpers shared by the net tests: run a coroutine to completion, and an
// HttpClient that answers from a script and records what it was asked.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <deque>
#include <exception>
#include <functional>
#include <optional>
#include <vector>

#include "net/http_client.hpp"

namespace fitbridge::test {

// Result<T> has no default constructor, which co_spawn's completion needs,
// so the task runs inside a void coroutine that stores what it returns.
template <typename T>
T run_io(boost::asio::io_context& io, boost::asio::awaitable<T> task) {
    std::optional<T> out;
    std::exception_ptr failure;
    boost::asio::co_spawn(
        io, [&]() -> boost::asio::awaitable<void> { out.emplace(co_await std::move(task)); },
        [&](std::exception_ptr e) { failure = e; });
    io.restart();
    io.run();
    if (failure) std::rethrow_exception(failure);
    return std::move(*out);
}

inline net::HttpResponse response(int status, net::Headers headers = {}, std::string body = {}) {
    net::HttpResponse r;
    r.status = status;
    r.headers = std::move(headers);
    r.body = std::move(body);
    return r;
}

class ScriptedClient final : public net::HttpClient {
public:
    std::deque<Result<net::HttpResponse>> script;
    std::vector<net::HttpRequest> requests;

    boost::asio::awaitable<Result<net::HttpResponse>> send(net::HttpRequest request) override {
        requests.push_back(std::move(request));
        Result<net::HttpResponse> next = script.empty() ? Result<net::HttpResponse>(response(599)) : script.front();
        if (!script.empty()) script.pop_front();
        co_return next;
    }
};

}  // namespace fitbridge::test
