#include "providers/garmin_connect/auth.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <map>

#include <fmt/format.h>

#include "json/json.hpp"
#include "net/url.hpp"
#include "providers/kit/mapping.hpp"
#include "providers/kit/password_login.hpp"
#include "providers/kit/platform.hpp"

namespace fitbridge::providers::garmin_connect {

namespace {

using Done = boost::asio::awaitable<Result<void>>;

constexpr std::string_view k_token_path = "/di-oauth2-service/oauth/token";
constexpr std::string_view k_ticket_grant =
    "https://connectapi.garmin.com/di-oauth2-service/oauth/grant/service_ticket";
// The Android app's sign-in client and service (the ticket's service_url).
constexpr std::string_view k_sso_client = "GCM_ANDROID_DARK";
constexpr std::string_view k_service = "https://mobile.integration.garmin.com/gcm/android";
// DI clients that take a service ticket, tried in this order.
constexpr std::string_view k_di_clients[] = {
    "GARMIN_CONNECT_MOBILE_ANDROID_DI_2025Q2",
    "GARMIN_CONNECT_MOBILE_ANDROID_DI_2024Q4",
    "GARMIN_CONNECT_MOBILE_ANDROID_DI",
    "GARMIN_CONNECT_MOBILE_IOS_DI",
};
constexpr auto k_renew_before = std::chrono::minutes(15);
constexpr std::string_view k_user_agent = "GCM-Android-5.23";

double seconds_of(SysTime t) { return std::chrono::duration<double>(t.time_since_epoch()).count(); }
SysTime time_of_seconds(double s) { return SysTime(std::chrono::milliseconds(static_cast<int64_t>(s * 1000))); }

// Cookies of the sign-in session: name=value pairs from Set-Cookie answers.
std::string absorb_cookies(const std::string& jar, const net::HttpResponse& r) {
    std::map<std::string, std::string> all;
    auto add = [&](std::string_view pair) {
        const auto eq = pair.find('=');
        if (eq == std::string_view::npos || eq == 0) return;
        auto name = pair.substr(0, eq);
        while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
        all[std::string(name)] = std::string(pair.substr(eq + 1));
    };
    for (std::string_view rest = jar; !rest.empty();) {
        const auto semi = rest.find(';');
        add(rest.substr(0, semi));
        rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
    }
    for (const auto& [name, value] : r.headers)
        if (name == "set-cookie") add(std::string_view(value).substr(0, value.find(';')));
    std::string out;
    for (const auto& [k, v] : all) out += (out.empty() ? "" : "; ") + k + "=" + v;
    return out;
}

class DiTokenSource final : public net::TokenSource {
public:
    DiTokenSource(AuthSettings settings, net::HttpClient& http, std::shared_ptr<net::HttpClient> sign_in,
                  net::TokenStore* tokens, store::CursorStore* cursors, const Clock& clock,
                  const config::Config& config)
        : m_s(std::move(settings)),
          m_http(http),
          m_sign_in(std::move(sign_in)),
          m_tokens(tokens),
          m_cursors(cursors),
          m_clock(clock),
          m_config(config) {}

    boost::asio::awaitable<Result<std::string>> authorization() override {
        if (!m_loaded) load();
        if (m_current && !due()) co_return header();
        // One renewal at a time: concurrent requests wait for it.
        std::shared_ptr<Flight> flight = m_flight;
        if (flight) {
            boost::system::error_code ec;
            co_await flight->done.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
        } else {
            flight = std::make_shared<Flight>(co_await boost::asio::this_coro::executor);
            flight->done.expires_at(boost::asio::steady_timer::time_point::max());
            m_flight = flight;
            flight->result = co_await renew();
            m_flight.reset();
            flight->done.cancel();
        }
        if (!flight->result) co_return Error::transient(code("login"), "token renewal cancelled");
        if (!*flight->result) co_return flight->result->error();
        co_return header();
    }

    bool invalidate(const std::string& authorization) override {
        if (!m_current || authorization != header()) return true;  // renewed already
        const bool fresh = m_clock.now() - m_renewed_at < std::chrono::minutes(5);
        if (m_renewed_for_401 == m_current->access_token && fresh) return false;  // a renewed token is refused too
        m_force = true;
        m_after_401 = true;
        return true;
    }

private:
    struct Flight {
        explicit Flight(boost::asio::any_io_executor executor) : done(std::move(executor)) {}
        boost::asio::steady_timer done;
        std::optional<Result<void>> result;
    };

    std::string code(std::string_view what) const { return "garmin_connect." + std::string(what); }
    std::string header() const { return "Bearer " + m_current->access_token; }
    bool login_configured() const { return !m_s.username.empty(); }

    std::string hand_over() const {
        return fmt::format(
            "hand DI tokens over instead: POST {{\"kind\":\"oauth2\",\"access_token\":...,\"refresh_token\":...}} to "
            "/v1/accounts/{}/credentials (README \"Connect Garmin Connect\")",
            m_s.account_id);
    }

    // The token's expiry: the JWT's exp, else what the token endpoint said.
    std::optional<SysTime> expiry(const net::Credentials& c) const {
        if (auto claims = jwt_claims(c.access_token); claims && claims->exp) return time_of_seconds(*claims->exp);
        return c.expires_at;
    }

    bool due() const {
        if (m_force) return true;
        auto exp = expiry(*m_current);
        if (!exp) return false;
        const bool renewable = !m_current->refresh_token.empty() || login_configured();
        return m_clock.now() + (renewable ? k_renew_before : std::chrono::minutes(0)) >= *exp;
    }

    void load() {
        m_loaded = true;
        if (m_tokens == nullptr) return;
        auto loaded = m_tokens->load(m_s.account_id);
        if (!loaded || !*loaded) return;
        if ((*loaded)->kind == "mfa_code")
            m_code = (*loaded)->access_token;
        else
            m_current = **loaded;
    }

    Result<void> keep(net::Credentials c) {
        c.kind = "oauth2";
        if (auto exp = expiry(c)) c.expires_at = exp;
        if (m_tokens != nullptr)
            if (auto saved = m_tokens->save(m_s.account_id, c); !saved) return saved.error();
        m_current = std::move(c);
        m_refused.reset();
        m_renewed_at = m_clock.now();
        m_renewed_for_401 = m_after_401 ? m_current->access_token : std::string();
        m_force = m_after_401 = false;
        return {};
    }

    Done renew() {
        // A refused renewal stays refused until new tokens come (a new provider).
        if (m_refused && !login_configured()) co_return *m_refused;
        if (m_current && !m_current->refresh_token.empty() && !m_refused) {
            auto fresh = co_await refresh(*m_current);
            if (fresh) co_return keep(std::move(*fresh));
            if (fresh.error().cls == ErrorClass::auth) m_refused = fresh.error();
            if (fresh.error().cls != ErrorClass::auth || !login_configured()) co_return fresh.error();
        } else if (m_current && !login_configured()) {
            co_return Error::auth(code("token_expired"),
                                  fmt::format("the Garmin Connect token of account {} has expired and came without a "
                                              "refresh token; {}",
                                              m_s.account_id, hand_over()));
        }
        if (!login_configured())
            co_return Error::auth(code("no_credentials"), fmt::format("account {} has no Garmin Connect tokens yet; {}",
                                                                      m_s.account_id, hand_over()));
        m_current.reset();
        co_return co_await login();
    }

    // The DI token endpoint's form request for `client_id`.
    net::HttpRequest token_request(std::string_view client_id,
                                   const std::vector<std::pair<std::string, std::string>>& form) const {
        net::HttpRequest req;
        req.method = "POST";
        req.url = m_s.auth_url + std::string(k_token_path);
        req.headers = {{"Authorization", "Basic " + net::base64(std::string(client_id) + ":")},
                       {"Content-Type", "application/x-www-form-urlencoded"},
                       {"Accept", "application/json"},
                       {"Cache-Control", "no-cache"},
                       {"User-Agent", std::string(k_user_agent)}};
        req.body = net::form_encode(form);
        return req;
    }

    boost::asio::awaitable<Result<net::Credentials>> refresh(const net::Credentials& c) {
        auto claims = jwt_claims(c.access_token);
        if (!claims || !claims->client_id)
            co_return Error::auth(code("refresh"),
                                  fmt::format("the Garmin Connect access token of account {} is no JWT with a "
                                              "client_id claim, so it cannot be renewed; {}",
                                              m_s.account_id, hand_over()));
        auto req = token_request(
            *claims->client_id,
            {{"grant_type", "refresh_token"}, {"client_id", *claims->client_id}, {"refresh_token", c.refresh_token}});
        auto r = co_await m_http.send(std::move(req));
        if (!r) co_return r.error();
        if (r->status == 400 || r->status == 401 || r->status == 403)
            co_return Error::auth(code("refresh_refused"),
                                  fmt::format("Garmin Connect refused to renew the tokens of account {} ({} {}); {}",
                                              m_s.account_id, r->status, kit::body_message(r->body), hand_over()));
        if (auto e = net::classify_status(*r, "Garmin Connect token renewal", m_clock)) co_return *e;
        co_return net::parse_token_response(*r, m_clock.now(), &c);
    }

    // A stop of the sign-in: kept, so the sign-in is not tried again until
    // something changes (a code, new tokens, a new password).
    Error stop(std::string_view what, std::string reason) {
        m_stopped = Error::auth(code(what), fmt::format("Garmin Connect sign-in of account {}: {}; FitBridge does not "
                                                        "try again by itself: {}",
                                                        m_s.account_id, reason, hand_over()));
        return *m_stopped;
    }

    Done login() {
        auto password = config::read_secret(m_s.password_file, m_config);
        if (!password) co_return Error::auth(code("credentials"), "password_file: " + password.error().message);
        if (m_stopped) {
            // A refused password is tried again once the file holds another one.
            if (m_stopped->code != code("bad_password") || *password == m_refused_password) co_return *m_stopped;
            m_stopped.reset();
        }
        std::optional<Result<std::string>> ticket;
        if (m_code) {
            const std::string entered = *m_code;
            m_code.reset();
            if (auto waiting = mfa_wait()) ticket = co_await verify(*waiting, entered);
        }
        if (!ticket) ticket = co_await sign_in(*password);
        if (!*ticket) {
            if (ticket->error().code == code("bad_password")) m_refused_password = *password;
            co_return ticket->error();
        }
        auto tokens = co_await exchange(**ticket);
        if (!tokens) co_return tokens.error();
        if (m_cursors != nullptr) (void)m_cursors->save(m_s.account_id, std::string(k_mfa_cursor), "");
        co_return keep(std::move(*tokens));
    }

    std::string sso_query() const {
        return fmt::format("clientId={}&locale=en-US&service={}", k_sso_client, net::url_encode(k_service));
    }

    net::HttpRequest sso_post(std::string_view path, std::string body, const std::string& cookies) const {
        net::HttpRequest req;
        req.method = "POST";
        req.url = fmt::format("{}{}?{}", m_s.sso_url, path, sso_query());
        req.headers = {{"Content-Type", "application/json"},
                       {"Accept", "application/json"},
                       {"User-Agent", std::string(k_user_agent)}};
        if (!cookies.empty()) req.headers.emplace_back("Cookie", cookies);
        req.body = std::move(body);
        return req;
    }

    // A sign-in answer: the service ticket, or the reason it stopped.
    Result<std::string> read_sign_in(const net::HttpResponse& r, const std::string& cookies) {
        if (r.status == 429)
            return stop("login_rate_limited", "Garmin answered 429 (too many sign-ins from this address)");
        if (r.status == 403)
            return stop("login_blocked", fmt::format("Garmin's sign-in refused the request (403 {}), most likely "
                                                     "Cloudflare's bot check",
                                                     kit::body_message(r.body)));
        if (r.status >= 500)
            return Error::transient(code("login_unavailable"), fmt::format("Garmin's sign-in failed ({} {})", r.status,
                                                                           kit::body_message(r.body)));
        auto doc = json::parse(r.body);
        if (r.status >= 300 || !doc || !doc->IsObject())
            return stop("login_changed", fmt::format("Garmin's sign-in answered {} with {}; its login may have "
                                                     "changed",
                                                     r.status, kit::body_message(r.body)));
        if (kit::string_at(*doc, "error.status-code").value_or("") == "429")
            return stop("login_rate_limited", "Garmin answered 429 (too many sign-ins from this address)");
        const auto type = kit::string_at(*doc, "responseStatus.type").value_or("");
        if (type == "SUCCESSFUL") {
            auto ticket = kit::string_at(*doc, "serviceTicketId").value_or("");
            if (!ticket.empty()) return ticket;
            return stop("login_changed", "Garmin's sign-in succeeded without a service ticket");
        }
        if (type == "MFA_REQUIRED") {
            const auto method = kit::string_at(*doc, "customerMfaInfo.mfaLastMethodUsed").value_or("email");
            json::Builder b;
            b.w.StartObject();
            b.field("cookies", cookies);
            b.field("method", method);
            b.field("asked_at", seconds_of(m_clock.now()));
            b.w.EndObject();
            if (m_cursors != nullptr) (void)m_cursors->save(m_s.account_id, std::string(k_mfa_cursor), b.str());
            return stop("mfa_required",
                        fmt::format("Garmin asks for the verification code it sent by {}: POST "
                                    "{{\"kind\":\"mfa_code\",\"code\":\"123456\"}} to /v1/accounts/{}/credentials "
                                    "within a few minutes",
                                    method, m_s.account_id));
        }
        if (type == "INVALID_USERNAME_PASSWORD")
            return stop("bad_password",
                        "Garmin refused the username or the password in password_file (it is tried "
                        "again once the file changes)");
        if (type == "CAPTCHA_REQUIRED") return stop("captcha_required", "Garmin asks for a CAPTCHA");
        return stop("login_changed",
                    fmt::format("Garmin's sign-in answered '{}', which FitBridge does not know; its login may have "
                                "changed",
                                type.empty() ? kit::body_message(r.body) : type));
    }

    boost::asio::awaitable<Result<std::string>> sign_in(const std::string& password) {
        net::HttpRequest page;
        page.url = fmt::format("{}/mobile/sso/en/sign-in?clientId={}", m_s.sso_url, k_sso_client);
        page.headers = {{"User-Agent", std::string(k_user_agent)}};
        auto first = co_await m_sign_in->send(std::move(page));
        if (!first) co_return first.error();
        if (first->status == 429 || first->status == 403 || first->status >= 500) co_return read_sign_in(*first, "");
        const std::string cookies = absorb_cookies("", *first);
        json::Builder b;
        b.w.StartObject();
        b.field("username", m_s.username);
        b.field("password", password);
        b.field("rememberMe", true);
        b.field("captchaToken", "");
        b.w.EndObject();
        auto req = sso_post("/mobile/api/login", b.str(), cookies);
        auto r = co_await m_sign_in->send(std::move(req));
        if (!r) co_return r.error();
        co_return read_sign_in(*r, absorb_cookies(cookies, *r));
    }

    struct MfaWait {
        std::string cookies;
        std::string method;
    };
    std::optional<MfaWait> mfa_wait() const {
        if (m_cursors == nullptr) return std::nullopt;
        auto saved = m_cursors->load(m_s.account_id, std::string(k_mfa_cursor));
        if (!saved || !*saved || (*saved)->empty()) return std::nullopt;
        auto doc = json::parse(**saved);
        if (!doc || !doc->IsObject()) return std::nullopt;
        return MfaWait{kit::string_at(*doc, "cookies").value_or(""), kit::string_at(*doc, "method").value_or("email")};
    }

    boost::asio::awaitable<Result<std::string>> verify(MfaWait waiting, std::string entered) {
        json::Builder b;
        b.w.StartObject();
        b.field("mfaMethod", waiting.method);
        b.field("mfaVerificationCode", entered);
        b.field("rememberMyBrowser", false);
        b.key("reconsentList");
        b.w.StartArray();
        b.w.EndArray();
        b.field("mfaSetup", false);
        b.w.EndObject();
        auto req = sso_post("/mobile/api/mfa/verifyCode", b.str(), waiting.cookies);
        auto r = co_await m_sign_in->send(std::move(req));
        if (!r) co_return r.error();
        auto doc = json::parse(r->body);
        const auto type = doc && doc->IsObject() ? kit::string_at(*doc, "responseStatus.type") : std::nullopt;
        if (r->status < 300 && type && *type != "SUCCESSFUL" && *type != "MFA_REQUIRED")
            co_return stop("mfa_refused",
                           fmt::format("Garmin did not accept the verification code ({}); POST the right one as "
                                       "{{\"kind\":\"mfa_code\",\"code\":...}} to /v1/accounts/{}/credentials",
                                       *type, m_s.account_id));
        co_return read_sign_in(*r, waiting.cookies);
    }

    // The service ticket for DI tokens, with the first DI client that takes it.
    boost::asio::awaitable<Result<net::Credentials>> exchange(std::string ticket) {
        std::string refusals;
        for (const auto client : k_di_clients) {
            auto req = token_request(client, {{"client_id", std::string(client)},
                                              {"service_ticket", ticket},
                                              {"grant_type", std::string(k_ticket_grant)},
                                              {"service_url", std::string(k_service)}});
            auto r = co_await m_sign_in->send(std::move(req));
            if (!r) co_return r.error();
            if (r->status == 429)
                co_return stop("login_rate_limited", "Garmin answered the token exchange with 429 (too many sign-ins)");
            if (r->status >= 200 && r->status < 300) co_return net::parse_token_response(*r, m_clock.now());
            if (r->status >= 500)
                co_return Error::transient(code("login_unavailable"),
                                           fmt::format("Garmin's token exchange failed "
                                                       "({} {})",
                                                       r->status, kit::body_message(r->body)));
            refusals += fmt::format("{}{} {}", refusals.empty() ? "" : "; ", client, r->status);
        }
        co_return stop("login_changed",
                       fmt::format("Garmin refused the service ticket for every DI client ({})", refusals));
    }

    AuthSettings m_s;
    net::HttpClient& m_http;
    std::shared_ptr<net::HttpClient> m_sign_in;
    net::TokenStore* m_tokens;
    store::CursorStore* m_cursors;
    const Clock& m_clock;
    const config::Config& m_config;
    bool m_loaded = false;
    std::optional<net::Credentials> m_current;
    std::optional<std::string> m_code;  // a verification code handed over
    std::optional<Error> m_stopped;     // why the sign-in stopped
    std::optional<Error> m_refused;     // why Garmin refused to renew the tokens
    std::string m_refused_password;
    std::shared_ptr<Flight> m_flight;
    bool m_force = false;
    bool m_after_401 = false;
    SysTime m_renewed_at{};
    std::string m_renewed_for_401;
};

}  // namespace

std::optional<JwtClaims> jwt_claims(std::string_view token) {
    auto doc = kit::jwt_payload(token);
    if (!doc) return std::nullopt;
    JwtClaims out;
    out.client_id = kit::string_at(*doc, "client_id");
    out.exp = kit::number_at(*doc, "exp");
    return out;
}

std::unique_ptr<net::TokenSource> make_token_source(AuthSettings settings, net::HttpClient& http,
                                                    std::shared_ptr<net::HttpClient> sign_in, net::TokenStore* tokens,
                                                    store::CursorStore* cursors, const Clock& clock,
                                                    const config::Config& config) {
    return std::make_unique<DiTokenSource>(std::move(settings), http, std::move(sign_in), tokens, cursors, clock,
                                           config);
}

}  // namespace fitbridge::providers::garmin_connect
