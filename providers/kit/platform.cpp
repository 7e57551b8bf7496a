#include "providers/kit/platform.hpp"

#include <algorithm>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cctype>
#include <tuple>

#include <fmt/format.h>

#include "core/log.hpp"
#include "json/json.hpp"
#include "net/rate_limit.hpp"
#include "net/retry.hpp"

namespace fitbridge::providers::kit {

namespace {

Error invalid(std::string message) { return Error::permanent("config.invalid", std::move(message)); }

const Clock& system_clock() { return process_clock(); }

std::string check_credentials_value(std::string_view v) {
    if (v == "stored") return {};
    return fmt::format("expected 'stored' (set with fitbridge auth or POST /v1/accounts/ID/credentials), got '{}'", v);
}

// The option names of each mode, for "set only one" and "required".
std::vector<std::string> mode_names(uint32_t modes, std::string_view token_option = "token_file") {
    std::vector<std::string> out;
    if (modes & k_api_key_file) out.emplace_back("api_key_file");
    if (modes & k_token_file) out.emplace_back(token_option);
    if (modes & k_login) out.emplace_back("username/password_file");
    if (modes & k_oauth_app)
        out.emplace_back("credentials/client_id");
    else if (modes & k_stored)
        out.emplace_back("credentials");
    return out;
}

std::string required_message(const Platform& p) {
    const uint32_t m = p.credential_modes;
    std::vector<std::string> ways;
    if (m & k_api_key_file) ways.push_back(fmt::format("api_key_file: required ({})", p.api_key_help));
    if (m & k_token_file)
        ways.push_back(ways.empty()
                           ? fmt::format("{}: required (a file holding {})", p.token_file_option, p.token_file_help)
                           : fmt::format("{} for {}", p.token_file_option, p.token_file_help));
    if (m & k_login)
        ways.push_back(ways.empty() ? "username: required, with password_file (the account's login)"
                                    : "username + password_file for the account's login");
    if (m & k_oauth_app && p.public_client)
        ways.push_back(ways.empty() ? "client_id: required, with client_secret_file for a confidential client "
                                      "(fitbridge auth)"
                                    : "client_id (+ client_secret_file for a confidential client) for fitbridge auth");
    else if (m & k_oauth_app)
        ways.push_back(ways.empty() ? "client_id: required, with client_secret_file (fitbridge auth)"
                                    : "client_id + client_secret_file for fitbridge auth");
    if (m & k_stored) ways.push_back(ways.empty() ? "credentials: required (stored)" : "credentials: stored");
    std::string out;
    for (size_t i = 0; i < ways.size(); ++i) out += (i == 0 ? "" : ", or ") + ways[i];
    return out;
}

// A secret read from its file at every request, so a replaced key is used
// without a restart. Nothing to refresh: a rejected secret stays rejected.
class FileSecretSource final : public net::TokenSource {
public:
    FileSecretSource(std::string code, std::string option, std::string path,
                     std::function<std::string(std::string)> header, const config::Config& config)
        : m_code(std::move(code)),
          m_option(std::move(option)),
          m_path(std::move(path)),
          m_header(std::move(header)),
          m_config(config) {}
    boost::asio::awaitable<Result<std::string>> authorization() override {
        auto secret = config::read_secret(m_path, m_config);
        if (!secret) co_return Error::auth(m_code, fmt::format("{}: {}", m_option, secret.error().message));
        co_return m_header(*secret);
    }
    bool invalidate(const std::string&) override { return false; }

private:
    std::string m_code;
    std::string m_option;
    std::string m_path;
    std::function<std::string(std::string)> m_header;
    const config::Config& m_config;
};

// Stored credentials that are not there (yet): every request is an auth error
// that says how to provide them.
class MissingSource final : public net::TokenSource {
public:
    explicit MissingSource(Error error) : m_error(std::move(error)) {}
    boost::asio::awaitable<Result<std::string>> authorization() override { co_return m_error; }
    bool invalidate(const std::string&) override { return false; }

private:
    Error m_error;
};

// A fixed header value (a stored API key).
class StaticSource final : public net::TokenSource {
public:
    explicit StaticSource(std::string header) : m_header(std::move(header)) {}
    boost::asio::awaitable<Result<std::string>> authorization() override { co_return m_header; }
    bool invalidate(const std::string&) override { return false; }

private:
    std::string m_header;
};

// A login with username + password_file: the session token is kept in the
// token store (kind "login") and renewed shortly before it expires, or once
// after a 401.
class LoginSource final : public net::TokenSource {
public:
    LoginSource(const Platform& platform, const Settings& settings, net::HttpClient& http, net::TokenStore* store,
                const Clock& clock, const config::Config& config)
        : m_platform(platform), m_settings(settings), m_http(http), m_store(store), m_clock(clock), m_config(config) {}

    boost::asio::awaitable<Result<std::string>> authorization() override {
        if (!m_current && m_store != nullptr) {
            auto loaded = m_store->load(m_settings.account_id);
            if (loaded && *loaded && (*loaded)->kind == "login") m_current = **loaded;
        }
        const bool expired =
            m_current && m_current->expires_at && m_clock.now() + std::chrono::seconds(60) >= *m_current->expires_at;
        if (!m_current || expired || m_force) {
            // One login at a time: concurrent requests wait for it (a second
            // session could end the first on platforms that allow one).
            std::shared_ptr<Flight> flight = m_flight;
            if (flight) {
                boost::system::error_code ec;
                co_await flight->done.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
            } else {
                flight = std::make_shared<Flight>(co_await boost::asio::this_coro::executor);
                flight->done.expires_at(boost::asio::steady_timer::time_point::max());
                m_flight = flight;
                flight->result = co_await login();
                m_flight.reset();
                flight->done.cancel();
            }
            if (!flight->result) co_return Error::transient(std::string(m_platform.name) + ".login", "login cancelled");
            if (!*flight->result) co_return flight->result->error();
        }
        co_return fmt::format("{} {}", m_platform.token_scheme, m_current->access_token);
    }

    bool invalidate(const std::string& authorization) override {
        if (!m_current || authorization != fmt::format("{} {}", m_platform.token_scheme, m_current->access_token))
            return true;                                              // a newer session exists already
        if (m_relogged_for == m_current->access_token) return false;  // a fresh login was refused too
        m_relogged_for = m_current->access_token;
        m_force = true;
        return true;
    }

private:
    const Platform& m_platform;
    const Settings& m_settings;
    net::HttpClient& m_http;
    net::TokenStore* m_store;
    const Clock& m_clock;
    const config::Config& m_config;
    // Logs in and keeps the session (in the token store too).
    boost::asio::awaitable<Result<void>> login() {
        auto password = config::read_secret(m_settings.secret_file, m_config);
        if (!password)
            co_return Error::auth(std::string(m_platform.name) + ".credentials",
                                  fmt::format("password_file: {}", password.error().message));
        LoginRequest req{m_settings.auth_url, m_settings.base_url, m_settings.username, *password};
        auto fresh = co_await m_platform.login(m_http, req, m_clock);
        if (!fresh) co_return fresh.error();
        fresh->kind = "login";
        if (m_store != nullptr)
            if (auto saved = m_store->save(m_settings.account_id, *fresh); !saved) co_return saved.error();
        m_current = std::move(*fresh);
        m_force = false;
        co_return Result<void>{};
    }

    struct Flight {
        explicit Flight(boost::asio::any_io_executor executor) : done(std::move(executor)) {}
        boost::asio::steady_timer done;
        std::optional<Result<void>> result;
    };

    std::optional<net::Credentials> m_current;
    std::shared_ptr<Flight> m_flight;
    bool m_force = false;
    std::string m_relogged_for;
};

net::ClientOptions labelled(std::string_view platform) {
    net::ClientOptions o;
    o.platform = std::string(platform);
    return o;
}

net::RetryPolicy policy(bool retry_writes) {
    net::RetryPolicy r;
    r.retry_unsafe_methods = retry_writes;
    return r;
}

// The shared client of a platform: paced (when the platform gives a rate),
// retrying, and reading quota headers (X-RateLimit-Limit/-Usage) either way.
class PacedClient final : public net::HttpClient {
public:
    // `platform` labels its requests in GET /metrics.
    PacedClient(boost::asio::any_io_executor executor, std::string_view platform, double rate, double burst,
                bool retry_writes)
        : m_base(net::make_http_client(std::move(executor), labelled(platform))),
          m_limiter(net::RateLimitConfig{rate, burst, 0.5}, system_clock()),
          m_retrying(*m_base, system_clock(), policy(retry_writes), net::timer_sleep(), net::random_jitter(),
                     &m_limiter) {}
    boost::asio::awaitable<Result<net::HttpResponse>> send(net::HttpRequest request) override {
        return m_retrying.send(std::move(request));
    }
    const net::RateLimiter& limiter() const { return m_limiter; }

private:
    std::unique_ptr<net::HttpClient> m_base;
    net::RateLimiter m_limiter;
    net::RetryingClient m_retrying;
};

std::string printable(std::string_view text, size_t limit) {
    std::string out;
    for (char c : text.substr(0, limit)) {
        const auto u = static_cast<unsigned char>(c);
        out.push_back(std::isprint(u) ? c : ' ');
    }
    return out;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// FastAPI's validation answer (422): {"detail": [{"loc": ["query", "start"],
// "msg": "...", "type": "..."}, ...]} as "query.start: ...; body.files: ...".
std::optional<std::string> validation_detail(const rapidjson::Value& doc) {
    if (!doc.HasMember("detail") || !doc["detail"].IsArray() || doc["detail"].Empty()) return std::nullopt;
    std::string out;
    for (const auto& d : doc["detail"].GetArray()) {
        if (!d.IsObject()) continue;
        std::string loc;
        if (d.HasMember("loc") && d["loc"].IsArray())
            for (const auto& part : d["loc"].GetArray()) {
                const std::string piece = part.IsString()  ? std::string(part.GetString())
                                          : part.IsInt64() ? std::to_string(part.GetInt64())
                                                           : std::string();
                if (!piece.empty()) loc += (loc.empty() ? "" : ".") + piece;
            }
        auto msg = json::get_string(d, "msg").value_or("");
        if (msg.empty()) msg = json::get_string(d, "type").value_or("invalid");
        out += (out.empty() ? "" : "; ") + (loc.empty() ? msg : loc + ": " + msg);
    }
    if (out.empty()) return std::nullopt;
    return printable(out, 300);
}

}  // namespace

std::vector<OptionSpec> common_options(const Platform& p) {
    std::vector<OptionSpec> out;
    out.push_back({.name = "base_url",
                   .type = OptionType::url,
                   .default_value = p.base_url,
                   .help = "the platform's API (a local fake in tests)"});
    if (!p.auth_url.empty())
        out.push_back({.name = "auth_url",
                       .type = OptionType::url,
                       .default_value = p.auth_url,
                       .help = "where the platform logs in and issues tokens"});
    const uint32_t m = p.credential_modes;
    if (m & k_api_key_file)
        out.push_back({.name = "api_key_file",
                       .help = "a file holding the API key (read at every request)",
                       .empty_error = "must name a file"});
    if (m & k_token_file)
        out.push_back({.name = p.token_file_option,
                       .help = p.token_file_option == "token_file"
                                   ? "a file holding a bearer token (read at every request)"
                                   : "a file holding the token (read at every request)",
                       .empty_error = "must name a file"});
    if (!p.key_option.empty())
        out.push_back({.name = p.key_option, .help = p.key_option_help, .empty_error = "must name a file"});
    if (m & (k_stored | k_oauth_app))
        out.push_back({.name = "credentials",
                       .help = "stored: credentials from fitbridge auth or POST /v1/accounts/ID/credentials",
                       .check = &check_credentials_value});
    if (m & k_oauth_app) {
        out.push_back(
            {.name = "client_id", .help = "the OAuth app (fitbridge auth)", .empty_error = "must not be empty"});
        out.push_back({.name = "client_secret_file",
                       .help = p.public_client ? "a file holding the OAuth app's secret (confidential clients only)"
                                               : "a file holding the OAuth app's secret",
                       .empty_error = "must name a file"});
        if (p.oauth_in_options) {
            out.push_back({.name = "oauth.authorize_url",
                           .type = OptionType::url,
                           .help = "the OAuth consent page (fitbridge auth)"});
            out.push_back({.name = "oauth.token_url", .type = OptionType::url, .help = "the OAuth token endpoint"});
            out.push_back({.name = "oauth.scope", .help = "the OAuth scope asked for (empty: none)"});
        } else
            out.push_back(
                {.name = "oauth_scope",
                 .default_value = p.oauth_scope,
                 .help = "the OAuth scope asked for",
                 .empty_error = p.oauth_scope.empty() ? "must not be empty" : "must not be empty (e.g. {default})"});
    }
    if (m & k_login) {
        out.push_back({.name = "username", .help = "the login name", .empty_error = "must not be empty"});
        out.push_back({.name = "password_file",
                       .help = "a file holding the password (the daemon logs in and keeps the session)",
                       .empty_error = "must name a file"});
    }
    return out;
}

Result<Settings> parse_settings(const Platform& p, const config::AccountConfig& account,
                                std::span<const OptionSpec> options) {
    const auto common = common_options(p);
    auto values = parse_options(account, {options, std::span<const OptionSpec>(common)});
    if (!values) return values.error();
    Settings s;
    s.account_id = account.id;
    s.options = std::move(*values);
    const auto& o = s.options;
    s.base_url = o.text("base_url");
    s.auth_url = p.auth_url.empty() ? s.base_url : o.text("auth_url");
    // client_id is the OAuth app's only on platforms that have one (elsewhere
    // it may be a platform option, e.g. the client a password grant names).
    const bool oauth_app = (p.credential_modes & k_oauth_app) != 0;
    const bool stored = o.given("credentials") || (oauth_app && o.given("client_id"));
    const bool login = o.given("username") || o.given("password_file");
    // (api_key_file may be the platform's key_option instead of a credential mode)
    const bool api_key = (p.credential_modes & k_api_key_file) != 0 && o.given("api_key_file");
    const int ways = (api_key ? 1 : 0) + (o.given(p.token_file_option) ? 1 : 0) + (stored ? 1 : 0) + (login ? 1 : 0);
    if (ways > 1) {
        std::string names;
        for (const auto& n : mode_names(p.credential_modes, p.token_file_option))
            names += (names.empty() ? "" : ", ") + n;
        return invalid(fmt::format("{}: set only one ({})", names, p.only_one_help));
    }
    if (p.base_url.empty() && s.base_url.empty())
        return invalid("base_url: required (the address of the platform's API, e.g. https://api.example.com)");
    if (!p.key_option.empty() && !o.given(p.key_option))
        return invalid(fmt::format("{}: required ({})", p.key_option, p.key_option_help));
    if (ways == 0) {
        if (p.credential_modes == 0) {
            s.mode = CredentialMode{0};
            return s;
        }
        return invalid(required_message(p));
    }
    if (oauth_app && o.given("client_id") != o.given("client_secret_file") &&
        !(p.public_client && o.given("client_id")))
        return invalid(o.given("client_id") ? "client_secret_file: required with client_id (the OAuth app's secret)"
                                            : "client_id: required with client_secret_file");
    if (o.given("username") != o.given("password_file"))
        return invalid(o.given("username") ? "password_file: required with username (a file holding the password)"
                                           : "username: required with password_file");
    if (api_key) {
        s.mode = k_api_key_file;
        s.secret_file = o.text("api_key_file");
    } else if (o.given(p.token_file_option)) {
        s.mode = k_token_file;
        s.secret_file = o.text(p.token_file_option);
    } else if (login) {
        s.mode = k_login;
        s.username = o.text("username");
        s.secret_file = o.text("password_file");
    } else {
        s.mode = oauth_app && o.given("client_id") ? k_oauth_app : k_stored;
        s.client_id = o.text("client_id");
        s.client_secret_file = o.text("client_secret_file");
        if (s.mode == k_stored && (p.credential_modes & k_stored) == 0)
            return invalid(
                fmt::format("credentials: {} tokens are refreshed through the OAuth client: set "
                            "client_id (the stored tokens are used with it)",
                            p.title));
    }
    if (p.oauth_in_options) {
        s.scope = o.text("oauth.scope");
        s.authorize_url = o.text("oauth.authorize_url");
        s.token_url = o.text("oauth.token_url");
        if (s.mode == k_oauth_app && (s.authorize_url.empty() || s.token_url.empty()))
            return invalid(fmt::format("{}: required with client_id (the platform's OAuth endpoints)",
                                       s.authorize_url.empty() ? "oauth.authorize_url" : "oauth.token_url"));
    } else {
        s.scope = o.text("oauth_scope");
    }
    return s;
}

Result<void> accept_credentials(const Platform& p, const config::AccountConfig& account, std::string_view kind,
                                std::span<const OptionSpec> options) {
    auto s = parse_settings(p, account, options);
    if (!s) return s.error();
    if (s->mode != k_stored && s->mode != k_oauth_app) {
        const bool key = s->mode == k_api_key_file, token = s->mode == k_token_file;
        return Error::permanent(
            std::string(p.name) + ".credentials_in_file",
            fmt::format("account {} reads its {} from {}: write it there, or replace that option with "
                        "`credentials: stored` to keep credentials in the state store",
                        account.id,
                        key     ? "API key"
                        : token ? "token"
                                : "password",
                        key     ? "api_key_file"
                        : token ? p.token_file_option
                                : "password_file"));
    }
    bool known = false;
    for (std::string_view rest = p.stored_kinds; !rest.empty() && !known;) {
        const auto comma = rest.find(',');
        known = rest.substr(0, comma) == kind;
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
    if (!known)
        return Error::permanent(std::string(p.name) + ".credential_kind",
                                fmt::format("{} takes {}, not '{}'", p.title, p.stored_kinds_help, kind));
    return {};
}

Result<net::OAuthEndpoints> oauth_endpoints(const Platform& p, const Settings& s, const config::Config& config) {
    if (s.client_id.empty()) {
        const auto names = mode_names(p.credential_modes & ~(k_oauth_app | k_stored));
        return invalid(fmt::format(
            "account {} has no client_id: OAuth needs an app registered with {} (client_id + client_secret_file){}",
            s.account_id, p.title,
            names.empty() ? std::string() : fmt::format("; a personal account uses {} instead", names.front())));
    }
    net::OAuthEndpoints e;
    if (!s.client_secret_file.empty() || !p.public_client) {
        auto secret = config::read_secret(s.client_secret_file, config);
        if (!secret) return invalid(fmt::format("client_secret_file: {}", secret.error().message));
        e.client_secret = *secret;
    }
    e.basic_auth = p.token_basic_auth;
    e.authorize_url = p.oauth_in_options ? s.authorize_url : s.auth_url + std::string(p.authorize_path);
    e.token_url = p.oauth_in_options ? s.token_url : s.auth_url + std::string(p.token_path);
    e.client_id = s.client_id;
    e.scope = s.scope;
    return e;
}

std::shared_ptr<net::HttpClient> make_platform_http(const Platform& p, boost::asio::any_io_executor executor) {
    return std::make_shared<PacedClient>(std::move(executor), p.name, p.requests_per_second, p.burst, p.retry_writes);
}

std::vector<std::string> missing_scopes(const Platform& p, std::string_view granted) {
    std::vector<std::string_view> have;
    for (size_t i = 0; i < granted.size();) {
        const size_t end = granted.find_first_of(", ", i);
        const auto item = granted.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i);
        if (!item.empty()) have.push_back(item);
        if (end == std::string_view::npos) break;
        i = end + 1;
    }
    std::vector<std::string> out;
    for (const auto& need : p.scope_needs)
        if (std::find(have.begin(), have.end(), need.scope) == have.end())
            out.push_back(fmt::format("{} ({})", need.scope, need.needed_for));
    return out;
}

std::vector<BudgetWindow> platform_budget(const net::HttpClient& http) {
    const auto* paced = dynamic_cast<const PacedClient*>(&http);
    if (paced == nullptr) return {};
    const auto now = system_clock().now();
    std::vector<BudgetWindow> out;
    for (const auto& [read, daily, name] :
         {std::tuple{false, false, "15min"}, std::tuple{false, true, "daily"}, std::tuple{true, false, "read_15min"},
          std::tuple{true, true, "read_daily"}}) {
        const auto& w = paced->limiter().window(read, daily);
        if (w.limit <= 0) continue;
        // A window that has ended starts empty.
        const bool over = now >= w.resets_at;
        const auto resets = over ? (daily ? net::next_utc_midnight(now) : net::next_quarter_hour(now)) : w.resets_at;
        out.push_back(BudgetWindow{name, over ? 0 : w.used, w.limit,
                                   std::chrono::duration<double>(resets.time_since_epoch()).count()});
    }
    return out;
}

std::string body_message(std::string_view body) {
    if (auto doc = json::parse(body); doc && doc->IsObject()) {
        if (auto detail = validation_detail(*doc)) return *detail;
        for (const char* key : {"message", "error_description", "error", "detail", "title"}) {
            if (auto m = json::get_string(*doc, key); m && !m->empty()) return printable(*m, 300);
            if (doc->HasMember(key) && (*doc)[key].IsObject())
                if (auto m = json::get_string((*doc)[key], "message"); m && !m->empty()) return printable(*m, 300);
        }
        if (doc->HasMember("errors") && (*doc)["errors"].IsArray() && !(*doc)["errors"].Empty()) {
            const auto& first = (*doc)["errors"][0];
            if (first.IsString()) return printable(first.GetString(), 300);
            if (first.IsObject())
                for (const char* key : {"message", "detail", "code"})
                    if (auto m = json::get_string(first, key); m && !m->empty()) return printable(*m, 300);
        }
    }
    size_t start = body.find_first_not_of(" \t\r\n");
    const std::string head = lower(body.substr(start == std::string_view::npos ? 0 : start, 512));
    if (head.starts_with("<!doctype html") || head.starts_with("<html") || head.find("<html") != std::string::npos) {
        const std::string all = lower(body);
        const auto t = all.find("<title>");
        const auto e = t == std::string::npos ? t : all.find("</title>", t);
        if (t != std::string::npos && e != std::string::npos) {
            auto title = printable(body.substr(t + 7, std::min<size_t>(e - t - 7, 120)), 120);
            return fmt::format("an HTML page titled \"{}\"", title);
        }
        return "an HTML page";
    }
    auto out = printable(body, 200);
    return out.empty() ? std::string("(empty body)") : out;
}

// Prefers a token the platform handed back in a response header over the
// account's own credentials; a 401 on it drops it and the next request uses
// the account's credentials again.
class PlatformClient::AdoptingSource final : public net::TokenSource {
public:
    AdoptingSource(std::unique_ptr<net::TokenSource> inner, std::string scheme)
        : m_inner(std::move(inner)), m_scheme(std::move(scheme)) {}
    boost::asio::awaitable<Result<std::string>> authorization() override {
        if (!m_adopted.empty()) co_return header();
        co_return co_await m_inner->authorization();
    }
    bool invalidate(const std::string& authorization) override {
        if (!m_adopted.empty() && authorization == header()) {
            m_adopted.clear();
            return true;
        }
        return m_inner->invalidate(authorization);
    }
    // Whether `token` is new (and now adopted).
    bool adopt(std::string token) {
        if (token.empty() || token == m_adopted) return false;
        m_adopted = std::move(token);
        return true;
    }

private:
    std::string header() const { return fmt::format("{} {}", m_scheme, m_adopted); }
    std::unique_ptr<net::TokenSource> m_inner;
    std::string m_scheme;
    std::string m_adopted;
};

PlatformClient::PlatformClient(const Platform& platform, Settings settings, const Context& context)
    : m_platform(platform),
      m_settings(std::move(settings)),
      m_http(context.http ? context.http : make_platform_http(platform, context.executor)),
      m_clock(context.clock != nullptr ? *context.clock : system_clock()),
      m_config(context.config != nullptr ? *context.config : m_empty_config) {
    m_tokens = make_token_source(context);
    m_store = context.tokens;
    if (m_tokens && !platform.refreshed_token_header.empty()) {
        auto adopting = std::make_unique<AdoptingSource>(std::move(m_tokens), std::string(platform.token_scheme));
        m_adopting = adopting.get();
        m_tokens = std::move(adopting);
    }
}

void PlatformClient::adopt_refreshed_token(const net::HttpResponse& response) {
    std::string token = response.header(lower(m_platform.refreshed_token_header));
    if (const std::string scheme = std::string(m_platform.token_scheme) + " "; token.starts_with(scheme))
        token = token.substr(scheme.size());
    if (!m_adopting->adopt(token)) return;
    // Stored credentials (not an API key, which does not expire) take the new
    // token too, so the next start does not begin with the replaced one.
    const bool stored = m_settings.mode == k_stored || m_settings.mode == k_oauth_app;
    if (!stored || m_store == nullptr || m_stored_kind == "api_key") return;
    auto loaded = m_store->load(m_settings.account_id);
    if (!loaded || !*loaded) return;
    net::Credentials c = **loaded;
    c.access_token = token;
    if (auto saved = m_store->save(m_settings.account_id, c); !saved)
        log::warn("account {}: cannot keep the token {} handed back: {}", m_settings.account_id, m_platform.title,
                  saved.error().message);
}

PlatformClient::~PlatformClient() = default;

void PlatformClient::set_token_source(std::unique_ptr<net::TokenSource> source) {
    m_tokens = std::move(source);
    m_adopting = nullptr;
    m_own_source = true;
}

double PlatformClient::now() const { return std::chrono::duration<double>(m_clock.now().time_since_epoch()).count(); }

Provider::CredentialSource PlatformClient::credential_source() const {
    switch (m_settings.mode) {
        case k_api_key_file: return {"api_key", "api_key_file"};
        case k_token_file: return {"token", std::string(m_platform.token_file_option)};
        case k_login: return {"login", "password_file"};
        default: return {m_stored_kind, "stored"};
    }
}

std::string PlatformClient::stored_hint(std::string_view again, std::string_view what) const {
    const auto& id = m_settings.account_id;
    return fmt::format("{}POST {} to /v1/accounts/{}/credentials",
                       m_settings.mode == k_oauth_app ? fmt::format("run `fitbridge auth {}`{} or ", id, again) : "",
                       what, id);
}

std::unique_ptr<net::TokenSource> PlatformClient::make_token_source(const Context& context) {
    const Platform& p = m_platform;
    const auto& id = m_settings.account_id;
    auto api_key_header = [&p](std::string key) {
        return p.api_key_authorization != nullptr ? p.api_key_authorization(key)
                                                  : fmt::format("{} {}", p.token_scheme, key);
    };
    if (p.credential_modes == 0) return nullptr;
    switch (m_settings.mode) {
        case k_api_key_file:
            return std::make_unique<FileSecretSource>(code("credentials"), "api_key_file", m_settings.secret_file,
                                                      api_key_header, m_config);
        case k_token_file:
            if (p.token_file_authorization != nullptr && !p.key_option.empty()) {
                // The token with the account's key (read at every request too).
                std::string key_file = m_settings.options.text(p.key_option);
                return std::make_unique<FileSecretSource>(
                    code("credentials"), std::string(p.token_file_option), m_settings.secret_file,
                    [&p, key_file, this](std::string t) {
                        auto key = config::read_secret(key_file, m_config);
                        return p.token_file_authorization(t, key ? *key : std::string());
                    },
                    m_config);
            }
            return std::make_unique<FileSecretSource>(
                code("credentials"), std::string(p.token_file_option), m_settings.secret_file,
                [&p](std::string t) { return fmt::format("{} {}", p.token_scheme, t); }, m_config);
        case k_login: return std::make_unique<LoginSource>(p, m_settings, *m_http, context.tokens, m_clock, m_config);
        default: break;
    }
    if (context.tokens == nullptr)
        return std::make_unique<MissingSource>(
            Error::auth(code("no_store"), fmt::format("account {}: stored credentials need the state store", id)));
    auto loaded = context.tokens->load(id);
    if (!loaded) return std::make_unique<MissingSource>(loaded.error());
    if (!*loaded)
        return std::make_unique<MissingSource>(Error::auth(
            code("no_credentials"), fmt::format("account {} has no credentials yet: {}", id, stored_hint("", "them"))));
    m_stored_kind = (*loaded)->kind;
    if (m_stored_kind == "api_key") return std::make_unique<StaticSource>(api_key_header((*loaded)->access_token));
    // A bearer token, refreshed when it comes with a refresh token and expiry.
    net::OAuthEndpoints endpoints;
    if (auto e = oauth_endpoints(p, m_settings, m_config)) endpoints = std::move(*e);
    return std::make_unique<net::OAuth2TokenSource>(*m_http, *context.tokens, id, std::move(endpoints), m_clock);
}

Task<net::HttpResponse> PlatformClient::send(Call c) {
    net::HttpRequest req;
    req.priority = c.priority;
    req.method = std::move(c.method);
    const bool absolute = c.path.starts_with("https://") || c.path.starts_with("http://");
    req.url = (absolute ? std::string() : m_settings.base_url) + c.path + (c.query.empty() ? "" : "?" + c.query);
    req.headers = std::move(c.headers);
    req.body = std::move(c.body);
    req.response_file = std::move(c.response_file);
    if (c.max_response_bytes > 0) req.max_response_bytes = c.max_response_bytes;
    if (!m_platform.key_header.empty()) {
        auto key = config::read_secret(m_settings.options.text(m_platform.key_option), m_config);
        if (!key)
            co_return Error::auth(code("credentials"),
                                  fmt::format("{}: {}", m_platform.key_option, key.error().message));
        req.headers.emplace_back(std::string(m_platform.key_header), std::move(*key));
    }
    if (!c.authorized || ((m_settings.mode == 0 || m_platform.credential_modes == 0) && !m_own_source))
        co_return co_await m_http->send(std::move(req));
    auto r = co_await net::send_authorized(*m_http, *m_tokens, std::move(req), m_clock, net::Final401::response);
    if (r && m_adopting != nullptr && r->status >= 200 && r->status < 300) adopt_refreshed_token(*r);
    co_return r;
}

Task<net::HttpResponse> PlatformClient::call(Call c) {
    std::string what = c.what;
    auto r = co_await send(std::move(c));
    if (!r) co_return r.error();
    if (r->status < 200 || r->status >= 300) co_return status_error(*r, what);
    co_return std::move(*r);
}

Task<rapidjson::Document> PlatformClient::call_json(Call c) {
    std::string what = c.what;
    auto r = co_await call(std::move(c));
    if (!r) co_return r.error();
    auto doc = json::parse(r->body);
    if (!doc)
        co_return Error::transient(code("bad_answer"), fmt::format("{} answered the {} with something that is not "
                                                                   "JSON: {}",
                                                                   m_platform.title, what, body_message(r->body)));
    co_return std::move(*doc);
}

Error PlatformClient::status_error(const net::HttpResponse& r, std::string_view what) const {
    const int s = r.status;
    const auto& title = m_platform.title;
    if (s >= 300 && s < 400)
        return Error::permanent(code("redirect"),
                                fmt::format("{} answered the {} with an unfollowed redirect ({})", title, what, s));
    const std::string msg = body_message(r.body);
    for (const auto& rule : m_platform.statuses)
        if (rule.status == s) {
            Error e = Error::permanent(
                code(rule.code), fmt::format("{} answered the {} with {} ({}): {}", title, what, s, msg, rule.meaning));
            e.cls = rule.cls;
            return e;
        }
    if (m_hook)
        if (auto e = m_hook(r, what, msg)) return *e;
    auto base = net::classify_status(r, what, m_clock);
    Error e = base ? std::move(*base) : Error::permanent("", "");
    if (s == 401) {
        e.code = code("unauthorized");
        e.cls = ErrorClass::auth;
        std::string check;
        switch (m_settings.mode) {
            case k_api_key_file: check = "the key in api_key_file"; break;
            case k_token_file: check = fmt::format("the token in {}", m_platform.token_file_option); break;
            case k_login: check = "the username and the password in password_file"; break;
            default: check = "the stored credentials: " + stored_hint(" again", "new ones");
        }
        if (!m_platform.key_option.empty()) check += fmt::format(" and the key in {}", m_platform.key_option);
        e.message = fmt::format("{} rejected the credentials for the {} (401 {}); check {}", title, what, msg, check);
    } else if (s == 429) {
        e.code = code("rate_limited");
        e.message = fmt::format("{} rate limit hit during the {} (429)", title, what);
    } else if (e.cls == ErrorClass::transient) {
        e.code = code("unavailable");
        e.message = fmt::format("{} failed the {} ({} {})", title, what, s, msg);
    } else if (s == 422 && what == "upload") {
        e.code = code("rejected");
        e.message = fmt::format("{} rejected the file: {}", title, msg);
    } else if (s == 404) {
        e.code = code("not_found");
        e.message = fmt::format("{} has no such thing for the {} (404 {})", title, what, msg);
    } else if (s == 403) {
        e.code = code("forbidden");
        e.message = fmt::format("{} denied the {} (403 {})", title, what, msg);
    } else {
        e.code = code("rejected");
        e.message = fmt::format("{} rejected the {} ({} {})", title, what, s, msg);
    }
    return e;
}

}  // namespace fitbridge::providers::kit
