#pragma once
// Pacing for platforms that publish no quota but ban clients that ask too
// fast (Garmin Connect): an HttpClient wrapper that leaves at least a fixed
// interval between the starts of two requests to the same host.

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "net/http_client.hpp"
#include "net/retry.hpp"

namespace fitbridge::providers::kit {

class HostPacer final : public net::HttpClient {
public:
    // `interval` 0: no pacing. `sleep` waits (tests record instead).
    HostPacer(std::shared_ptr<net::HttpClient> inner, std::chrono::milliseconds interval,
              net::SleepFn sleep = net::timer_sleep());
    // Waits for the host's next free slot, then sends through the inner client.
    boost::asio::awaitable<Result<net::HttpResponse>> send(net::HttpRequest request) override;

private:
    std::shared_ptr<net::HttpClient> m_inner;
    std::chrono::milliseconds m_interval;
    net::SleepFn m_sleep;
    // host -> the earliest start of its next request (slots are handed out in
    // call order, so waiting requests keep their turn).
    std::map<std::string, std::chrono::steady_clock::time_point> m_next;
};

}  // namespace fitbridge::providers::kit
