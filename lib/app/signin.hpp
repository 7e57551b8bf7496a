#pragma once
// One-time sign-in codes for the status page: `fitbridge open` asks for one
// (POST /v1/signin-codes, with the token) and prints a URL carrying it in the
// fragment; the page trades it once for the token (POST /v1/signin, without
// one). A code is 128 random bits, lives two minutes and works once.

#include <chrono>
#include <map>
#include <string>
#include <string_view>

#include "api/router.hpp"
#include "core/clock.hpp"

namespace fitbridge::app {

class SigninCodes {
public:
    static constexpr std::chrono::seconds k_lifetime{120};
    static constexpr size_t k_max_open = 16;  // the oldest open code gives way beyond this

    explicit SigninCodes(const Clock& clock) : m_clock(clock) {}

    // A fresh code (32 hex characters).
    std::string issue();
    // True, once, for a code issued less than k_lifetime ago; the code is
    // spent either way it is found.
    bool redeem(std::string_view code);
    size_t open_count() const { return m_expiry.size(); }

private:
    void drop_expired();

    const Clock& m_clock;
    // SHA-256 of each open code -> when it stops working. Keyed by the hash
    // so that looking a guess up says nothing about the codes' text.
    std::map<std::string, std::chrono::steady_clock::time_point> m_expiry;
};

// POST /v1/signin-codes (with the token) and POST /v1/signin (public:
// {"code": "..."} -> {"token": "..."}).
void register_signin_routes(api::Router& router, SigninCodes& codes, const std::string& token);

}  // namespace fitbridge::app
