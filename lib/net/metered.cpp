#include <fmt/format.h>

#include <chrono>

#include "net/http_client.hpp"

namespace fitbridge::net {

namespace {

class MeteredClient final : public HttpClient {
public:
    MeteredClient(std::unique_ptr<HttpClient> inner, std::string platform, metrics::Registry& registry)
        : m_inner(std::move(inner)), m_platform(std::move(platform)), m_registry(registry) {}

    boost::asio::awaitable<Result<HttpResponse>> send(HttpRequest request) override {
        const auto start = std::chrono::steady_clock::now();
        Result<HttpResponse> result = co_await m_inner->send(std::move(request));
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const std::string status_class = result ? fmt::format("{}xx", result->status / 100) : std::string("error");
        m_registry.add("fitbridge_provider_requests_total", "HTTP requests sent to a platform, by answer class.",
                       {{"platform", m_platform}, {"status_class", status_class}});
        m_registry.observe("fitbridge_provider_request_duration_seconds",
                           "Time from sending a request to a platform to its whole answer.", metrics::k_request_buckets,
                           {{"platform", m_platform}}, seconds);
        if (result && result->status == 429)
            m_registry.add("fitbridge_rate_limited_total", "Rate-limit answers (HTTP 429) from a platform.",
                           {{"platform", m_platform}});
        co_return result;
    }

private:
    std::unique_ptr<HttpClient> m_inner;
    std::string m_platform;
    metrics::Registry& m_registry;
};

}  // namespace

std::unique_ptr<HttpClient> with_metrics(std::unique_ptr<HttpClient> inner, std::string platform,
                                         metrics::Registry& registry) {
    return std::make_unique<MeteredClient>(std::move(inner), std::move(platform), registry);
}

}  // namespace fitbridge::net
