#include "app/metrics_route.hpp"

#include <SQLiteCpp/Statement.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/clock.hpp"
#include "core/metrics.hpp"
#include "core/version.hpp"

namespace fitbridge::app {

namespace {

double unix_now() { return std::chrono::duration<double>(process_clock().now().time_since_epoch()).count(); }

// Resident set size from /proc/self/statm (its second field, in pages); 0 when unreadable.
double resident_bytes() {
    std::ifstream in("/proc/self/statm");
    long size = 0, resident = 0;
    if (!(in >> size >> resident)) return 0;
    return static_cast<double>(resident) * static_cast<double>(::sysconf(_SC_PAGESIZE));
}

// Entries of /proc/self/fd, less the one the listing itself holds open.
double open_fds() {
    std::error_code ec;
    double n = 0;
    for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end; it.increment(ec)) ++n;
    return n > 0 ? n - 1 : 0;
}

std::string text(SQLite::Statement& q, int column) {
    return q.getColumn(column).isNull() ? std::string() : q.getColumn(column).getString();
}

void ledger_metrics(metrics::Registry& r, SQLite::Database& db, const config::Config& config) {
    {
        SQLite::Statement q(db, "SELECT COUNT(*) FROM activities");
        q.executeStep();
        r.set("fitbridge_activities", "Activities in the ledger (one per real workout, however many copies).", {},
              static_cast<double>(q.getColumn(0).getInt64()));
    }
    {
        SQLite::Statement q(db,
                            "SELECT account_id, state, reason, COUNT(*) FROM source_items "
                            "GROUP BY account_id, state, reason ORDER BY 1, 2, 3");
        while (q.executeStep())
            r.set("fitbridge_source_items",
                  "Items the sources offered, by what became of them (ingested, skipped, failed) and the reason "
                  "code (empty when ingested).",
                  {{"account", text(q, 0)}, {"state", text(q, 1)}, {"reason", text(q, 2)}},
                  static_cast<double>(q.getColumn(3).getInt64()));
    }
    {
        SQLite::Statement q(db, "SELECT sink_id, state, COUNT(*) FROM deliveries GROUP BY sink_id, state");
        while (q.executeStep())
            r.set("fitbridge_deliveries", "Deliveries of activities to sinks, by state.",
                  {{"sink", text(q, 0)}, {"state", text(q, 1)}}, static_cast<double>(q.getColumn(2).getInt64()));
    }
    {
        // Every configured sink shows a depth, 0 included, so an alert can
        // tell "empty" from "gone".
        std::set<std::string> sinks;
        for (const auto& route : config.routes) sinks.insert(route.to.begin(), route.to.end());
        std::map<std::string, double> depth;
        for (const auto& s : sinks) depth[s] = 0;
        SQLite::Statement q(db,
                            "SELECT sink_id, COUNT(*) FROM deliveries WHERE state IN ('planned', 'in_flight') "
                            "GROUP BY sink_id");
        while (q.executeStep()) depth[text(q, 0)] = static_cast<double>(q.getColumn(1).getInt64());
        for (const auto& [sink, n] : depth)
            r.set("fitbridge_delivery_queue_depth", "Deliveries waiting for a sink (planned or in flight).",
                  {{"sink", sink}}, n);
    }
    {
        SQLite::Statement q(db, "SELECT kind, state, COUNT(*) FROM jobs GROUP BY kind, state");
        while (q.executeStep())
            r.set("fitbridge_jobs", "Jobs (sync, backfill, ...) by state.",
                  {{"kind", text(q, 0)}, {"state", text(q, 1)}}, static_cast<double>(q.getColumn(2).getInt64()));
    }
    {
        // The latest poll when it succeeded, else the latest successful
        // manual sync job; absent when neither is known.
        SQLite::Statement q(db,
                            "SELECT a.id, CASE WHEN a.last_error IS NULL AND a.last_poll_at IS NOT NULL "
                            "THEN a.last_poll_at ELSE (SELECT MAX(j.updated_at) FROM jobs j WHERE j.account_id = a.id "
                            "AND j.kind = 'sync' AND j.state = 'done') END, a.blocked_until FROM accounts a "
                            "WHERE a.state != 'disabled' ORDER BY a.id");
        const double now = unix_now();
        while (q.executeStep()) {
            if (!q.getColumn(1).isNull())
                r.set("fitbridge_last_successful_poll_timestamp_seconds",
                      "When an account's source was last listed without an error (Unix time).",
                      {{"account", text(q, 0)}}, q.getColumn(1).getDouble());
            const double until = q.getColumn(2).isNull() ? 0 : q.getColumn(2).getDouble();
            r.set("fitbridge_rate_limit_blocked_until_timestamp_seconds",
                  "Until when a platform asked FitBridge to pause this account (Unix time; 0: not paused).",
                  {{"account", text(q, 0)}}, until > now ? until : 0);
        }
    }
}

}  // namespace

std::string render_metrics(store::Store& store, const config::Config& config, double started_unix) {
    metrics::Registry scrape;
    scrape.set("fitbridge_build_info", "The running FitBridge's version.", {{"version", std::string(version())}}, 1);
    const double now = unix_now();
    scrape.set("fitbridge_uptime_seconds", "Seconds since the daemon started.", {}, now - started_unix);
    scrape.set("process_start_time_seconds", "Start time of the process since the Unix epoch in seconds.", {},
               started_unix);
    scrape.set("process_resident_memory_bytes", "Resident memory size in bytes.", {}, resident_bytes());
    scrape.set("process_open_fds", "Number of open file descriptors.", {}, open_fds());
    ledger_metrics(scrape, store.db(), config);
    return metrics::global().render() + scrape.render();
}

void register_metrics_route(api::Router& router, store::Store& store, const config::Config& config,
                            double started_unix) {
    router.add("GET", "/metrics", [&store, &config, started_unix](api::Request&) {
        api::Response r;
        r.content_type = k_metrics_content_type;
        r.body = render_metrics(store, config, started_unix);
        return r;
    });
}

}  // namespace fitbridge::app
