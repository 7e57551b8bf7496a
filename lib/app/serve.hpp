#pragma once
// `fitbridge serve`: the daemon. One io_context on the calling thread; signals
// (TERM/INT graceful stop, HUP reload), systemd readiness and watchdog.

#include <optional>
#include <string>

#include "config/config.hpp"
#include "config/paths.hpp"

namespace fitbridge::app {

inline constexpr int k_exit_ok = 0;
inline constexpr int k_exit_failure = 1;
inline constexpr int k_exit_config = 78;  // EX_CONFIG

struct ServeArgs {
    std::optional<std::string> config;
    std::optional<std::string> state_dir;
};

// Runs until SIGTERM/SIGINT; returns the process exit code.
int serve(const ServeArgs& args, const config::Env& env);

// Loads the configuration the daemon would use: the file when it exists, else
// the embedded default; then applies $FITBRIDGE_API_LISTEN. `embedded` tells
// which.
Result<config::Config> load_effective_config(const config::ResolvedPaths& paths, const config::Env& env,
                                             bool& embedded);

}  // namespace fitbridge::app
