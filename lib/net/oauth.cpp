#include "net/oauth.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cmath>
#include <stdexcept>

#include "core/hash.hpp"
#include "json/json.hpp"
#include "net/url.hpp"
#include "store/store.hpp"

namespace fitbridge::net {

namespace asio = boost::asio;

namespace {

std::string encode64(std::string_view bytes, const char* alphabet, bool pad) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    size_t i = 0;
    auto at = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(bytes[k])); };
    for (; i + 3 <= bytes.size(); i += 3) {
        uint32_t v = at(i) << 16 | at(i + 1) << 8 | at(i + 2);
        for (int s = 18; s >= 0; s -= 6) out += alphabet[(v >> s) & 63];
    }
    size_t rest = bytes.size() - i;
    if (rest > 0) {
        uint32_t v = at(i) << 16 | (rest == 2 ? at(i + 1) << 8 : 0);
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        if (rest == 2) out += alphabet[(v >> 6) & 63];
        if (pad) out += rest == 2 ? "=" : "==";
    }
    return out;
}

std::string random_token(size_t bytes) {
    std::string raw(bytes, '\0');
    random_bytes(std::span<uint8_t>(reinterpret_cast<uint8_t*>(raw.data()), raw.size()));
    return base64url(raw);
}

double to_unix(SysTime t) { return std::chrono::duration<double>(t.time_since_epoch()).count(); }
SysTime from_unix(double s) {
    return SysTime(std::chrono::milliseconds(static_cast<int64_t>(std::llround(s * 1000.0))));
}

class StaticSource final : public TokenSource {
public:
    explicit StaticSource(std::string value) : m_value(std::move(value)) {}
    asio::awaitable<Result<std::string>> authorization() override {
        Result<std::string> out(m_value);
        co_return out;
    }
    // Nothing to refresh: a rejected key stays rejected.
    bool invalidate(const std::string&) override { return false; }

private:
    std::string m_value;
};

}  // namespace

std::string base64(std::string_view bytes) {
    return encode64(bytes, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", true);
}

std::string base64url(std::string_view bytes) {
    return encode64(bytes, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", false);
}

// ------------------------------------------------------------------ store

Result<std::optional<Credentials>> SqliteTokenStore::load(const std::string& account) {
    try {
        SQLite::Statement q(m_store.db(),
                            "SELECT kind, access_token, refresh_token, expires_at, scope FROM credentials "
                            "WHERE account_id = ?");
        q.bind(1, account);
        if (!q.executeStep()) return std::optional<Credentials>();
        Credentials c;
        c.kind = q.getColumn(0).getString();
        c.access_token = q.getColumn(1).getString();
        c.refresh_token = q.getColumn(2).getString();
        if (!q.getColumn(3).isNull()) c.expires_at = from_unix(q.getColumn(3).getDouble());
        c.scope = q.getColumn(4).getString();
        return std::optional<Credentials>(std::move(c));
    } catch (const std::exception& e) {
        return Error::transient("oauth.store", fmt::format("cannot read credentials of {}: {}", account, e.what()));
    }
}

Result<void> SqliteTokenStore::save(const std::string& account, const Credentials& c) {
    try {
        SQLite::Transaction tx(m_store.db());
        SQLite::Statement q(m_store.db(),
                            "INSERT INTO credentials (account_id, kind, access_token, refresh_token, expires_at, "
                            "scope, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
                            "ON CONFLICT(account_id) DO UPDATE SET kind = excluded.kind, "
                            "access_token = excluded.access_token, refresh_token = excluded.refresh_token, "
                            "expires_at = excluded.expires_at, scope = excluded.scope, "
                            "updated_at = excluded.updated_at");
        q.bind(1, account);
        q.bind(2, c.kind);
        q.bind(3, c.access_token);
        q.bind(4, c.refresh_token);
        if (c.expires_at)
            q.bind(5, to_unix(*c.expires_at));
        else
            q.bind(5);
        q.bind(6, c.scope);
        q.bind(7, to_unix(m_clock.now()));
        q.exec();
        tx.commit();
        return {};
    } catch (const std::exception& e) {
        return Error::transient("oauth.store", fmt::format("cannot save credentials of {}: {}", account, e.what()));
    }
}

// ------------------------------------------------------------------ sources

std::unique_ptr<TokenSource> make_api_key_source(std::string key) {
    return std::make_unique<StaticSource>("Basic " + base64("API_KEY:" + key));
}

std::unique_ptr<TokenSource> make_basic_source(std::string user, std::string password) {
    return std::make_unique<StaticSource>("Basic " + base64(user + ":" + password));
}

std::unique_ptr<TokenSource> make_bearer_source(std::string token) {
    return std::make_unique<StaticSource>("Bearer " + token);
}

// One refresh in progress; waiters park on the timer, which the refresher
// cancels when the result is in.
struct OAuth2TokenSource::Flight {
    explicit Flight(asio::any_io_executor executor) : done(std::move(executor)) {}
    asio::steady_timer done;
    std::optional<Result<void>> result;
};

OAuth2TokenSource::OAuth2TokenSource(HttpClient& http, TokenStore& store, std::string account, OAuthEndpoints endpoints,
                                     const Clock& clock, std::chrono::seconds skew)
    : m_http(http),
      m_store(store),
      m_account(std::move(account)),
      m_endpoints(std::move(endpoints)),
      m_clock(clock),
      m_skew(skew) {}

OAuth2TokenSource::~OAuth2TokenSource() = default;

asio::awaitable<Result<std::string>> OAuth2TokenSource::authorization() {
    if (m_dead) {
        Result<std::string> out(
            Error::auth("oauth.needs_reauth", fmt::format("account {} needs to be authorised again", m_account)));
        co_return out;
    }
    if (!m_credentials) {
        auto loaded = m_store.load(m_account);
        if (!loaded) {
            Result<std::string> out(loaded.error());
            co_return out;
        }
        if (!*loaded) {
            Result<std::string> out(
                Error::auth("oauth.no_credentials", fmt::format("account {} has no stored credentials", m_account)));
            co_return out;
        }
        m_credentials = std::move(**loaded);
    }
    const bool expiring = m_credentials->expires_at && *m_credentials->expires_at - m_skew <= m_clock.now();
    if (m_force_refresh || expiring || m_credentials->access_token.empty()) {
        std::shared_ptr<Flight> flight = m_flight;
        if (flight) {
            boost::system::error_code ec;
            co_await flight->done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        } else {
            auto executor = co_await asio::this_coro::executor;
            flight = std::make_shared<Flight>(executor);
            flight->done.expires_at(asio::steady_timer::time_point::max());
            m_flight = flight;
            Result<void> refreshed = co_await refresh();
            flight->result = std::move(refreshed);
            m_flight.reset();
            flight->done.cancel();
        }
        if (!flight->result || !*flight->result) {
            Result<std::string> out(flight->result ? flight->result->error()
                                                   : Error::transient("oauth.refresh", "token refresh was cancelled"));
            co_return out;
        }
    }
    Result<std::string> out("Bearer " + m_credentials->access_token);
    co_return out;
}

asio::awaitable<Result<void>> OAuth2TokenSource::refresh() {
    const bool for_401 = m_force_refresh;
    if (m_credentials->refresh_token.empty()) {
        m_dead = true;
        Result<void> out(Error::auth("oauth.no_refresh_token",
                                     fmt::format("account {}: access token expired and no refresh token", m_account)));
        co_return out;
    }
    if (m_endpoints.token_url.empty()) {
        // Tokens handed over without the OAuth app (no client_id): a refresh
        // token alone cannot be used.
        m_dead = true;
        Result<void> out(Error::auth(
            "oauth.no_client",
            fmt::format("account {}: access token expired and no OAuth client (client_id) to refresh it with",
                        m_account)));
        co_return out;
    }
    HttpRequest req;
    req.method = "POST";
    req.url = m_endpoints.token_url;
    req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}};
    std::vector<std::pair<std::string, std::string>> form{{"grant_type", "refresh_token"},
                                                          {"refresh_token", m_credentials->refresh_token}};
    authenticate_client(m_endpoints, req, form);
    req.body = form_encode(form);
    Result<HttpResponse> sent = co_await m_http.send(std::move(req));
    if (!sent) {
        Result<void> out(sent.error());
        co_return out;
    }
    const int status = sent->status;
    if (status == 400 || status == 401 || status == 403) {
        // invalid_grant: the refresh token was revoked or already rotated away.
        m_dead = true;
        auto e = classify_status(*sent, "token refresh", m_clock);
        Result<void> out(Error::auth("oauth.refresh_refused", e ? e->message : "token refresh refused"));
        co_return out;
    }
    if (auto e = classify_status(*sent, "token refresh", m_clock)) {
        Result<void> out(std::move(*e));
        co_return out;
    }
    auto parsed = parse_token_response(*sent, m_clock.now(), &*m_credentials);
    if (!parsed) {
        Result<void> out(parsed.error());
        co_return out;
    }
    // Persist first: the platform may already have invalidated the old
    // refresh token, so a crash must not leave only the old one on disk.
    if (auto saved = m_store.save(m_account, *parsed); !saved) {
        Result<void> out(saved.error());
        co_return out;
    }
    m_credentials = std::move(*parsed);
    m_force_refresh = false;
    m_refreshed_for_401 = for_401 ? m_credentials->access_token : std::string();
    Result<void> out;
    co_return out;
}

bool OAuth2TokenSource::invalidate(const std::string& authorization) {
    if (m_dead) return false;
    if (!m_credentials || authorization != "Bearer " + m_credentials->access_token) return true;  // already replaced
    if (m_credentials->refresh_token.empty() || m_endpoints.token_url.empty()) {
        // A long-lived token (Intervals.icu issues no refresh token), or no
        // OAuth client to refresh with: nothing can cure the 401.
        m_dead = true;
        return false;
    }
    if (!m_refreshed_for_401.empty() && m_refreshed_for_401 == m_credentials->access_token) {
        m_dead = true;
        return false;
    }
    m_force_refresh = true;
    return true;
}

asio::awaitable<Result<HttpResponse>> send_authorized(HttpClient& http, TokenSource& tokens, HttpRequest request,
                                                      const Clock& clock, Final401 final_401) {
    for (int attempt = 0;; ++attempt) {
        Result<std::string> auth = co_await tokens.authorization();
        if (!auth) {
            Result<HttpResponse> out(auth.error());
            co_return out;
        }
        HttpRequest copy = request;
        std::erase_if(copy.headers, [](const auto& kv) {
            std::string name = kv.first;
            for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            return name == "authorization";
        });
        copy.headers.emplace_back("Authorization", *auth);
        Result<HttpResponse> sent = co_await http.send(std::move(copy));
        if (!sent || sent->status != 401) co_return sent;
        // Always report the rejection: a second 401 is what tells the source to give up.
        if (tokens.invalidate(*auth) && attempt == 0) continue;
        if (final_401 == Final401::response) co_return sent;
        auto e = classify_status(
            *sent, fmt::format("{} {}", request.method, request.url.substr(0, request.url.find('?'))), clock);
        Result<HttpResponse> out(e ? *e : Error::auth("http.401", "unauthorised"));
        co_return out;
    }
}

void authenticate_client(const OAuthEndpoints& endpoints, HttpRequest& request,
                         std::vector<std::pair<std::string, std::string>>& form) {
    if (endpoints.basic_auth && !endpoints.client_secret.empty()) {
        request.headers.emplace_back("Authorization",
                                     "Basic " + base64(endpoints.client_id + ":" + endpoints.client_secret));
        return;
    }
    form.emplace_back("client_id", endpoints.client_id);
    if (!endpoints.client_secret.empty()) form.emplace_back("client_secret", endpoints.client_secret);
}

// ------------------------------------------------------------------ PKCE

std::string pkce_challenge(std::string_view verifier) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned length = 0;
    EVP_Digest(verifier.data(), verifier.size(), digest.data(), &length, EVP_sha256(), nullptr);
    return base64url(std::string_view(reinterpret_cast<const char*>(digest.data()), length));
}

Pkce make_pkce() {
    Pkce p;
    p.verifier = random_token(32);
    p.challenge = pkce_challenge(p.verifier);
    return p;
}

std::string make_state() { return random_token(16); }

std::string authorization_url(const OAuthEndpoints& endpoints, std::string_view state, std::string_view challenge) {
    std::vector<std::pair<std::string, std::string>> q = {
        {"response_type", "code"}, {"client_id", endpoints.client_id}, {"redirect_uri", endpoints.redirect_uri}};
    if (!endpoints.scope.empty()) q.emplace_back("scope", endpoints.scope);
    q.emplace_back("state", std::string(state));
    q.emplace_back("code_challenge", std::string(challenge));
    q.emplace_back("code_challenge_method", "S256");
    const char sep = endpoints.authorize_url.find('?') == std::string::npos ? '?' : '&';
    return endpoints.authorize_url + sep + form_encode(q);
}

HttpRequest code_exchange_request(const OAuthEndpoints& endpoints, std::string_view code, std::string_view verifier) {
    HttpRequest req;
    req.method = "POST";
    req.url = endpoints.token_url;
    req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}};
    std::vector<std::pair<std::string, std::string>> form = {
        {"grant_type", "authorization_code"}, {"code", std::string(code)}, {"redirect_uri", endpoints.redirect_uri}};
    authenticate_client(endpoints, req, form);
    if (!verifier.empty()) form.emplace_back("code_verifier", std::string(verifier));
    req.body = form_encode(form);
    return req;
}

Result<Credentials> parse_token_response(const HttpResponse& response, SysTime now, const Credentials* previous) {
    auto doc = json::parse(response.body);
    if (!doc || !doc->IsObject())
        return Error::transient("oauth.bad_token_response", "token endpoint answered something that is not JSON");
    Credentials c;
    c.kind = "oauth2";
    c.access_token = json::get_string(*doc, "access_token").value_or("");
    if (c.access_token.empty())
        return Error::permanent("oauth.bad_token_response", "token endpoint answer has no access_token");
    c.refresh_token = json::get_string(*doc, "refresh_token").value_or(previous ? previous->refresh_token : "");
    if (auto at = json::get_number(*doc, "expires_at"))
        c.expires_at = from_unix(*at);
    else if (auto in = json::get_number(*doc, "expires_in"))
        c.expires_at = now + std::chrono::milliseconds(static_cast<int64_t>(*in * 1000));
    c.scope = json::get_string(*doc, "scope").value_or(previous ? previous->scope : "");
    return c;
}

asio::awaitable<Result<Credentials>> exchange_code(HttpClient& http, const OAuthEndpoints& endpoints, std::string code,
                                                   std::string verifier, const Clock& clock) {
    HttpRequest req = code_exchange_request(endpoints, code, verifier);
    Result<HttpResponse> sent = co_await http.send(std::move(req));
    if (!sent) {
        Result<Credentials> out(sent.error());
        co_return out;
    }
    if (auto e = classify_status(*sent, "authorization code exchange", clock)) {
        if (sent->status == 400) e->cls = ErrorClass::auth;  // invalid or expired code: start over
        Result<Credentials> out(std::move(*e));
        co_return out;
    }
    Result<Credentials> out = parse_token_response(*sent, clock.now());
    co_return out;
}

// ------------------------------------------------------------------ loopback

LoopbackListener::LoopbackListener(uint16_t port) {
    m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (m_fd < 0) throw std::runtime_error("cannot create a socket for the OAuth redirect");
    int one = 1;
    ::setsockopt(m_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(m_fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(m_fd, 4) != 0 ||
        ::getsockname(m_fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        ::close(m_fd);
        throw std::runtime_error(fmt::format("cannot listen on 127.0.0.1:{} for the OAuth redirect", port));
    }
    m_port = ntohs(a.sin_port);
}

LoopbackListener::~LoopbackListener() {
    if (m_fd >= 0) ::close(m_fd);
}

std::string LoopbackListener::redirect_uri(std::string_view path) const {
    return fmt::format("http://127.0.0.1:{}{}", m_port, path);
}

Result<LoopbackListener::Callback> LoopbackListener::wait(std::string_view expected_state,
                                                          std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto remaining_ms = [&] {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        return static_cast<int>(std::max<int64_t>(0, left.count()));
    };
    auto reply = [](int fd, int status, std::string_view text) {
        std::string page = fmt::format("<!doctype html><title>FitBridge</title><p>{}</p>\n", text);
        std::string head = fmt::format(
            "HTTP/1.1 {} {}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n"
            "Connection: close\r\n\r\n",
            status, status == 200 ? "OK" : (status == 404 ? "Not Found" : "Bad Request"), page.size());
        std::string all = head + page;
        ::send(fd, all.data(), all.size(), MSG_NOSIGNAL);
    };
    for (;;) {
        pollfd p{m_fd, POLLIN, 0};
        int ready = ::poll(&p, 1, remaining_ms());
        if (ready <= 0) return Error::transient("oauth.timeout", "no browser redirect arrived before the timeout");
        int fd = ::accept4(m_fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) continue;
        std::string request;
        char buf[4096];
        while (request.find("\r\n\r\n") == std::string::npos && request.size() < 64 * 1024) {
            pollfd c{fd, POLLIN, 0};
            if (::poll(&c, 1, std::min(remaining_ms(), 5000)) <= 0) break;
            ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0) break;
            request.append(buf, static_cast<size_t>(n));
        }
        // "GET /callback?code=...&state=... HTTP/1.1"
        auto line = std::string_view(request).substr(0, request.find("\r\n"));
        auto sp1 = line.find(' ');
        auto sp2 = line.rfind(' ');
        std::string_view target = sp1 != std::string_view::npos && sp2 > sp1 ? line.substr(sp1 + 1, sp2 - sp1 - 1) : "";
        auto qpos = target.find('?');
        auto query = parse_query(qpos == std::string_view::npos ? std::string_view() : target.substr(qpos + 1));
        auto get = [&](std::string_view key) -> std::optional<std::string> {
            for (const auto& [k, v] : query)
                if (k == key) return v;
            return std::nullopt;
        };
        auto code = get("code");
        auto error = get("error");
        if (!code && !error) {  // a favicon or a stray visit: keep waiting
            reply(fd, 404, "Not found.");
            ::close(fd);
            continue;
        }
        if (get("state").value_or("") != expected_state) {
            reply(fd, 400, "The state parameter does not match; start again with fitbridge auth.");
            ::close(fd);
            return Error::permanent("oauth.state", "the redirect's state does not match this authorization attempt");
        }
        if (error) {
            reply(fd, 400, "Authorization was not granted.");
            ::close(fd);
            return Error::auth("oauth.denied", fmt::format("authorization was not granted: {}", *error));
        }
        reply(fd, 200, "FitBridge is authorised. You can close this window.");
        ::close(fd);
        return Callback{*code, get("scope").value_or("")};
    }
}

}  // namespace fitbridge::net
