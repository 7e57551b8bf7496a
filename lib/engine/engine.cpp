#include "engine/engine.hpp"

#include <SQLiteCpp/Exception.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cmath>
#include <deque>
#include <random>

#include "core/files.hpp"
#include "core/hash.hpp"
#include "core/log.hpp"
#include "core/time.hpp"
#include "formats/decode.hpp"
#include "json/json.hpp"
#include "pipeline/match.hpp"
#include "pipeline/plan.hpp"
#include "pipeline/reason.hpp"

namespace fitbridge::engine {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using pipeline::Reason;

namespace {

std::string reason_name(Reason r) { return std::string(pipeline::to_string(r)); }

// Where a copy's decoded values live in the ledger.
std::optional<double> opt_positive(const std::optional<double>& v) {
    if (v && *v > 0) return v;
    return std::nullopt;
}

double jitter_factor() {
    static thread_local std::mt19937 rng{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.9, 1.1)(rng);
}

// Exponential backoff with full jitter, 30 s doubling, capped at 6 h.
double backoff_seconds(int64_t attempts) {
    static thread_local std::mt19937 rng{std::random_device{}()};
    double cap = std::min(30.0 * std::pow(2.0, static_cast<double>(std::min<int64_t>(attempts, 20))), 6 * 3600.0);
    return std::uniform_real_distribution<double>(cap / 2, cap)(rng);
}

pipeline::Facts facts_of(const store::ActivityRow& a, const std::vector<store::LinkRow>& links) {
    pipeline::Facts f;
    f.activity_id = a.id;
    f.content_sha256.push_back(a.content_sha256);
    for (const auto& l : links) {
        if (!l.content_sha256.empty()) f.content_sha256.push_back(l.content_sha256);
        f.records = std::max(f.records, l.records);
    }
    f.start_time = a.start_time;
    f.sport_family = a.sport_family;
    f.elapsed_s = opt_positive(a.elapsed_s);
    f.distance_m = opt_positive(a.distance_m);
    // Positions live in the stored summary.
    auto doc = json::parse(a.summary);
    if (doc && doc->IsObject()) {
        auto fl = json::get_number(*doc, "first_lat"), fo = json::get_number(*doc, "first_lon");
        auto ll = json::get_number(*doc, "last_lat"), lo = json::get_number(*doc, "last_lon");
        if (fl && fo) f.first_position = std::make_pair(*fl, *fo);
        if (ll && lo) f.last_position = std::make_pair(*ll, *lo);
    }
    return f;
}

std::string event_json(std::initializer_list<std::pair<std::string_view, std::string>> fields) {
    json::Builder b;
    b.w.StartObject();
    for (const auto& [k, v] : fields) {
        b.key(k);
        b.string(v);
    }
    b.w.EndObject();
    return b.str();
}

}  // namespace

struct Engine::Wake {
    explicit Wake(asio::any_io_executor ex) : timer(ex) {}
    asio::steady_timer timer;
    bool pending = false;
    void notify() {
        pending = true;
        timer.cancel();
    }
    // Sleeps until notified or `d` passes.
    awaitable<void> wait(std::chrono::steady_clock::duration d) {
        if (pending) {
            pending = false;
            co_return;
        }
        timer.expires_after(d);
        boost::system::error_code ec;
        co_await timer.async_wait(asio::redirect_error(use_awaitable, ec));
        pending = false;
    }
};

struct Engine::Account {
    Account(asio::any_io_executor ex, config::AccountConfig c) : cfg(std::move(c)), wake(ex) {}
    config::AccountConfig cfg;
    const providers::Factory* factory = nullptr;
    std::unique_ptr<providers::Provider> provider;
    std::optional<std::string> create_error;
    Wake wake;
    std::deque<int64_t> queued_jobs;
    bool stopped = false;
    bool busy = false;
    bool read_from = false;  // polled: a route reads from it, or it is the name authority
    bool reauth_logged = false;
    std::chrono::steady_clock::time_point next_poll{};
};

Engine::Engine(asio::any_io_executor executor, store::Store& store, const Clock& clock, std::filesystem::path state_dir,
               FactoryLookup factories)
    : m_executor(std::move(executor)),
      m_store(store),
      m_ledger(store, clock),
      m_tokens(store, clock),
      m_cursors(store, clock),
      m_clock(clock),
      m_state_dir(std::move(state_dir)),
      m_factories(std::move(factories)),
      m_delivery_wake(std::make_unique<Wake>(m_executor)) {}

Engine::~Engine() { stop(); }

void Engine::stop() {
    if (m_stopping) return;
    m_stopping = true;
    for (auto& [id, a] : m_accounts) {
        a->stopped = true;
        if (a->provider) a->provider->shutdown();
        a->wake.notify();
    }
    m_delivery_wake->notify();
}

int Engine::add_listener(EventListener listener) {
    int id = m_next_listener++;
    m_listeners.emplace(id, std::move(listener));
    return id;
}

void Engine::remove_listener(int id) { m_listeners.erase(id); }

void Engine::emit(const std::string& type, const std::string& data_json) {
    store::EventRow e;
    e.type = type;
    e.data = data_json;
    e.at = m_ledger.now();
    e.id = m_ledger.append_event(type, data_json);
    if (e.id % 1000 == 0) m_ledger.prune_events(10000);
    // Listeners may remove themselves while being called.
    auto copy = m_listeners;
    for (auto& [id, l] : copy) l(e);
}

// ---- configuration ----------------------------------------------------------

namespace {
bool reads_from(const config::Config& c, const std::string& id) {
    return id == c.sync.name_authority || std::any_of(c.routes.begin(), c.routes.end(), [&](const auto& r) {
               return std::find(r.from.begin(), r.from.end(), id) != r.from.end();
           });
}

bool same_account(const config::AccountConfig& a, const config::AccountConfig& b) {
    return a.provider == b.provider && a.poll_interval_s == b.poll_interval_s && a.enabled == b.enabled &&
           a.options == b.options && a.list_options == b.list_options;
}
}  // namespace

void Engine::start_account(const config::AccountConfig& cfg) {
    auto a = std::make_shared<Account>(m_executor, cfg);
    a->factory = m_factories(cfg.provider);
    if (!cfg.enabled) {
        a->create_error = "disabled in the configuration";
    } else if (a->factory == nullptr) {
        a->create_error = fmt::format("unknown provider '{}'", cfg.provider);
    } else {
        providers::Context ctx{m_executor, &m_clock,  m_state_dir, &m_cfg, shared_http(*a->factory),
                               &m_tokens,  &m_cursors};
        auto p = a->factory->create(cfg, ctx);
        if (p) {
            a->provider = std::move(*p);
        } else {
            a->create_error = p.error().message;
            m_ledger.set_account_state(cfg.id, "error", p.error().message);
            log::error("account {}: {}", cfg.id, p.error().message);
        }
    }
    m_accounts[cfg.id] = a;
    // Poll only what routes read from (and the name authority): listing a
    // sink nobody reads from would spend its quota for nothing.
    a->read_from = reads_from(m_cfg, cfg.id);
    if (a->provider && a->read_from &&
        (a->provider->capabilities() & (providers::k_list_window | providers::k_list_cursor))) {
        if (a->provider->capabilities() & providers::k_watch) {
            std::weak_ptr<Account> w = a;
            a->provider->watch([w]() {
                if (auto acc = w.lock()) {
                    acc->next_poll = std::chrono::steady_clock::now();
                    acc->wake.notify();
                }
            });
        }
        asio::co_spawn(m_executor, poll_loop(a), asio::detached);
    }
}

void Engine::stop_account(const std::string& id) {
    auto it = m_accounts.find(id);
    if (it == m_accounts.end()) return;
    it->second->stopped = true;
    if (it->second->provider) it->second->provider->shutdown();
    it->second->wake.notify();
    m_accounts.erase(it);
}

void Engine::configure(const config::Config& cfg) {
    m_cfg = cfg;
    std::vector<std::string> gone;
    for (const auto& [id, a] : m_accounts) {
        auto it = std::find_if(cfg.accounts.begin(), cfg.accounts.end(),
                               [&](const config::AccountConfig& c) { return c.id == id; });
        if (it == cfg.accounts.end() || !same_account(a->cfg, *it) || a->read_from != reads_from(cfg, id))
            gone.push_back(id);
    }
    for (const auto& id : gone) stop_account(id);
    for (const auto& c : cfg.accounts)
        if (!m_accounts.count(c.id)) start_account(c);
    if (!m_started) {
        m_started = true;
        remove_stale_temp_files();
        asio::co_spawn(m_executor, reconcile(), asio::detached);
        for (const auto& job : m_ledger.unfinished_jobs()) {
            // Jobs survive restarts: run them again from the start.
            if (job.kind == "sync" && job.account_id && m_accounts.count(*job.account_id)) {
                m_ledger.update_job(job.id, "queued", 0, std::nullopt, std::nullopt);
                m_accounts[*job.account_id]->queued_jobs.push_back(job.id);
                m_accounts[*job.account_id]->wake.notify();
            } else if (job.kind == "backfill") {
                auto doc = json::parse(job.params);
                providers::ListQuery q;
                std::vector<std::string> accounts;
                if (doc && doc->IsObject()) {
                    q.since = json::get_number(*doc, "since");
                    q.until = json::get_number(*doc, "until");
                    if (doc->HasMember("accounts") && (*doc)["accounts"].IsArray())
                        for (const auto& v : (*doc)["accounts"].GetArray())
                            if (v.IsString()) accounts.emplace_back(v.GetString());
                }
                m_ledger.update_job(job.id, "queued", 0, std::nullopt, std::nullopt);
                asio::co_spawn(m_executor, run_backfill(job.id, accounts, q), asio::detached);
            } else {
                m_ledger.update_job(job.id, "cancelled", job.done, job.total,
                                    std::string("its account is no longer configured"));
            }
        }
    } else {
        replan_all();
        wake_deliveries();
    }
}

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
        if (a->provider) v.ignored = a->provider->ignored();
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

// A kill during store_original() can leave a temp file beside the originals;
// the original itself is rewritten on the next ingest.
void Engine::remove_stale_temp_files() {
    std::error_code ec;
    auto root = m_state_dir / "originals";
    if (!std::filesystem::exists(root, ec)) return;
    for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_regular_file(ec) && it->path().filename().string().find(".tmp-") != std::string::npos) {
            std::filesystem::remove(it->path(), ec);
            log::info("removed stale temp file {}", it->path().string());
        }
    }
}

// ---- polling and ingest -----------------------------------------------------

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

bool Engine::stored_credentials(const Account& a) {
    auto src = a.provider ? a.provider->credential_source() : std::nullopt;
    return src && src->origin == "stored";
}

bool Engine::needs_reauth(const std::string& account) {
    auto st = m_ledger.account_state(account);
    return st && st->state == "needs_reauth";
}

awaitable<void> Engine::poll_loop(std::shared_ptr<Account> a) {
    a->next_poll = std::chrono::steady_clock::now();
    while (!a->stopped && !m_stopping) {
        if (!a->queued_jobs.empty()) {
            int64_t job = a->queued_jobs.front();
            a->queued_jobs.pop_front();
            co_await run_sync(a, job, {});
            continue;
        }
        if (std::chrono::steady_clock::now() >= a->next_poll && stored_credentials(*a) && needs_reauth(a->cfg.id)) {
            // Stored credentials that were refused stay refused: wait for new
            // ones (set_credentials restarts the account) or a manual sync. A
            // secret file is read at every request, so those accounts keep
            // their polls and heal as soon as the file is fixed.
            if (!a->reauth_logged)
                log::warn("account {}: needs re-authorisation; periodic polls paused until its credentials are fixed",
                          a->cfg.id);
            a->reauth_logged = true;
            a->next_poll = std::chrono::steady_clock::now() + std::chrono::seconds(a->cfg.poll_interval_s);
        } else if (std::chrono::steady_clock::now() >= a->next_poll) {
            a->reauth_logged = false;
            co_await run_sync(a, std::nullopt, {});
            if (a->stopped || m_stopping) break;
            auto interval =
                std::chrono::duration<double>(static_cast<double>(a->cfg.poll_interval_s) * jitter_factor());
            a->next_poll = std::chrono::steady_clock::now() +
                           std::chrono::duration_cast<std::chrono::steady_clock::duration>(interval);
            // Files still settling: look again soon rather than at the next poll.
            for (const auto& ig : a->provider->ignored()) {
                if (ig.reason == "unstable") {
                    a->next_poll = std::min(a->next_poll, std::chrono::steady_clock::now() + std::chrono::seconds(2));
                    break;
                }
            }
        }
        co_await a->wake.wait(a->next_poll - std::chrono::steady_clock::now());
    }
}

awaitable<void> Engine::run_sync(std::shared_ptr<Account> a, std::optional<int64_t> job_id,
                                 providers::ListQuery query) {
    a->busy = true;
    if (job_id) {
        m_ledger.update_job(*job_id, "running", 0, std::nullopt, std::nullopt);
        emit("job.updated", event_json({{"job", std::to_string(*job_id)}, {"state", "running"}}));
    }
    int64_t done = 0, total = 0;
    std::optional<std::string> error;
    std::optional<std::string> cursor;
    // The platform asked for a pause (persisted, so it outlives restarts):
    // asking again before it ends would only be refused, or lengthen it.
    if (auto until = blocked_until(a->cfg.id)) {
        error = fmt::format("rate-limited by the platform until {}", format_iso8601(*until));
    }
    do {
        if (error) break;
        query.cursor = cursor;
        auto page = co_await a->provider->list(query);
        if (a->stopped || m_stopping) break;
        if (!page) {
            error = page.error().message;
            log::warn("account {}: listing failed: {}", a->cfg.id, page.error().message);
            if (page.error().cls == ErrorClass::auth)
                m_ledger.set_account_state(a->cfg.id, "needs_reauth", page.error().message);
            if (page.error().cls == ErrorClass::rate_limited) block(a->cfg.id, page.error());
            break;
        }
        total += static_cast<int64_t>(page->items.size());
        for (auto& item : page->items) {
            if (a->stopped || m_stopping) break;
            co_await ingest_item(a, std::move(item));
            ++done;
            if (job_id && done % 10 == 0) m_ledger.update_job(*job_id, "running", done, total, std::nullopt);
        }
        cursor = page->next_cursor;
    } while (cursor && !a->stopped && !m_stopping);
    if (!m_stopping && !a->stopped) m_ledger.set_account_polled(a->cfg.id, error);
    if (job_id) {
        std::string state = m_stopping || a->stopped ? "queued" : (error ? "failed" : "done");
        m_ledger.update_job(*job_id, state, done, total, error);
        emit("job.updated", event_json({{"job", std::to_string(*job_id)}, {"state", state}}));
    }
    a->busy = false;
}

awaitable<void> Engine::run_backfill(int64_t job_id, std::vector<std::string> accounts, providers::ListQuery query) {
    m_ledger.update_job(job_id, "running", 0, std::nullopt, std::nullopt);
    emit("job.updated", event_json({{"job", std::to_string(job_id)}, {"state", "running"}}));
    int64_t done = 0, total = 0;
    std::optional<std::string> error;
    for (const auto& id : accounts) {
        auto it = m_accounts.find(id);
        if (it == m_accounts.end() || !it->second->provider) {
            error = fmt::format("account '{}' is not running", id);
            continue;
        }
        auto a = it->second;
        std::optional<std::string> cursor;
        query.backfill = true;  // spends only what live polling leaves of the platform's budget
        for (;;) {
            // A rate-limit pause is waited out, not a failure: history can wait.
            if (auto until = blocked_until(id)) {
                m_ledger.update_job(
                    job_id, "running", done, total,
                    fmt::format("{}: waiting for the platform's rate limit until {}", id, format_iso8601(*until)));
                asio::steady_timer t(m_executor);
                t.expires_after(std::chrono::seconds(1));
                boost::system::error_code ec;
                co_await t.async_wait(asio::redirect_error(use_awaitable, ec));
                if (m_stopping) co_return;
                continue;
            }
            query.cursor = cursor;
            auto page = co_await a->provider->list(query);
            if (m_stopping) co_return;  // stays running/queued: resumed at next start
            if (!page && page.error().cls == ErrorClass::rate_limited) {
                block(id, page.error());
                continue;  // the same page again once the pause is over
            }
            if (!page) {
                error = fmt::format("{}: {}", id, page.error().message);
                break;
            }
            total += static_cast<int64_t>(page->items.size());
            m_ledger.update_job(job_id, "running", done, total, std::nullopt);
            for (auto& item : page->items) {
                if (m_stopping) co_return;
                item.backfill = true;  // its download spends the backfill share too
                co_await ingest_item(a, std::move(item));
                ++done;
                if (done % 10 == 0) m_ledger.update_job(job_id, "running", done, total, std::nullopt);
            }
            cursor = page->next_cursor;
            if (!cursor) break;
        }
    }
    std::string state = error ? "failed" : "done";
    m_ledger.update_job(job_id, state, done, total, error);
    emit("job.updated", event_json({{"job", std::to_string(job_id)}, {"state", state}}));
}

awaitable<void> Engine::propagate_name(int64_t activity_id, std::string name, std::string authority) {
    m_ledger.set_activity_name(activity_id, name);
    emit("activity.renamed",
         event_json({{"activity", std::to_string(activity_id)}, {"name", name}, {"by", authority}}));
    for (const auto& l : m_ledger.links(activity_id)) {
        if (l.account_id == authority) continue;
        auto it = m_accounts.find(l.account_id);
        if (it == m_accounts.end() || !it->second->provider ||
            !(it->second->provider->capabilities() & providers::k_update_name))
            continue;
        auto r = co_await it->second->provider->update_name(l.remote_id, name);
        if (m_stopping) co_return;
        if (!r) {
            log::warn("activity {}: renaming on {} failed: {}", activity_id, l.account_id, r.error().message);
            emit("activity.rename_failed", event_json({{"activity", std::to_string(activity_id)},
                                                       {"account", l.account_id},
                                                       {"detail", r.error().message}}));
        }
    }
}

awaitable<bool> Engine::ingest_item(std::shared_ptr<Account> a, providers::RemoteActivity item) {
    // Already linked (an earlier ingest, or a copy FitBridge delivered there):
    // nothing to fetch; the name authority's renames flow to the other copies.
    if (auto link = m_ledger.link_by_remote(a->cfg.id, item.remote_id)) {
        if (!m_ledger.source_item(a->cfg.id, item.remote_id)) {
            store::SourceItem rec;
            rec.account_id = a->cfg.id;
            rec.remote_id = item.remote_id;
            rec.state = "ingested";
            rec.origin = item.origin;
            rec.name = item.name;
            rec.activity_id = link->activity_id;
            rec.attempts = 1;
            rec.seen_at = m_ledger.now();
            m_ledger.put_source_item(rec);
        }
        auto act = m_ledger.activity(link->activity_id);
        if (act && a->cfg.id == m_cfg.sync.name_authority && !item.name.empty() && item.name != act->name)
            co_await propagate_name(act->id, item.name, a->cfg.id);
        co_return true;
    }
    auto seen = m_ledger.source_item(a->cfg.id, item.remote_id);
    // Seen before: never processed again, unless fetching it failed.
    if (seen && !(seen->state == "failed" && seen->reason == reason_name(Reason::download_failed))) co_return true;
    store::SourceItem rec;
    rec.account_id = a->cfg.id;
    rec.remote_id = item.remote_id;
    rec.origin = item.origin;
    rec.name = item.name;
    rec.seen_at = m_ledger.now();
    rec.attempts = seen ? seen->attempts + 1 : 1;
    if (item.unavailable_reason) {
        rec.state = "skipped";
        rec.reason = reason_name(Reason::unavailable);
        rec.detail = item.unavailable_reason;
        m_ledger.put_source_item(rec);
        emit("item.skipped", event_json({{"account", a->cfg.id}, {"item", item.remote_id}, {"reason", *rec.reason}}));
        co_return true;
    }
    auto bytes = co_await a->provider->download(item);
    if (m_stopping || a->stopped) co_return false;
    if (!bytes) {
        rec.state = "failed";
        rec.reason = reason_name(Reason::download_failed);
        rec.detail = bytes.error().message;
        m_ledger.put_source_item(rec);
        emit("item.failed",
             event_json(
                 {{"account", a->cfg.id}, {"item", item.remote_id}, {"reason", *rec.reason}, {"detail", *rec.detail}}));
        co_return false;
    }
    auto span = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size());
    auto summary = formats::decode(span);
    if (!summary.ok || !summary.is_activity) {
        rec.state = summary.ok ? "skipped" : "failed";
        rec.reason = reason_name(summary.ok ? Reason::not_an_activity : Reason::decode_failed);
        rec.detail = summary.ok ? summary.not_activity_reason : summary.error;
        m_ledger.put_source_item(rec);
        emit(summary.ok ? "item.skipped" : "item.failed", event_json({{"account", a->cfg.id},
                                                                      {"item", item.remote_id},
                                                                      {"reason", *rec.reason},
                                                                      {"detail", rec.detail.value_or("")}}));
        co_return true;
    }
    ingest_decoded(*a, item, *bytes, summary);
    co_return true;
}

std::string Engine::store_original(const std::string& bytes, const formats::Summary& s) {
    auto dir = m_state_dir / "originals" / s.content_sha256.substr(0, 2);
    auto path = dir / (s.content_sha256 + "." + std::string(formats::format_name(s.format, s.gzipped)));
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) return path.string();
    std::filesystem::create_directories(dir, ec);
    auto w = write_file_atomic(path, bytes, 0600, /*overwrite=*/false);
    if (!w && w.error().code != "io.exists") throw std::runtime_error(w.error().message);
    return path.string();
}

void Engine::ingest_decoded(const Account& a, const providers::RemoteActivity& item, const std::string& bytes,
                            const formats::Summary& s) {
    // The original first (content-addressed, idempotent), then one transaction.
    const auto original = store_original(bytes, s);
    const auto summary_json = formats::to_json(s, item.origin.empty() ? item.name : item.origin);
    const double now = m_ledger.now();
    auto tx = m_ledger.transaction();
    if (auto again = m_ledger.source_item(a.cfg.id, item.remote_id); again && again->state == "ingested") return;

    pipeline::Facts incoming;
    incoming.content_sha256 = {s.content_sha256};
    incoming.start_time = s.start_time;
    incoming.sport_family = s.sport_family;
    incoming.elapsed_s = opt_positive(s.total_elapsed_time);
    incoming.distance_m = opt_positive(s.total_distance);
    incoming.records = s.records;
    if (s.first_lat && s.first_lon) incoming.first_position = std::make_pair(*s.first_lat, *s.first_lon);
    if (s.last_lat && s.last_lon) incoming.last_position = std::make_pair(*s.last_lat, *s.last_lon);

    std::vector<pipeline::Facts> known;
    if (auto by_hash = m_ledger.activity_by_content(s.content_sha256)) {
        auto act = m_ledger.activity(*by_hash);
        if (act) known.push_back(facts_of(*act, m_ledger.links(act->id)));
    } else if (s.start_time) {
        const double window = std::max(m_cfg.sync.match_tolerance_s * 1.0, 14 * 3600.0 + 60);
        for (const auto& act : m_ledger.activities_between(*s.start_time - window, *s.start_time + window))
            known.push_back(facts_of(act, m_ledger.links(act.id)));
    }
    pipeline::MatchOptions mo{static_cast<double>(m_cfg.sync.match_tolerance_s), m_cfg.sync.match_duration_ratio};
    auto m = pipeline::match(incoming, known, mo);

    store::LinkRow link;
    link.account_id = a.cfg.id;
    link.remote_id = item.remote_id;
    link.content_sha256 = s.content_sha256;
    link.original_path = original;
    link.records = s.records;
    link.has_power = s.has_power;
    link.has_hr = s.has_hr;
    link.created_at = now;

    int64_t activity_id = 0;
    bool matched = m.kind == pipeline::MatchKind::exact || m.kind == pipeline::MatchKind::time ||
                   m.kind == pipeline::MatchKind::time_shifted;
    if (matched) {
        activity_id = m.activity_ids.front();
        link.activity_id = activity_id;
        link.matched_by = std::string(pipeline::to_string(m.kind));
        link.confidence = m.confidence;
        link.id = m_ledger.insert_link(link);
        // Deliver the richer copy, unless a delivery already used the other.
        auto act = m_ledger.activity(activity_id);
        bool committed = false;
        for (const auto& d : m_ledger.deliveries(activity_id))
            committed |= d.state == "in_flight" || d.state == "delivered" || d.state == "duplicate";
        if (act && !committed && m.kind != pipeline::MatchKind::time_shifted) {
            pipeline::Richness current{};
            for (const auto& l : m_ledger.links(activity_id))
                if (l.content_sha256 == act->content_sha256 && l.id != link.id)
                    current = {l.has_power, l.has_hr, l.records};
            if (pipeline::richer({s.has_power, s.has_hr, s.records}, current))
                m_ledger.update_activity_choice(activity_id, link, summary_json, s.start_time, s.sport_family,
                                                s.total_elapsed_time, s.total_distance);
        }
    } else {
        store::ActivityRow act;
        act.content_sha256 = s.content_sha256;
        act.start_time = s.start_time;
        act.sport_family = s.sport_family;
        act.elapsed_s = s.total_elapsed_time;
        act.distance_m = s.total_distance;
        act.name = item.name;
        act.summary = summary_json;
        act.original_path = original;
        act.created_at = now;
        if (m.kind == pipeline::MatchKind::ambiguous) {
            std::string ids = "[";
            for (size_t i = 0; i < m.activity_ids.size(); ++i)
                ids += (i ? "," : "") + std::to_string(m.activity_ids[i]);
            act.ambiguous_with = ids + "]";
        }
        activity_id = m_ledger.insert_activity(act);
        link.activity_id = activity_id;
        link.matched_by = "origin";
        link.id = m_ledger.insert_link(link);
        m_ledger.update_activity_choice(activity_id, link, summary_json, s.start_time, s.sport_family,
                                        s.total_elapsed_time, s.total_distance);
    }
    store::SourceItem rec;
    rec.account_id = a.cfg.id;
    rec.remote_id = item.remote_id;
    rec.state = "ingested";
    rec.origin = item.origin;
    rec.name = item.name;
    rec.activity_id = activity_id;
    rec.attempts = 1;
    rec.seen_at = now;
    if (m.kind == pipeline::MatchKind::ambiguous) {
        rec.reason = reason_name(Reason::ambiguous_match);
        rec.detail = fmt::format("could be activity {}", fmt::join(m.activity_ids, " or "));
    }
    m_ledger.put_source_item(rec);
    replan(activity_id);
    tx.commit();
    emit("activity.ingested",
         event_json({{"activity", std::to_string(activity_id)},
                     {"account", a.cfg.id},
                     {"item", item.remote_id},
                     {"matched_by", matched ? std::string(pipeline::to_string(m.kind)) : std::string("new")}}));
    wake_deliveries();
}

void Engine::replan(int64_t activity_id) {
    auto act = m_ledger.activity(activity_id);
    if (!act) return;
    pipeline::ActivityFacts f;
    f.start_time = act->start_time;
    f.sport_family = act->sport_family;
    f.ambiguous = act->ambiguous_with.has_value();
    for (const auto& l : m_ledger.links(activity_id)) {
        if (l.matched_by == "delivered") continue;  // copies FitBridge put there itself
        f.accounts.push_back(l.account_id);
    }
    for (const auto& p : pipeline::plan(f, m_cfg.routes)) {
        m_ledger.ensure_delivery(activity_id, p.sink, p.skipped ? "skipped" : "planned",
                                 p.skipped ? std::optional<std::string>(reason_name(*p.skipped)) : std::nullopt);
    }
}

void Engine::replan_all() {
    auto tx = m_ledger.transaction();
    for (auto id : m_ledger.all_activity_ids()) replan(id);
    tx.commit();
}

// ---- delivery ---------------------------------------------------------------

void Engine::wake_deliveries() { m_delivery_wake->notify(); }

awaitable<void> Engine::reconcile() {
    // Deliveries that were in flight when the process died: ask the sink
    // whether it has them before trying again.
    for (const auto& d : m_ledger.deliveries_in_state("in_flight")) {
        auto it = m_accounts.find(d.sink_id);
        auto act = m_ledger.activity(d.activity_id);
        if (it == m_accounts.end() || !it->second->provider || !act) continue;
        auto bytes = read_file(act->original_path);
        if (!bytes) {
            m_ledger.set_delivery(d.id, "planned", std::nullopt, std::nullopt, std::nullopt, std::nullopt, false);
            continue;
        }
        auto summary =
            formats::decode(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size()));
        providers::UploadRequest req{
            std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size()), &summary,
            act->name, fmt::format("fitbridge-{}", act->content_sha256.substr(0, 16))};
        auto found = co_await it->second->provider->find_existing(req);
        if (m_stopping) co_return;
        if (found && *found) {
            m_ledger.set_delivery(d.id, "delivered", **found, std::string("reconciled"),
                                  std::string("found on the sink after a restart"), std::nullopt, false);
            log::info("delivery {}: found on {} after restart ({})", d.id, d.sink_id, **found);
        } else {
            m_ledger.set_delivery(d.id, "planned", std::nullopt, std::nullopt, std::nullopt, std::nullopt, false);
        }
    }
    replan_all();
    asio::co_spawn(m_executor, delivery_loop(), asio::detached);
}

awaitable<void> Engine::delivery_loop() {
    while (!m_stopping) {
        const double now = m_ledger.now();
        auto due = m_ledger.due_deliveries(now, 256);
        bool progressed = false;
        // What is due but waits (a paused sink) must not make this loop spin:
        // sleep until the next future retry or the end of the earliest pause.
        double wake_at = now + 3600;
        std::map<std::string, std::optional<double>> paused;
        for (const auto& d : due) {
            if (m_stopping) co_return;
            auto it = m_accounts.find(d.sink_id);
            if (it == m_accounts.end() || !it->second->provider) continue;  // sink not running: wait for it
            auto [p, fresh] = paused.try_emplace(d.sink_id);
            if (fresh) p->second = blocked_until(d.sink_id);
            if (p->second) {
                wake_at = std::min(wake_at, *p->second);
                continue;
            }
            co_await deliver(d);
            progressed = true;
            paused.erase(d.sink_id);  // the delivery may have paused (or unpaused) it
        }
        if (progressed) continue;
        if (auto next = m_ledger.next_retry_at(now)) wake_at = std::min(wake_at, *next);
        double wait_s = std::clamp(wake_at - m_ledger.now(), 0.05, 3600.0);
        co_await m_delivery_wake->wait(std::chrono::milliseconds(static_cast<int64_t>(wait_s * 1000)));
    }
}

awaitable<void> Engine::deliver(store::DeliveryRow d) {
    auto sink = m_accounts.at(d.sink_id);
    auto act = m_ledger.activity(d.activity_id);
    if (!act) co_return;
    auto set = [&](const std::string& state, std::optional<std::string> remote, std::optional<Reason> reason,
                   std::optional<std::string> message, std::optional<double> retry_at, bool attempt) {
        m_ledger.set_delivery(d.id, state, remote,
                              reason ? std::optional<std::string>(reason_name(*reason)) : std::nullopt, message,
                              retry_at, attempt);
        emit("delivery.updated", event_json({{"delivery", std::to_string(d.id)},
                                             {"activity", std::to_string(d.activity_id)},
                                             {"sink", d.sink_id},
                                             {"state", state},
                                             {"reason", reason ? reason_name(*reason) : std::string()}}));
    };
    if (!(sink->provider->capabilities() & providers::k_upload)) {
        set("skipped", std::nullopt, Reason::sink_unsupported, std::nullopt, std::nullopt, false);
        co_return;
    }
    auto bytes = read_file(act->original_path);
    if (!bytes) {
        set("failed", std::nullopt, Reason::original_missing, bytes.error().message, std::nullopt, false);
        co_return;
    }
    auto span = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size());
    auto summary = formats::decode(span);
    providers::UploadRequest req{span, &summary, act->name,
                                 fmt::format("fitbridge-{}", act->content_sha256.substr(0, 16))};
    // The intent is durable before the upload starts: a crash from here on
    // leaves "in_flight", which the next start reconciles against the sink.
    set("in_flight", std::nullopt, std::nullopt, std::nullopt, std::nullopt, true);
    auto r = co_await sink->provider->upload(req);
    if (m_stopping && !r) co_return;  // leave in_flight; reconciled at the next start
    if (r) {
        auto tx = m_ledger.transaction();
        set(r->duplicate ? "duplicate" : "delivered", r->remote_id, std::nullopt, std::nullopt, std::nullopt, false);
        // The sink took it: whatever credentials problem it had is over, and
        // what waited out an outage there can go now rather than at its backoff.
        if (needs_reauth(d.sink_id)) m_ledger.set_account_state(d.sink_id, "ok", std::nullopt);
        if (m_ledger.release_transient_failures(d.sink_id) > 0) wake_deliveries();
        store::LinkRow l;
        l.activity_id = d.activity_id;
        l.account_id = d.sink_id;
        l.remote_id = r->remote_id;
        l.matched_by = "delivered";
        l.content_sha256 = act->content_sha256;
        l.original_path = act->original_path;
        l.created_at = m_ledger.now();
        try {
            m_ledger.insert_link(l);
        } catch (const SQLite::Exception&) {
            // The sink's id is already linked (a duplicate of a known activity).
        }
        tx.commit();
        co_return;
    }
    const auto& e = r.error();
    const double now = m_ledger.now();
    switch (e.cls) {
        case ErrorClass::transient: {
            const double backoff = backoff_seconds(d.attempts);
            set("failed", std::nullopt, Reason::sink_transient, e.message, now + backoff, false);
            // The sink is likely down for everyone: pause it briefly rather than
            // spend every other delivery's retries on the outage.
            pause(d.sink_id, std::min(backoff, 30.0), "unreachable");
            break;
        }
        case ErrorClass::rate_limited:
            set("failed", std::nullopt, Reason::sink_rate_limited, e.message,
                now + static_cast<double>(e.retry_after.value_or(std::chrono::seconds(900)).count()), false);
            block(d.sink_id, e);  // the other deliveries to this sink wait too
            break;
        case ErrorClass::auth:
            set("failed", std::nullopt, Reason::sink_auth, e.message, now + 3600, false);
            m_ledger.set_account_state(d.sink_id, "needs_reauth", e.message);
            break;
        case ErrorClass::permanent:
        case ErrorClass::fatal:
            set("failed", std::nullopt, Reason::sink_rejected, e.message, std::nullopt, false);
            break;
    }
}

// ---- triggers ---------------------------------------------------------------

Result<int64_t> Engine::trigger_sync(const std::string& account) {
    auto it = m_accounts.find(account);
    if (it == m_accounts.end())
        return Error::permanent("engine.unknown_account", fmt::format("no account '{}'", account));
    auto& a = *it->second;
    if (!a.provider)
        return Error::permanent("engine.account_down",
                                fmt::format("account '{}' is not running: {}", account, a.create_error.value_or("")));
    if (!(a.provider->capabilities() & (providers::k_list_window | providers::k_list_cursor)))
        return Error::permanent("engine.not_a_source", fmt::format("account '{}' is not a source", account));
    store::JobRow j;
    j.kind = "sync";
    j.account_id = account;
    j.state = "queued";
    auto id = m_ledger.create_job(j);
    a.queued_jobs.push_back(id);
    a.wake.notify();
    emit("job.updated", event_json({{"job", std::to_string(id)}, {"state", "queued"}}));
    return id;
}

Result<int64_t> Engine::start_backfill(const std::optional<std::string>& route,
                                       const std::optional<std::string>& account, double since,
                                       std::optional<double> until) {
    std::vector<std::string> accounts;
    if (route) {
        auto it = std::find_if(m_cfg.routes.begin(), m_cfg.routes.end(),
                               [&](const config::RouteConfig& r) { return r.id == *route; });
        if (it == m_cfg.routes.end())
            return Error::permanent("engine.unknown_route", fmt::format("no route '{}'", *route));
        accounts = it->from;
    } else if (account) {
        accounts.push_back(*account);
    } else {
        for (const auto& r : m_cfg.routes)
            for (const auto& f : r.from)
                if (std::find(accounts.begin(), accounts.end(), f) == accounts.end()) accounts.push_back(f);
    }
    for (const auto& id : accounts) {
        auto it = m_accounts.find(id);
        if (it == m_accounts.end())
            return Error::permanent("engine.unknown_account", fmt::format("no account '{}'", id));
        if (!it->second->provider)
            return Error::permanent("engine.account_down", fmt::format("account '{}' is not running", id));
    }
    if (until && *until <= since) return Error::permanent("engine.bad_window", "until must be after since");
    json::Builder b;
    b.w.StartObject();
    b.key("since");
    b.number(since);
    b.key("until");
    b.opt_number(until);
    b.key("accounts");
    b.w.StartArray();
    for (const auto& id : accounts) b.string(id);
    b.w.EndArray();
    b.w.EndObject();
    store::JobRow j;
    j.kind = "backfill";
    j.route_id = route;
    j.account_id = accounts.size() == 1 ? std::optional<std::string>(accounts[0]) : std::nullopt;
    j.state = "queued";
    j.params = b.str();
    auto id = m_ledger.create_job(j);
    providers::ListQuery q;
    q.since = since;
    q.until = until;
    asio::co_spawn(m_executor, run_backfill(id, accounts, q), asio::detached);
    return id;
}

std::shared_ptr<net::HttpClient> Engine::shared_http(const providers::Factory& factory) {
    if (factory.make_http == nullptr) return nullptr;
    auto& client = m_http[std::string(factory.name)];
    if (!client) client = factory.make_http(m_executor);
    return client;
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
    // A new provider reads the new credentials; the old one may be mid-request
    // and finishes on its own (it holds what it needs).
    config::AccountConfig cfg = it->second->cfg;
    stop_account(account);
    m_ledger.set_account_state(account, "ok", std::nullopt);
    start_account(cfg);
    const int replanned = m_ledger.replan_auth_failures(account);
    log::info("account {}: new {} credentials stored{}", account, credentials.kind,
              replanned ? fmt::format("; {} deliveries planned again", replanned) : std::string());
    emit("account.credentials", event_json({{"account", account}, {"kind", credentials.kind}}));
    if (replanned) wake_deliveries();
    return {};
}

Result<void> Engine::retry_delivery(int64_t delivery_id) {
    auto d = m_ledger.delivery(delivery_id);
    if (!d) return Error::permanent("engine.unknown_delivery", fmt::format("no delivery {}", delivery_id));
    if (d->state == "delivered" || d->state == "duplicate" || d->state == "in_flight")
        return Error::permanent("engine.delivery_done",
                                fmt::format("delivery {} is {}; nothing to retry", delivery_id, d->state));
    m_ledger.set_delivery(delivery_id, "planned", std::nullopt, std::nullopt, std::string("retry requested"),
                          std::nullopt, false);
    // Asked for by a person: try now, even while the sink is paused.
    m_ledger.set_account_blocked_until(d->sink_id, std::nullopt);
    emit("delivery.updated", event_json({{"delivery", std::to_string(delivery_id)}, {"state", "planned"}}));
    wake_deliveries();
    return {};
}

std::string Engine::plan_json() {
    json::Builder b;
    b.w.StartObject();
    b.key("plan");
    b.w.StartArray();
    int64_t deliver = 0, skip = 0, done = 0;
    for (auto id : m_ledger.all_activity_ids()) {
        auto act = m_ledger.activity(id);
        pipeline::ActivityFacts f;
        f.start_time = act->start_time;
        f.sport_family = act->sport_family;
        f.ambiguous = act->ambiguous_with.has_value();
        for (const auto& l : m_ledger.links(id))
            if (l.matched_by != "delivered") f.accounts.push_back(l.account_id);
        auto existing = m_ledger.deliveries(id);
        for (const auto& p : pipeline::plan(f, m_cfg.routes)) {
            auto d = std::find_if(existing.begin(), existing.end(), [&](const auto& x) { return x.sink_id == p.sink; });
            std::string action;
            std::optional<std::string> reason;
            if (d != existing.end() && (d->state == "delivered" || d->state == "duplicate")) {
                action = "already_delivered";
                ++done;
            } else if (p.skipped) {
                action = "skip";
                reason = reason_name(*p.skipped);
                ++skip;
            } else {
                action = "deliver";
                ++deliver;
            }
            b.w.StartObject();
            b.key("activity");
            b.w.Int64(id);
            b.key("start_time");
            if (act->start_time)
                b.string(format_iso8601(*act->start_time));
            else
                b.w.Null();
            b.key("sport_family");
            b.opt_string(act->sport_family);
            b.key("sink");
            b.string(p.sink);
            b.key("route");
            b.string(p.route);
            b.key("action");
            b.string(action);
            b.key("reason");
            b.opt_string(reason);
            b.w.EndObject();
        }
    }
    b.w.EndArray();
    b.key("totals");
    b.w.StartObject();
    b.key("deliver");
    b.w.Int64(deliver);
    b.key("skip");
    b.w.Int64(skip);
    b.key("already_delivered");
    b.w.Int64(done);
    b.w.EndObject();
    b.w.EndObject();
    return b.str();
}

}  // namespace fitbridge::engine
