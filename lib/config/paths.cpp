#include "config/paths.hpp"

#include <cstdlib>

namespace fitbridge::config {

Env process_env() {
    return [](const char* name) -> std::optional<std::string> {
        const char* v = std::getenv(name);
        if (v == nullptr || *v == '\0') return std::nullopt;
        return std::string(v);
    };
}

namespace {
std::filesystem::path home(const Env& env) {
    auto h = env("HOME");
    return h ? std::filesystem::path(*h) : std::filesystem::path("/");
}
// systemd may pass several directories separated by ':'; the first is ours.
std::string first_of_list(const std::string& v) { return v.substr(0, v.find(':')); }
}  // namespace

ResolvedPaths resolve_paths(const std::optional<std::string>& config_arg, const std::optional<std::string>& state_arg,
                            const Env& env) {
    ResolvedPaths p;
    if (config_arg) {
        p.config = *config_arg;
        p.config_from = "--config";
    } else if (auto v = env("FITBRIDGE_CONFIG")) {
        p.config = *v;
        p.config_from = "FITBRIDGE_CONFIG";
    } else if (auto d = env("CONFIGURATION_DIRECTORY")) {
        p.config = std::filesystem::path(first_of_list(*d)) / "fitbridge.yaml";
        p.config_from = "CONFIGURATION_DIRECTORY";
    } else if (auto x = env("XDG_CONFIG_HOME")) {
        p.config = std::filesystem::path(*x) / "fitbridge" / "fitbridge.yaml";
        p.config_from = "XDG_CONFIG_HOME";
    } else {
        p.config = home(env) / ".config" / "fitbridge" / "fitbridge.yaml";
        p.config_from = "~/.config";
    }
    if (state_arg) {
        p.state_dir = *state_arg;
        p.state_from = "--state-dir";
    } else if (auto v = env("FITBRIDGE_STATE_DIR")) {
        p.state_dir = *v;
        p.state_from = "FITBRIDGE_STATE_DIR";
    } else if (auto d = env("STATE_DIRECTORY")) {
        p.state_dir = first_of_list(*d);
        p.state_from = "STATE_DIRECTORY";
    } else if (auto x = env("XDG_STATE_HOME")) {
        p.state_dir = std::filesystem::path(*x) / "fitbridge";
        p.state_from = "XDG_STATE_HOME";
    } else {
        p.state_dir = home(env) / ".local" / "state" / "fitbridge";
        p.state_from = "~/.local/state";
    }
    if (auto v = env("FITBRIDGE_DATA_DIR"))
        p.data_dir = *v;
    else
        p.data_dir = p.state_dir;
    return p;
}

}  // namespace fitbridge::config
