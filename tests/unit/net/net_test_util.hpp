#pragma once
// Helpers shared by the net tests: scripted responses, and an HttpClient that
// answers from a script and records what it was asked.

#include <deque>
#include <vector>

#include "net/http_client.hpp"

namespace fitbridge::test {

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
