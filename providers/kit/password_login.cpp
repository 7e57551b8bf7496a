#include "providers/kit/password_login.hpp"

#include <cmath>

#include <fmt/format.h>

#include "json/json.hpp"
#include "providers/kit/mapping.hpp"

namespace fitbridge::providers::kit {

namespace {

std::optional<std::string> base64url_decode(std::string_view in) {
    std::string out;
    uint32_t acc = 0;
    int bits = 0;
    for (char c : in) {
        int v = -1;
        if (c >= 'A' && c <= 'Z') v = c - 'A';
        if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
        if (c >= '0' && c <= '9') v = c - '0' + 52;
        if (c == '-' || c == '+') v = 62;
        if (c == '_' || c == '/') v = 63;
        if (c == '=') break;
        if (v < 0) return std::nullopt;
        acc = (acc << 6) | static_cast<uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((acc >> bits) & 0xff));
        }
    }
    return out;
}

}  // namespace

std::optional<rapidjson::Document> jwt_payload(std::string_view token) {
    const auto first = token.find('.');
    const auto second = first == std::string_view::npos ? first : token.find('.', first + 1);
    if (second == std::string_view::npos) return std::nullopt;
    auto payload = base64url_decode(token.substr(first + 1, second - first - 1));
    if (!payload) return std::nullopt;
    auto doc = json::parse(*payload);
    if (!doc || !doc->IsObject()) return std::nullopt;
    return std::move(*doc);
}

std::optional<SysTime> jwt_expiry(std::string_view token) {
    auto doc = jwt_payload(token);
    if (!doc) return std::nullopt;
    auto exp = number_at(*doc, "exp");
    if (!exp || *exp <= 0 || !std::isfinite(*exp)) return std::nullopt;
    return SysTime(std::chrono::seconds(static_cast<int64_t>(*exp)));
}

Task<net::Credentials> password_login(net::HttpClient& http, const Platform& p, const PasswordLogin& login,
                                      const Clock& clock) {
    const std::string name(p.name);
    net::HttpRequest req;
    req.method = "POST";
    req.url = login.url;
    req.headers = login.headers;
    req.headers.emplace_back("Content-Type", "application/json");
    req.headers.emplace_back("Accept", "application/json");
    req.body = login.body;
    req.priority = login.priority;
    auto r = co_await http.send(std::move(req));
    if (!r) co_return r.error();
    const int s = r->status;
    const std::string msg = body_message(r->body);
    if (s == 400 || s == 401 || s == 403 || s == 422)
        co_return Error::auth(name + ".login_refused", fmt::format("{} refused the login ({} {}); check the username "
                                                                   "and the password in password_file",
                                                                   p.title, s, msg));
    if (s < 200 || s >= 300) {
        auto e = net::classify_status(*r, "login", clock).value_or(Error::permanent("", ""));
        e.code = name + (s == 429 ? ".rate_limited" : ".login_failed");
        e.message = s == 429 ? fmt::format("{} rate limit hit during the login (429)", p.title)
                             : fmt::format("{} failed the login ({} {})", p.title, s, msg);
        co_return e;
    }
    auto doc = json::parse(r->body);
    if (!doc || !doc->IsObject())
        co_return Error::permanent(
            name + ".bad_answer",
            fmt::format("{} answered the login with something that is not a JSON object: {}", p.title, msg));
    if (login.refusal)
        if (auto why = login.refusal(*doc))
            co_return Error::auth(name + ".login_refused", fmt::format("{} refused the login: {}", p.title, *why));
    auto token = string_at(*doc, login.token_path);
    if (!token || token->empty())
        co_return Error::permanent(name + ".bad_answer", fmt::format("{} answered the login without {} (the API may "
                                                                     "have changed)",
                                                                     p.title, login.token_path));
    net::Credentials c;
    c.kind = "login";
    c.access_token = *token;
    if (!login.refresh_path.empty()) c.refresh_token = string_at(*doc, login.refresh_path).value_or("");
    if (!login.expires_in_path.empty())
        if (auto in = number_at(*doc, login.expires_in_path); in && *in > 0)
            c.expires_at = clock.now() + std::chrono::seconds(static_cast<int64_t>(*in));
    // A JWT's own expiry, unless it is (nearly) over already: a skewed clock
    // must not make every request log in again.
    if (auto exp = jwt_expiry(c.access_token); !c.expires_at && exp && *exp > clock.now() + std::chrono::minutes(5))
        c.expires_at = exp;
    if (!c.expires_at && login.lifetime) c.expires_at = clock.now() + *login.lifetime;
    co_return c;
}

}  // namespace fitbridge::providers::kit
