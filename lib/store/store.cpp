#include "store/store.hpp"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <fmt/format.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <chrono>
#include <string>

#include "core/log.hpp"

namespace fitbridge::store {

namespace {

// With its memory statistics on (Debian's build: the default, and no
// lookaside), SQLite takes one process-wide mutex at every allocation, so
// the io thread's statements and the checkpointer's, on a lower priority
// thread, contend for it. Nothing here reads those statistics. It must be
// set before SQLite initialises: the first store does it (a process that
// used SQLite before keeps its setting).
const std::string& without_memory_statistics(const std::string& path) {
    static const bool once = [] {
        sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
        return true;
    }();
    (void)once;
    return path;
}
}  // namespace

Store::Store(const std::filesystem::path& path)
    : m_db(without_memory_statistics(path.string()),
           SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_FULLMUTEX),
      m_path(path) {}

Store::~Store() {
    // The hook points at this object.
    sqlite3_wal_hook(m_db.getHandle(), nullptr, nullptr);
}

void Store::set_checkpoint_runner(Runner runner) {
    {
        std::lock_guard lock(m_runner_mutex);
        m_runner = std::move(runner);
    }
    if (m_path == ":memory:") return;
    if (m_runner)
        sqlite3_wal_hook(m_db.getHandle(), &Store::on_wal_commit, this);
    else
        sqlite3_wal_autocheckpoint(m_db.getHandle(), k_checkpoint_pages);  // SQLite's own hook again
}

int Store::on_wal_commit(void* self, sqlite3*, const char*, int pages) {
    auto* s = static_cast<Store*>(self);
    if (pages < k_checkpoint_pages || s->m_checkpoint_pending.exchange(true)) return SQLITE_OK;
    std::lock_guard lock(s->m_runner_mutex);
    if (s->m_runner) {
        s->m_runner([s] { s->checkpoint_on_own_connection(); });
    } else {
        s->m_checkpoint_pending = false;
        sqlite3_wal_checkpoint_v2(s->m_db.getHandle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    }
    return SQLITE_OK;
}

void Store::checkpoint_on_own_connection() {
    std::lock_guard lock(m_checkpointer_mutex);
    try {
        if (!m_checkpointer) {
            m_checkpointer = std::make_unique<SQLite::Database>(m_path.string(), SQLite::OPEN_READWRITE);
            // A connection learns that the database is in WAL mode on its first read.
            m_checkpointer->exec("PRAGMA schema_version");
        }
        // Passive: never waits for the writer; what it cannot copy now waits for the next one.
        const int rc = sqlite3_wal_checkpoint_v2(m_checkpointer->getHandle(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                                 nullptr, nullptr);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY)
            log::warn("store: checkpoint failed: {}", sqlite3_errmsg(m_checkpointer->getHandle()));
    } catch (const SQLite::Exception& e) {
        log::warn("store: checkpoint failed: {}", e.what());
    }
    m_checkpoint_pending = false;
}

void Store::release_memory() {
    sqlite3_db_release_memory(m_db.getHandle());
    if (std::unique_lock lock(m_reader_mutex, std::try_to_lock); lock && m_reader)
        sqlite3_db_release_memory(m_reader->getHandle());
    if (std::unique_lock lock(m_checkpointer_mutex, std::try_to_lock); lock && m_checkpointer)
        sqlite3_db_release_memory(m_checkpointer->getHandle());
}

SQLite::Database& Store::reader() {
    if (m_path == ":memory:") return m_db;
    if (!m_reader) {
        // Opened after the store (its migrations done, WAL on): the file exists.
        auto r = std::make_unique<SQLite::Database>(m_path.string(), SQLite::OPEN_READONLY | SQLite::OPEN_NOMUTEX);
        // A reader waits only while the WAL is recovered or restarted, which is brief.
        r->setBusyTimeout(1000);
        m_reader = std::move(r);
    }
    return *m_reader;
}

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
