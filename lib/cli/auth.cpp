#include "cli/auth.hpp"

#include <fmt/format.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <charconv>
#include <chrono>
#include <optional>

#include "app/serve.hpp"
#include "core/time.hpp"
#include "json/json.hpp"
#include "net/http_client.hpp"
#include "net/oauth.hpp"
#include "providers/provider.hpp"

namespace fitbridge::cli {

namespace {

constexpr int k_usage = 2;
constexpr std::string_view k_use = "usage: fitbridge auth [--port N] [--timeout SECONDS] ACCOUNT\n";

// A whole number in [lo, hi], or -1.
int parse_number(const std::string& s, int lo, int hi) {
    int v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || v < lo || v > hi) return -1;
    return v;
}

// The token endpoint's answer as the body of POST /v1/accounts/{id}/credentials.
std::string credentials_body(const net::Credentials& c) {
    json::Builder b;
    b.w.StartObject();
    b.key("kind");
    b.string("oauth2");
    b.key("access_token");
    b.string(c.access_token);
    if (!c.refresh_token.empty()) {
        b.key("refresh_token");
        b.string(c.refresh_token);
    }
    if (c.expires_at) {
        b.key("expires_at");
        b.string(format_iso8601(std::chrono::duration<double>(c.expires_at->time_since_epoch()).count()));
    }
    if (!c.scope.empty()) {
        b.key("scope");
        b.string(c.scope);
    }
    b.w.EndObject();
    return b.str();
}

Result<net::Credentials> exchange(const net::OAuthEndpoints& endpoints, const std::string& code,
                                  const std::string& verifier) {
    boost::asio::io_context io;
    auto http = net::make_http_client(io.get_executor());
    SystemClock clock;
    std::optional<Result<net::Credentials>> out;
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
            out = co_await net::exchange_code(*http, endpoints, code, verifier, clock);
        },
        boost::asio::detached);
    io.run();
    if (!out) return Error::transient("oauth.exchange", "the code exchange did not finish");
    return std::move(*out);
}

}  // namespace

int run_auth(std::vector<std::string> args, ClientContext ctx, std::ostream& out, std::ostream& err) {
    uint16_t port = 0;
    int timeout_s = 300;
    std::optional<std::string> account_id;
    for (size_t i = 0; i < args.size(); ++i) {
        const auto& a = args[i];
        if (a == "--port" || a == "--timeout") {
            const bool is_port = a == "--port";
            const int max = is_port ? 65535 : 3600;
            const int n = i + 1 < args.size() ? parse_number(args[i + 1], is_port ? 0 : 1, max) : -1;
            if (n < 0) {
                err << "fitbridge auth: " << a << " needs a number up to " << max << "\n" << k_use;
                return k_usage;
            }
            if (is_port)
                port = static_cast<uint16_t>(n);
            else
                timeout_s = n;
            ++i;
        } else if (!a.empty() && a[0] == '-') {
            err << "fitbridge auth: unknown option '" << a << "'\n" << k_use;
            return k_usage;
        } else if (account_id) {
            err << k_use;
            return k_usage;
        } else {
            account_id = a;
        }
    }
    if (!account_id) {
        err << k_use;
        return k_usage;
    }

    auto loaded = load_client_config(ctx);
    if (!loaded) {
        err << loaded.error().message << "\n";
        return app::k_exit_config;
    }
    const config::Config* cfg = &loaded->config;
    const config::AccountConfig* account = nullptr;
    for (const auto& a : cfg->accounts)
        if (a.id == *account_id) account = &a;
    if (account == nullptr) {
        err << "fitbridge auth: no account '" << *account_id << "' in "
            << (loaded->embedded ? std::string("the embedded default configuration") : loaded->paths.config.string())
            << "\n";
        return app::k_exit_config;
    }
    const auto* factory = providers::find_factory(account->provider);
    if (factory == nullptr || factory->oauth == nullptr) {
        err << "fitbridge auth: account '" << *account_id << "' (" << account->provider
            << ") has no OAuth flow; give its key or token in the config or POST it to /v1/accounts/" << *account_id
            << "/credentials\n";
        return app::k_exit_config;
    }
    auto endpoints = factory->oauth(*account, *cfg);
    if (!endpoints) {
        err << "fitbridge auth: " << endpoints.error().message << "\n";
        return app::k_exit_config;
    }
    // The code is single-use and expires within minutes: make sure the daemon
    // can take the tokens before the user goes to the browser.
    if (auto alive = call_api(ctx, "GET", "/v1/accounts"); !alive) {
        err << "fitbridge auth: the daemon must be running to receive the tokens: " << alive.error().message << "\n";
        return 1;
    }

    std::optional<net::LoopbackListener> listener;
    try {
        listener.emplace(port);
    } catch (const std::exception& e) {
        err << "fitbridge auth: " << e.what() << "\n";
        return 1;
    }
    endpoints->redirect_uri = listener->redirect_uri("/callback");
    const auto pkce = net::make_pkce();
    const auto state = net::make_state();
    out << "To authorise account " << *account_id << ", open this address in a browser:\n\n  "
        << net::authorization_url(*endpoints, state, pkce.challenge) << "\n\nWaiting up to " << timeout_s
        << " s for the redirect to " << endpoints->redirect_uri << ".\n"
        << "(Browser on another machine? Run with --port N and forward it first: ssh -L N:127.0.0.1:N this-host)\n";
    out.flush();

    auto callback = listener->wait(state, std::chrono::seconds(timeout_s));
    if (!callback) {
        err << "fitbridge auth: " << callback.error().message << "\n";
        return 1;
    }
    auto tokens = exchange(*endpoints, callback->code, pkce.verifier);
    if (!tokens) {
        err << "fitbridge auth: " << tokens.error().message << "\n";
        return 1;
    }
    if (tokens->scope.empty()) tokens->scope = callback->scope;
    // The user can untick scopes on the consent page: say what will not work.
    std::vector<std::string> missing;
    if (factory->missing_scopes != nullptr && !callback->scope.empty())
        missing = factory->missing_scopes(callback->scope);
    if (auto stored =
            call_api(ctx, "POST", fmt::format("/v1/accounts/{}/credentials", *account_id), credentials_body(*tokens));
        !stored) {
        err << "fitbridge auth: the daemon did not take the tokens: " << stored.error().message << "\n";
        return 1;
    }
    out << "Account " << *account_id << " is authorised"
        << (tokens->scope.empty() ? std::string() : " (scope " + tokens->scope + ")")
        << "; the daemon uses the new credentials now.\n";
    for (const auto& m : missing)
        err << "fitbridge auth: warning: scope " << m << " was not granted; run `fitbridge auth " << *account_id
            << "` again and leave it ticked\n";
    return missing.empty() ? 0 : 1;
}

}  // namespace fitbridge::cli
