#pragma once
// The state store: one SQLite database (WAL, foreign keys on, mode 0600) with
// versioned migrations applied once at start, each inside a transaction so a
// failed migration leaves the previous schema untouched.

#include <SQLiteCpp/Database.h>

struct sqlite3;

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string_view>

#include "core/error.hpp"

namespace fitbridge::store {

struct Migration {
    int version;            // 1, 2, 3, ... in order
    std::string_view name;  // short description, recorded in schema_migrations
    std::string_view sql;   // one or more statements
};

// FitBridge's migrations, oldest first. Later work appends; never edit one
// that has shipped.
std::span<const Migration> migrations();

class Store {
public:
    // WAL pages past which a commit hands a checkpoint over. SQLite's default
    // is 1,000; each checkpoint makes the next commit on the io thread
    // restart the WAL, and SQLite syncs the WAL's new header there (an
    // fdatasync: a journal commit and a cache flush). At 4,000 (a WAL of up
    // to 16 MiB; about 400 activities) a backfill pays that a quarter as
    // often, and a checkpoint copies a page written many times once.
    static constexpr int k_checkpoint_pages = 4000;

    // Opens (creating if needed) the database at `path` and applies every
    // migration newer than the stored version. `path` ":memory:" is allowed.
    static Result<std::unique_ptr<Store>> open(const std::filesystem::path& path,
                                               std::span<const Migration> migrations = store::migrations());

    SQLite::Database& db() { return m_db; }
    // The highest applied migration version (0 for an empty database).
    int schema_version();
    // Checkpoints the WAL into the main file; called at shutdown.
    void flush();
    // Gives back what each connection's page cache holds beyond the pages in
    // use (sqlite3_db_release_memory), for a daemon that has gone idle: a
    // backfill leaves up to the cache's 2 MiB of pages behind, and a start
    // over a large ledger reads as many. On the writer's thread; a
    // connection another thread is using at that moment is left alone.
    void release_memory();

    // Where the WAL's checkpoints run. SQLite's own automatic checkpoint
    // (every 1,000 pages) runs inside the commit that crosses the mark, with
    // an fsync of the WAL and of the database: a stall of the thread that
    // commits (the io thread). With a runner set, a commit that leaves the
    // WAL over the mark hands a passive checkpoint, made on a connection of
    // its own, to the runner (the offload pool) instead. Unset (the default,
    // and again before the runner goes away): the commit checkpoints itself.
    using Runner = std::function<void(std::function<void()>)>;
    void set_checkpoint_runner(Runner runner);

    // Runs `f(connection)` with a read-only connection of its own, for a
    // thread other than the writer's (the control API's): it reads what has
    // been committed, without waiting for the writer (WAL). Opened on first
    // use; one caller at a time. A ":memory:" database has no second
    // connection: `f` gets the main one (serialized, so safe from any thread;
    // it also sees rows not yet committed).
    template <typename F>
    auto read(F&& f) {
        std::lock_guard lock(m_reader_mutex);
        return std::forward<F>(f)(reader());
    }
    ~Store();

private:
    explicit Store(const std::filesystem::path& path);
    Result<void> migrate(std::span<const Migration> migrations);

    static int on_wal_commit(void* self, sqlite3* db, const char* name, int pages);
    void checkpoint_on_own_connection();
    SQLite::Database& reader();  // under m_reader_mutex

    SQLite::Database m_db;
    std::filesystem::path m_path;
    std::mutex m_runner_mutex;
    Runner m_runner;
    std::atomic<bool> m_checkpoint_pending{false};
    std::mutex m_checkpointer_mutex;  // the second connection, used by one runner job at a time
    std::unique_ptr<SQLite::Database> m_checkpointer;
    std::mutex m_reader_mutex;
    std::unique_ptr<SQLite::Database> m_reader;
};

}  // namespace fitbridge::store
