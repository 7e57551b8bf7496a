#pragma once
// The provider model. A Factory (stateless, one per platform, listed in
// registry.cpp) validates an account's options and creates a live Provider for
// that account. Providers are sources (list + download), sinks (upload), or
// both; what each can do is its capability set. Every operation is a coroutine
// on the daemon's io_context returning a typed Result.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "formats/summary.hpp"
#include "providers/options.hpp"

namespace fitbridge::store {
class CursorStore;
}

namespace fitbridge::net {
class HttpClient;
class TokenStore;
class Offload;
struct OAuthEndpoints;
}  // namespace fitbridge::net

namespace fitbridge::providers {

template <typename T>
using Task = boost::asio::awaitable<Result<T>>;

enum Capability : uint32_t {
    k_list_window = 1u << 0,  // list activities in a time window
    k_list_cursor = 1u << 1,  // list what is new since a cursor
    k_get_details = 1u << 2,
    k_download = 1u << 3,         // fetch the original file
    k_upload = 1u << 4,           // create an activity from a file
    k_create_metadata = 1u << 5,  // create an activity from a summary alone (upload with empty bytes)
    k_update_name = 1u << 6,
    k_update_description = 1u << 7,
    k_update_sport = 1u << 8,
    k_update_gear = 1u << 9,
    k_list_gear = 1u << 10,
    k_delete = 1u << 11,
    k_watch = 1u << 12,  // can push change notifications (inotify)
};

// Names of the capability bits, for --version and the API.
std::vector<std::string_view> capability_names(uint32_t caps);

// One activity as a source lists it.
struct RemoteActivity {
    std::string remote_id{};             // stable id on the platform (folder: content SHA-256)
    std::string name{};                  // title, or the file's stem
    std::optional<double> start_time{};  // Unix seconds when known before download
    std::optional<double> elapsed_s{};
    std::optional<double> distance_m{};
    std::optional<std::string> sport_family{};
    std::string origin{};  // where it came from (a path, a URL) for people
    // Set when the source knows it cannot provide the file (a platform that
    // serves none); download() is never called then. With a start_time the
    // engine keeps the activity from this listing alone: name, start_time,
    // sport_family, elapsed_s and distance_m become its summary (no original),
    // it matches copies from other sources by start time like a file does,
    // takes part in name sync, goes to k_create_metadata sinks as an upload
    // with empty bytes, and is skipped as `unavailable` with this reason for
    // sinks that need a file (until a file copy joins it). Without a
    // start_time the item is only recorded as skipped with this reason.
    std::optional<std::string> unavailable_reason{};
    bool backfill = false;  // listed by a backfill job (ListQuery::backfill)
};

struct ListQuery {
    std::optional<double> since{};  // Unix seconds, inclusive
    std::optional<double> until{};  // exclusive
    std::optional<std::string> cursor{};
    // A backfill job's listing: its requests (and the downloads of what it
    // lists, see RemoteActivity::backfill) spend only the backfill share of
    // the platform's budget, so live polling always finds some left.
    bool backfill = false;
};

struct ListPage {
    std::vector<RemoteActivity> items{};
    std::optional<std::string> next_cursor{};  // set when there is more to list
};

// A source's report of a thing it skipped without offering it (a partial file,
// a temp file): visible over the API so "why was my file ignored?" has an answer.
struct IgnoredItem {
    std::string origin{};
    std::string reason{};  // a reason code, e.g. "too_small", "in_progress", "unstable"
    std::string detail{};
};

struct UploadRequest {
    // The original file as stored (maybe gzipped); empty for an activity kept
    // as metadata, sent only to k_create_metadata sinks (summary is set then).
    std::span<const uint8_t> bytes{};
    const formats::Summary* summary = nullptr;
    std::string name{};         // activity title
    std::string external_id{};  // idempotency hint (FitBridge's activity key)
    // Who owns `bytes`, when they are shared: a sink that hands them to
    // work which may outlive the call (a write that runs on to its end
    // after a cancellation) keeps this instead of copying a whole file.
    std::shared_ptr<const std::string> owner{};
};

struct UploadResult {
    std::string remote_id{};
    bool duplicate = false;  // the sink already had it
};

// One item of an account's gear (bikes, shoes).
struct Gear {
    std::string id{};
    std::string name{};
    std::string type{};  // Bike, Shoes, ...
    bool retired = false;
};

// One window of a platform's request budget as last seen (GET /v1/accounts).
struct BudgetWindow {
    std::string name{};  // "15min", "daily", "read_15min", "read_daily"
    int64_t used = 0;
    int64_t limit = 0;
    double resets_at = 0;  // Unix seconds
};

// A live provider for one configured account. Every method but find_existing
// has a default that refuses with a permanent `provider.unsupported` error; a
// provider overrides exactly the methods of the capability bits it claims
// (tests/unit/providers/capabilities_test.cpp checks both directions).
class Provider {
public:
    virtual ~Provider() = default;
    virtual std::string_view account_id() const = 0;
    virtual uint32_t capabilities() const = 0;
    // The platform's name for people, used in "not supported by <platform>".
    virtual std::string_view platform_name() const { return "this platform"; }

    // Source side.
    virtual Task<ListPage> list(const ListQuery& query);
    virtual Task<std::string> download(const RemoteActivity& item);
    // Items skipped during the last listing, with reasons.
    virtual std::vector<IgnoredItem> ignored() const { return {}; }
    // Calls `on_change` when the source believes something new is there
    // (inotify). Only for providers with k_watch.
    virtual void watch(std::function<void()> on_change) { (void)on_change; }

    // Sink side.
    virtual Task<UploadResult> upload(const UploadRequest& request);
    // How many uploads it takes at once; 0: sync.max_concurrent_per_account.
    // A local sink whose concurrent uploads share their syncs (the archive)
    // asks for more than a platform's politeness allows.
    virtual size_t concurrent_uploads() const { return 0; }
    // After a crash: finds an activity the sink already has for this upload
    // (by content, external id or start time). nullopt = not there. Required:
    // a sink that cannot tell would silently break exactly-once; a provider
    // that is no sink answers unsupported_error().
    virtual Task<std::optional<std::string>> find_existing(const UploadRequest& request) = 0;

    // Metadata of an activity on the platform (k_update_*, k_list_gear, k_delete).
    virtual Task<void> update_name(const std::string& remote_id, const std::string& name);
    virtual Task<void> update_description(const std::string& remote_id, const std::string& description);
    // `sport_family` is FitBridge's (lib/core/sport.hpp); the platform maps it to its own name.
    virtual Task<void> update_sport(const std::string& remote_id, const std::string& sport_family);
    virtual Task<void> update_gear(const std::string& remote_id, const std::string& gear_id);
    virtual Task<std::vector<Gear>> list_gear();
    virtual Task<void> delete_activity(const std::string& remote_id);

    // Where this account's credentials come from, for the API's credential
    // health (never the secret). nullopt: the provider needs none.
    struct CredentialSource {
        std::string kind;    // api_key | token | oauth2 (what is or will be sent)
        std::string origin;  // the option naming a file (e.g. "api_key_file"), or "stored"
    };
    virtual std::optional<CredentialSource> credential_source() const { return std::nullopt; }

    // The platform's request budget windows this account spends from (shared
    // with the platform's other accounts); empty when the platform announces none.
    virtual std::vector<BudgetWindow> budget() const { return {}; }

    // Stops background work (watchers, timers) before destruction.
    virtual void shutdown() {}

protected:
    // "<what> is not supported by <platform> (account '<id>')", permanent.
    Error unsupported_error(std::string_view what) const;
};

// What a provider may use from the daemon.
struct Context {
    boost::asio::any_io_executor executor{};
    const Clock* clock = nullptr;
    std::filesystem::path state_dir{};
    const config::Config* config = nullptr;  // for secret resolution
    // The HTTP client for platform providers (one per daemon, shared). When
    // null, a platform provider builds its own on `executor`; tests pass a fake.
    std::shared_ptr<net::HttpClient> http = nullptr;
    // Credentials stored by `fitbridge auth` or POST /v1/accounts/{id}/credentials
    // (and rotated OAuth tokens). Null: the provider can use only file secrets.
    net::TokenStore* tokens = nullptr;
    // Listing positions (watermarks, paging tokens) kept across restarts.
    // Null: positions last as long as the provider.
    store::CursorStore* cursors = nullptr;
    // How a provider waits between looks at a platform's asynchronous work
    // (an upload being processed). Null: real timers; fuzzing and tests pass
    // one that returns at once.
    std::function<boost::asio::awaitable<void>(std::chrono::milliseconds)> sleep = nullptr;
    // Where blocking work (writing and syncing files, parsing large exports)
    // runs, off the io thread (net::run_blocking). Null: on the caller's thread.
    net::Offload* offload = nullptr;
};

// Whether `e` says the platform cannot take this kind of activity at all
// (not a fault of this one): code "provider.unsupported", or one ending in
// ".unsupported_format" (e.g. a FIT-only sink offered a GPX). The engine
// records such a delivery as skipped with reason `sink_unsupported` and the
// error's message, rather than as a failure.
bool is_unsupported(const Error& e);

struct Factory {
    std::string_view name;         // the `provider:` value in the config
    std::string_view description;  // one line for --version
    uint32_t capabilities;
    // Checks an account's provider options; errors name the option.
    Result<void> (*validate)(const config::AccountConfig& account);
    Result<std::unique_ptr<Provider>> (*create)(const config::AccountConfig& account, const Context& context);
    // Whether the account takes credentials of `kind` (api_key, token, oauth2)
    // through the store; the error says why not. Null: the provider takes none.
    Result<void> (*accept_credentials)(const config::AccountConfig& account, std::string_view kind);
    // The OAuth2 endpoints and client for `fitbridge auth` (client secret read
    // through `config`'s secret rules). Null: the platform has no OAuth flow here.
    Result<net::OAuthEndpoints> (*oauth)(const config::AccountConfig& account, const config::Config& config);
    // The HTTP client every account of this platform shares (one rate-limit
    // budget per platform, one connection pool), made once by the engine and
    // handed over as Context::http. Null: the provider makes no requests.
    std::shared_ptr<net::HttpClient> (*make_http)(boost::asio::any_io_executor executor);
    // The provider's option table (parse, defaults, and the help --version prints).
    std::span<const OptionSpec> options = {};
    // What `fitbridge auth` reports after the consent page: for each OAuth
    // scope the platform needs that `granted` lacks, the scope and what stops
    // working without it. Null: the platform does not say what it granted.
    std::vector<std::string> (*missing_scopes)(std::string_view granted) = nullptr;
    // The platform's API is not published for third parties (reverse-engineered
    // from its own web or mobile client): --version and the README label it,
    // and a changed answer must fail one account softly.
    bool unofficial = false;
};

// The compiled-in providers, one explicit table (registry.cpp).
std::span<const Factory> registry();
const Factory* find_factory(std::string_view name);

// Validates every account of a config against its factory; the error names
// the account and its line.
Result<void> validate_accounts(const config::Config& config);

}  // namespace fitbridge::providers
