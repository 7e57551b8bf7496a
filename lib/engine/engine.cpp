// The account set: configuration diffing, starting and stopping each
// account's provider and loops, jobs resumed at start, manual triggers.

#include "engine/engine.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "core/log.hpp"
#include "core/memory.hpp"
#include "engine/parts.hpp"
#include "json/json.hpp"

namespace fitbridge::engine {

namespace asio = boost::asio;

Engine::Engine(asio::any_io_executor executor, store::Store& store, const Clock& clock, std::filesystem::path state_dir,
               FactoryLookup factories, EngineOptions options)
    : m_executor(executor),
      m_store(store),
      m_ledger(store, clock),
      m_tokens(store, clock),
      m_cursors(store, clock),
      m_clock(clock),
      m_state_dir(std::move(state_dir)),
      m_originals(m_state_dir),
      m_factories(std::move(factories)),
      m_offload(m_executor, 3, 10, 4, options.before_task),
      m_shared_commit(m_executor, store.db(),
                      [this](const std::function<void()>& writes) {
                          HeldEvents held(*this);
                          auto tx = m_ledger.transaction();
                          writes();
                          tx.commit();
                          held.publish();
                      }),
      m_quiet(executor),
      m_supervisor(std::move(executor), options.supervisor) {
    m_store.set_checkpoint_runner([this](std::function<void()> job) { m_offload.post_disk(std::move(job)); });
}

Engine::~Engine() {
    stop();
    m_store.set_checkpoint_runner(nullptr);  // the checkpoints already handed over run before the pool is joined
}

void Engine::stop() {
    if (m_stopping) return;
    m_stopping = true;
    m_quiet.cancel();
    for (auto& [id, a] : m_accounts) {
        a->stopped = true;
        if (a->provider) a->provider->shutdown();
    }
    m_supervisor.stop();
}

void Engine::note_work_done() {
    if (m_stopping) return;
    m_quiet.expires_after(std::chrono::seconds(1));  // cancels the wait before
    m_quiet.async_wait([this](boost::system::error_code ec) {
        if (ec || m_stopping) return;  // (ec first: a cancelled wait may run after the engine is gone)
        // Requests answered within the last second: dropping the code pages
        // now would make the next ones fault them back in. Wait for a quiet
        // second (the timer fires about once a second while they go on).
        if (std::chrono::steady_clock::now() - m_last_activity.load() < std::chrono::seconds(1)) {
            note_work_done();
            return;
        }
        m_store.release_memory();  // before the heap is trimmed: the pages it frees go back too
        const auto c = memory::compact_idle();
        log::debug("idle: resident memory {} KiB -> {} KiB ({} code mappings given back)", c.resident_before / 1024,
                   c.resident_after / 1024, c.code_mappings);
    });
}

Health Engine::health() const { return Health{m_supervisor.core_down(), m_supervisor.troubles()}; }

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
        ctx.offload = &m_offload;
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
    if (!a->provider) return;
    // Any running account may be a route's sink, now or after a reload.
    a->loops.push_back(
        m_supervisor.spawn(fmt::format("delivery loop of {}", cfg.id), true, [this, a] { return delivery_loop(a); }));
    // Poll only what routes read from (and the name authority): listing a
    // sink nobody reads from would spend its quota for nothing.
    a->read_from = reads_from(m_cfg, cfg.id);
    if (a->read_from && (a->provider->capabilities() & (providers::k_list_window | providers::k_list_cursor))) {
        if (a->provider->capabilities() & providers::k_watch) {
            std::weak_ptr<Account> w = a;
            a->provider->watch([w]() {
                if (auto acc = w.lock()) {
                    ++acc->change_notices;
                    acc->next_poll = std::chrono::steady_clock::now();
                    acc->poll_wake.notify();
                }
            });
        }
        a->next_poll = std::chrono::steady_clock::now();
        a->loops.push_back(
            m_supervisor.spawn(fmt::format("poller of {}", cfg.id), true, [this, a] { return poll_loop(a); }));
    }
}

void Engine::stop_account(const std::string& id) {
    auto it = m_accounts.find(id);
    if (it == m_accounts.end()) return;
    auto& a = *it->second;
    a.stopped = true;
    if (a.provider) a.provider->shutdown();
    for (auto loop : a.loops) m_supervisor.cancel(loop);
    m_accounts.erase(it);
}

void Engine::configure(const config::Config& cfg) {
    m_cfg = cfg;
    std::vector<std::string> gone;
    for (const auto& entry : m_accounts) {
        const std::string& id = entry.first;  // (clang 14 cannot capture a structured binding)
        const auto& a = entry.second;
        auto it = std::find_if(cfg.accounts.begin(), cfg.accounts.end(),
                               [&](const config::AccountConfig& c) { return c.id == id; });
        if (it == cfg.accounts.end() || !same_account(a->cfg, *it) || a->read_from != reads_from(cfg, id))
            gone.push_back(id);
    }
    for (const auto& id : gone) stop_account(id);
    replan_all();
    for (const auto& c : cfg.accounts)
        if (!m_accounts.count(c.id)) start_account(c);
    if (!m_started) {
        m_started = true;
        m_originals.remove_stale_temp_files();
        resume_jobs();
    }
    backfill_routes();  // after resume_jobs: the jobs it creates are not resumed twice
    wake_deliveries();
}

namespace {
// A backfill job's accounts and window, as create_backfill wrote its params.
std::pair<std::vector<std::string>, providers::ListQuery> backfill_params(const store::JobRow& job) {
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
    return {std::move(accounts), q};
}
}  // namespace

// Jobs survive restarts: a sync runs again, a backfill goes on from the last
// page it completed (run_backfill reads its position).
void Engine::resume_jobs() {
    for (const auto& job : m_ledger.unfinished_jobs()) {
        if (job.kind == "sync" && job.account_id && m_accounts.count(*job.account_id)) {
            m_ledger.update_job(job.id, "queued", 0, std::nullopt, std::nullopt);
            m_accounts[*job.account_id]->queued_jobs.push_back(job.id);
            m_accounts[*job.account_id]->poll_wake.notify();
        } else if (job.kind == "backfill") {
            auto [accounts, q] = backfill_params(job);
            m_ledger.update_job(job.id, "queued", 0, std::nullopt, std::nullopt);
            spawn_backfill(job.id, accounts, q);
        } else {
            m_ledger.update_job(job.id, "cancelled", job.done, job.total,
                                std::string("its account is no longer configured"));
        }
    }
}

void Engine::retry_failed_backfills(const std::string& account) {
    for (const auto& job : m_ledger.jobs(200)) {
        if (job.kind != "backfill" || (job.state != "failed" && job.state != "running")) continue;
        auto [accounts, q] = backfill_params(job);
        if (std::find(accounts.begin(), accounts.end(), account) == accounts.end()) continue;
        if (job.state == "running") {
            // Cut short by this account's restart only when it was listing
            // this account; one listing another account goes on by itself.
            const auto at = m_ledger.job_position(job.id);
            if ((at ? at->account : accounts.front()) != account) continue;
        }
        log::info("backfill job {}: running again with {}'s new credentials", job.id, account);
        m_ledger.update_job(job.id, "queued", job.done, job.total, std::nullopt);
        emit("job.updated", event_json({{"job", std::to_string(job.id)}, {"state", "queued"}}));
        spawn_backfill(job.id, accounts, q);
    }
}

void Engine::spawn_backfill(int64_t job_id, std::vector<std::string> accounts, providers::ListQuery query) {
    // Not core: a failing backfill is shown, but the daemon stays healthy.
    m_supervisor.spawn(
        fmt::format("backfill job {}", job_id), false,
        [this, job_id, accounts = std::move(accounts), query] { return run_backfill(job_id, accounts, query); });
}

std::shared_ptr<net::HttpClient> Engine::shared_http(const providers::Factory& factory) {
    if (factory.make_http == nullptr) return nullptr;
    auto& client = m_http[std::string(factory.name)];
    if (!client) client = factory.make_http(m_executor);
    return client;
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
    a.poll_wake.notify();
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
    spawn_backfill(id, accounts, q);
    return id;
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

}  // namespace fitbridge::engine
