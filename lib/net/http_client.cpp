// The one translation unit that instantiates Beast's HTTP and OpenSSL stream
// templates for outgoing requests (see architecture "Insulate heavy templates").

#include "net/http_client.hpp"

#include <fmt/format.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <zlib.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/http/file_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <cstdio>
#include <map>
#include <mutex>

#include "json/json.hpp"
#include "net/rate_limit.hpp"
#include "net/url.hpp"

namespace fitbridge::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using SteadyTime = std::chrono::steady_clock::time_point;

namespace {

constexpr int k_max_redirects = 5;
constexpr size_t k_chunk = 64 * 1024;
// Servers close idle keep-alive connections after a few seconds to a minute;
// older ones are more likely dead than useful.
constexpr auto k_idle_limit = std::chrono::seconds(30);

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

bool has_header(const Headers& headers, std::string_view name) {
    for (const auto& [k, v] : headers)
        if (iequals(k, name)) return true;
    return false;
}

void erase_header(Headers& headers, std::string_view name) {
    std::erase_if(headers, [&](const auto& kv) { return iequals(kv.first, name); });
}

bool is_ip_literal(const std::string& host) {
    boost::system::error_code ec;
    asio::ip::make_address(host, ec);
    return !ec;
}

// Inflates a gzip body; more than `cap` bytes of output is an error so a
// small compressed answer cannot blow up memory.
Result<std::string> gunzip(const std::string& in, uint64_t cap) {
    z_stream zs{};
    if (inflateInit2(&zs, 15 + 32) != Z_OK) return Error::permanent("net.gzip", "cannot initialise zlib");
    std::string out;
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs.avail_in = static_cast<uInt>(in.size());
    char buf[k_chunk];
    int rc = Z_OK;
    for (;;) {
        zs.next_out = reinterpret_cast<Bytef*>(buf);
        zs.avail_out = sizeof buf;
        rc = inflate(&zs, Z_NO_FLUSH);
        out.append(buf, sizeof buf - zs.avail_out);
        if (out.size() > cap) {
            inflateEnd(&zs);
            return Error::permanent("net.too_large", fmt::format("decoded response exceeds {} bytes", cap));
        }
        if (rc == Z_STREAM_END) {
            if (zs.avail_in == 0) break;
            inflateReset(&zs);  // concatenated gzip members
            continue;
        }
        if (rc != Z_OK) break;
        if (zs.avail_in == 0 && zs.avail_out != 0) break;
    }
    inflateEnd(&zs);
    if (rc != Z_STREAM_END) return Error::transient("net.gzip", "response body is not valid or complete gzip data");
    return out;
}

// gunzip() for a downloaded file: inflates `path` into a sibling and renames
// it over the original, so a failure leaves no half-decoded file behind.
Result<void> gunzip_file(const std::filesystem::path& path, uint64_t cap) {
    const std::filesystem::path tmp = path.string() + ".inflating";
    std::FILE* in = std::fopen(path.c_str(), "rb");
    std::FILE* out = in ? std::fopen(tmp.c_str(), "wb") : nullptr;
    if (!in || !out) {
        if (in) std::fclose(in);
        return Error::permanent("net.response_file", fmt::format("cannot decode {}", path.string()));
    }
    z_stream zs{};
    inflateInit2(&zs, 15 + 32);
    std::vector<char> inbuf(k_chunk);
    std::vector<char> outbuf(k_chunk);
    uint64_t total = 0;
    int rc = Z_OK;
    std::optional<Error> error;
    bool eof = false;
    while (!error && !eof) {
        size_t n = std::fread(inbuf.data(), 1, inbuf.size(), in);
        if (n == 0) break;
        zs.next_in = reinterpret_cast<Bytef*>(inbuf.data());
        zs.avail_in = static_cast<uInt>(n);
        while (zs.avail_in > 0 && !error) {
            zs.next_out = reinterpret_cast<Bytef*>(outbuf.data());
            zs.avail_out = static_cast<uInt>(outbuf.size());
            rc = inflate(&zs, Z_NO_FLUSH);
            size_t produced = outbuf.size() - zs.avail_out;
            total += produced;
            if (total > cap)
                error = Error::permanent("net.too_large", fmt::format("decoded response exceeds {} bytes", cap));
            else if (produced > 0 && std::fwrite(outbuf.data(), 1, produced, out) != produced)
                error = Error::permanent("net.response_file", fmt::format("cannot write {}", tmp.string()));
            else if (rc == Z_STREAM_END && zs.avail_in > 0)
                inflateReset(&zs);  // concatenated gzip members
            else if (rc == Z_STREAM_END)
                eof = std::feof(in) != 0;
            else if (rc != Z_OK && rc != Z_BUF_ERROR)
                error = Error::transient("net.gzip", "response body is not valid gzip data");
            else if (rc == Z_BUF_ERROR && produced == 0)
                break;
        }
    }
    inflateEnd(&zs);
    std::fclose(in);
    if (std::fclose(out) != 0 && !error) error = Error::permanent("net.response_file", "cannot write " + tmp.string());
    if (!error && rc != Z_STREAM_END) error = Error::transient("net.gzip", "response body is truncated gzip data");
    std::error_code ec;
    if (!error) std::filesystem::rename(tmp, path, ec);
    if (error || ec) {
        std::filesystem::remove(tmp, ec);
        if (!error) error = Error::permanent("net.response_file", fmt::format("cannot replace {}", path.string()));
        return *error;
    }
    return {};
}

struct Connection;
using ConnectResult = Result<std::unique_ptr<Connection>>;

struct Connection {
    std::string key;
    std::unique_ptr<beast::tcp_stream> plain;
    std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;
    beast::flat_buffer buffer;
    SteadyTime idle_since{};

    beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }
};

// What one request/response exchange on one connection produced.
struct Exchange {
    std::optional<Error> error;
    HttpResponse response;
    bool keep_alive = false;
    bool response_started = false;  // false: safe to retry on a fresh connection
};

Error transport_error(const boost::system::error_code& ec, std::string_view step, const Url& url) {
    if (ec == beast::error::timeout || ec == asio::error::operation_aborted)
        return Error::transient("net.timeout", fmt::format("{} {}: timed out", step, url.origin()));
    return Error::transient("net.transport", fmt::format("{} {}: {}", step, url.origin(), ec.message()));
}

class BeastClient final : public HttpClient {
public:
    BeastClient(asio::any_io_executor executor, ClientOptions options)
        : m_executor(std::move(executor)), m_options(std::move(options)), m_ssl(ssl::context::tls_client) {
        m_ssl.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                          ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
        SSL_CTX_set_default_verify_paths(m_ssl.native_handle());
        if (m_options.ca_file) {
            boost::system::error_code ec;
            m_ssl.load_verify_file(m_options.ca_file->string(), ec);
            m_ca_error = ec ? std::optional<std::string>(ec.message()) : std::nullopt;
        }
        m_ssl.set_verify_mode(ssl::verify_peer);
    }

    asio::awaitable<Result<HttpResponse>> send(HttpRequest request) override {
        // GCC 12 mishandles some temporaries in coroutines (co_return of a
        // converted value, co_await inside ?:), so results are built as
        // named Result objects and the redirect logic is a plain function.
        if (m_ca_error) {
            Result<HttpResponse> failed(Error::permanent(
                "net.ca_file", fmt::format("cannot load CA file {}: {}", m_options.ca_file->string(), *m_ca_error)));
            co_return failed;
        }
        const SteadyTime deadline = std::chrono::steady_clock::now() + request.timeout;
        auto parsed = parse_url(request.url);
        if (!parsed) {
            Result<HttpResponse> failed(parsed.error());
            co_return failed;
        }
        Url url = std::move(*parsed);
        for (int hop = 0;; ++hop) {
            Result<HttpResponse> result = co_await exchange(url, request, deadline);
            const auto state = co_await asio::this_coro::cancellation_state;
            if (!result && cancelled(state)) {
                Result<HttpResponse> stopped(cancelled_error(request, url));
                co_return stopped;
            }
            if (!follow_redirect(result, url, request, hop)) co_return result;
        }
    }

private:
    // Whether the caller cancelled this request (the engine stopping): its
    // socket operations then end with operation_aborted. Read inline: a
    // co_await of another awaitable would throw once cancelled.
    static bool cancelled(const asio::cancellation_state& state) {
        return state.cancelled() != asio::cancellation_type::none;
    }
    static Error cancelled_error(const HttpRequest& request, const Url& url) {
        return Error::transient("net.cancelled", fmt::format("{} {}: cancelled", request.method, url.origin()));
    }

    // After one exchange: true when `url`/`request` now describe the next hop;
    // false when `result` is final (a response, or an error it was turned into).
    static bool follow_redirect(Result<HttpResponse>& result, Url& url, HttpRequest& request, int hop) {
        if (!result) return false;
        HttpResponse& response = *result;
        const int s = response.status;
        const bool redirect = s == 301 || s == 302 || s == 303 || s == 307 || s == 308;
        auto location = response.header("location");
        if (!request.follow_redirects || !redirect || location.empty()) {
            response.final_url = url.str();
            return false;
        }
        if (hop == k_max_redirects) {
            result = Error::permanent("net.redirects",
                                      fmt::format("more than {} redirects from {}", k_max_redirects, request.url));
            return false;
        }
        auto next = resolve_url(url, location);
        if (!next) {
            result = next.error();
            return false;
        }
        // Download links point at storage hosts that must never see the
        // platform's credentials.
        if (next->host != url.host || (url.scheme == "https" && next->scheme != "https"))
            erase_header(request.headers, "authorization");
        if (s == 303 || ((s == 301 || s == 302) && request.method == "POST")) {
            if (request.method != "HEAD") request.method = "GET";
            request.body.clear();
            request.body_suffix.clear();
            request.body_file.reset();
            erase_header(request.headers, "content-type");
            erase_header(request.headers, "content-length");
        }
        url = std::move(*next);
        return true;
    }

    asio::awaitable<Result<HttpResponse>> exchange(const Url& url, const HttpRequest& request, SteadyTime deadline) {
        for (int attempt = 0;; ++attempt) {
            auto conn = take_idle(url.origin());
            const bool reused = conn != nullptr;
            if (!conn) {
                auto fresh = co_await connect(url, deadline);
                if (!fresh) {
                    Result<HttpResponse> failed(fresh.error());
                    co_return failed;
                }
                conn = std::move(*fresh);
            }
            conn->lowest().expires_at(deadline);
            Exchange ex;
            if (conn->tls)
                ex = co_await run(*conn->tls, *conn, url, request);
            else
                ex = co_await run(*conn->plain, *conn, url, request);
            if (!ex.error) {
                if (ex.keep_alive) put_idle(std::move(conn));
                Result<HttpResponse> done(std::move(ex.response));
                co_return done;
            }
            // A pooled connection the server closed meanwhile fails before any
            // answer arrives; that is worth one more try on a new connection.
            // Not for POST/PATCH: the server may have processed it and lost
            // the answer; whether to resend is the retry policy's call.
            const auto state = co_await asio::this_coro::cancellation_state;
            const bool unsafe = request.method == "POST" || request.method == "PATCH";
            if (reused && !unsafe && !ex.response_started && attempt == 0 && ex.error->code != "net.timeout" &&
                ex.error->cls == ErrorClass::transient && !cancelled(state))
                continue;
            Result<HttpResponse> failed(std::move(*ex.error));
            co_return failed;
        }
    }

    asio::awaitable<Result<std::unique_ptr<Connection>>> connect(const Url& url, SteadyTime deadline) {
        boost::system::error_code ec;
        tcp::resolver resolver(m_executor);
        asio::steady_timer guard(m_executor);
        guard.expires_at(std::min(deadline, std::chrono::steady_clock::now() + m_options.connect_timeout));
        guard.async_wait([&resolver](boost::system::error_code wait_ec) {
            if (!wait_ec) resolver.cancel();
        });
        const std::string port = std::to_string(url.port);
        auto endpoints = co_await resolver.async_resolve(url.host, port, asio::redirect_error(asio::use_awaitable, ec));
        guard.cancel();
        if (ec) co_return ConnectResult(transport_error(ec, "resolve", url));

        auto conn = std::make_unique<Connection>();
        conn->key = url.origin();
        beast::tcp_stream stream(m_executor);
        stream.expires_at(std::min(deadline, std::chrono::steady_clock::now() + m_options.connect_timeout));
        co_await stream.async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return ConnectResult(transport_error(ec, "connect", url));
        stream.socket().set_option(tcp::no_delay(true), ec);
        if (url.scheme == "http") {
            conn->plain = std::make_unique<beast::tcp_stream>(std::move(stream));
            co_return ConnectResult(std::move(conn));
        }

        conn->tls = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(std::move(stream), m_ssl);
        SSL* ssl_handle = conn->tls->native_handle();
        if (is_ip_literal(url.host)) {
            X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_handle), url.host.c_str());
        } else {
            SSL_set_tlsext_host_name(ssl_handle, url.host.c_str());
            SSL_set1_host(ssl_handle, url.host.c_str());
        }
        conn->lowest().expires_at(deadline);
        co_await conn->tls->async_handshake(ssl::stream_base::client, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            long verify = SSL_get_verify_result(ssl_handle);
            if (verify != X509_V_OK)
                co_return ConnectResult(
                    Error::permanent("net.tls_verify", fmt::format("TLS certificate of {} rejected: {}", url.origin(),
                                                                   X509_verify_cert_error_string(verify))));
            co_return ConnectResult(transport_error(ec, "TLS handshake with", url));
        }
        co_return ConnectResult(std::move(conn));
    }

    template <typename Stream>
    asio::awaitable<Exchange> run(Stream& stream, Connection& conn, const Url& url, const HttpRequest& request) {
        Exchange out;
        boost::system::error_code ec;
        auto fail = [&](std::string_view step) {
            out.error = transport_error(ec, step, url);
            return std::move(out);
        };

        http::request<http::empty_body> head;
        http::verb verb = http::string_to_verb(request.method);
        if (verb == http::verb::unknown)
            head.method_string(request.method);
        else
            head.method(verb);
        head.target(url.target);
        head.version(11);
        head.set(http::field::host, url.host_header());
        if (!has_header(request.headers, "user-agent")) head.set(http::field::user_agent, m_options.user_agent);
        if (!has_header(request.headers, "accept-encoding")) head.set(http::field::accept_encoding, "gzip");
        for (const auto& [k, v] : request.headers) head.set(k, v);

        std::FILE* file = nullptr;
        uint64_t file_size = 0;
        if (request.body_file) {
            std::error_code fs_ec;
            file_size = std::filesystem::file_size(*request.body_file, fs_ec);
            if (!fs_ec) file = std::fopen(request.body_file->c_str(), "rb");
            if (!file) {
                out.error = Error::permanent("net.body_file",
                                             fmt::format("cannot read upload file {}", request.body_file->string()));
                co_return out;
            }
        }
        struct Closer {
            std::FILE* f;
            ~Closer() {
                if (f) std::fclose(f);
            }
        } closer{file};
        const uint64_t length = request.body.size() + file_size + request.body_suffix.size();
        if (length > 0 || verb == http::verb::post || verb == http::verb::put || verb == http::verb::patch)
            head.content_length(length);

        http::request_serializer<http::empty_body> serializer(head);
        co_await http::async_write_header(stream, serializer, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return fail("send to");
        if (!request.body.empty()) {
            co_await asio::async_write(stream, asio::buffer(request.body),
                                       asio::redirect_error(asio::use_awaitable, ec));
            if (ec) co_return fail("send to");
        }
        if (file) {
            std::vector<char> chunk(k_chunk);
            uint64_t sent = 0;
            while (sent < file_size) {
                size_t n = std::fread(chunk.data(), 1, std::min<uint64_t>(chunk.size(), file_size - sent), file);
                if (n == 0) {
                    out.error = Error::permanent("net.body_file", fmt::format("upload file {} shrank while sending",
                                                                              request.body_file->string()));
                    co_return out;
                }
                co_await asio::async_write(stream, asio::buffer(chunk.data(), n),
                                           asio::redirect_error(asio::use_awaitable, ec));
                if (ec) co_return fail("send to");
                sent += n;
            }
        }
        if (!request.body_suffix.empty()) {
            co_await asio::async_write(stream, asio::buffer(request.body_suffix),
                                       asio::redirect_error(asio::use_awaitable, ec));
            if (ec) co_return fail("send to");
        }

        http::response_parser<http::empty_body> head_parser;
        head_parser.header_limit(64 * 1024);
        head_parser.body_limit(request.max_response_bytes);
        if (verb == http::verb::head) head_parser.skip(true);
        co_await http::async_read_header(stream, conn.buffer, head_parser,
                                         asio::redirect_error(asio::use_awaitable, ec));
        out.response_started = head_parser.got_some();
        // A Content-Length over the limit is refused with the header already.
        if (ec == http::error::body_limit) {
            out.error = Error::permanent("net.too_large", fmt::format("response from {} exceeds {} bytes", url.origin(),
                                                                      request.max_response_bytes));
            co_return out;
        }
        if (ec) co_return fail("read from");
        const int status = static_cast<int>(head_parser.get().result_int());
        HttpResponse& response = out.response;
        response.status = status;
        for (const auto& field : head_parser.get()) {
            std::string name(field.name_string());
            for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            response.headers.emplace_back(std::move(name), std::string(field.value()));
        }
        const auto encoding = response.header("content-encoding");
        const bool gzipped = iequals(encoding, "gzip") || iequals(encoding, "x-gzip");
        auto too_large = [&] {
            out.error = Error::permanent("net.too_large", fmt::format("response from {} exceeds {} bytes", url.origin(),
                                                                      request.max_response_bytes));
            out.keep_alive = false;
            return std::move(out);
        };

        if (request.response_file && status >= 200 && status < 300) {
            const auto& path = *request.response_file;
            http::response_parser<http::file_body> parser(std::move(head_parser));
            parser.body_limit(request.max_response_bytes);
            beast::error_code file_ec;
            parser.get().body().open(path.c_str(), beast::file_mode::write, file_ec);
            if (file_ec) {
                out.error = Error::permanent("net.response_file",
                                             fmt::format("cannot write {}: {}", path.string(), file_ec.message()));
                out.keep_alive = false;
                co_return out;
            }
            if (!parser.is_done())
                co_await http::async_read(stream, conn.buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
            parser.get().body().close();
            out.keep_alive = parser.get().keep_alive();
            std::error_code ignored;
            if (ec) std::filesystem::remove(path, ignored);
            if (ec == http::error::body_limit) co_return too_large();
            if (ec) co_return fail("read from");
            if (gzipped) {
                if (auto decoded = gunzip_file(path, request.max_response_bytes); !decoded) {
                    std::filesystem::remove(path, ignored);
                    out.error = decoded.error();
                    co_return out;
                }
                erase_header(response.headers, "content-encoding");
                erase_header(response.headers, "content-length");
            }
            co_return out;
        }

        http::response_parser<http::string_body> parser(std::move(head_parser));
        parser.body_limit(request.max_response_bytes);
        if (!parser.is_done())
            co_await http::async_read(stream, conn.buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
        if (ec == http::error::body_limit) co_return too_large();
        if (ec) co_return fail("read from");
        out.keep_alive = parser.get().keep_alive();
        response.body = std::move(parser.get().body());
        if (gzipped) {
            auto decoded = gunzip(response.body, request.max_response_bytes);
            if (!decoded) {
                out.error = decoded.error();
                out.keep_alive = false;
                co_return out;
            }
            response.body = std::move(*decoded);
            // The body is now identity-encoded; stale framing headers would mislead callers.
            erase_header(response.headers, "content-encoding");
            erase_header(response.headers, "content-length");
        }
        co_return out;
    }

    std::unique_ptr<Connection> take_idle(const std::string& key) {
        std::lock_guard lock(m_mutex);
        auto it = m_idle.find(key);
        if (it == m_idle.end()) return nullptr;
        auto& list = it->second;
        const auto now = std::chrono::steady_clock::now();
        while (!list.empty()) {
            auto conn = std::move(list.back());
            list.pop_back();
            if (now - conn->idle_since > k_idle_limit) continue;
            // An idle HTTP/1.1 connection has nothing to read unless the peer
            // closed it (EOF) or sent garbage; either way it is unusable.
            pollfd p{conn->lowest().socket().native_handle(), POLLIN, 0};
            if (::poll(&p, 1, 0) != 0) continue;
            if (conn->buffer.size() != 0) continue;
            return conn;
        }
        return nullptr;
    }

    void put_idle(std::unique_ptr<Connection> conn) {
        conn->lowest().expires_never();
        conn->idle_since = std::chrono::steady_clock::now();
        std::lock_guard lock(m_mutex);
        auto& list = m_idle[conn->key];
        if (list.size() >= m_options.max_idle_per_host) list.erase(list.begin());
        list.push_back(std::move(conn));
    }

    asio::any_io_executor m_executor;
    ClientOptions m_options;
    ssl::context m_ssl;
    std::optional<std::string> m_ca_error;
    std::mutex m_mutex;
    std::map<std::string, std::vector<std::unique_ptr<Connection>>> m_idle;
};

// The message a person should see: the platform's own words when the body is
// JSON with one (Strava "message", Spring-style "error"), else its start.
std::string body_message(const std::string& body) {
    if (auto doc = json::parse(body); doc.ok() && doc->IsObject()) {
        for (const char* key : {"message", "error_description", "error"})
            if (auto v = json::get_string(*doc, key); v && !v->empty()) return *v;
    }
    std::string text = body.substr(0, 200);
    for (auto& c : text)
        if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    return text;
}

}  // namespace

std::string HttpResponse::header(std::string_view lower_name) const {
    for (const auto& [k, v] : headers)
        if (iequals(k, lower_name)) return v;
    return {};
}

std::unique_ptr<HttpClient> make_http_client(asio::any_io_executor executor, ClientOptions options) {
    std::string platform = options.platform;
    std::unique_ptr<HttpClient> client = std::make_unique<BeastClient>(std::move(executor), std::move(options));
    if (platform.empty()) return client;
    return with_metrics(std::move(client), std::move(platform), metrics::global());
}

std::optional<Error> classify_status(const HttpResponse& response, std::string_view what, const Clock& clock) {
    const int s = response.status;
    if (s >= 200 && s < 400) return std::nullopt;
    const std::string detail = body_message(response.body);
    std::string message = fmt::format("{}: HTTP {}{}{}", what, s, detail.empty() ? "" : " ", detail);
    std::string code = fmt::format("http.{}", s);
    if (s == 401) return Error::auth(std::move(code), std::move(message));
    if (s == 429) {
        Error e{std::move(code), ErrorClass::rate_limited, std::move(message), {}};
        e.retry_after = rate_limit_wait(response, clock.now());
        return e;
    }
    if (s == 408 || s >= 500) return Error::transient(std::move(code), std::move(message));
    return Error::permanent(std::move(code), std::move(message));
}

}  // namespace fitbridge::net
