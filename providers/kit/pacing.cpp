#include "providers/kit/pacing.hpp"

#include <algorithm>

#include "net/url.hpp"

namespace fitbridge::providers::kit {

HostPacer::HostPacer(std::shared_ptr<net::HttpClient> inner, std::chrono::milliseconds interval, net::SleepFn sleep)
    : m_inner(std::move(inner)), m_interval(interval), m_sleep(std::move(sleep)) {}

boost::asio::awaitable<Result<net::HttpResponse>> HostPacer::send(net::HttpRequest request) {
    if (m_interval.count() > 0) {
        auto url = net::parse_url(request.url);
        const std::string host = url ? url->host_header() : std::string();
        const auto now = std::chrono::steady_clock::now();
        auto& next = m_next[host];
        const auto slot = std::max(now, next);
        next = slot + m_interval;
        if (slot > now) {
            const auto wait = std::chrono::ceil<std::chrono::milliseconds>(slot - now);
            co_await m_sleep(wait);
        }
    }
    co_return co_await m_inner->send(std::move(request));
}

}  // namespace fitbridge::providers::kit
