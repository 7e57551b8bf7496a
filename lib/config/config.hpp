#pragma once
// FitBridge's configuration: typed structs filled from YAML by one table of
// fields (config.cpp) that drives parsing, defaults, validation, the redacted
// dump and the documented example. Secrets are held by reference only.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace fitbridge::config {

struct ApiConfig {
    // "host:port" (IPv4, [IPv6] or a name) or "unix:/path/to.sock".
    std::string listen = "127.0.0.1:8787";
    // Host header values accepted besides localhost, 127.0.0.1 and [::1].
    std::vector<std::string> allowed_hosts;
    // Origins accepted besides none at all (browsers on other sites are refused).
    std::vector<std::string> allowed_origins;
    int64_t max_body_bytes = 1 << 20;
    int64_t header_timeout_s = 5;    // to read a request's headers
    int64_t request_timeout_s = 30;  // to read one whole request
    int64_t idle_timeout_s = 60;     // keep-alive idle limit
    int64_t max_connections = 64;
    // GET /metrics without the bearer token (Host and Origin checks remain).
    bool metrics_public = false;
};

struct SyncConfig {
    int64_t match_tolerance_s = 300;
    double match_duration_ratio = 0.05;
    int64_t max_concurrent_per_account = 2;
    int64_t settle_time_s = 5;
    // The account whose activity names win: a rename there is applied to
    // every other copy FitBridge knows (empty: names are never synced).
    std::string name_authority;
};

// Where an account option's value was written (1-based), for errors.
struct OptionMark {
    int line = 0;
    int column = 0;
};

// One configured account of a provider (a source, a sink, or both).
struct AccountConfig {
    std::string id;
    std::string provider;
    int64_t poll_interval_s = 900;
    bool enabled = true;
    // Provider-specific options as written (validated by the provider factory).
    // Secret values are never stored here: `*_file` options hold paths.
    std::map<std::string, std::string> options;
    // A nested mapping is flattened to dotted keys: `list: {path: /runs}` is
    // options["list.path"] = "/runs".
    std::map<std::string, std::vector<std::string>> list_options;
    std::map<std::string, OptionMark> option_marks;  // options and list_options by key
    int line = 0;                                    // 1-based position of the entry, for provider-level errors
};

struct RouteConfig {
    std::string id;
    std::vector<std::string> from;
    std::vector<std::string> to;
    std::optional<std::string> since;  // ISO date, backfill start
    std::vector<std::string> sports;   // sport families; empty = all
    int line = 0;
};

struct Config {
    std::string log_level = "info";
    ApiConfig api;
    SyncConfig sync;
    std::vector<AccountConfig> accounts;
    std::vector<RouteConfig> routes;

    // Where it came from: a file path, or empty for the embedded default.
    std::filesystem::path source;
};

// Parses YAML text. Errors name the key path and the line:column, e.g.
// "fitbridge.yaml:4:3: api.listen: expected a string, got a sequence".
Result<Config> parse(std::string_view yaml, const std::string& source_name);

// Reads and parses a file (source is set to the path).
Result<Config> load(const std::filesystem::path& path);

// The effective configuration as JSON with secrets redacted (`options` keys
// naming secrets print "<redacted>"; `*_file` keys print their path).
std::string to_json(const Config& c);
// The same as YAML, for `fitbridge config show`.
std::string to_yaml(const Config& c);

// True when an option key names a secret value that must never be echoed.
bool is_secret_key(std::string_view key);

// Resolves a `*_file` reference: absolute paths as is, relative ones under
// $CREDENTIALS_DIRECTORY when set, else relative to the config file's folder.
std::filesystem::path resolve_secret_path(const std::string& ref, const Config& c);

// Reads a secret file referenced by `*_file` (trailing newline stripped).
Result<std::string> read_secret(const std::string& ref, const Config& c);

}  // namespace fitbridge::config
