#include "store/cursors.hpp"

#include <SQLiteCpp/Statement.h>
#include <fmt/format.h>

#include "store/store.hpp"

namespace fitbridge::store {

Result<std::optional<std::string>> SqliteCursorStore::load(const std::string& account, const std::string& name) {
    try {
        SQLite::Statement q(m_store.db(), "SELECT value FROM cursors WHERE account_id = ? AND name = ?");
        q.bind(1, account);
        q.bind(2, name);
        if (!q.executeStep()) return std::optional<std::string>();
        return std::optional<std::string>(q.getColumn(0).getString());
    } catch (const std::exception& e) {
        return Error::transient("store.cursor",
                                fmt::format("cannot read cursor {} of {}: {}", name, account, e.what()));
    }
}

Result<void> SqliteCursorStore::save(const std::string& account, const std::string& name, const std::string& value) {
    try {
        SQLite::Statement q(m_store.db(),
                            "INSERT INTO cursors (account_id, name, value, updated_at) VALUES (?, ?, ?, ?) "
                            "ON CONFLICT(account_id, name) DO UPDATE SET value = excluded.value, "
                            "updated_at = excluded.updated_at");
        q.bind(1, account);
        q.bind(2, name);
        q.bind(3, value);
        q.bind(4, std::chrono::duration<double>(m_clock.now().time_since_epoch()).count());
        q.exec();
        return {};
    } catch (const std::exception& e) {
        return Error::transient("store.cursor",
                                fmt::format("cannot save cursor {} of {}: {}", name, account, e.what()));
    }
}

}  // namespace fitbridge::store
