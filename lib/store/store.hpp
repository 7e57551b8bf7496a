#pragma once
// The state store: one SQLite database (WAL, foreign keys on, mode 0600) with
// versioned migrations applied once at start, each inside a transaction so a
// failed migration leaves the previous schema untouched.

#include <SQLiteCpp/Database.h>

#include <filesystem>
#include <memory>
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
    // Opens (creating if needed) the database at `path` and applies every
    // migration newer than the stored version. `path` ":memory:" is allowed.
    static Result<std::unique_ptr<Store>> open(const std::filesystem::path& path,
                                               std::span<const Migration> migrations = store::migrations());

    SQLite::Database& db() { return m_db; }
    // The highest applied migration version (0 for an empty database).
    int schema_version();
    // Checkpoints the WAL into the main file; called at shutdown.
    void flush();

private:
    explicit Store(const std::filesystem::path& path);
    Result<void> migrate(std::span<const Migration> migrations);

    SQLite::Database m_db;
};

}  // namespace fitbridge::store
