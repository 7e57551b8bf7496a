#include "app/service.hpp"

#include "app/metrics_route.hpp"
#include "app/routes.hpp"
#include "app/web.hpp"

#include <pthread.h>

#include <SQLiteCpp/Statement.h>
#include <fmt/format.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/log.hpp"
#include "core/sched.hpp"
#include "core/version.hpp"
#include "json/json.hpp"

namespace fitbridge::app {

namespace {
double unix_now() { return std::chrono::duration<double>(process_clock().now().time_since_epoch()).count(); }
}  // namespace

Service::Service(boost::asio::io_context& io, boost::asio::io_context& api_io, config::Config cfg, bool embedded_config,
                 config::ResolvedPaths paths, std::unique_ptr<store::Store> store, std::string token, sched::Cpus cpus)
    : m_io(io),
      m_api_io(api_io),
      m_spare_cpu(std::move(cpus)),
      m_cfg(std::move(cfg)),
      m_embedded(embedded_config),
      m_paths(std::move(paths)),
      m_store(std::move(store)),
      m_engine(std::make_unique<engine::Engine>(
          m_background.get_executor(), *m_store, m_clock, m_paths.state_dir, providers::find_factory,
          engine::EngineOptions{.supervisor = {}, .before_task = [this] { m_spare_cpu.follow(); }})),
      m_token(std::move(token)),
      m_started(std::chrono::steady_clock::now()) {
    register_routes();
    register_sync_routes(m_router, *m_engine);
    register_metrics_route(m_router, *m_store, m_cfg, unix_now());
    register_signin_routes(m_router, m_signin, m_token);
    register_web_routes(m_router);
    m_server = std::make_unique<api::Server>(m_api_io, server_options(), m_router,
                                             [&io](std::function<void()> f) { boost::asio::post(io, std::move(f)); });
    sync_accounts();
    if (m_spare_cpu.spare() >= 0)
        log::info("cpus: {}; while the control API has clients the engine keeps off CPU {}",
                  sched::describe(m_spare_cpu.all()), m_spare_cpu.spare());
}

Service::~Service() {
    if (m_api_thread.joinable()) {
        m_api_io.stop();
        m_api_thread.join();
    }
}

api::ServerOptions Service::server_options() {
    api::ServerOptions o;
    o.listen = m_cfg.api.listen;
    o.max_body_bytes = m_cfg.api.max_body_bytes;
    o.header_timeout = std::chrono::seconds(m_cfg.api.header_timeout_s);
    o.request_timeout = std::chrono::seconds(m_cfg.api.request_timeout_s);
    o.idle_timeout = std::chrono::seconds(m_cfg.api.idle_timeout_s);
    o.max_connections = m_cfg.api.max_connections;
    o.guard.token = m_token;
    o.guard.allowed_hosts = m_cfg.api.allowed_hosts;
    o.guard.allowed_origins = m_cfg.api.allowed_origins;
    if (m_cfg.api.metrics_public) o.guard.public_paths = {"/metrics"};
    o.on_request = [this] {
        m_engine->note_activity();
        m_spare_cpu.note_client();
    };
    return o;
}

Result<void> Service::start() {
    auto r = m_server->start();
    if (!r) return r;
    m_api_thread = std::thread([this] {
        // Runs until ~Service stops it, even with nothing to do.
        auto work = boost::asio::make_work_guard(m_api_io);
        // A request's work is short: run it as soon as it comes, ahead of
        // the engine's items on a busy machine.
        if (!sched::prefer_short_slices())
            log::debug("api: the kernel keeps the default time slice for the API's thread");
        m_api_io.run();
    });
    // Named for top -H, ps -L and perf (at most 15 characters), before
    // start() returns and READY is sent.
    ::pthread_setname_np(m_api_thread.native_handle(), "fitbridge-api");
    m_engine->configure(m_cfg);
    return {};
}

void Service::reload(config::Config cfg, bool embedded_config) {
    if (cfg.api.listen != m_cfg.api.listen)
        log::warn("config: api.listen changed to {}; restart FitBridge to listen there (still on {})", cfg.api.listen,
                  m_server->local_address());
    m_cfg = std::move(cfg);
    m_embedded = embedded_config;
    m_server->update(server_options());
    sync_accounts();
    m_engine->configure(m_cfg);
}

void Service::stop(std::chrono::milliseconds grace, std::function<void()> done) {
    // The engine cancels its loops and the requests they await; the store is
    // flushed once nothing writes to it any more.
    m_engine->stop();
    const auto deadline = std::chrono::steady_clock::now() + grace;
    m_server->stop(grace, [this, deadline, done = std::move(done)]() {
        // A member coroutine, not a coroutine lambda: GCC 12 does not keep a
        // lambda's captures alive across the coroutine's suspensions.
        boost::asio::co_spawn(m_io, finish_stop(deadline, done), [](std::exception_ptr e) {
            if (e) log::error("shutdown: {}", engine::describe(e));
        });
    });
}

boost::asio::awaitable<void> Service::finish_stop(std::chrono::steady_clock::time_point deadline,
                                                  std::function<void()> done) {
    boost::asio::steady_timer poll(m_io);
    while (!m_engine->idle() && std::chrono::steady_clock::now() < deadline) {
        poll.expires_after(std::chrono::milliseconds(20));
        boost::system::error_code ec;
        co_await poll.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    }
    if (m_engine->idle())
        log::info("shutdown: the engine stopped");
    else
        log::warn("shutdown: the engine's loops did not end within the grace period");
    m_store->flush();
    done();
}

// Makes the accounts table follow the configuration: new accounts appear,
// removed ones are kept (their history matters) but marked disabled.
void Service::sync_accounts() {
    auto& db = m_store->db();
    SQLite::Statement upsert(db,
                             "INSERT INTO accounts(id, provider, state, created_at) VALUES (?, ?, ?, ?) "
                             "ON CONFLICT(id) DO UPDATE SET provider = excluded.provider, "
                             "state = CASE WHEN accounts.state = 'disabled' OR excluded.state = 'disabled' "
                             "THEN excluded.state ELSE accounts.state END");
    for (const auto& a : m_cfg.accounts) {
        upsert.reset();
        upsert.bind(1, a.id);
        upsert.bind(2, a.provider);
        upsert.bind(3, a.enabled ? "ok" : "disabled");
        upsert.bind(4, unix_now());
        upsert.exec();
    }
    SQLite::Statement all(db, "SELECT id FROM accounts");
    std::vector<std::string> gone;
    while (all.executeStep()) {
        std::string id = all.getColumn(0).getString();
        bool configured = std::any_of(m_cfg.accounts.begin(), m_cfg.accounts.end(),
                                      [&](const config::AccountConfig& a) { return a.id == id; });
        if (!configured) gone.push_back(id);
    }
    for (const auto& id : gone) {
        SQLite::Statement off(db, "UPDATE accounts SET state = 'disabled' WHERE id = ?");
        off.bind(1, id);
        off.exec();
    }
}

void Service::register_routes() {
    m_router.add(
        "GET", "/healthz", [this](api::Request&) { return healthz(m_engine->health()); }, true, api::RunsOn::server);

    // Status and health are answered on the API's own thread, however busy
    // the engine is: they read only what is safe from there (the engine's
    // health, the store's reader, what does not change after start).
    m_router.add(
        "GET", "/v1/status",
        [this](api::Request&) {
            json::Builder b;
            b.w.StartObject();
            b.field("version", version());
            write_health(b, m_engine->health());
            b.key("uptime_s");
            b.w.Int64(
                std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - m_started).count());
            b.key("config");
            b.w.StartObject();
            b.field("path", m_paths.config.string());
            b.field("source", m_embedded ? "embedded_default" : "file");
            b.w.EndObject();
            b.field("state_dir", m_paths.state_dir.string());
            b.key("api");
            b.w.StartObject();
            b.field("listen", m_server->local_address());
            b.w.EndObject();
            b.key("accounts");
            b.w.StartArray();
            // On the API's thread: the store's reader, and only what is committed.
            m_store->read([&](SQLite::Database& db) {
                SQLite::Statement q(db,
                                    "SELECT id, provider, state, last_error, last_poll_at, blocked_until FROM accounts "
                                    "ORDER BY id");
                while (q.executeStep()) {
                    b.w.StartObject();
                    b.field("id", q.getColumn(0).getString());
                    b.field("provider", q.getColumn(1).getString());
                    b.field("state", q.getColumn(2).getString());
                    b.key("last_error");
                    if (q.getColumn(3).isNull())
                        b.w.Null();
                    else
                        b.string(q.getColumn(3).getString());
                    b.key("last_poll_at");
                    if (q.getColumn(4).isNull())
                        b.w.Null();
                    else
                        b.number(q.getColumn(4).getDouble());
                    b.key("blocked_until");
                    if (q.getColumn(5).isNull())
                        b.w.Null();
                    else
                        b.number(q.getColumn(5).getDouble());
                    b.w.EndObject();
                }
            });
            b.w.EndArray();
            b.w.EndObject();
            return api::json_response(200, b.str());
        },
        false, api::RunsOn::server);

    m_router.add("GET", "/v1/config",
                 [this](api::Request&) { return api::json_response(200, config::to_json(m_cfg)); });
}

}  // namespace fitbridge::app
