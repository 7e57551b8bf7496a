#include "providers/kit/password_grant.hpp"

#include <fmt/format.h>

#include "json/json.hpp"
#include "net/url.hpp"
#include "providers/kit/platform.hpp"

namespace fitbridge::providers::kit {

namespace {

Task<net::Credentials> token_call(net::HttpClient& http, const PasswordGrant& g,
                                  std::vector<std::pair<std::string, std::string>> form, const Clock& clock,
                                  const net::Credentials* previous, std::string_view what, std::string_view refused) {
    form.emplace_back("client_id", g.client_id);
    if (!g.client_secret.empty()) form.emplace_back("client_secret", g.client_secret);
    if (!g.scope.empty()) form.emplace_back("scope", g.scope);
    net::HttpRequest req;
    req.method = "POST";
    req.url = g.token_url;
    req.priority = g.priority;
    req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}};
    req.body = net::form_encode(form);
    auto sent = co_await http.send(std::move(req));
    if (!sent) co_return sent.error();
    const int s = sent->status;
    if (s == 400 || s == 401 || s == 403)
        co_return Error::auth(fmt::format("{}.{}", g.platform, refused),
                              fmt::format("{} refused the {}: {}", g.title, what, token_refusal(sent->body)));
    if (auto e = net::classify_status(*sent, what, clock)) {
        e->code = fmt::format("{}.{}", g.platform, e->cls == ErrorClass::transient ? "unavailable" : "login");
        e->message = fmt::format("{} failed the {} ({} {})", g.title, what, s, body_message(sent->body));
        co_return *e;
    }
    auto parsed = net::parse_token_response(*sent, clock.now(), previous);
    if (!parsed)
        co_return Error::transient(
            fmt::format("{}.bad_answer", g.platform),
            fmt::format("{} answered the {} without a usable token: {}", g.title, what, parsed.error().message));
    co_return std::move(*parsed);
}

}  // namespace

std::string token_refusal(std::string_view body) {
    auto doc = json::parse(body);
    if (!doc || !doc->IsObject()) return body_message(body);
    const auto error = json::get_string(*doc, "error").value_or("");
    const auto description = json::get_string(*doc, "error_description").value_or("");
    if (!description.empty() && !error.empty()) return fmt::format("{} ({})", description, error);
    if (!description.empty()) return description;
    if (!error.empty()) return error;
    return body_message(body);
}

Task<net::Credentials> password_grant(net::HttpClient& http, const PasswordGrant& grant, std::string_view username,
                                      std::string_view password, const Clock& clock) {
    std::vector<std::pair<std::string, std::string>> form{
        {"grant_type", "password"}, {"username", std::string(username)}, {"password", std::string(password)}};
    const std::string what = fmt::format("login of {}", username);
    co_return co_await token_call(http, grant, std::move(form), clock, nullptr, what, "invalid_grant");
}

Task<net::Credentials> refresh_grant(net::HttpClient& http, const PasswordGrant& grant, const net::Credentials& current,
                                     const Clock& clock) {
    std::vector<std::pair<std::string, std::string>> form{{"grant_type", "refresh_token"},
                                                          {"refresh_token", current.refresh_token}};
    co_return co_await token_call(http, grant, std::move(form), clock, &current, "token refresh", "refresh_refused");
}

}  // namespace fitbridge::providers::kit
