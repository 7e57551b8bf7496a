#pragma once
// Listing positions kept per account in the store's `cursors` table (a
// watermark, a platform's paging token), so a restart resumes where the
// previous run stopped. Providers receive a CursorStore through their Context.

#include <map>
#include <optional>
#include <string>
#include <utility>

#include "core/clock.hpp"
#include "core/error.hpp"

namespace fitbridge::store {

class Store;

class CursorStore {
public:
    virtual ~CursorStore() = default;
    // The value saved under (account, name); nullopt when none was saved.
    virtual Result<std::optional<std::string>> load(const std::string& account, const std::string& name) = 0;
    // Replaces the value; returns once it is durable.
    virtual Result<void> save(const std::string& account, const std::string& name, const std::string& value) = 0;
};

// The `cursors` table (the account row must exist: the column references accounts).
class SqliteCursorStore final : public CursorStore {
public:
    SqliteCursorStore(Store& store, const Clock& clock) : m_store(store), m_clock(clock) {}
    Result<std::optional<std::string>> load(const std::string& account, const std::string& name) override;
    Result<void> save(const std::string& account, const std::string& name, const std::string& value) override;

private:
    Store& m_store;
    const Clock& m_clock;
};

// Positions in memory, for tests and tools that run without a state store.
class MemoryCursorStore final : public CursorStore {
public:
    Result<std::optional<std::string>> load(const std::string& account, const std::string& name) override {
        auto it = m_values.find({account, name});
        if (it == m_values.end()) return std::optional<std::string>();
        return std::optional<std::string>(it->second);
    }
    Result<void> save(const std::string& account, const std::string& name, const std::string& value) override {
        m_values[{account, name}] = value;
        return {};
    }

    size_t size() const { return m_values.size(); }

private:
    std::map<std::pair<std::string, std::string>, std::string> m_values;
};

}  // namespace fitbridge::store
