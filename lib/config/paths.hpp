#pragma once
// Where the configuration file and the state directory are, by the rules of
// `fitbridge serve`: command line, then FitBridge's variables, then systemd's,
// then the XDG base directories.

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

namespace fitbridge::config {

using Env = std::function<std::optional<std::string>(const char*)>;

// The process environment.
Env process_env();

struct ResolvedPaths {
    std::filesystem::path config;  // may not exist: then the embedded default applies
    std::string config_from;       // "--config", "FITBRIDGE_CONFIG", ...
    std::filesystem::path state_dir;
    std::string state_from;
    std::filesystem::path data_dir;  // inbox/archive of the embedded default
};

// --config, FITBRIDGE_CONFIG, $CONFIGURATION_DIRECTORY/fitbridge.yaml,
// $XDG_CONFIG_HOME/fitbridge/fitbridge.yaml (~/.config). State: --state-dir,
// FITBRIDGE_STATE_DIR, $STATE_DIRECTORY, $XDG_STATE_HOME/fitbridge
// (~/.local/state). Data: FITBRIDGE_DATA_DIR, else the state directory.
ResolvedPaths resolve_paths(const std::optional<std::string>& config_arg, const std::optional<std::string>& state_arg,
                            const Env& env);

}  // namespace fitbridge::config
