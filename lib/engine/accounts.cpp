// Per-account health: stored credentials, needs_reauth, rate-limit and
// outage pauses, and the account views behind GET /v1/accounts.

#include <fmt/format.h>

#include "core/log.hpp"
#include "core/time.hpp"
#include "engine/parts.hpp"

namespace fitbridge::engine {

std::vector<AccountView> Engine::accounts() {
    std::vector<AccountView> out;
    const auto now = std::chrono::steady_clock::now();
    for (const auto& [id, a] : m_accounts) {
        AccountView v;
        v.id = id;
        v.provider = a->cfg.provider;
        v.capabilities = a->provider ? a->provider->capabilities() : (a->factory ? a->factory->capabilities : 0);
        v.source = (v.capabilities & (providers::k_list_window | providers::k_list_cursor)) != 0;
        v.running = a->provider != nullptr;
        v.create_error = a->create_error;
        if (a->provider) {
            v.ignored = a->provider->ignored();
            v.budget = a->provider->budget();
        }
        if (v.source && a->provider && a->next_poll > now)
            v.next_poll_in_s = std::chrono::duration<double>(a->next_poll - now).count();
        if (auto st = m_ledger.account_state(id)) {
            v.state = st->state;
            v.last_error = st->last_error;
        }
        if (auto src = a->provider ? a->provider->credential_source() : std::nullopt) {
            AccountView::Credentials c;
            c.kind = src->kind;
            c.origin = src->origin;
            if (src->origin == "stored") {
                if (auto meta = m_ledger.credential_meta(id)) {
                    c.kind = meta->kind;
                    c.expires_at = meta->expires_at;
                    c.updated_at = meta->updated_at;
                    c.scope = meta->scope;
                    c.refreshable = meta->has_refresh_token;
                }
            }
            v.credentials = std::move(c);
        } else if (!a->provider && a->factory && a->factory->accept_credentials) {
            // The provider could not start; still say where credentials belong.
            v.credentials = AccountView::Credentials{"unknown", "unknown", {}, {}, {}, false};
        }
        out.push_back(std::move(v));
    }
    return out;
}

Result<void> Engine::set_credentials(const std::string& account, const net::Credentials& credentials) {
    auto it = m_accounts.find(account);
    if (it == m_accounts.end())
        return Error::permanent("engine.unknown_account", fmt::format("no account '{}'", account));
    const auto* factory = it->second->factory;
    if (factory == nullptr || factory->accept_credentials == nullptr)
        return Error::permanent("engine.no_credentials", fmt::format("account '{}' ({}) takes no credentials", account,
                                                                     it->second->cfg.provider));
    if (auto ok = factory->accept_credentials(it->second->cfg, credentials.kind); !ok) return ok.error();
    if (auto saved = m_tokens.save(account, credentials); !saved) return saved.error();
    // A new provider reads the new credentials; the old one's requests are
    // cancelled, and an upload cut short is reconciled by the new loop.
    config::AccountConfig cfg = it->second->cfg;
    stop_account(account);
    m_ledger.set_account_state(account, "ok", std::nullopt);
    start_account(cfg);
    const int replanned = m_ledger.replan_auth_failures(account);
    log::info("account {}: new {} credentials stored{}", account, credentials.kind,
              replanned ? fmt::format("; {} deliveries planned again", replanned) : std::string());
    emit("account.credentials", event_json({{"account", account}, {"kind", credentials.kind}}));
    if (replanned) wake_deliveries();
    retry_failed_backfills(account);
    return {};
}

bool Engine::stored_credentials(const Account& a) {
    auto src = a.provider ? a.provider->credential_source() : std::nullopt;
    return src && src->origin == "stored";
}

bool Engine::needs_reauth(const std::string& account) {
    auto st = m_ledger.account_state(account);
    return st && st->state == "needs_reauth";
}

std::optional<double> Engine::blocked_until(const std::string& account) {
    auto until = m_ledger.account_blocked_until(account);
    if (until && *until > m_ledger.now()) return until;
    return std::nullopt;
}

void Engine::block(const std::string& account, const Error& e) {
    pause(account, static_cast<double>(e.retry_after.value_or(std::chrono::seconds(900)).count()),
          "rate-limited by the platform");
}

void Engine::pause(const std::string& account, double seconds, std::string_view why) {
    const double until = m_ledger.now() + seconds;
    if (until <= m_ledger.account_blocked_until(account).value_or(0)) return;
    m_ledger.set_account_blocked_until(account, until);
    log::warn("account {}: {}; no requests until {}", account, why, format_iso8601(until));
}

}  // namespace fitbridge::engine
