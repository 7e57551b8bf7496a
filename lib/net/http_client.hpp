#pragma once
// The HTTP client the providers use (declarations only: no Beast here). The
// real implementation (http_client.cpp) speaks HTTP/1.1 over TLS (system CA
// store, peer and host-name verification, SNI) or plain TCP for loopback
// fakes; tests and providers depend only on this interface.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/metrics.hpp"

namespace fitbridge::net {

using Headers = std::vector<std::pair<std::string, std::string>>;

// Whose budget a request spends: backfill gets only a share of a platform's
// rate limit, so live polling always finds some left (rate_limit.hpp).
enum class Priority { live, backfill };

struct HttpRequest {
    std::string method = "GET";
    std::string url;  // absolute: https://host[:port]/path?query
    Headers headers;
    std::string body;
    // When set, the body is streamed from this file (uploads of originals).
    // `body` (if any) is sent before the file's bytes and `body_suffix` after
    // them, which is how multipart.hpp frames a streamed file part.
    std::optional<std::filesystem::path> body_file;
    std::string body_suffix;
    std::chrono::milliseconds timeout{30000};  // whole request, connect to last byte
    uint64_t max_response_bytes = 64ull << 20;
    // When set, a 2xx body goes to this file instead of `body` (gzip undone,
    // capped by max_response_bytes, removed again on failure); other
    // statuses keep their body in memory for the error message.
    std::optional<std::filesystem::path> response_file;
    bool follow_redirects = true;  // up to 5; Authorization is dropped when the host changes
    Priority priority = Priority::live;
};

struct HttpResponse {
    int status = 0;
    Headers headers;   // names lower-case
    std::string body;  // decoded (Content-Encoding: gzip is undone)
    std::string final_url;
    // First header value with this lower-case name, or empty.
    std::string header(std::string_view lower_name) const;
};

class HttpClient {
public:
    virtual ~HttpClient() = default;
    // Sends one request. Transport failures (resolve, connect, TLS, timeout,
    // reset, size cap) are errors classified transient or permanent; any HTTP
    // status is a response, classified by classify_status().
    virtual boost::asio::awaitable<Result<HttpResponse>> send(HttpRequest request) = 0;
};

struct ClientOptions {
    std::string user_agent = "fitbridge";
    std::optional<std::filesystem::path> ca_file;  // extra trust anchors (tests); the system store is always used
    std::chrono::milliseconds connect_timeout{10000};
    size_t max_idle_per_host = 4;
    // When set, requests are counted under this platform label in
    // metrics::global() (see with_metrics).
    std::string platform;
};

std::unique_ptr<HttpClient> make_http_client(boost::asio::any_io_executor executor, ClientOptions options = {});

// Wraps a client so that each request it sends (each attempt) is counted
// under `platform`: fitbridge_provider_requests_total{platform,status_class}
// (2xx..5xx, or "error" for transport failures), the latency histogram
// fitbridge_provider_request_duration_seconds{platform}, and
// fitbridge_rate_limited_total{platform} for each 429 answer.
std::unique_ptr<HttpClient> with_metrics(std::unique_ptr<HttpClient> inner, std::string platform,
                                         metrics::Registry& registry);

// Maps an HTTP answer to an Error (nullopt for 2xx/3xx): 401 -> auth,
// 429 -> rate_limited with Retry-After, 408/5xx -> transient, other 4xx ->
// permanent with the body's message. `what` names the call for the message.
std::optional<Error> classify_status(const HttpResponse& response, std::string_view what, const Clock& clock);

}  // namespace fitbridge::net
