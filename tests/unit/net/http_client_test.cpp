// The HTTP client against real sockets: a scriptable Beast server (defined
// here, declared in test_server.hpp) on 127.0.0.1, plain and TLS.

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <fstream>
#include <mutex>
#include <thread>

#include "core/clock.hpp"
#include "net/multipart.hpp"
#include "net_test_util.hpp"
#include "support/run.hpp"
#include "support/temp_dir.hpp"
#include "test_server.hpp"

namespace fitbridge::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

// ------------------------------------------------------------------ server

struct TestServer::Impl {
    Handler handler;
    asio::io_context io;
    std::optional<ssl::context> tls;
    tcp::acceptor acceptor{io};
    std::thread thread;
    mutable std::mutex mutex;
    std::vector<ServerRequest> requests;
    std::atomic<int> connections{0};

    template <typename Stream>
    asio::awaitable<void> serve(Stream& stream, int connection) {
        beast::flat_buffer buffer;
        for (;;) {
            boost::system::error_code ec;
            http::request_parser<http::string_body> parser;
            parser.body_limit(512ull << 20);
            co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
            if (ec) co_return;
            auto& msg = parser.get();
            ServerRequest req;
            req.method = std::string(msg.method_string());
            req.target = std::string(msg.target());
            for (const auto& f : msg) {
                std::string name(f.name_string());
                for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                req.headers.emplace_back(std::move(name), std::string(f.value()));
            }
            req.body = std::move(msg.body());
            req.connection = connection;
            {
                std::lock_guard lock(mutex);
                requests.push_back(req);
            }
            ServerReply reply = handler(req);
            asio::steady_timer timer(io);
            if (reply.hang) reply.delay = std::chrono::hours(1);
            if (reply.delay.count() > 0) {
                timer.expires_after(reply.delay);
                co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            }
            http::response<http::string_body> res{static_cast<http::status>(reply.status), 11};
            bool has_length = false;
            for (const auto& [k, v] : reply.headers) {
                res.insert(k, v);
                if (k == "Content-Length" || k == "content-length") has_length = true;
            }
            res.body() = std::move(reply.body);
            if (!has_length) res.content_length(res.body().size());
            res.keep_alive(!reply.close && msg.keep_alive());
            co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
            if (ec || !res.keep_alive() || reply.drop) co_return;
        }
    }

    asio::awaitable<void> session(tcp::socket socket, int connection) {
        if (!tls) {
            co_await serve(socket, connection);
            boost::system::error_code ec;
            socket.shutdown(tcp::socket::shutdown_send, ec);
            co_return;
        }
        ssl::stream<tcp::socket> stream(std::move(socket), *tls);
        boost::system::error_code ec;
        co_await stream.async_handshake(ssl::stream_base::server, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return;
        co_await serve(stream, connection);
    }

    asio::awaitable<void> accept_loop() {
        for (;;) {
            boost::system::error_code ec;
            tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
            if (ec) co_return;
            int n = ++connections;
            asio::co_spawn(io, session(std::move(socket), n), asio::detached);
        }
    }
};

TestServer::TestServer(Handler handler, std::optional<TlsFiles> tls) : m_impl(std::make_unique<Impl>()) {
    m_impl->handler = std::move(handler);
    if (tls) {
        m_impl->tls.emplace(ssl::context::tls_server);
        m_impl->tls->use_certificate_chain_file(tls->cert.string());
        m_impl->tls->use_private_key_file(tls->key.string(), ssl::context::pem);
    }
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    m_impl->acceptor.open(ep.protocol());
    m_impl->acceptor.set_option(tcp::acceptor::reuse_address(true));
    m_impl->acceptor.bind(ep);
    m_impl->acceptor.listen();
    asio::co_spawn(m_impl->io, m_impl->accept_loop(), asio::detached);
    m_impl->thread = std::thread([impl = m_impl.get()] { impl->io.run(); });
}

TestServer::~TestServer() {
    m_impl->io.stop();
    m_impl->thread.join();
}

uint16_t TestServer::port() const { return m_impl->acceptor.local_endpoint().port(); }

std::string TestServer::url(std::string_view path, std::string_view host) const {
    return std::string(m_impl->tls ? "https://" : "http://") + std::string(host) + ":" + std::to_string(port()) +
           std::string(path);
}

int TestServer::connections() const { return m_impl->connections.load(); }

std::vector<ServerRequest> TestServer::requests() const {
    std::lock_guard lock(m_impl->mutex);
    return m_impl->requests;
}

TestPki make_test_pki(const std::filesystem::path& dir) {
    auto run = [](const std::string& cmd) {
        if (std::system((cmd + " >/dev/null 2>&1").c_str()) != 0) throw std::runtime_error("failed: " + cmd);
    };
    const std::string d = dir.string();
    const std::string key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    for (std::string ca : {"ca", "other"})
        run("openssl req -x509 " + key + " -keyout " + d + "/" + ca + ".key -out " + d + "/" + ca +
            ".pem -days 2 -subj '/CN=FitBridge test " + ca +
            "' -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign");
    {
        std::ofstream ext(dir / "server.ext");
        ext << "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n"
               "keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n";
    }
    run("openssl req " + key + " -keyout " + d + "/server.key -out " + d + "/server.csr -subj /CN=localhost");
    run("openssl x509 -req -in " + d + "/server.csr -CA " + d + "/ca.pem -CAkey " + d +
        "/ca.key -CAcreateserial -out " + d + "/server.pem -days 2 -extfile " + d + "/server.ext");
    return TestPki{dir / "ca.pem", dir / "other.pem", TlsFiles{dir / "server.pem", dir / "server.key"}};
}

// ------------------------------------------------------------------ tests

namespace {

Result<net::HttpResponse> fetch(net::HttpClient& client, asio::io_context& io, net::HttpRequest request) {
    return run(io, client.send(std::move(request)));
}

net::HttpRequest get(std::string url) {
    net::HttpRequest r;
    r.url = std::move(url);
    return r;
}

std::string gzip(const std::string& data) {
    z_stream zs{};
    deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    std::string out(deflateBound(&zs, data.size()) + 32, '\0');
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    zs.avail_in = static_cast<uInt>(data.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    deflate(&zs, Z_FINISH);
    out.resize(zs.total_out);
    deflateEnd(&zs);
    return out;
}

class HttpClientTest : public ::testing::Test {
protected:
    asio::io_context io;
    std::unique_ptr<net::HttpClient> client = net::make_http_client(io.get_executor());
};

TEST_F(HttpClientTest, PlainGetReturnsStatusHeadersAndBody) {
    TestServer server([](const ServerRequest&) {
        return ServerReply{200, {{"X-Test", "yes"}, {"Content-Type", "text/plain"}}, "hello"};
    });
    auto r = fetch(*client, io, get(server.url("/a/b?x=1")));
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "hello");
    EXPECT_EQ(r->header("x-test"), "yes");
    EXPECT_EQ(r->header("content-type"), "text/plain");
    EXPECT_EQ(r->final_url, server.url("/a/b?x=1"));
    auto reqs = server.requests();
    ASSERT_EQ(reqs.size(), 1u);
    EXPECT_EQ(reqs[0].method, "GET");
    EXPECT_EQ(reqs[0].target, "/a/b?x=1");
    EXPECT_EQ(reqs[0].header("host"), "127.0.0.1:" + std::to_string(server.port()));
    EXPECT_EQ(reqs[0].header("user-agent"), "fitbridge");
    EXPECT_EQ(reqs[0].header("accept-encoding"), "gzip");
}

TEST_F(HttpClientTest, PostSendsBodyAndCallerHeaders) {
    TestServer server([](const ServerRequest& r) { return ServerReply{201, {}, "got " + r.body}; });
    net::HttpRequest req = get(server.url("/p"));
    req.method = "POST";
    req.body = "a=1&b=2";
    req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"User-Agent", "custom/1"}};
    auto r = fetch(*client, io, req);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->status, 201);
    EXPECT_EQ(r->body, "got a=1&b=2");
    auto reqs = server.requests();
    EXPECT_EQ(reqs[0].header("content-type"), "application/x-www-form-urlencoded");
    EXPECT_EQ(reqs[0].header("content-length"), "7");
    EXPECT_EQ(reqs[0].header("user-agent"), "custom/1");
}

TEST_F(HttpClientTest, ReusesOneConnectionForSequentialRequests) {
    TestServer server([](const ServerRequest&) { return ServerReply{200, {}, "ok"}; });
    for (int i = 0; i < 4; ++i) {
        auto r = fetch(*client, io, get(server.url("/r")));
        ASSERT_TRUE(r.ok()) << r.error().message;
    }
    EXPECT_EQ(server.connections(), 1);
    auto reqs = server.requests();
    ASSERT_EQ(reqs.size(), 4u);
    EXPECT_EQ(reqs[3].connection, 1);
}

TEST_F(HttpClientTest, OpensANewConnectionAfterTheServerClosedOne) {
    TestServer server([](const ServerRequest&) {
        ServerReply reply{200, {}, "bye"};
        reply.close = true;
        return reply;
    });
    for (int i = 0; i < 3; ++i) {
        auto r = fetch(*client, io, get(server.url("/c")));
        ASSERT_TRUE(r.ok()) << r.error().message;
        EXPECT_EQ(r->body, "bye");
    }
    EXPECT_EQ(server.connections(), 3);
}

TEST_F(HttpClientTest, PooledConnectionTheServerDroppedIsNotReused) {
    TestServer server([](const ServerRequest& r) {
        ServerReply reply{200, {}, "ok"};
        reply.drop = r.connection == 1;
        return reply;
    });
    ASSERT_TRUE(fetch(*client, io, get(server.url("/1"))).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let the FIN arrive
    auto r = fetch(*client, io, get(server.url("/2")));
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(server.connections(), 2);
    EXPECT_EQ(server.requests().size(), 2u);
}

TEST_F(HttpClientTest, CrossHostRedirectDropsAuthorizationSameHostKeepsIt) {
    TestServer storage([](const ServerRequest&) { return ServerReply{200, {}, "file bytes"}; });
    TestServer api([&](const ServerRequest& r) {
        if (r.target == "/same") return ServerReply{302, {{"Location", "/moved"}}, ""};
        if (r.target == "/moved") return ServerReply{200, {}, "moved"};
        return ServerReply{302, {{"Location", storage.url("/blob/1", "localhost")}}, ""};
    });
    net::HttpRequest req = get(api.url("/download"));
    req.headers = {{"Authorization", "Bearer secret"}};
    auto r = fetch(*client, io, req);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "file bytes");
    EXPECT_EQ(r->final_url, storage.url("/blob/1", "localhost"));
    ASSERT_EQ(storage.requests().size(), 1u);
    EXPECT_EQ(storage.requests()[0].header("authorization"), "");
    EXPECT_EQ(api.requests()[0].header("authorization"), "Bearer secret");

    req.url = api.url("/same");
    r = fetch(*client, io, req);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->body, "moved");
    auto reqs = api.requests();
    ASSERT_EQ(reqs.size(), 3u);
    EXPECT_EQ(reqs[2].target, "/moved");
    EXPECT_EQ(reqs[2].header("authorization"), "Bearer secret");
}

TEST_F(HttpClientTest, SeeOtherAfterPostBecomesGetWithoutBody) {
    TestServer server([](const ServerRequest& r) {
        if (r.target == "/upload") return ServerReply{303, {{"Location", "/status/7"}}, ""};
        return ServerReply{200, {}, "status"};
    });
    net::HttpRequest req = get(server.url("/upload"));
    req.method = "POST";
    req.body = "payload";
    auto r = fetch(*client, io, req);
    ASSERT_TRUE(r.ok()) << r.error().message;
    auto reqs = server.requests();
    ASSERT_EQ(reqs.size(), 2u);
    EXPECT_EQ(reqs[1].method, "GET");
    EXPECT_EQ(reqs[1].body, "");
    EXPECT_EQ(reqs[1].target, "/status/7");
}

TEST_F(HttpClientTest, RedirectsStopAfterFiveAndCanBeDisabled) {
    TestServer server([](const ServerRequest& r) {
        int n = std::stoi(r.target.substr(1));
        return ServerReply{307, {{"Location", "/" + std::to_string(n + 1)}}, ""};
    });
    auto r = fetch(*client, io, get(server.url("/0")));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "net.redirects");
    EXPECT_EQ(server.requests().size(), 6u);  // the original and five redirects

    net::HttpRequest req = get(server.url("/0"));
    req.follow_redirects = false;
    r = fetch(*client, io, req);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 307);
    EXPECT_EQ(r->header("location"), "/1");
}

TEST_F(HttpClientTest, ServerThatNeverAnswersTimesOutWithinTheDeadline) {
    TestServer server([](const ServerRequest&) {
        ServerReply reply;
        reply.hang = true;
        return reply;
    });
    net::HttpRequest req = get(server.url("/slow"));
    req.timeout = std::chrono::milliseconds(300);
    auto start = std::chrono::steady_clock::now();
    auto r = fetch(*client, io, req);
    auto elapsed = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "net.timeout");
    EXPECT_EQ(r.error().cls, ErrorClass::transient);
    EXPECT_GE(elapsed, std::chrono::milliseconds(290));
    EXPECT_LT(elapsed, std::chrono::milliseconds(2000));
}

TEST_F(HttpClientTest, ConnectionRefusedIsTransient) {
    uint16_t port;
    {
        TestServer gone([](const ServerRequest&) { return ServerReply{}; });
        port = gone.port();
    }
    auto r = fetch(*client, io, get("http://127.0.0.1:" + std::to_string(port) + "/"));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().cls, ErrorClass::transient);
    EXPECT_EQ(r.error().code, "net.transport");
}

TEST_F(HttpClientTest, GzipBodiesAreDecoded) {
    std::string text;
    for (int i = 0; i < 2000; ++i) text += "{\"id\": " + std::to_string(i) + "},";
    TestServer server([&](const ServerRequest&) {
        return ServerReply{200, {{"Content-Encoding", "gzip"}}, gzip(text)};
    });
    auto r = fetch(*client, io, get(server.url("/list")));
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->body, text);
    EXPECT_EQ(r->header("content-encoding"), "");
}

TEST_F(HttpClientTest, ResponsesOverTheCapAreErrors) {
    TestServer server([](const ServerRequest& r) {
        if (r.target == "/bomb")
            return ServerReply{200, {{"Content-Encoding", "gzip"}}, gzip(std::string(1 << 20, 'x'))};
        return ServerReply{200, {}, std::string(100000, 'y')};
    });
    net::HttpRequest req = get(server.url("/big"));
    req.max_response_bytes = 10000;
    auto r = fetch(*client, io, req);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "net.too_large");
    EXPECT_EQ(r.error().cls, ErrorClass::permanent);

    req.url = server.url("/bomb");
    req.max_response_bytes = 64 * 1024;
    r = fetch(*client, io, req);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "net.too_large");

    req.max_response_bytes = 100001;
    req.url = server.url("/big");
    r = fetch(*client, io, req);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->body.size(), 100000u);
}

TEST_F(HttpClientTest, MultipartUploadIsStreamedFromTheFile) {
    TempDir dir("net-upload");
    std::string content;
    for (unsigned i = 0; i < 300000; ++i) content += static_cast<char>((i * 7919u) % 256u);
    content += "\r\n--fitbridge-not-a-boundary\r\n";
    {
        std::ofstream f(dir / "ride.fit", std::ios::binary);
        f << content;
    }
    std::vector<net::MultipartPart> parts;
    std::string content_length;
    TestServer server([&](const ServerRequest& r) {
        auto parsed = net::parse_multipart(r.header("content-type"), r.body);
        if (parsed) parts = *parsed;
        content_length = r.header("content-length");
        return ServerReply{201, {}, "{}"};
    });
    net::HttpRequest req = get(server.url("/api/v1/athlete/0/activities"));
    req.method = "POST";
    net::set_multipart_upload(req, {{"name", "Morning \"ride\""}, {"external_id", "fb-1"}},
                              {"file", "ride.fit", "application/octet-stream"}, dir / "ride.fit");
    auto r = fetch(*client, io, req);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->status, 201);
    ASSERT_EQ(parts.size(), 3u);
    EXPECT_EQ(parts[0].name, "name");
    EXPECT_EQ(parts[0].data, "Morning \"ride\"");
    EXPECT_EQ(parts[1].name, "external_id");
    EXPECT_EQ(parts[1].data, "fb-1");
    EXPECT_EQ(parts[2].name, "file");
    EXPECT_EQ(parts[2].filename, "ride.fit");
    EXPECT_EQ(parts[2].content_type, "application/octet-stream");
    EXPECT_EQ(parts[2].data, content);
    EXPECT_EQ(content_length, std::to_string(req.body.size() + content.size() + req.body_suffix.size()));
}

std::string read_file(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), {});
}

TEST_F(HttpClientTest, DownloadsStreamToTheResponseFile) {
    std::string original;
    for (unsigned i = 0; i < 700000; ++i) original += static_cast<char>((i * 31u + i / 1000u) % 251u);
    TestServer server([&](const ServerRequest& r) {
        if (r.target == "/plain") return ServerReply{200, {}, original};
        if (r.target == "/gz") return ServerReply{200, {{"Content-Encoding", "gzip"}}, gzip(original)};
        if (r.target == "/redirect") return ServerReply{302, {{"Location", "/plain"}}, ""};
        return ServerReply{404, {}, R"({"error":"Not Found"})"};
    });
    TempDir dir("net-download");
    net::HttpRequest req = get(server.url("/plain"));
    req.response_file = dir / "a.fit";
    auto r = fetch(*client, io, req);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_TRUE(r->body.empty());
    EXPECT_EQ(read_file(dir / "a.fit"), original);

    req.url = server.url("/gz");
    req.response_file = dir / "b.fit";
    r = fetch(*client, io, req);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(read_file(dir / "b.fit"), original);
    EXPECT_EQ(r->header("content-encoding"), "");

    req.url = server.url("/redirect");
    req.response_file = dir / "c.fit";
    r = fetch(*client, io, req);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(read_file(dir / "c.fit"), original);

    req.url = server.url("/missing");
    req.response_file = dir / "d.fit";
    r = fetch(*client, io, req);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->status, 404);
    EXPECT_EQ(r->body, R"({"error":"Not Found"})");
    EXPECT_FALSE(std::filesystem::exists(dir / "d.fit"));

    for (std::string target : {"/plain", "/gz"}) {
        req.url = server.url(target);
        req.response_file = dir / "e.fit";
        req.max_response_bytes = 100000;
        r = fetch(*client, io, req);
        ASSERT_FALSE(r.ok()) << target;
        EXPECT_EQ(r.error().code, "net.too_large");
        EXPECT_FALSE(std::filesystem::exists(dir / "e.fit")) << target;
        EXPECT_FALSE(std::filesystem::exists(dir / "e.fit.inflating")) << target;
    }
}

TEST_F(HttpClientTest, MissingUploadFileIsPermanent) {
    TestServer server([](const ServerRequest&) { return ServerReply{}; });
    net::HttpRequest req = get(server.url("/up"));
    req.method = "POST";
    req.body_file = "/nonexistent/fitbridge/file.fit";
    auto r = fetch(*client, io, req);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "net.body_file");
    EXPECT_EQ(r.error().cls, ErrorClass::permanent);
}

class TlsTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        s_dir = std::make_unique<TempDir>("net-pki");
        s_pki = make_test_pki(s_dir->path());
    }
    static void TearDownTestSuite() { s_dir.reset(); }

    Result<net::HttpResponse> fetch_with(const std::optional<std::filesystem::path>& ca, const std::string& url) {
        net::ClientOptions options;
        options.ca_file = ca;
        auto c = net::make_http_client(io.get_executor(), options);
        return fetch(*c, io, get(url));
    }

    asio::io_context io;
    static inline std::unique_ptr<TempDir> s_dir;
    static inline TestPki s_pki;
};

TEST_F(TlsTest, TrustedCertificateForTheRightHostSucceeds) {
    TestServer server([](const ServerRequest&) { return ServerReply{200, {}, "secure"}; }, s_pki.server);
    auto r = fetch_with(s_pki.ca_cert, server.url("/x", "localhost"));
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->body, "secure");
    EXPECT_EQ(server.requests()[0].header("host"), "localhost:" + std::to_string(server.port()));
}

TEST_F(TlsTest, UnknownCaIsRejected) {
    TestServer server([](const ServerRequest&) { return ServerReply{200, {}, "secure"}; }, s_pki.server);
    auto r = fetch_with(s_pki.other_ca, server.url("/x", "localhost"));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "net.tls_verify");
    EXPECT_EQ(r.error().cls, ErrorClass::permanent);
    r = fetch_with(std::nullopt, server.url("/x", "localhost"));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "net.tls_verify");
    EXPECT_TRUE(server.requests().empty());
}

TEST_F(TlsTest, CertificateForAnotherHostIsRejected) {
    TestServer server([](const ServerRequest&) { return ServerReply{200, {}, "secure"}; }, s_pki.server);
    // The certificate names DNS:localhost only.
    auto r = fetch_with(s_pki.ca_cert, server.url("/x", "127.0.0.1"));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "net.tls_verify");
    EXPECT_TRUE(server.requests().empty());
}

TEST_F(TlsTest, SilentPeerHitsTheDeadlineDuringTheHandshake) {
    // The kernel completes the TCP handshake from the backlog; nobody ever
    // answers the ClientHello.
    asio::io_context server_io;
    tcp::acceptor silent(server_io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    net::ClientOptions options;
    options.ca_file = s_pki.ca_cert;
    auto c = net::make_http_client(io.get_executor(), options);
    net::HttpRequest req = get("https://127.0.0.1:" + std::to_string(silent.local_endpoint().port()) + "/");
    req.timeout = std::chrono::milliseconds(300);
    auto start = std::chrono::steady_clock::now();
    auto r = fetch(*c, io, req);
    auto elapsed = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "net.timeout");
    EXPECT_EQ(r.error().cls, ErrorClass::transient);
    EXPECT_LT(elapsed, std::chrono::milliseconds(2000));
}

TEST_F(HttpClientTest, HeadAndNoContentAnswersHaveNoBody) {
    TestServer server([](const ServerRequest& r) {
        if (r.method == "HEAD") return ServerReply{200, {{"Content-Length", "1234"}}, ""};
        return ServerReply{204, {}, ""};
    });
    net::HttpRequest req = get(server.url("/h"));
    req.method = "HEAD";
    auto r = fetch(*client, io, req);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->header("content-length"), "1234");
    req.method = "DELETE";
    r = fetch(*client, io, req);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->status, 204);
    EXPECT_EQ(server.connections(), 1);  // both on one connection
}

TEST_F(TlsTest, TlsConnectionsAreReused) {
    TestServer server([](const ServerRequest&) { return ServerReply{200, {}, "secure"}; }, s_pki.server);
    net::ClientOptions options;
    options.ca_file = s_pki.ca_cert;
    auto c = net::make_http_client(io.get_executor(), options);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(fetch(*c, io, get(server.url("/x", "localhost"))).ok());
    EXPECT_EQ(server.connections(), 1);
}

TEST(ClassifyStatus, MapsEveryClass) {
    ManualClock clock(SysTime(std::chrono::seconds(1'700'000'000)));
    auto classify = [&](int status, std::string body, net::Headers headers = {}) {
        net::HttpResponse r;
        r.status = status;
        r.body = std::move(body);
        r.headers = std::move(headers);
        return net::classify_status(r, "GET /x", clock);
    };
    EXPECT_FALSE(classify(200, "").has_value());
    EXPECT_FALSE(classify(304, "").has_value());
    auto e = classify(401, R"({"message":"Authorization Error"})");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->cls, ErrorClass::auth);
    EXPECT_EQ(e->message, "GET /x: HTTP 401 Authorization Error");
    e = classify(429, "", {{"retry-after", "17"}});
    EXPECT_EQ(e->cls, ErrorClass::rate_limited);
    EXPECT_EQ(e->retry_after, std::chrono::seconds(17));
    e = classify(408, "");
    EXPECT_EQ(e->cls, ErrorClass::transient);
    e = classify(503, "upstream down");
    EXPECT_EQ(e->cls, ErrorClass::transient);
    EXPECT_EQ(e->code, "http.503");
    e = classify(422, R"({"status":422,"error":"Unsupported file format"})");
    EXPECT_EQ(e->cls, ErrorClass::permanent);
    EXPECT_EQ(e->message, "GET /x: HTTP 422 Unsupported file format");
    e = classify(403, R"({"status":403,"error":"Access denied"})");
    EXPECT_EQ(e->cls, ErrorClass::permanent);
}

}  // namespace

}  // namespace fitbridge::test
