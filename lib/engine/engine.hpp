#pragma once
// The sync engine: one poller coroutine per source account (periodic polls
// with jitter, manual triggers, watch notifications), backfill jobs, and a
// delivery loop per sink, all on the daemon's io_context. It ingests listed
// items (download → decode → match → plan) into the ledger and delivers
// planned deliveries exactly once, reconciling in-flight ones after a crash.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "config/config.hpp"
#include "core/clock.hpp"
#include "formats/summary.hpp"
#include "net/oauth.hpp"
#include "providers/provider.hpp"
#include "store/cursors.hpp"
#include "store/ledger.hpp"

namespace fitbridge::engine {

using EventListener = std::function<void(const store::EventRow&)>;

struct AccountView {
    std::string id;
    std::string provider;
    uint32_t capabilities = 0;
    bool source = false;
    bool running = false;  // a provider instance exists
    std::optional<std::string> create_error;
    std::vector<providers::IgnoredItem> ignored;
    std::optional<double> next_poll_in_s;
    std::string state = "ok";  // ok | needs_reauth | error | disabled
    std::optional<std::string> last_error;
    // Credential health (never the secret); nullopt when the provider needs none.
    struct Credentials {
        std::string kind;    // api_key | token | oauth2 | none (stored, not yet given)
        std::string origin;  // the option naming a file, or "stored"
        std::optional<double> expires_at;
        std::optional<double> updated_at;
        std::string scope;
        bool refreshable = false;
    };
    std::optional<Credentials> credentials;
};

// Finds a provider factory by name; tests inject their own.
using FactoryLookup = std::function<const providers::Factory*(std::string_view)>;

class Engine {
public:
    Engine(boost::asio::any_io_executor executor, store::Store& store, const Clock& clock,
           std::filesystem::path state_dir, FactoryLookup factories = providers::find_factory);
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    // Applies a configuration: creates, keeps or replaces providers per
    // account, re-plans every activity against the routes. First call starts
    // the engine: in-flight deliveries are reconciled and unfinished jobs resumed.
    void configure(const config::Config& cfg);
    // Cancels every coroutine and shuts providers down.
    void stop();

    // Manual triggers; return the job id or an error naming what is wrong.
    Result<int64_t> trigger_sync(const std::string& account);
    Result<int64_t> start_backfill(const std::optional<std::string>& route, const std::optional<std::string>& account,
                                   double since, std::optional<double> until);
    Result<void> retry_delivery(int64_t delivery_id);
    // Stores new credentials for an account (the provider must accept their
    // kind), restarts its provider with them, clears needs_reauth, re-plans
    // deliveries that failed on the old ones and polls a source now.
    Result<void> set_credentials(const std::string& account, const net::Credentials& credentials);
    // Dry run over the ledger and the current routes: JSON, no side effects.
    std::string plan_json();

    store::Ledger& ledger() { return m_ledger; }
    std::vector<AccountView> accounts();

    int add_listener(EventListener listener);
    void remove_listener(int id);

    // Emits an event (persisted, then sent to listeners).
    void emit(const std::string& type, const std::string& data_json);

private:
    struct Account;
    struct Job;

    boost::asio::awaitable<void> poll_loop(std::shared_ptr<Account> a);
    boost::asio::awaitable<void> run_sync(std::shared_ptr<Account> a, std::optional<int64_t> job_id,
                                          providers::ListQuery query);
    boost::asio::awaitable<void> run_backfill(int64_t job_id, std::vector<std::string> accounts,
                                              providers::ListQuery query);
    boost::asio::awaitable<void> delivery_loop();
    boost::asio::awaitable<void> deliver(store::DeliveryRow d);
    boost::asio::awaitable<void> reconcile();

    // Download/decode/match one listed item. Returns false when the source
    // failed in a way worth retrying later.
    boost::asio::awaitable<bool> ingest_item(std::shared_ptr<Account> a, providers::RemoteActivity item);
    void ingest_decoded(const Account& a, const providers::RemoteActivity& item, const std::string& bytes,
                        const formats::Summary& s);
    boost::asio::awaitable<void> propagate_name(int64_t activity_id, std::string name, std::string authority);
    void replan(int64_t activity_id);
    void replan_all();
    void wake_deliveries();
    std::string store_original(const std::string& bytes, const formats::Summary& s);
    void remove_stale_temp_files();
    void start_account(const config::AccountConfig& cfg);
    void stop_account(const std::string& id);
    bool needs_reauth(const std::string& account);
    static bool stored_credentials(const Account& a);
    // One HTTP client per platform, shared by its accounts (Factory::make_http).
    std::shared_ptr<net::HttpClient> shared_http(const providers::Factory& factory);
    // The platform's rate-limit pause for an account (accounts.blocked_until),
    // when it has not ended yet; block() records one from a rate_limited error.
    std::optional<double> blocked_until(const std::string& account);
    void block(const std::string& account, const Error& e);
    void pause(const std::string& account, double seconds, std::string_view why);

    boost::asio::any_io_executor m_executor;
    store::Store& m_store;
    store::Ledger m_ledger;
    net::SqliteTokenStore m_tokens;
    store::SqliteCursorStore m_cursors;
    const Clock& m_clock;
    std::filesystem::path m_state_dir;
    FactoryLookup m_factories;
    config::Config m_cfg;
    bool m_started = false;
    bool m_stopping = false;
    std::map<std::string, std::shared_ptr<Account>> m_accounts;
    std::map<int, EventListener> m_listeners;
    int m_next_listener = 1;
    struct Wake;
    std::unique_ptr<Wake> m_delivery_wake;
    std::map<std::string, bool> m_sink_busy;
    std::map<std::string, std::shared_ptr<net::HttpClient>> m_http;
};

}  // namespace fitbridge::engine
