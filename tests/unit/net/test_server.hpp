#pragma once
// A scriptable HTTP/1.1 server on 127.0.0.1 (plain or TLS) for the net unit
// tests, and a throwaway PKI made with the openssl CLI. The server's Beast code
// lives in http_client_test.cpp so only one test TU instantiates it.

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "net/http_client.hpp"

namespace fitbridge::test {

struct ServerRequest {
    std::string method;
    std::string target;
    net::Headers headers;  // names lower-case
    std::string body;
    int connection = 0;  // 1-based number of the connection it arrived on
    std::string header(std::string_view lower_name) const {
        for (const auto& [k, v] : headers)
            if (k == lower_name) return v;
        return {};
    }
};

struct ServerReply {
    int status = 200;
    net::Headers headers;
    std::string body;
    std::chrono::milliseconds delay{0};
    bool hang = false;   // never answer (the client's deadline must fire)
    bool close = false;  // close the connection after answering
    bool drop = false;   // close after answering although the reply said keep-alive
};

struct TlsFiles {
    std::filesystem::path cert;
    std::filesystem::path key;
};

class TestServer {
public:
    using Handler = std::function<ServerReply(const ServerRequest&)>;
    explicit TestServer(Handler handler, std::optional<TlsFiles> tls = std::nullopt);
    ~TestServer();
    TestServer(const TestServer&) = delete;
    TestServer& operator=(const TestServer&) = delete;

    uint16_t port() const;
    // http(s)://host:port + path
    std::string url(std::string_view path, std::string_view host = "127.0.0.1") const;
    int connections() const;
    std::vector<ServerRequest> requests() const;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

struct TestPki {
    std::filesystem::path ca_cert;   // signed the server certificate
    std::filesystem::path other_ca;  // an unrelated CA
    TlsFiles server;                 // for DNS:localhost only
};

// Generates the PKI under `dir` with the openssl CLI; throws on failure.
TestPki make_test_pki(const std::filesystem::path& dir);

}  // namespace fitbridge::test
