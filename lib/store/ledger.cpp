#include "store/ledger.hpp"

#include <SQLiteCpp/Statement.h>

namespace fitbridge::store {

namespace {

template <typename T>
void bind_opt(SQLite::Statement& s, int i, const std::optional<T>& v) {
    if (v)
        s.bind(i, *v);
    else
        s.bind(i);
}

std::optional<std::string> opt_text(const SQLite::Column& c) {
    if (c.isNull()) return std::nullopt;
    return c.getString();
}
std::optional<double> opt_real(const SQLite::Column& c) {
    if (c.isNull()) return std::nullopt;
    return c.getDouble();
}
std::optional<int64_t> opt_int(const SQLite::Column& c) {
    if (c.isNull()) return std::nullopt;
    return c.getInt64();
}

constexpr const char* k_item_cols =
    "account_id, remote_id, state, reason, detail, origin, name, activity_id, attempts, seen_at";
SourceItem read_item(SQLite::Statement& q) {
    SourceItem i;
    i.account_id = q.getColumn(0).getString();
    i.remote_id = q.getColumn(1).getString();
    i.state = q.getColumn(2).getString();
    i.reason = opt_text(q.getColumn(3));
    i.detail = opt_text(q.getColumn(4));
    i.origin = q.getColumn(5).getString();
    i.name = q.getColumn(6).getString();
    i.activity_id = opt_int(q.getColumn(7));
    i.attempts = q.getColumn(8).getInt64();
    i.seen_at = q.getColumn(9).getDouble();
    return i;
}

constexpr const char* k_activity_cols =
    "id, content_sha256, start_time, sport_family, elapsed_s, distance_m, COALESCE(name, ''), summary, "
    "COALESCE(original_path, ''), ambiguous_with, chosen_link_id, created_at";
ActivityRow read_activity(SQLite::Statement& q) {
    ActivityRow a;
    a.id = q.getColumn(0).getInt64();
    a.content_sha256 = q.getColumn(1).getString();
    a.start_time = opt_real(q.getColumn(2));
    a.sport_family = opt_text(q.getColumn(3));
    a.elapsed_s = opt_real(q.getColumn(4));
    a.distance_m = opt_real(q.getColumn(5));
    a.name = q.getColumn(6).getString();
    a.summary = q.getColumn(7).getString();
    a.original_path = q.getColumn(8).getString();
    a.ambiguous_with = opt_text(q.getColumn(9));
    a.chosen_link_id = opt_int(q.getColumn(10));
    a.created_at = q.getColumn(11).getDouble();
    return a;
}

constexpr const char* k_link_cols =
    "id, activity_id, account_id, remote_id, matched_by, confidence, COALESCE(content_sha256, ''), "
    "COALESCE(original_path, ''), records, has_power, has_hr, created_at";
LinkRow read_link(SQLite::Statement& q) {
    LinkRow l;
    l.id = q.getColumn(0).getInt64();
    l.activity_id = q.getColumn(1).getInt64();
    l.account_id = q.getColumn(2).getString();
    l.remote_id = q.getColumn(3).getString();
    l.matched_by = q.getColumn(4).getString();
    l.confidence = q.getColumn(5).getDouble();
    l.content_sha256 = q.getColumn(6).getString();
    l.original_path = q.getColumn(7).getString();
    l.records = q.getColumn(8).getInt64();
    l.has_power = q.getColumn(9).getInt() != 0;
    l.has_hr = q.getColumn(10).getInt() != 0;
    l.created_at = q.getColumn(11).getDouble();
    return l;
}

constexpr const char* k_delivery_cols =
    "id, activity_id, sink_id, state, remote_id, reason, message, attempts, retry_at, updated_at";
DeliveryRow read_delivery(SQLite::Statement& q) {
    DeliveryRow d;
    d.id = q.getColumn(0).getInt64();
    d.activity_id = q.getColumn(1).getInt64();
    d.sink_id = q.getColumn(2).getString();
    d.state = q.getColumn(3).getString();
    d.remote_id = opt_text(q.getColumn(4));
    d.reason = opt_text(q.getColumn(5));
    d.message = opt_text(q.getColumn(6));
    d.attempts = q.getColumn(7).getInt64();
    d.retry_at = opt_real(q.getColumn(8));
    d.updated_at = q.getColumn(9).getDouble();
    return d;
}

constexpr const char* k_job_cols =
    "id, kind, account_id, route_id, state, params, done, total, error, created_at, updated_at";
JobRow read_job(SQLite::Statement& q) {
    JobRow j;
    j.id = q.getColumn(0).getInt64();
    j.kind = q.getColumn(1).getString();
    j.account_id = opt_text(q.getColumn(2));
    j.route_id = opt_text(q.getColumn(3));
    j.state = q.getColumn(4).getString();
    j.params = q.getColumn(5).getString();
    j.done = q.getColumn(6).getInt64();
    j.total = opt_int(q.getColumn(7));
    j.error = opt_text(q.getColumn(8));
    j.created_at = q.getColumn(9).getDouble();
    j.updated_at = q.getColumn(10).getDouble();
    return j;
}

}  // namespace

// A cached statement for the length of one call: reset when the call ends, so
// a finished query holds no read transaction open between calls.
class Ledger::Prepared {
public:
    Prepared(Ledger& ledger, const std::string& sql) : m_q(ledger.statement(sql)) {}
    ~Prepared() { m_q.tryReset(); }
    Prepared(const Prepared&) = delete;
    Prepared& operator=(const Prepared&) = delete;

    template <typename... A>
    void bind(A&&... args) {
        m_q.bind(std::forward<A>(args)...);
    }
    bool executeStep() { return m_q.executeStep(); }
    int exec() { return m_q.exec(); }
    SQLite::Column getColumn(int index) { return m_q.getColumn(index); }
    operator SQLite::Statement&() { return m_q; }

private:
    SQLite::Statement& m_q;
};

SQLite::Statement& Ledger::statement(const std::string& sql) {
    auto& slot = m_statements[sql];
    if (!slot) {
        slot = std::make_unique<SQLite::Statement>(m_db, sql);
    } else {
        slot->tryReset();
        slot->clearBindings();
    }
    return *slot;
}

double Ledger::now() const { return static_cast<double>(m_clock.now().time_since_epoch().count()) / 1000.0; }

std::optional<SourceItem> Ledger::source_item(const std::string& account, const std::string& remote_id) {
    Prepared q(*this,
               std::string("SELECT ") + k_item_cols + " FROM source_items WHERE account_id = ? AND remote_id = ?");
    q.bind(1, account);
    q.bind(2, remote_id);
    if (!q.executeStep()) return std::nullopt;
    return read_item(q);
}

void Ledger::put_source_item(const SourceItem& i) {
    Prepared q(*this, std::string("INSERT OR REPLACE INTO source_items(") + k_item_cols +
                          ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    q.bind(1, i.account_id);
    q.bind(2, i.remote_id);
    q.bind(3, i.state);
    bind_opt(q, 4, i.reason);
    bind_opt(q, 5, i.detail);
    q.bind(6, i.origin);
    q.bind(7, i.name);
    bind_opt(q, 8, i.activity_id);
    q.bind(9, i.attempts);
    q.bind(10, i.seen_at);
    q.exec();
}

std::vector<SourceItem> Ledger::source_items(const std::string& account, std::optional<std::string> state, int limit) {
    Prepared q(*this, std::string("SELECT ") + k_item_cols +
                          " FROM source_items WHERE account_id = ? AND (? IS NULL OR state = ?) "
                          "ORDER BY seen_at DESC LIMIT ?");
    q.bind(1, account);
    bind_opt(q, 2, state);
    bind_opt(q, 3, state);
    q.bind(4, limit);
    std::vector<SourceItem> out;
    while (q.executeStep()) out.push_back(read_item(q));
    return out;
}

int64_t Ledger::count_source_items(const std::string& account, const std::string& state) {
    Prepared q(*this, "SELECT count(*) FROM source_items WHERE account_id = ? AND state = ?");
    q.bind(1, account);
    q.bind(2, state);
    q.executeStep();
    return q.getColumn(0).getInt64();
}

int64_t Ledger::insert_activity(const ActivityRow& a) {
    Prepared q(*this,
               "INSERT INTO activities(content_sha256, start_time, sport_family, elapsed_s, distance_m, name, "
               "summary, original_path, ambiguous_with, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    q.bind(1, a.content_sha256);
    bind_opt(q, 2, a.start_time);
    bind_opt(q, 3, a.sport_family);
    bind_opt(q, 4, a.elapsed_s);
    bind_opt(q, 5, a.distance_m);
    q.bind(6, a.name);
    q.bind(7, a.summary);
    q.bind(8, a.original_path);
    bind_opt(q, 9, a.ambiguous_with);
    q.bind(10, a.created_at);
    q.exec();
    return m_db.getLastInsertRowid();
}

void Ledger::update_activity_choice(int64_t id, const LinkRow& chosen, const std::string& summary,
                                    const std::optional<double>& start, const std::optional<std::string>& family,
                                    const std::optional<double>& elapsed, const std::optional<double>& distance) {
    Prepared q(*this,
               "UPDATE activities SET content_sha256 = ?, original_path = ?, chosen_link_id = ?, summary = ?, "
               "start_time = ?, sport_family = ?, elapsed_s = ?, distance_m = ? WHERE id = ?");
    q.bind(1, chosen.content_sha256);
    q.bind(2, chosen.original_path);
    q.bind(3, chosen.id);
    q.bind(4, summary);
    bind_opt(q, 5, start);
    bind_opt(q, 6, family);
    bind_opt(q, 7, elapsed);
    bind_opt(q, 8, distance);
    q.bind(9, id);
    q.exec();
}

std::optional<ActivityRow> Ledger::activity(int64_t id) {
    Prepared q(*this, std::string("SELECT ") + k_activity_cols + " FROM activities WHERE id = ?");
    q.bind(1, id);
    if (!q.executeStep()) return std::nullopt;
    return read_activity(q);
}

std::vector<ActivityRow> Ledger::activities_between(double from, double to) {
    Prepared q(*this, std::string("SELECT ") + k_activity_cols +
                          " FROM activities WHERE start_time BETWEEN ? AND ? ORDER BY start_time");
    q.bind(1, from);
    q.bind(2, to);
    std::vector<ActivityRow> out;
    while (q.executeStep()) out.push_back(read_activity(q));
    return out;
}

std::optional<int64_t> Ledger::activity_by_content(const std::string& content_sha256) {
    Prepared q(*this,
               "SELECT activity_id FROM links WHERE content_sha256 = ? UNION ALL "
               "SELECT id FROM activities WHERE content_sha256 = ? LIMIT 1");
    q.bind(1, content_sha256);
    q.bind(2, content_sha256);
    if (!q.executeStep()) return std::nullopt;
    return q.getColumn(0).getInt64();
}

std::vector<ActivityRow> Ledger::list_activities(const ActivityFilter& f) {
    std::string sql =
        std::string("SELECT ") + k_activity_cols +
        " FROM activities a WHERE (? IS NULL OR start_time >= ?) AND (? IS NULL OR start_time < ?) "
        "AND (? IS NULL OR sport_family = ?) AND (? IS NULL OR id < ?) "
        "AND (? IS NULL OR EXISTS (SELECT 1 FROM deliveries d WHERE d.activity_id = a.id AND d.state = ?)) "
        "ORDER BY id DESC LIMIT ?";
    Prepared q(*this, sql);
    bind_opt(q, 1, f.since);
    bind_opt(q, 2, f.since);
    bind_opt(q, 3, f.until);
    bind_opt(q, 4, f.until);
    bind_opt(q, 5, f.sport_family);
    bind_opt(q, 6, f.sport_family);
    bind_opt(q, 7, f.before_id);
    bind_opt(q, 8, f.before_id);
    bind_opt(q, 9, f.delivery_state);
    bind_opt(q, 10, f.delivery_state);
    q.bind(11, f.limit);
    std::vector<ActivityRow> out;
    while (q.executeStep()) out.push_back(read_activity(q));
    return out;
}

std::vector<int64_t> Ledger::all_activity_ids() {
    Prepared q(*this, "SELECT id FROM activities ORDER BY id");
    std::vector<int64_t> out;
    while (q.executeStep()) out.push_back(q.getColumn(0).getInt64());
    return out;
}

int64_t Ledger::insert_link(const LinkRow& l) {
    Prepared q(*this,
               "INSERT INTO links(activity_id, account_id, remote_id, matched_by, confidence, content_sha256, "
               "original_path, records, has_power, has_hr, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    q.bind(1, l.activity_id);
    q.bind(2, l.account_id);
    q.bind(3, l.remote_id);
    q.bind(4, l.matched_by);
    q.bind(5, l.confidence);
    q.bind(6, l.content_sha256);
    q.bind(7, l.original_path);
    q.bind(8, l.records);
    q.bind(9, l.has_power ? 1 : 0);
    q.bind(10, l.has_hr ? 1 : 0);
    q.bind(11, l.created_at);
    q.exec();
    return m_db.getLastInsertRowid();
}

std::vector<LinkRow> Ledger::links(int64_t activity_id) {
    Prepared q(*this, std::string("SELECT ") + k_link_cols + " FROM links WHERE activity_id = ? ORDER BY id");
    q.bind(1, activity_id);
    std::vector<LinkRow> out;
    while (q.executeStep()) out.push_back(read_link(q));
    return out;
}

std::optional<LinkRow> Ledger::link(int64_t link_id) {
    Prepared q(*this, std::string("SELECT ") + k_link_cols + " FROM links WHERE id = ?");
    q.bind(1, link_id);
    if (!q.executeStep()) return std::nullopt;
    return read_link(q);
}

std::optional<LinkRow> Ledger::link_by_remote(const std::string& account, const std::string& remote_id) {
    Prepared q(*this, std::string("SELECT ") + k_link_cols + " FROM links WHERE account_id = ? AND remote_id = ?");
    q.bind(1, account);
    q.bind(2, remote_id);
    if (!q.executeStep()) return std::nullopt;
    return read_link(q);
}

void Ledger::set_activity_name(int64_t id, const std::string& name) {
    Prepared q(*this, "UPDATE activities SET name = ? WHERE id = ?");
    q.bind(1, name);
    q.bind(2, id);
    q.exec();
}

bool Ledger::ensure_delivery(int64_t activity_id, const std::string& sink, const std::string& state,
                             const std::optional<std::string>& reason) {
    Prepared q(*this,
               "INSERT OR IGNORE INTO deliveries(activity_id, sink_id, state, reason, updated_at) "
               "VALUES (?, ?, ?, ?, ?)");
    q.bind(1, activity_id);
    q.bind(2, sink);
    q.bind(3, state);
    bind_opt(q, 4, reason);
    q.bind(5, now());
    return q.exec() == 1;
}

std::optional<DeliveryRow> Ledger::delivery(int64_t id) {
    Prepared q(*this, std::string("SELECT ") + k_delivery_cols + " FROM deliveries WHERE id = ?");
    q.bind(1, id);
    if (!q.executeStep()) return std::nullopt;
    return read_delivery(q);
}

std::vector<DeliveryRow> Ledger::deliveries(int64_t activity_id) {
    Prepared q(*this, std::string("SELECT ") + k_delivery_cols + " FROM deliveries WHERE activity_id = ? ORDER BY id");
    q.bind(1, activity_id);
    std::vector<DeliveryRow> out;
    while (q.executeStep()) out.push_back(read_delivery(q));
    return out;
}

std::vector<DeliveryRow> Ledger::due_deliveries(double t, int limit) {
    Prepared q(*this, std::string("SELECT ") + k_delivery_cols +
                          " FROM deliveries WHERE state = 'planned' OR (state = 'failed' AND retry_at IS NOT "
                          "NULL AND retry_at <= ?) ORDER BY id LIMIT ?");
    q.bind(1, t);
    q.bind(2, limit);
    std::vector<DeliveryRow> out;
    while (q.executeStep()) out.push_back(read_delivery(q));
    return out;
}

std::vector<DeliveryRow> Ledger::deliveries_in_state(const std::string& state) {
    Prepared q(*this, std::string("SELECT ") + k_delivery_cols + " FROM deliveries WHERE state = ? ORDER BY id");
    q.bind(1, state);
    std::vector<DeliveryRow> out;
    while (q.executeStep()) out.push_back(read_delivery(q));
    return out;
}

std::optional<double> Ledger::next_retry_at(double after) {
    Prepared q(*this, "SELECT MIN(retry_at) FROM deliveries WHERE state = 'failed' AND retry_at > ?");
    q.bind(1, after);
    q.executeStep();
    return opt_real(q.getColumn(0));
}

std::vector<DeliveryRow> Ledger::due_deliveries_to(const std::string& sink, double t, int limit) {
    Prepared q(*this, std::string("SELECT ") + k_delivery_cols +
                          " FROM deliveries WHERE sink_id = ? AND (state = 'planned' OR (state = 'failed' AND "
                          "retry_at IS NOT NULL AND retry_at <= ?)) ORDER BY id LIMIT ?");
    q.bind(1, sink);
    q.bind(2, t);
    q.bind(3, limit);
    std::vector<DeliveryRow> out;
    while (q.executeStep()) out.push_back(read_delivery(q));
    return out;
}

std::optional<double> Ledger::next_retry_at_to(const std::string& sink, double after) {
    Prepared q(*this, "SELECT MIN(retry_at) FROM deliveries WHERE sink_id = ? AND state = 'failed' AND retry_at > ?");
    q.bind(1, sink);
    q.bind(2, after);
    q.executeStep();
    return opt_real(q.getColumn(0));
}

void Ledger::set_delivery(int64_t id, const std::string& state, const std::optional<std::string>& remote_id,
                          const std::optional<std::string>& reason, const std::optional<std::string>& message,
                          const std::optional<double>& retry_at, bool count_attempt) {
    Prepared q(*this,
               "UPDATE deliveries SET state = ?, remote_id = COALESCE(?, remote_id), reason = ?, message = ?, "
               "retry_at = ?, attempts = attempts + ?, updated_at = ? WHERE id = ?");
    q.bind(1, state);
    bind_opt(q, 2, remote_id);
    bind_opt(q, 3, reason);
    bind_opt(q, 4, message);
    bind_opt(q, 5, retry_at);
    q.bind(6, count_attempt ? 1 : 0);
    q.bind(7, now());
    q.bind(8, id);
    q.exec();
}

int64_t Ledger::create_job(const JobRow& j) {
    Prepared q(*this,
               "INSERT INTO jobs(kind, account_id, route_id, state, params, done, total, created_at, updated_at) "
               "VALUES (?, ?, ?, ?, ?, 0, NULL, ?, ?)");
    q.bind(1, j.kind);
    bind_opt(q, 2, j.account_id);
    bind_opt(q, 3, j.route_id);
    q.bind(4, j.state);
    q.bind(5, j.params);
    q.bind(6, now());
    q.bind(7, now());
    q.exec();
    return m_db.getLastInsertRowid();
}

void Ledger::update_job(int64_t id, const std::string& state, int64_t done, std::optional<int64_t> total,
                        const std::optional<std::string>& error) {
    Prepared q(*this, "UPDATE jobs SET state = ?, done = ?, total = ?, error = ?, updated_at = ? WHERE id = ?");
    q.bind(1, state);
    q.bind(2, done);
    bind_opt(q, 3, total);
    bind_opt(q, 4, error);
    q.bind(5, now());
    q.bind(6, id);
    q.exec();
}

std::optional<JobRow> Ledger::job(int64_t id) {
    Prepared q(*this, std::string("SELECT ") + k_job_cols + " FROM jobs WHERE id = ?");
    q.bind(1, id);
    if (!q.executeStep()) return std::nullopt;
    return read_job(q);
}

std::vector<JobRow> Ledger::jobs(int limit) {
    Prepared q(*this, std::string("SELECT ") + k_job_cols + " FROM jobs ORDER BY id DESC LIMIT ?");
    q.bind(1, limit);
    std::vector<JobRow> out;
    while (q.executeStep()) out.push_back(read_job(q));
    return out;
}

std::vector<JobRow> Ledger::unfinished_jobs() {
    Prepared q(*this,
               std::string("SELECT ") + k_job_cols + " FROM jobs WHERE state IN ('queued', 'running') ORDER BY id");
    std::vector<JobRow> out;
    while (q.executeStep()) out.push_back(read_job(q));
    return out;
}

int64_t Ledger::append_event(const std::string& type, const std::string& data_json) {
    Prepared q(*this, "INSERT INTO events(at, type, data) VALUES (?, ?, ?)");
    q.bind(1, now());
    q.bind(2, type);
    q.bind(3, data_json);
    q.exec();
    return m_db.getLastInsertRowid();
}

std::vector<EventRow> Ledger::events_after(int64_t id, int limit) {
    Prepared q(*this, "SELECT id, at, type, data FROM events WHERE id > ? ORDER BY id LIMIT ?");
    q.bind(1, id);
    q.bind(2, limit);
    std::vector<EventRow> out;
    while (q.executeStep())
        out.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getDouble(), q.getColumn(2).getString(),
                       q.getColumn(3).getString()});
    return out;
}

void Ledger::prune_events(int64_t keep) {
    Prepared q(*this, "DELETE FROM events WHERE id <= (SELECT MAX(id) FROM events) - ?");
    q.bind(1, keep);
    q.exec();
}

void Ledger::set_account_polled(const std::string& account, const std::optional<std::string>& error) {
    Prepared q(*this,
               "UPDATE accounts SET last_poll_at = ?, last_error = ?, "
               "state = CASE WHEN ? IS NULL AND state IN ('ok', 'error', 'needs_reauth') THEN 'ok' "
               "WHEN state = 'ok' THEN 'error' ELSE state END WHERE id = ?");
    q.bind(1, now());
    bind_opt(q, 2, error);
    bind_opt(q, 3, error);
    q.bind(4, account);
    q.exec();
}

void Ledger::set_account_state(const std::string& account, const std::string& state,
                               const std::optional<std::string>& error) {
    Prepared q(*this, "UPDATE accounts SET state = ?, last_error = ? WHERE id = ?");
    q.bind(1, state);
    bind_opt(q, 2, error);
    q.bind(3, account);
    q.exec();
}

std::optional<Ledger::AccountState> Ledger::account_state(const std::string& account) {
    Prepared q(*this, "SELECT state, last_error, last_poll_at FROM accounts WHERE id = ?");
    q.bind(1, account);
    if (!q.executeStep()) return std::nullopt;
    AccountState a;
    a.state = q.getColumn(0).getString();
    if (!q.getColumn(1).isNull()) a.last_error = q.getColumn(1).getString();
    if (!q.getColumn(2).isNull()) a.last_poll_at = q.getColumn(2).getDouble();
    return a;
}

std::optional<Ledger::CredentialMeta> Ledger::credential_meta(const std::string& account) {
    Prepared q(*this,
               "SELECT kind, expires_at, scope, updated_at, COALESCE(refresh_token, '') <> '' "
               "FROM credentials WHERE account_id = ?");
    q.bind(1, account);
    if (!q.executeStep()) return std::nullopt;
    CredentialMeta c;
    c.kind = q.getColumn(0).getString();
    if (!q.getColumn(1).isNull()) c.expires_at = q.getColumn(1).getDouble();
    c.scope = q.getColumn(2).getString();
    c.updated_at = q.getColumn(3).getDouble();
    c.has_refresh_token = q.getColumn(4).getInt() != 0;
    return c;
}

int Ledger::replan_auth_failures(const std::string& sink) {
    Prepared q(*this,
               "UPDATE deliveries SET state = 'planned', reason = NULL, retry_at = NULL, updated_at = ? "
               "WHERE sink_id = ? AND state = 'failed' AND reason = 'sink_auth'");
    q.bind(1, now());
    q.bind(2, sink);
    return q.exec();
}

int Ledger::release_transient_failures(const std::string& sink) {
    Prepared q(*this,
               "UPDATE deliveries SET retry_at = ? WHERE sink_id = ? AND state = 'failed' "
               "AND reason = 'sink_transient' AND retry_at > ?");
    const double t = now();
    q.bind(1, t);
    q.bind(2, sink);
    q.bind(3, t);
    return q.exec();
}

std::optional<double> Ledger::account_blocked_until(const std::string& account) {
    Prepared q(*this, "SELECT blocked_until FROM accounts WHERE id = ?");
    q.bind(1, account);
    if (!q.executeStep() || q.getColumn(0).isNull()) return std::nullopt;
    return q.getColumn(0).getDouble();
}

void Ledger::set_account_blocked_until(const std::string& account, std::optional<double> until) {
    Prepared q(*this, "UPDATE accounts SET blocked_until = ? WHERE id = ?");
    if (until)
        q.bind(1, *until);
    else
        q.bind(1);
    q.bind(2, account);
    q.exec();
}

}  // namespace fitbridge::store
