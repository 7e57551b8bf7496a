// Route history and backfill job positions: what lets a route's automatic
// backfill run once per window and a backfill job resume at its last page.

#include <SQLiteCpp/Statement.h>

#include "store/ledger.hpp"

namespace fitbridge::store {

std::optional<double> Ledger::route_backfilled_since(const std::string& route, const std::string& account) {
    SQLite::Statement q(m_db, "SELECT since FROM route_backfills WHERE route_id = ? AND account_id = ?");
    q.bind(1, route);
    q.bind(2, account);
    if (!q.executeStep()) return std::nullopt;
    return q.getColumn(0).getDouble();
}

void Ledger::set_route_backfilled_since(const std::string& route, const std::string& account, double since,
                                        std::optional<int64_t> job_id) {
    SQLite::Statement q(m_db,
                        "INSERT INTO route_backfills(route_id, account_id, since, job_id, updated_at) "
                        "VALUES (?, ?, ?, ?, ?) ON CONFLICT(route_id, account_id) DO UPDATE SET "
                        "since = excluded.since, job_id = excluded.job_id, updated_at = excluded.updated_at");
    q.bind(1, route);
    q.bind(2, account);
    q.bind(3, since);
    if (job_id)
        q.bind(4, *job_id);
    else
        q.bind(4);
    q.bind(5, now());
    q.exec();
}

std::optional<Ledger::JobPosition> Ledger::job_position(int64_t job_id) {
    SQLite::Statement q(m_db, "SELECT resume_account, resume_cursor, resume_done FROM jobs WHERE id = ?");
    q.bind(1, job_id);
    if (!q.executeStep() || q.getColumn(0).isNull()) return std::nullopt;
    JobPosition p;
    p.account = q.getColumn(0).getString();
    if (!q.getColumn(1).isNull()) p.cursor = q.getColumn(1).getString();
    p.done = q.getColumn(2).isNull() ? 0 : q.getColumn(2).getInt64();
    return p;
}

void Ledger::set_job_position(int64_t job_id, const JobPosition& position) {
    SQLite::Statement q(m_db,
                        "UPDATE jobs SET resume_account = ?, resume_cursor = ?, resume_done = ?, updated_at = ? "
                        "WHERE id = ?");
    q.bind(1, position.account);
    if (position.cursor)
        q.bind(2, *position.cursor);
    else
        q.bind(2);
    q.bind(3, position.done);
    q.bind(4, now());
    q.bind(5, job_id);
    q.exec();
}

}  // namespace fitbridge::store
