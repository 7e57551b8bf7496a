#pragma once
// The platform kit's client side: what a platform declares about itself
// (Platform), the options every HTTP platform shares (base_url, auth_url and
// the credential modes) parsed once into Settings, and PlatformClient, which
// sends authorised requests and turns non-2xx answers into Errors that read
// the same on every platform. docs/providers.md shows how a platform uses it.

#include <boost/asio/any_io_executor.hpp>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "net/http_client.hpp"
#include "net/oauth.hpp"
#include "providers/options.hpp"
#include "providers/provider.hpp"

namespace fitbridge::providers::kit {

// How an account may authenticate; a platform allows a set of these.
enum CredentialMode : uint32_t {
    k_api_key_file = 1u << 0,  // api_key_file: a key read per request
    k_token_file = 1u << 1,    // token_file: a bearer token read per request
    k_stored = 1u << 2,        // credentials: stored (POST /v1/accounts/{id}/credentials)
    k_oauth_app = 1u << 3,     // client_id + client_secret_file (fitbridge auth), tokens stored
    k_login = 1u << 4,         // username + password_file: the kit calls Platform::login
};

struct LoginRequest {
    std::string auth_url{};  // the account's auth_url (or base_url when the platform has none)
    std::string base_url{};
    std::string username{};
    std::string password{};
    net::Priority priority = net::Priority::live;
};
// A platform's login call: the session token (access_token, optional
// expiry). Its errors should be auth errors when the password is refused.
using LoginFn = Task<net::Credentials> (*)(net::HttpClient& http, const LoginRequest& request, const Clock& clock);

// A status whose meaning on this platform differs from HTTP's usual one.
struct StatusRule {
    int status = 0;
    ErrorClass cls = ErrorClass::permanent;
    std::string_view code{};     // appended to the platform name: "duplicate" -> "strava.duplicate"
    std::string_view meaning{};  // what it means here, ends the message
};

// An OAuth scope a capability needs ("activity:write", "uploads and updates").
struct ScopeNeed {
    std::string_view scope{};
    std::string_view needed_for{};
};

struct Platform {
    std::string_view name{};      // the provider name; prefixes error codes
    std::string_view title{};     // how people call it: "Intervals.icu"
    std::string_view base_url{};  // default of the base_url option; empty: every account sets it
    std::string_view auth_url{};  // default of auth_url; empty: no such option, logins go to base_url
    uint32_t credential_modes = 0;
    // Completes "api_key_file: required (...)" when no credentials are set.
    std::string_view api_key_help = "a file holding the API key";
    // Completes "<options>: set only one (...)".
    std::string_view only_one_help = "one way to authenticate";
    // Kinds `credentials: stored` takes (comma separated) and how to say so.
    std::string_view stored_kinds = "api_key,token,oauth2";
    std::string_view stored_kinds_help = "an api_key or a token";
    // OAuth app: endpoints relative to auth_url (or base_url), default scope.
    std::string_view authorize_path{};
    std::string_view token_path{};
    std::string_view oauth_scope{};
    // A public OAuth client: client_id alone is enough (PKCE only), a
    // client_secret_file is optional (a confidential client).
    bool public_client = false;
    // The token endpoint authenticates a confidential client with HTTP Basic
    // (client_id:client_secret) instead of form fields.
    bool token_basic_auth = false;
    // A response header carrying a replacement access token (SweatStack's
    // `refreshed-token`); empty: none. The token is used from the next request
    // on (the one it replaced again after a 401 on it) and saved over stored
    // credentials, so a restart starts from it.
    std::string_view refreshed_token_header{};
    // The OAuth endpoints are the account's: options oauth.authorize_url,
    // oauth.token_url (full URLs) and oauth.scope replace the paths above and
    // oauth_scope (for platforms configured rather than coded).
    bool oauth_in_options = false;
    // The Authorization value of an API key; null: "Bearer <key>".
    std::string (*api_key_authorization)(std::string_view key) = nullptr;
    LoginFn login = nullptr;
    std::string_view token_scheme = "Bearer";  // for token_file, OAuth and login tokens
    // The option naming the token file of k_token_file ("auth_token_file" on Ride with GPS).
    std::string_view token_file_option = "token_file";
    std::string_view token_file_help = "an OAuth token";  // completes "a file holding ..."
    // A secret-file option every account must set whatever its credentials
    // (Ride with GPS's app key, api_key_file); empty: none. It is not a
    // credential mode: k_api_key_file must not be among the modes then. Its
    // file is read at every request; key_header (when set) carries it on
    // every call, and token_file_authorization (when set) makes the
    // k_token_file mode's Authorization from the token and it.
    std::string_view key_option{};
    std::string_view key_option_help{};
    std::string_view key_header{};
    std::string (*token_file_authorization)(std::string_view token, std::string_view key) = nullptr;
    // The shared client's pacing (Factory::make_http); 0: not paced. Quota
    // headers (Strava's X-RateLimit-Limit/-Usage windows) are obeyed either way.
    double requests_per_second = 0;
    double burst = 1;
    // Whether a POST/PATCH whose answer was lost is sent again. Only for
    // platforms that recognise a second copy; else the engine's
    // find_existing decides (exactly-once).
    bool retry_writes = true;
    std::span<const StatusRule> statuses{};
    // Scopes checked against what the user granted (fitbridge auth); the
    // granted list is split at commas and spaces.
    std::span<const ScopeNeed> scope_needs{};
    // An API taken from the platform's own clients, not published (Factory::unofficial).
    bool unofficial = false;
};

// The account's parsed options: the platform's own (options) and the ones
// the kit handles for every platform.
struct Settings {
    std::string account_id{};
    OptionValues options;
    CredentialMode mode = k_api_key_file;
    std::string base_url{};
    std::string auth_url{};     // = base_url when the platform has no auth host
    std::string secret_file{};  // api_key_file, token_file or password_file
    std::string client_id{};    // OAuth app
    std::string client_secret_file{};
    std::string scope{};
    std::string authorize_url{};  // OAuth endpoints of Platform::oauth_in_options (else empty)
    std::string token_url{};
    std::string username{};
};

// Parses and validates an account for `platform`: its own `options` table
// plus base_url, auth_url and the credential options it allows. Errors name
// the option.
Result<Settings> parse_settings(const Platform& platform, const config::AccountConfig& account,
                                std::span<const OptionSpec> options);

// The kit's rows (base_url, auth_url, credential options) for --version.
std::vector<OptionSpec> common_options(const Platform& platform);

// Factory::accept_credentials for every kit platform: only accounts that keep
// credentials in the store take them, and only the platform's kinds.
Result<void> accept_credentials(const Platform& platform, const config::AccountConfig& account, std::string_view kind,
                                std::span<const OptionSpec> options);

// Factory::oauth: the platform's endpoints with the app's secret.
Result<net::OAuthEndpoints> oauth_endpoints(const Platform& platform, const Settings& settings,
                                            const config::Config& config);

// Factory::make_http: the real client, paced to the platform's rate and
// retrying transient failures, shared by every account of the platform.
// Pacing uses real time: the server's limit is in real time.
std::shared_ptr<net::HttpClient> make_platform_http(const Platform& platform, boost::asio::any_io_executor executor);

// The needs of `platform` that `granted` lacks, as "<scope> (<needed for>)".
std::vector<std::string> missing_scopes(const Platform& platform, std::string_view granted);

// The request budget windows of a client made by make_platform_http (empty
// for any other client, and for windows the platform has not announced).
std::vector<BudgetWindow> platform_budget(const net::HttpClient& http);

// One line for an error body: a JSON message/error/errors[]/detail, "an HTML
// page" (with its title) for HTML, else a printable prefix.
std::string body_message(std::string_view body);

// One request to the platform. `path` is appended to the base URL unless it
// is an absolute URL (a `next` link).
struct Call {
    std::string method = "GET";
    std::string path{};
    std::string query{};
    net::Headers headers{};
    std::string body{};
    std::string what{};  // names the call in errors: "activity list", "upload"
    net::Priority priority = net::Priority::live;
    bool authorized = true;
    std::optional<std::filesystem::path> response_file{};
    uint64_t max_response_bytes = 0;  // 0: the client's default
};

class PlatformClient {
public:
    // Builds the credential source the account's mode asks for. Without
    // Context::http the client makes its own (make_platform_http).
    PlatformClient(const Platform& platform, Settings settings, const Context& context);
    ~PlatformClient();

    // Sends `call`; a non-2xx answer becomes the Error status_error gives.
    Task<net::HttpResponse> call(Call call);
    // call() whose answer must be JSON (malformed JSON is a transient error).
    Task<rapidjson::Document> call_json(Call call);
    // Sends without reading the status (for platforms whose 4xx bodies mean something).
    Task<net::HttpResponse> send(Call call);

    // The platform's reading of a non-2xx answer: the status table first,
    // then the hook, then the kit's wording by class.
    Error status_error(const net::HttpResponse& response, std::string_view what) const;
    using StatusHook =
        std::function<std::optional<Error>(const net::HttpResponse&, std::string_view what, const std::string& msg)>;
    void set_status_hook(StatusHook hook) { m_hook = std::move(hook); }
    // Replaces the account's credential source with the platform's own sign-in
    // (kit::SessionSource: a password grant, a cookie exchange; Garmin's DI
    // tokens refreshed with their own client id); from then on
    // authorised calls use it whatever the credential mode. Call it in the
    // provider's constructor, before any request.
    void set_token_source(std::unique_ptr<net::TokenSource> source);

    const Platform& platform() const { return m_platform; }
    const Settings& settings() const { return m_settings; }
    const OptionValues& options() const { return m_settings.options; }
    const std::string& account_id() const { return m_settings.account_id; }
    const Clock& clock() const { return m_clock; }
    const config::Config& config() const { return m_config; }
    net::HttpClient& http() { return *m_http; }
    double now() const;
    std::string code(std::string_view suffix) const { return std::string(m_platform.name) + "." + std::string(suffix); }

    // For Provider::budget.
    std::vector<BudgetWindow> budget() const { return platform_budget(*m_http); }
    // For Provider::credential_source.
    Provider::CredentialSource credential_source() const;
    // The kind of the stored credentials ("none" before any).
    const std::string& stored_kind() const { return m_stored_kind; }
    // How a stored-credentials account gets new ones: "run `fitbridge auth
    // ID`<again> or POST <what> to /v1/accounts/ID/credentials".
    std::string stored_hint(std::string_view again, std::string_view what) const;

private:
    class AdoptingSource;
    std::unique_ptr<net::TokenSource> make_token_source(const Context& context);
    void adopt_refreshed_token(const net::HttpResponse& response);

    const Platform& m_platform;
    Settings m_settings;
    std::shared_ptr<net::HttpClient> m_http;
    const Clock& m_clock;
    config::Config m_empty_config;
    const config::Config& m_config;
    std::string m_stored_kind = "none";
    std::unique_ptr<net::TokenSource> m_tokens;
    AdoptingSource* m_adopting = nullptr;  // inside m_tokens, when the platform names a refreshed-token header
    bool m_own_source = false;             // set_token_source was called
    net::TokenStore* m_store = nullptr;
    StatusHook m_hook;
};

}  // namespace fitbridge::providers::kit
