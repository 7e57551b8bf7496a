#include "store/store.hpp"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <chrono>

#include "core/log.hpp"

namespace fitbridge::store {

Store::Store(const std::filesystem::path& path)
    : m_db(path.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_FULLMUTEX) {}

Result<std::unique_ptr<Store>> Store::open(const std::filesystem::path& path, std::span<const Migration> migrations) {
    const bool in_memory = path == ":memory:";
    if (!in_memory && path.has_parent_path()) {
        std::error_code ec;
        std::filesystem::create_directories(path.parent_path(), ec);
        if (ec)
            return Error{"store.open",
                         ErrorClass::fatal,
                         fmt::format("cannot create {}: {}", path.parent_path().string(), ec.message()),
                         {}};
    }
    std::unique_ptr<Store> s;
    try {
        // Create the file ourselves so it is 0600 whatever the umask.
        if (!in_memory && !std::filesystem::exists(path)) {
            FILE* f = std::fopen(path.c_str(), "ab");
            if (f) std::fclose(f);
        }
        if (!in_memory) ::chmod(path.c_str(), 0600);
        s.reset(new Store(path));
        s->m_db.exec("PRAGMA foreign_keys = ON");
        if (!in_memory) {
            s->m_db.exec("PRAGMA journal_mode = WAL");
            s->m_db.exec("PRAGMA synchronous = NORMAL");
        }
        s->m_db.setBusyTimeout(5000);
    } catch (const SQLite::Exception& e) {
        return Error{
            "store.open", ErrorClass::fatal, fmt::format("cannot open database {}: {}", path.string(), e.what()), {}};
    }
    auto r = s->migrate(migrations);
    if (!r) return r.error();
    return s;
}

int Store::schema_version() {
    SQLite::Statement q(m_db, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
    q.executeStep();
    return q.getColumn(0).getInt();
}

Result<void> Store::migrate(std::span<const Migration> migrations) {
    try {
        m_db.exec(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
            "applied_at REAL NOT NULL)");
        const int current = schema_version();
        if (!migrations.empty() && current > migrations.back().version) {
            return Error{"store.schema_newer",
                         ErrorClass::fatal,
                         fmt::format("database schema version {} is newer than this FitBridge knows ({}); refusing "
                                     "to touch it",
                                     current, migrations.back().version),
                         {}};
        }
        for (const auto& m : migrations) {
            if (m.version <= current) continue;
            try {
                SQLite::Transaction tx(m_db);
                m_db.exec(std::string(m.sql));
                SQLite::Statement ins(m_db,
                                      "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)");
                ins.bind(1, m.version);
                ins.bind(2, std::string(m.name));
                ins.bind(3, std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());
                ins.exec();
                tx.commit();
                log::info("store: applied migration {} ({})", m.version, m.name);
            } catch (const SQLite::Exception& e) {
                return Error{"store.migration_failed",
                             ErrorClass::fatal,
                             fmt::format("migration {} ({}) failed, schema left at version {}: {}", m.version, m.name,
                                         schema_version(), e.what()),
                             {}};
            }
        }
    } catch (const SQLite::Exception& e) {
        return Error{"store.migration_failed", ErrorClass::fatal, fmt::format("cannot migrate: {}", e.what()), {}};
    }
    return {};
}

void Store::flush() {
    try {
        m_db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    } catch (const SQLite::Exception& e) {
        log::warn("store: checkpoint failed: {}", e.what());
    }
}

}  // namespace fitbridge::store
