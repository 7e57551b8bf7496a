#pragma once
// Test helper: credentials kept in memory, as the daemon keeps them in its
// state store, open to the test for seeding and checking.

#include <map>
#include <optional>
#include <string>

#include "net/oauth.hpp"

namespace fitbridge::test {

class MemoryTokenStore final : public net::TokenStore {
public:
    std::map<std::string, net::Credentials> saved;  // by account id

    Result<std::optional<net::Credentials>> load(const std::string& account) override {
        auto it = saved.find(account);
        if (it == saved.end()) return std::optional<net::Credentials>();
        return std::optional<net::Credentials>(it->second);
    }
    Result<void> save(const std::string& account, const net::Credentials& c) override {
        saved[account] = c;
        return {};
    }
};

}  // namespace fitbridge::test
