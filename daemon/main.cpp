// fitbridge: the daemon (`serve`) and its client commands in one binary.
// This file only parses the command word and hands over.

#include <array>
#include <cstring>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "app/serve.hpp"
#include "cli/auth.hpp"
#include "cli/client.hpp"
#include "cli/inspect.hpp"
#include "cli/open.hpp"
#include "cli/sync_commands.hpp"
#include "core/version.hpp"
#include "providers/provider.hpp"

namespace {

using namespace fitbridge;

constexpr int k_usage = 2;

constexpr std::string_view k_help = R"(usage: fitbridge COMMAND [OPTIONS]

Commands:
  serve [--config FILE] [--state-dir DIR]   run the daemon
  status [--json]                           what the running daemon is doing
  healthcheck                               exit 0 when the daemon answers /healthz
  sync [--no-wait] [ACCOUNT]                poll sources now (all, or one account)
  backfill --since DATE [--until DATE] [ROUTE]
                                            import history, with a progress bar
  plan [--json] [--all]                     what would be delivered where, and why (dry run)
  activities [--since DATE] [--sport F] [--state S] [--json]
                                            the ledger's activities, newest first
  activity [--json] ID                      one activity: copies, deliveries, why not on X
  inspect [--json] PATH...                  decode FIT/GPX/TCX files (gzipped or not)
  auth [--port N] [--timeout S] ACCOUNT     authorise an account with OAuth (prints the URL to open)
  open [--no-browser]                       a one-time link that signs a browser in to the status page
  config check [FILE]                       validate a config file (exit 0, or 78)
  config show                               the effective config, secrets redacted
  --version                                 version and compiled-in providers

Client commands accept --config FILE and --state-dir DIR to find the daemon.
Config: --config, $FITBRIDGE_CONFIG, $CONFIGURATION_DIRECTORY/fitbridge.yaml,
        $XDG_CONFIG_HOME/fitbridge/fitbridge.yaml (~/.config/fitbridge/fitbridge.yaml)
State:  --state-dir, $FITBRIDGE_STATE_DIR, $STATE_DIRECTORY, $XDG_STATE_HOME/fitbridge
)";

int print_version() {
    std::cout << "fitbridge " << version() << "\nproviders:\n";
    for (const auto& f : providers::registry()) {
        std::string caps;
        for (auto c : providers::capability_names(f.capabilities)) caps += (caps.empty() ? "" : ", ") + std::string(c);
        std::cout << "  " << f.name << ": " << f.description << " [" << caps << "]"
                  << (f.unofficial ? " (unofficial API: may change without notice)" : "") << "\n";
        std::cout << providers::describe_options(f.options, "    ");
    }
    return 0;
}

int run_serve(std::vector<std::string> args) {
    cli::ClientContext ctx;
    std::string error;
    if (!cli::take_common_options(args, ctx, error)) {
        std::cerr << "fitbridge serve: " << error << "\n";
        return k_usage;
    }
    if (!args.empty()) {
        std::cerr << "fitbridge serve: unknown argument '" << args[0] << "'\n" << k_help;
        return k_usage;
    }
    return app::serve({ctx.config_arg, ctx.state_arg}, ctx.env);
}

template <int (*F)(std::vector<std::string>, cli::ClientContext, std::ostream&, std::ostream&)>
int client(std::vector<std::string> args) {
    cli::ClientContext ctx;
    std::string error;
    if (!cli::take_common_options(args, ctx, error)) {
        std::cerr << "fitbridge: " << error << "\n";
        return k_usage;
    }
    return F(std::move(args), std::move(ctx), std::cout, std::cerr);
}

int run_inspect(std::vector<std::string> args) { return cli::run_inspect(args, std::cout, std::cerr); }

struct Command {
    std::string_view name;
    int (*run)(std::vector<std::string>);
};

constexpr std::array<Command, 12> k_commands{{
    {"serve", run_serve},
    {"status", client<cli::run_status>},
    {"healthcheck", client<cli::run_healthcheck>},
    {"sync", client<cli::run_sync>},
    {"backfill", client<cli::run_backfill>},
    {"plan", client<cli::run_plan>},
    {"activities", client<cli::run_activities>},
    {"activity", client<cli::run_activity>},
    {"inspect", run_inspect},
    {"auth", client<cli::run_auth>},
    {"open", client<cli::run_open>},
    {"config", client<cli::run_config>},
}};

}  // namespace

int main(int argc, char** argv) {
    std::ios::sync_with_stdio(false);
    if (argc < 2) {
        std::cerr << k_help;
        return k_usage;
    }
    std::string_view word = argv[1];
    if (word == "--version" || word == "version") return print_version();
    if (word == "--help" || word == "-h" || word == "help") {
        std::cout << k_help;
        return 0;
    }
    std::vector<std::string> args(argv + 2, argv + argc);
    for (const auto& c : k_commands)
        if (c.name == word) return c.run(std::move(args));
    std::cerr << "fitbridge: unknown command '" << word << "'\n" << k_help;
    return k_usage;
}
