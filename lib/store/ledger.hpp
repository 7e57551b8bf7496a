#pragma once
// The ledger: typed access to the sync tables (source items, activities,
// links, deliveries, jobs, events). Short SQL calls on the owning thread; the
// caller groups related writes with transaction().

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.hpp"
#include "store/store.hpp"

namespace fitbridge::store {

struct SourceItem {
    std::string account_id;
    std::string remote_id;
    std::string state;  // ingested | failed | skipped
    std::optional<std::string> reason;
    std::optional<std::string> detail;
    std::string origin;
    std::string name;
    std::optional<int64_t> activity_id;
    int64_t attempts = 0;
    double seen_at = 0;
};

struct ActivityRow {
    int64_t id = 0;
    std::string content_sha256;
    std::optional<double> start_time;
    std::optional<std::string> sport_family;
    std::optional<double> elapsed_s;
    std::optional<double> distance_m;
    std::string name;
    std::string summary;  // activity-summary.md JSON of the chosen copy
    std::string original_path;
    std::optional<std::string> ambiguous_with;  // JSON array
    std::optional<int64_t> chosen_link_id;
    double created_at = 0;
};

struct LinkRow {
    int64_t id = 0;
    int64_t activity_id = 0;
    std::string account_id;
    std::string remote_id;
    std::string matched_by;
    double confidence = 1;
    std::string content_sha256;
    std::string original_path;
    int64_t records = 0;
    bool has_power = false;
    bool has_hr = false;
    double created_at = 0;
};

struct DeliveryRow {
    int64_t id = 0;
    int64_t activity_id = 0;
    std::string sink_id;
    std::string state;  // planned | in_flight | delivered | duplicate | skipped | failed
    std::optional<std::string> remote_id;
    std::optional<std::string> reason;
    std::optional<std::string> message;
    int64_t attempts = 0;
    std::optional<double> retry_at;
    double updated_at = 0;
};

struct JobRow {
    int64_t id = 0;
    std::string kind;  // sync | backfill
    std::optional<std::string> account_id;
    std::optional<std::string> route_id;
    std::string state;  // queued | running | done | failed | cancelled
    std::string params = "{}";
    int64_t done = 0;
    std::optional<int64_t> total;
    std::optional<std::string> error;
    double created_at = 0;
    double updated_at = 0;
};

struct EventRow {
    int64_t id = 0;
    double at = 0;
    std::string type;
    std::string data;
};

struct ActivityFilter {
    std::optional<double> since, until;  // start_time window
    std::optional<std::string> sport_family;
    std::optional<std::string> delivery_state;  // activities with a delivery in this state
    std::optional<int64_t> before_id;           // cursor: ids below this
    int limit = 50;
};

class Ledger {
public:
    Ledger(Store& store, const Clock& clock) : m_db(store.db()), m_clock(clock) {}
    Ledger(const Ledger&) = delete;
    Ledger& operator=(const Ledger&) = delete;

    SQLite::Transaction transaction() { return SQLite::Transaction(m_db); }
    double now() const;

    // Source items.
    std::optional<SourceItem> source_item(const std::string& account, const std::string& remote_id);
    void put_source_item(const SourceItem& item);
    std::vector<SourceItem> source_items(const std::string& account, std::optional<std::string> state, int limit);
    int64_t count_source_items(const std::string& account, const std::string& state);

    // Activities and links.
    int64_t insert_activity(const ActivityRow& a);
    void update_activity_choice(int64_t id, const LinkRow& chosen, const std::string& summary,
                                const std::optional<double>& start, const std::optional<std::string>& family,
                                const std::optional<double>& elapsed, const std::optional<double>& distance);
    std::optional<ActivityRow> activity(int64_t id);
    std::vector<ActivityRow> activities_between(double from, double to);
    std::optional<int64_t> activity_by_content(const std::string& content_sha256);
    std::vector<ActivityRow> list_activities(const ActivityFilter& f);
    std::vector<int64_t> all_activity_ids();
    int64_t insert_link(const LinkRow& l);
    std::vector<LinkRow> links(int64_t activity_id);
    std::optional<LinkRow> link(int64_t link_id);
    std::optional<LinkRow> link_by_remote(const std::string& account, const std::string& remote_id);
    void set_activity_name(int64_t id, const std::string& name);

    // Deliveries.
    // Inserts when (activity, sink) has no row yet; returns true when inserted.
    bool ensure_delivery(int64_t activity_id, const std::string& sink, const std::string& state,
                         const std::optional<std::string>& reason);
    std::optional<DeliveryRow> delivery(int64_t id);
    std::vector<DeliveryRow> deliveries(int64_t activity_id);
    std::vector<DeliveryRow> due_deliveries(double now, int limit);
    std::vector<DeliveryRow> deliveries_in_state(const std::string& state);
    // The earliest retry_at of a failed delivery later than `after`.
    std::optional<double> next_retry_at(double after);
    // The same two for one sink (its delivery loop).
    std::vector<DeliveryRow> due_deliveries_to(const std::string& sink, double now, int limit);
    std::optional<double> next_retry_at_to(const std::string& sink, double after);
    void set_delivery(int64_t id, const std::string& state, const std::optional<std::string>& remote_id,
                      const std::optional<std::string>& reason, const std::optional<std::string>& message,
                      const std::optional<double>& retry_at, bool count_attempt);

    // Jobs.
    int64_t create_job(const JobRow& j);
    void update_job(int64_t id, const std::string& state, int64_t done, std::optional<int64_t> total,
                    const std::optional<std::string>& error);
    std::optional<JobRow> job(int64_t id);
    std::vector<JobRow> jobs(int limit);
    std::vector<JobRow> unfinished_jobs();

    // Events (ids increase monotonically; old ones are pruned).
    int64_t append_event(const std::string& type, const std::string& data_json);
    std::vector<EventRow> events_after(int64_t id, int limit);
    void prune_events(int64_t keep);

    // Accounts.
    void set_account_polled(const std::string& account, const std::optional<std::string>& error);
    void set_account_state(const std::string& account, const std::string& state,
                           const std::optional<std::string>& error);
    struct AccountState {
        std::string state;  // ok | needs_reauth | error | disabled
        std::optional<std::string> last_error;
        std::optional<double> last_poll_at;
    };
    std::optional<AccountState> account_state(const std::string& account);
    // The stored credentials' description, never the secrets; nullopt when none.
    struct CredentialMeta {
        std::string kind;
        std::optional<double> expires_at;
        std::string scope;
        double updated_at = 0;
        bool has_refresh_token = false;
    };
    std::optional<CredentialMeta> credential_meta(const std::string& account);
    // Deliveries to `sink` that failed on its credentials become planned again
    // (new credentials arrived); returns how many.
    int replan_auth_failures(const std::string& sink);
    // Deliveries to `sink` waiting out a transient failure become due now (the
    // sink just took an upload); returns how many.
    int release_transient_failures(const std::string& sink);
    // The account's rate-limit block (Unix seconds) that survives restarts
    // (net::RateLimiter::blocked_until); nullopt when none or no such account.
    std::optional<double> account_blocked_until(const std::string& account);
    void set_account_blocked_until(const std::string& account, std::optional<double> until);

    // Route history (lib/store/routes_state.cpp). The earliest `since` of a
    // route already backfilled (or found not to need it) from one source
    // account; nullopt when none was.
    std::optional<double> route_backfilled_since(const std::string& route, const std::string& account);
    void set_route_backfilled_since(const std::string& route, const std::string& account, double since,
                                    std::optional<int64_t> job_id);
    // Where a backfill job is: the account it lists and the paging cursor
    // after its last completed page (nullopt: that account from its start),
    // with the items done by then. nullopt when the job recorded none.
    struct JobPosition {
        std::string account;
        std::optional<std::string> cursor;
        int64_t done = 0;
    };
    std::optional<JobPosition> job_position(int64_t job_id);
    void set_job_position(int64_t job_id, const JobPosition& position);

private:
    class Prepared;
    // The statement for `sql`, prepared once and kept (preparing costs more
    // than most of these queries), reset and with its bindings cleared.
    SQLite::Statement& statement(const std::string& sql);

    SQLite::Database& m_db;
    const Clock& m_clock;
    std::unordered_map<std::string, std::unique_ptr<SQLite::Statement>> m_statements;
};

}  // namespace fitbridge::store
