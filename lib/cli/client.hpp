#pragma once
// Client commands that talk to a running daemon or check its configuration:
// `status`, `healthcheck`, `config check`, `config show`.

#include <ostream>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "config/paths.hpp"
#include "core/error.hpp"

namespace fitbridge::cli {

// Common options of client commands: --config FILE, --state-dir DIR (the same
// resolution rules as `serve`). Parsed out of `args`; the rest stays.
struct ClientContext {
    std::optional<std::string> config_arg;
    std::optional<std::string> state_arg;
    config::Env env = config::process_env();
};

// The configuration a client command works with: the resolved paths and the
// effective config (the file, or the embedded default when there is none).
struct ClientConfig {
    config::ResolvedPaths paths;
    config::Config config;
    bool embedded = false;
};
Result<ClientConfig> load_client_config(const ClientContext& ctx);

// Removes --config/--state-dir (and their values) from args into ctx.
// Returns false with a message in `error` on a missing value.
bool take_common_options(std::vector<std::string>& args, ClientContext& ctx, std::string& error);

// Calls the running daemon's API with its token. Non-2xx answers become an
// error carrying the API's message.
Result<std::string> call_api(const ClientContext& ctx, const std::string& method, const std::string& target,
                             const std::string& body = "");

int run_status(std::vector<std::string> args, ClientContext ctx, std::ostream& out, std::ostream& err);
int run_healthcheck(std::vector<std::string> args, ClientContext ctx, std::ostream& out, std::ostream& err);
int run_config(std::vector<std::string> args, ClientContext ctx, std::ostream& out, std::ostream& err);

}  // namespace fitbridge::cli
