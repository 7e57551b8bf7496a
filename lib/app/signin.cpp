#include "app/signin.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "core/hash.hpp"
#include "json/json.hpp"

namespace fitbridge::app {

std::string SigninCodes::issue() {
    drop_expired();
    while (m_expiry.size() >= k_max_open) {
        auto oldest = std::min_element(m_expiry.begin(), m_expiry.end(),
                                       [](const auto& a, const auto& b) { return a.second < b.second; });
        m_expiry.erase(oldest);
    }
    std::array<uint8_t, 16> raw{};
    random_bytes(raw);
    std::string code;
    for (auto b : raw) code += fmt::format("{:02x}", b);
    m_expiry[sha256_hex(code)] = m_clock.steady() + k_lifetime;
    return code;
}

bool SigninCodes::redeem(std::string_view code) {
    drop_expired();
    auto it = m_expiry.find(sha256_hex(code));
    if (it == m_expiry.end()) return false;
    m_expiry.erase(it);
    return true;
}

void SigninCodes::drop_expired() {
    const auto now = m_clock.steady();
    std::erase_if(m_expiry, [&](const auto& e) { return e.second <= now; });
}

void register_signin_routes(api::Router& router, SigninCodes& codes, const std::string& token) {
    router.add("POST", "/v1/signin-codes", [&codes](api::Request&) {
        json::Builder b;
        b.w.StartObject();
        b.field("code", codes.issue());
        b.key("expires_in_s");
        b.w.Int64(SigninCodes::k_lifetime.count());
        b.w.EndObject();
        return api::json_response(201, b.str());
    });
    router.add(
        "POST", "/v1/signin",
        [&codes, &token](api::Request& r) {
            auto doc = json::parse(r.body.empty() ? std::string_view("{}") : std::string_view(r.body));
            if (!doc) return api::error_response(400, "bad_json", doc.error().message);
            auto code = doc->IsObject() ? json::get_string(*doc, "code") : std::nullopt;
            if (!code || code->empty())
                return api::error_response(400, "bad_request", "code: required, the code of a `fitbridge open` URL");
            if (!codes.redeem(*code))
                return api::error_response(401, "invalid_code",
                                           "this sign-in link is unknown, used or expired: run `fitbridge open` again "
                                           "or paste the API token");
            // The page keeps the token in its session storage from here on.
            json::Builder b;
            b.w.StartObject();
            b.field("token", token);
            b.w.EndObject();
            return api::json_response(200, b.str());
        },
        true);
}

}  // namespace fitbridge::app
