#pragma once
// The running daemon's parts wired together: config, store, control API.
// Owned by serve(); split out so tests can run it in-process.

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "api/router.hpp"
#include "api/server.hpp"
#include "app/signin.hpp"
#include "config/config.hpp"
#include "config/paths.hpp"
#include "core/clock.hpp"
#include "core/sched.hpp"
#include "engine/engine.hpp"
#include "net/background.hpp"
#include "store/store.hpp"

namespace boost::asio {
class io_context;
}

namespace fitbridge::app {

class Service {
public:
    // The engine and the handlers of most routes run on `io`. The control API
    // serves on `api_io`, on a thread of the service's own, so that it
    // answers /healthz and /v1/status while the engine is busy; `api_io`
    // must outlive `io`'s queue (serve() declares it first). `cpus`: the
    // CPUs the daemon may use; while the API has clients, the engine's
    // threads keep off one of them (sched::SpareCpu; none given: the
    // threads stay where they are).
    Service(boost::asio::io_context& io, boost::asio::io_context& api_io, config::Config cfg, bool embedded_config,
            config::ResolvedPaths paths, std::unique_ptr<store::Store> store, std::string token, sched::Cpus cpus = {});
    // Stops and joins the API's thread first.
    ~Service();

    // Starts the API server (binds the listen address) and its thread.
    Result<void> start();
    // Applies a new configuration (SIGHUP). The API listen address is kept.
    void reload(config::Config cfg, bool embedded_config);
    // Graceful stop: `done` runs when every connection and job has ended, or
    // after `grace` at the latest.
    void stop(std::chrono::milliseconds grace, std::function<void()> done);
    // After stop(): waits (until `deadline`) for the engine to be idle, flushes the store, then calls `done`.
    boost::asio::awaitable<void> finish_stop(std::chrono::steady_clock::time_point deadline,
                                             std::function<void()> done);

    std::string api_address() const { return m_server->local_address(); }
    engine::Engine& engine() { return *m_engine; }
    const config::Config& config() const { return m_cfg; }

private:
    void register_routes();
    void sync_accounts();
    api::ServerOptions server_options();

    boost::asio::io_context& m_io;
    boost::asio::io_context& m_api_io;
    std::thread m_api_thread;
    // Followed by the io thread before each engine item and by the pools
    // before each task; clients are noted at each request.
    sched::SpareCpu m_spare_cpu;
    // The engine's executor: its work runs on the io thread one item per
    // turn, so that the API's requests are never queued behind a backlog of
    // it. Declared before the engine, which it outlives.
    net::Background m_background{m_io, [this] { m_spare_cpu.follow(); }};
    config::Config m_cfg;
    std::atomic<bool> m_embedded;  // read by /v1/status on the API's thread
    config::ResolvedPaths m_paths;
    std::unique_ptr<store::Store> m_store;
    const Clock& m_clock = process_clock();
    std::unique_ptr<engine::Engine> m_engine;
    std::string m_token;
    SigninCodes m_signin{m_clock};
    std::chrono::steady_clock::time_point m_started;
    api::Router m_router;
    std::unique_ptr<api::Server> m_server;
};

}  // namespace fitbridge::app
