#include "cli/client.hpp"

#include <fmt/format.h>

#include "app/serve.hpp"
#include "app/token.hpp"
#include "json/json.hpp"
#include "net/local_client.hpp"
#include "providers/provider.hpp"

namespace fitbridge::cli {

namespace {

constexpr int k_usage = 2;

// Finds the daemon: its listen address from the effective config, its token
// from the state directory.
struct Target {
    std::string address;
    std::string token;
};

Result<Target> find_daemon(const ClientContext& ctx) {
    auto loaded = load_client_config(ctx);
    if (!loaded) return loaded.error();
    const auto& paths = loaded->paths;
    Target t;
    t.address = loaded->config.api.listen;
    auto token = app::read_token(paths.state_dir);
    if (token)
        t.token = *token;
    else
        return Error::auth("cli.token", fmt::format("{} (is the daemon's state directory {}? use --state-dir)",
                                                    token.error().message, paths.state_dir.string()));
    return t;
}

std::string duration_text(int64_t s) {
    if (s < 60) return fmt::format("{}s", s);
    if (s < 3600) return fmt::format("{}m {}s", s / 60, s % 60);
    if (s < 86400) return fmt::format("{}h {}m", s / 3600, (s / 60) % 60);
    return fmt::format("{}d {}h", s / 86400, (s / 3600) % 24);
}

}  // namespace

Result<std::string> call_api(const ClientContext& ctx, const std::string& method, const std::string& target,
                             const std::string& body) {
    auto t = find_daemon(ctx);
    if (!t) return t.error();
    net::LocalRequest req;
    req.method = method;
    req.target = target;
    req.body = body;
    req.headers.emplace_back("Authorization", "Bearer " + t->token);
    if (!body.empty()) req.headers.emplace_back("Content-Type", "application/json");
    auto res = net::local_request(t->address, req);
    if (!res) return Error::transient(res.error().code, res.error().message + " (is `fitbridge serve` running?)");
    if (res->status < 200 || res->status >= 300) {
        std::string msg = res->body;
        auto doc = json::parse(res->body);
        if (doc && doc->IsObject() && doc->HasMember("error"))
            msg = json::get_string((*doc)["error"], "message").value_or(msg);
        return Error::permanent("api.status", fmt::format("HTTP {}: {}", res->status, msg));
    }
    return std::move(res->body);
}

Result<ClientConfig> load_client_config(const ClientContext& ctx) {
    ClientConfig c;
    c.paths = config::resolve_paths(ctx.config_arg, ctx.state_arg, ctx.env);
    auto cfg = app::load_effective_config(c.paths, ctx.env, c.embedded);
    if (!cfg) return cfg.error();
    c.config = std::move(*cfg);
    return c;
}

bool take_common_options(std::vector<std::string>& args, ClientContext& ctx, std::string& error) {
    std::vector<std::string> rest;
    for (size_t i = 0; i < args.size(); ++i) {
        const auto& a = args[i];
        auto take = [&](std::optional<std::string>& slot, std::string_view name) {
            if (a.size() > name.size() && a.compare(0, name.size() + 1, std::string(name) + "=") == 0) {
                slot = a.substr(name.size() + 1);
                return true;
            }
            if (a != name) return false;
            if (i + 1 >= args.size()) {
                error = fmt::format("{} needs a value", name);
                return true;
            }
            slot = args[++i];
            return true;
        };
        if (take(ctx.config_arg, "--config") || take(ctx.state_arg, "--state-dir")) {
            if (!error.empty()) return false;
            continue;
        }
        rest.push_back(a);
    }
    args = std::move(rest);
    return true;
}

int run_status(std::vector<std::string> args, ClientContext ctx, std::ostream& out, std::ostream& err) {
    bool as_json = false;
    for (const auto& a : args) {
        if (a == "--json")
            as_json = true;
        else {
            err << "fitbridge status: unknown argument '" << a << "'\nusage: fitbridge status [--json]\n";
            return k_usage;
        }
    }
    auto t = find_daemon(ctx);
    if (!t) {
        err << "fitbridge status: " << t.error().message << "\n";
        return 1;
    }
    net::LocalRequest req;
    req.target = "/v1/status";
    req.headers.emplace_back("Authorization", "Bearer " + t->token);
    auto res = net::local_request(t->address, req);
    if (!res) {
        err << "fitbridge status: " << res.error().message << " (is `fitbridge serve` running?)\n";
        return 1;
    }
    if (res->status != 200) {
        auto doc = json::parse(res->body);
        std::string msg = res->body;
        if (doc && doc->IsObject() && doc->HasMember("error"))
            msg = json::get_string((*doc)["error"], "message").value_or(msg);
        err << "fitbridge status: HTTP " << res->status << ": " << msg << "\n";
        return 1;
    }
    if (as_json) {
        out << res->body;
        if (res->body.empty() || res->body.back() != '\n') out << "\n";
        return 0;
    }
    auto doc = json::parse(res->body);
    if (!doc || !doc->IsObject()) {
        err << "fitbridge status: unexpected answer from the daemon\n";
        return 1;
    }
    const auto& d = *doc;
    out << fmt::format("FitBridge {}, up {}\n", json::get_string(d, "version").value_or("?"),
                       duration_text(json::get_int(d, "uptime_s").value_or(0)));
    if (d.HasMember("config")) {
        auto src = json::get_string(d["config"], "source").value_or("");
        out << fmt::format("config:   {}{}\n", json::get_string(d["config"], "path").value_or(""),
                           src == "embedded_default" ? " (not present: embedded default in use)" : "");
    }
    out << fmt::format("state:    {}\n", json::get_string(d, "state_dir").value_or(""));
    if (d.HasMember("api")) out << fmt::format("api:      {}\n", json::get_string(d["api"], "listen").value_or(""));
    if (json::get_string(d, "state") == std::optional<std::string>("degraded") && d.HasMember("loops") &&
        d["loops"].IsArray()) {
        out << "health:   degraded\n";
        for (const auto& l : d["loops"].GetArray())
            out << fmt::format("  {}: {} ({})\n", json::get_string(l, "name").value_or(""),
                               json::get_string(l, "state").value_or(""), json::get_string(l, "reason").value_or(""));
    }
    if (d.HasMember("accounts") && d["accounts"].IsArray()) {
        const auto& accounts = d["accounts"];
        if (accounts.Empty())
            out << "accounts: none configured\n";
        else
            out << "accounts:\n";
        for (const auto& a : accounts.GetArray()) {
            auto line =
                fmt::format("  {:<16} {:<14} {}", json::get_string(a, "id").value_or(""),
                            json::get_string(a, "provider").value_or(""), json::get_string(a, "state").value_or(""));
            if (auto e = json::get_string(a, "last_error")) line += "  (" + *e + ")";
            out << line << "\n";
        }
    }
    return 0;
}

int run_healthcheck(std::vector<std::string> args, ClientContext ctx, std::ostream& out, std::ostream& err) {
    if (!args.empty()) {
        err << "fitbridge healthcheck: unknown argument '" << args[0] << "'\nusage: fitbridge healthcheck\n";
        return k_usage;
    }
    auto loaded = load_client_config(ctx);
    if (!loaded) {
        err << "fitbridge healthcheck: " << loaded.error().message << "\n";
        return 1;
    }
    net::LocalRequest req;
    req.target = "/healthz";
    auto res = net::local_request(loaded->config.api.listen, req, std::chrono::seconds(5));
    if (!res) {
        err << "fitbridge healthcheck: " << res.error().message << "\n";
        return 1;
    }
    if (res->status != 200) {
        // A 503 names the engine loops that are down and why.
        auto doc = json::parse(res->body);
        auto reason = doc && doc->IsObject() ? json::get_string(*doc, "reason") : std::nullopt;
        err << "fitbridge healthcheck: HTTP " << res->status << (reason ? ": " + *reason : std::string()) << "\n";
        return 1;
    }
    out << "ok\n";
    return 0;
}

int run_config(std::vector<std::string> args, ClientContext ctx, std::ostream& out, std::ostream& err) {
    static constexpr std::string_view k_use = "usage: fitbridge config check [FILE] | fitbridge config show\n";
    if (args.empty()) {
        err << k_use;
        return k_usage;
    }
    const auto sub = args[0];
    if (sub == "check") {
        if (args.size() > 2) {
            err << k_use;
            return k_usage;
        }
        if (args.size() == 2) ctx.config_arg = args[1];
        auto paths = config::resolve_paths(ctx.config_arg, ctx.state_arg, ctx.env);
        std::error_code ec;
        if (!std::filesystem::exists(paths.config, ec)) {
            if (ctx.config_arg) {
                err << "fitbridge config check: " << paths.config.string() << ": no such file\n";
                return app::k_exit_config;
            }
            out << "no config file at " << paths.config.string() << ": the embedded default applies\n";
            return 0;
        }
        bool embedded = false;
        auto cfg = app::load_effective_config(paths, ctx.env, embedded);
        if (!cfg) {
            err << cfg.error().message << "\n";
            return app::k_exit_config;
        }
        out << paths.config.string() << ": ok (" << cfg->accounts.size() << " accounts, " << cfg->routes.size()
            << " routes)\n";
        return 0;
    }
    if (sub == "show") {
        if (args.size() != 1) {
            err << k_use;
            return k_usage;
        }
        auto loaded = load_client_config(ctx);
        if (!loaded) {
            err << loaded.error().message << "\n";
            return app::k_exit_config;
        }
        const auto& where = loaded->paths.config.string();
        out << "# " << (loaded->embedded ? "embedded default (no file at " + where + ")" : where) << "\n"
            << config::to_yaml(loaded->config);
        // The provider options left at their defaults, from each provider's option table.
        for (const auto& account : loaded->config.accounts) {
            const auto* factory = providers::find_factory(account.provider);
            if (factory == nullptr) continue;
            std::string defaults;
            for (const auto& spec : factory->options) {
                const std::string name(spec.name);
                if (spec.default_value.empty() || account.options.contains(name) || account.list_options.contains(name))
                    continue;
                defaults += fmt::format("{}{}: {}", defaults.empty() ? "" : ", ", spec.name, spec.default_value);
            }
            if (!defaults.empty()) out << "# account " << account.id << " defaults: " << defaults << "\n";
        }
        return 0;
    }
    err << "fitbridge config: unknown subcommand '" << sub << "'\n" << k_use;
    return k_usage;
}

}  // namespace fitbridge::cli
