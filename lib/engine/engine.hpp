#pragma once
// The sync engine, on the daemon's io_context: one poller per source account
// (periodic polls with jitter, manual triggers, watch notifications),
// backfill jobs, and one delivery loop per sink account with a bounded number
// of uploads in flight. It ingests listed items (download → decode → match →
// plan) into the ledger and delivers planned deliveries exactly once,
// reconciling in-flight ones after a crash. Every loop runs under a
// Supervisor (restarted when it fails, cancelled by stop()).
//
// Parts: engine.cpp (account set, configuration diffing, triggers),
// accounts.cpp (credentials, pauses, account views), poller.cpp (polls and
// backfill over one paging walk), ingest.cpp (ingest, matching, planning),
// originals.cpp (the original-file store), delivery.cpp (the per-sink loops,
// reconcile and the error policy), events.cpp, supervisor.cpp.
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "config/config.hpp"
#include "core/clock.hpp"
#include "engine/originals.hpp"
#include "engine/shared_commit.hpp"
#include "engine/supervisor.hpp"
#include "formats/summary.hpp"
#include "net/oauth.hpp"
#include "net/offload.hpp"
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
    // The platform's request budget as last seen (Strava's windows); empty when unknown.
    std::vector<providers::BudgetWindow> budget;
};

// Finds a provider factory by name; tests inject their own.
using FactoryLookup = std::function<const providers::Factory*(std::string_view)>;

// One line of a dry-run plan: what would happen to an activity at a sink.
struct PlanRow {
    int64_t activity = 0;
    std::optional<double> start_time;
    std::optional<std::string> sport_family;
    std::string sink;
    std::string route;
    std::string action;  // deliver | skip | already_delivered
    std::optional<std::string> reason;
};
struct Plan {
    std::vector<PlanRow> rows;
    int64_t deliver = 0, skip = 0, already_delivered = 0;
};

// Whether every loop runs: `core_down` while a poller or delivery loop waits
// to be restarted after a failure; `troubles` lists the loops that failed lately.
struct Health {
    bool core_down = false;
    std::vector<LoopTrouble> troubles;
    bool degraded() const { return core_down || !troubles.empty(); }
};

struct EngineOptions {
    SupervisorOptions supervisor;
    // Run by each thread of the offload pools before each task (the
    // daemon's placement of its threads, sched::SpareCpu::follow).
    std::function<void()> before_task;
};

class Engine {
public:
    Engine(boost::asio::any_io_executor executor, store::Store& store, const Clock& clock,
           std::filesystem::path state_dir, FactoryLookup factories = providers::find_factory,
           EngineOptions options = {});
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    // Applies a configuration: creates, keeps or replaces providers per
    // account, re-plans every activity against the routes. First call starts
    // the engine: in-flight deliveries are reconciled and unfinished jobs resumed.
    void configure(const config::Config& cfg);
    // Cancels every loop and the requests they await (an interrupted upload
    // stays in_flight and is reconciled at the next start) and shuts
    // providers down. The io_context runs dry soon after.
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
    // Dry run over the ledger and the current routes; no side effects.
    Plan plan();
    // From any thread (the control API's /healthz and /v1/status).
    Health health() const;
    // Something outside the engine kept the daemon busy (a request to the
    // control API): the idle memory is not given back within a second of it.
    // From any thread (the control API's).
    void note_activity() { m_last_activity = std::chrono::steady_clock::now(); }
    // True once stop() has been called and every loop and upload has ended.
    bool idle() const { return m_stopping && m_supervisor.running() == 0 && *m_uploads_running == 0; }

    store::Ledger& ledger() { return m_ledger; }
    std::vector<AccountView> accounts();

    int add_listener(EventListener listener);
    void remove_listener(int id);

    // Emits an event (persisted, then sent to listeners).
    void emit(const std::string& type, const std::string& data_json);

private:
    struct Account;
    using AccountPtr = std::shared_ptr<Account>;
    // What a sync or backfill did with the items it listed (its summary line).
    struct Tally {
        int64_t fresh = 0, skipped = 0, failed = 0;
    };

    // engine.cpp: the account set.
    void start_account(const config::AccountConfig& cfg);
    void stop_account(const std::string& id);
    void resume_jobs();
    // Runs again, from where they stopped, the backfill jobs that list
    // `account` and failed (for want of what set_credentials just stored) or
    // were cut short listing it by the account's restart.
    void retry_failed_backfills(const std::string& account);
    void spawn_backfill(int64_t job_id, std::vector<std::string> accounts, providers::ListQuery query);
    // history.cpp: a route that is new, or whose since moved earlier, gets one
    // backfill job per source account for the history not yet covered.
    void backfill_routes();
    // One HTTP client per platform, shared by its accounts (Factory::make_http).
    std::shared_ptr<net::HttpClient> shared_http(const providers::Factory& factory);

    // Called when a poll, a backfill or a sink's uploads end: after a second
    // with no more work, the daemon gives back its idle memory
    // (memory::compact_idle). A one-shot timer: an idle daemon stays asleep.
    void note_work_done();

    // accounts.cpp: credentials and pauses.
    bool needs_reauth(const std::string& account);
    static bool stored_credentials(const Account& a);
    // The platform's rate-limit pause for an account (accounts.blocked_until),
    // when it has not ended yet; block() records one from a rate_limited error.
    std::optional<double> blocked_until(const std::string& account);
    void block(const std::string& account, const Error& e);
    void pause(const std::string& account, double seconds, std::string_view why);

    // poller.cpp
    boost::asio::awaitable<void> poll_loop(AccountPtr a);
    boost::asio::awaitable<void> run_sync(AccountPtr a, std::optional<int64_t> job_id);
    boost::asio::awaitable<void> run_backfill(int64_t job_id, std::vector<std::string> accounts,
                                              providers::ListQuery query);
    // Lists every page of `query` and ingests each item, counting into
    // done/total; returns the error that ended the walk early, if any.
    boost::asio::awaitable<std::optional<std::string>> walk(AccountPtr a, providers::ListQuery query,
                                                            std::optional<int64_t> job_id, int64_t& done,
                                                            int64_t& total, Tally* tally = nullptr);
    struct Batch;
    // walk's pages, with the batch that walk finishes recording whatever way they end.
    boost::asio::awaitable<std::optional<std::string>> walk_pages(AccountPtr a, providers::ListQuery query,
                                                                  std::optional<int64_t> job_id, int64_t& done,
                                                                  int64_t& total, Batch& batch);

    // ingest.cpp: download, decode, match, plan, with group commit.
    // fetch_item downloads a listed item (items it settles at once, skips
    // and failures, are recorded there and then); decode_group decodes a
    // group of fetched items and writes their originals (not yet synced) on
    // the offload pool side by side; settle_fetched adds each one to `batch`
    // or records why not. commit_batch syncs the batch's originals in one
    // pass, then records its items in listing order, a few per transaction
    // and one transaction per turn of the io_context, and wakes the routes'
    // sinks. Nothing of an item is recorded before its original is durable.
    // start_commit does the same in the background, so that a walk fetches
    // and decodes the next batch while the last one is synced and recorded
    // (one at a time; finish_recording waits for it).
    struct Prepared;
    struct Fetched;
    struct Recording;
    boost::asio::awaitable<std::optional<Fetched>> fetch_item(AccountPtr a, providers::RemoteActivity item,
                                                              Batch& batch);
    boost::asio::awaitable<void> decode_group(std::vector<Fetched>& group);
    void settle_fetched(Fetched& f, Batch& batch);
    boost::asio::awaitable<void> commit_batch(Batch& batch);
    boost::asio::awaitable<void> start_commit(Batch& batch);
    boost::asio::awaitable<void> finish_recording(Batch& batch);
    boost::asio::awaitable<void> record_taken(std::vector<Prepared> items, std::vector<std::filesystem::path> files,
                                              std::vector<std::string> keys, std::shared_ptr<Recording> out);
    // Records one item whose original (if any) is durable, inside the
    // caller's transaction. `original` empty: a metadata-only item
    // (RemoteActivity::unavailable_reason with a start time), kept without a
    // file. Returns the ingest's log line, or nullopt when the item was
    // already recorded.
    std::optional<std::string> ingest_decoded(const Account& a, const providers::RemoteActivity& item,
                                              const std::string& original, const formats::Summary& s);
    boost::asio::awaitable<void> propagate_name(int64_t activity_id, std::string name, std::string authority);
    void replan(int64_t activity_id);
    void replan_all();

    // delivery.cpp
    boost::asio::awaitable<void> delivery_loop(AccountPtr sink);
    void start_upload(const AccountPtr& sink, const store::DeliveryRow& d);
    boost::asio::awaitable<void> deliver(AccountPtr sink, store::DeliveryRow d);
    // In-flight deliveries to `sink` that no upload of this process owns
    // (a crash, a failed loop, a cancelled upload): asks the sink first.
    boost::asio::awaitable<void> reconcile(AccountPtr sink);
    void wake_deliveries();
    // Wakes only the delivery loops of the routes' sinks (after an ingest).
    void wake_route_sinks();

    boost::asio::any_io_executor m_executor;
    store::Store& m_store;
    store::Ledger m_ledger;
    net::SqliteTokenStore m_tokens;
    store::SqliteCursorStore m_cursors;
    const Clock& m_clock;
    std::filesystem::path m_state_dir;
    OriginalStore m_originals;
    FactoryLookup m_factories;
    config::Config m_cfg;
    bool m_started = false;
    bool m_stopping = false;
    std::map<std::string, AccountPtr> m_accounts;
    // Items being ingested, "<account>\n<remote id>": a second job that lists
    // one (the route's history job and a live poll overlap) waits for the first.
    std::set<std::string> m_ingesting;
    std::map<int, EventListener> m_listeners;
    int m_next_listener = 1;
    // Events emitted inside a transaction reach the listeners once it has
    // committed (HeldEvents, parts.hpp).
    struct HeldEvents;
    int m_events_held = 0;
    std::vector<store::EventRow> m_held_events;
    void publish(const store::EventRow& e);
    // A delivery's rows join the next shared commit (delivery.cpp): its
    // events are held with the transaction, and dropped with a write that
    // rolls back alone.
    boost::asio::awaitable<bool> commit_together(std::function<void()> write);
    std::map<std::string, std::shared_ptr<net::HttpClient>> m_http;
    // Shared with the uploads' completion handlers, which may outlive the engine.
    std::shared_ptr<size_t> m_uploads_running = std::make_shared<size_t>(0);
    // Decoding, original files and their syncs (and the providers' blocking
    // work): joined at destruction, after the loops are cancelled.
    net::Offload m_offload;
    SharedCommit m_shared_commit;                                          // after m_ledger: its writes use it
    boost::asio::steady_timer m_quiet;                                     // note_work_done
    std::atomic<std::chrono::steady_clock::time_point> m_last_activity{};  // note_activity
    Supervisor m_supervisor;  // last: destroyed first, cancelling the loops
};

}  // namespace fitbridge::engine
