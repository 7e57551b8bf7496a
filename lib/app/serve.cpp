#include "app/serve.hpp"

#include <sys/stat.h>

#include <fmt/format.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "app/default_config.hpp"
#include "app/service.hpp"
#include "app/token.hpp"
#include "core/log.hpp"
#include "core/memory.hpp"
#include "core/sched.hpp"
#include "core/sd_notify.hpp"
#include "core/version.hpp"
#include "providers/provider.hpp"

namespace fitbridge::app {

namespace asio = boost::asio;

Result<config::Config> load_effective_config(const config::ResolvedPaths& paths, const config::Env& env,
                                             bool& embedded) {
    std::error_code ec;
    Result<config::Config> cfg = config::Config{};
    if (std::filesystem::exists(paths.config, ec)) {
        embedded = false;
        cfg = config::load(paths.config);
        if (!cfg) return cfg;
    } else {
        embedded = true;
        cfg = embedded_default(paths);
        for (const char* sub : {"inbox", "archive"}) {
            std::filesystem::create_directories(paths.data_dir / sub, ec);
            if (ec)
                return Error::permanent("config.default", fmt::format("cannot create {}: {}",
                                                                      (paths.data_dir / sub).string(), ec.message()));
        }
    }
    if (auto listen = env("FITBRIDGE_API_LISTEN")) {
        // Validate through the same table as the file.
        auto probe = config::parse(fmt::format("api:\n  listen: \"{}\"\n", *listen), "$FITBRIDGE_API_LISTEN");
        if (!probe) return probe.error();
        cfg->api.listen = probe->api.listen;
    }
    if (auto v = providers::validate_accounts(*cfg); !v) return v.error();
    return cfg;
}

namespace {

void apply_log_level(const config::Config& c) {
    log::Level l;
    if (log::parse_level(c.log_level, l)) log::set_level(l);
}

}  // namespace

int serve(const ServeArgs& args, const config::Env& env) {
    ::umask(077);
    memory::tune_allocator_for_daemon();
    auto paths = config::resolve_paths(args.config, args.state_dir, env);
    log::info("fitbridge {} starting", version());
    log::info("config: {} (from {})", paths.config.string(), paths.config_from);
    log::info("state:  {} (from {})", paths.state_dir.string(), paths.state_from);

    bool embedded = false;
    auto cfg = load_effective_config(paths, env, embedded);
    if (!cfg) {
        log::error("{}", cfg.error().message);
        return k_exit_config;
    }
    if (embedded) {
        log::info("config: no file at {}; running on the embedded default", paths.config.string());
        log::info("inbox: drop FIT, GPX or TCX files (gzipped or not) into {}; they are archived under {}",
                  (paths.data_dir / "inbox").string(), (paths.data_dir / "archive").string());
    }
    apply_log_level(*cfg);

    std::error_code ec;
    std::filesystem::create_directories(paths.state_dir, ec);
    if (ec) {
        log::error("cannot create state directory {}: {}", paths.state_dir.string(), ec.message());
        return k_exit_failure;
    }
    auto store = store::Store::open(paths.state_dir / "fitbridge.db");
    if (!store) {
        log::error("{}", store.error().message);
        return k_exit_failure;
    }
    auto token = load_or_create_token(paths.state_dir);
    if (!token) {
        log::error("{}", token.error().message);
        return k_exit_failure;
    }

    // The control API's io_context, run by a thread of the service's. Declared
    // first: it outlives what `io` still holds when `io` goes, such as a
    // request's coroutine waiting for its handler to run there.
    // While the control API has clients the engine's threads keep off one
    // of these CPUs (sched::SpareCpu): a request to it then finds a free CPU
    // instead of waiting behind a backfill's work.
    const sched::Cpus cpus = sched::allowed_cpus();

    asio::io_context api_io(1);
    asio::io_context io(1);
    Service service(io, api_io, std::move(*cfg), embedded, paths, std::move(*store), std::move(*token), cpus);
    if (auto r = service.start(); !r) {
        log::error("{}", r.error().message);
        return k_exit_failure;
    }
    log::info("api: listening on {} (token in {})", service.api_address(), (paths.state_dir / "api-token").string());

    int exit_code = k_exit_ok;
    bool stopping = false;
    asio::steady_timer hard_stop(io);
    asio::signal_set signals(io, SIGTERM, SIGINT, SIGHUP);
    std::function<void()> wait_signal;
    wait_signal = [&]() {
        signals.async_wait([&](const boost::system::error_code& e, int sig) {
            if (e) return;
            if (sig == SIGHUP) {
                sd_notify("RELOADING=1");
                bool emb = false;
                auto fresh = load_effective_config(paths, env, emb);
                if (!fresh) {
                    log::error("reload: keeping the running configuration: {}", fresh.error().message);
                } else {
                    apply_log_level(*fresh);
                    service.reload(std::move(*fresh), emb);
                    log::info("reload: configuration applied{}", emb ? " (embedded default)" : "");
                }
                sd_notify("READY=1");
                wait_signal();
                return;
            }
            if (stopping) {
                log::warn("second signal: stopping now");
                io.stop();
                return;
            }
            stopping = true;
            log::info("{} received: shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
            sd_notify("STOPPING=1");
            // Whatever is still running after 5 s is abandoned.
            hard_stop.expires_after(std::chrono::milliseconds(4800));
            hard_stop.async_wait([&](const boost::system::error_code& te) {
                if (!te) {
                    log::warn("shutdown: grace period over");
                    io.stop();
                }
            });
            service.stop(std::chrono::milliseconds(4000), [&]() {
                hard_stop.cancel();
                signals.cancel();
                io.stop();
            });
            wait_signal();
        });
    };
    wait_signal();

    asio::steady_timer watchdog(io);
    std::function<void()> pet;
    if (auto interval = sd_watchdog_interval()) {
        // Petting at half the interval, from the loop itself: a stuck loop stops petting.
        pet = [&, half = *interval / 2]() {
            sd_notify("WATCHDOG=1");
            watchdog.expires_after(half);
            watchdog.async_wait([&](const boost::system::error_code& e) {
                if (!e) pet();
            });
        };
        pet();
    }

    sd_notify(fmt::format("READY=1\nSTATUS=serving API on {}\nMAINPID={}", service.api_address(), ::getpid()));
    // The io thread runs the engine's items back to back during a backfill:
    // with short slices it gives way to a thread that wakes (a client of the
    // control API) at once instead of at the end of a default slice (1.4 ms
    // here) or the next tick. Its share of the CPU is the same.
    if (!sched::prefer_short_slices()) log::debug("the kernel keeps the default time slice for the io thread");
    io.run();
    log::info("fitbridge stopped");
    return exit_code;
}

}  // namespace fitbridge::app
