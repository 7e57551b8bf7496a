#include "providers/folder/watcher.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <cstring>
#include <exception>
#include <system_error>
#include <utility>

#include "core/log.hpp"

namespace fitbridge::providers::folder {

namespace fs = std::filesystem;
namespace asio = boost::asio;

namespace {

// Events that can mean a new or finished file. IN_CREATE alone is not a
// finished file, but it starts the stability clock earlier and is how new
// subfolders are noticed.
constexpr uint32_t k_mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_ONLYDIR | IN_EXCL_UNLINK;

// Completion of the watcher's coroutines: one that ends with an exception is
// logged (asio::detached would drop it unseen); the periodic rescan still
// finds new files, so the account keeps working without the watcher.
auto log_escape(std::string account, std::string_view loop) {
    return [account = std::move(account), loop](std::exception_ptr e) {
        if (!e) return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            log::error("account '{}': inotify {} stopped: {}; new files are found by the periodic rescan", account,
                       loop, ex.what());
        } catch (...) {
            log::error("account '{}': inotify {} stopped; new files are found by the periodic rescan", account, loop);
        }
    };
}

}  // namespace

InotifyWatcher::InotifyWatcher(asio::any_io_executor executor, std::string account, Settings settings)
    : m_executor(executor),
      m_account(std::move(account)),
      m_settings(settings),
      m_stream(executor),
      m_debounce_timer(executor),
      m_poke_timer(executor) {}

InotifyWatcher::~InotifyWatcher() { stop(); }

bool InotifyWatcher::start(const std::vector<fs::path>& roots, std::function<void()> on_change) {
    if (m_started || m_stopped) return m_started && !m_stopped;
    int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) {
        log::warn("account '{}': inotify unavailable ({}); new files are found by the periodic rescan", m_account,
                  std::strerror(errno));
        return false;
    }
    boost::system::error_code ec;
    m_stream.assign(fd, ec);
    if (ec) {
        ::close(fd);
        log::warn("account '{}': cannot watch with inotify ({}); new files are found by the periodic rescan", m_account,
                  ec.message());
        return false;
    }
    m_on_change = std::move(on_change);
    m_started = true;
    for (const auto& r : roots) add_tree(r);
    asio::co_spawn(m_executor, read_loop(shared_from_this()), log_escape(m_account, "reader"));
    return true;
}

void InotifyWatcher::add_tree(const fs::path& dir) {
    if (m_stopped) return;
    int wd = ::inotify_add_watch(m_stream.native_handle(), dir.c_str(), k_mask);
    if (wd < 0) {
        if ((errno == ENOSPC || errno == ENOMEM) && !m_limit_logged) {
            m_limit_logged = true;
            log::warn(
                "account '{}': inotify watch limit reached at {} (raise fs.inotify.max_user_watches); folders "
                "beyond it are covered by the periodic rescan only",
                m_account, dir.string());
        } else if (errno != ENOSPC && errno != ENOMEM) {
            log::debug("account '{}': cannot watch {}: {}", m_account, dir.string(), std::strerror(errno));
        }
        return;
    }
    // inotify hands out one descriptor per inode: seeing it again means a
    // symlink loop or a folder already covered, so stop here.
    if (!m_dirs.emplace(wd, dir).second) return;
    if (!m_settings.recursive) return;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        if (it->path().filename().string().starts_with('.')) continue;
        std::error_code sec;
        if (it->is_directory(sec)) add_tree(it->path());
    }
}

asio::awaitable<void> InotifyWatcher::read_loop(std::shared_ptr<InotifyWatcher> self) {
    // Aligned for struct inotify_event; large enough for many events per read.
    alignas(inotify_event) uint8_t buffer[16 * 1024];
    for (;;) {
        boost::system::error_code ec;
        size_t n = co_await self->m_stream.async_read_some(asio::buffer(buffer),
                                                           asio::redirect_error(asio::use_awaitable, ec));
        if (self->m_stopped) co_return;
        if (ec) {
            log::warn("account '{}': inotify read failed ({}); new files are found by the periodic rescan",
                      self->m_account, ec.message());
            co_return;
        }
        self->handle_events(buffer, n);
    }
}

void InotifyWatcher::handle_events(const uint8_t* data, size_t size) {
    bool changed = false;
    size_t off = 0;
    while (off + sizeof(inotify_event) <= size) {
        inotify_event ev;
        std::memcpy(&ev, data + off, sizeof ev);
        std::string name;
        if (ev.len > 0) name = reinterpret_cast<const char*>(data + off + sizeof(inotify_event));
        off += sizeof(inotify_event) + ev.len;

        if (ev.mask & IN_Q_OVERFLOW) {
            // Events were lost; only a full rescan can tell what happened.
            changed = true;
            continue;
        }
        if (ev.mask & IN_IGNORED) {
            m_dirs.erase(ev.wd);
            continue;
        }
        if (name.starts_with('.')) continue;
        auto dir = m_dirs.find(ev.wd);
        if (dir == m_dirs.end()) continue;
        if ((ev.mask & IN_ISDIR) && (ev.mask & (IN_CREATE | IN_MOVED_TO))) {
            // Files can land in a new folder before its watch exists; the
            // rescan this triggers finds them.
            if (m_settings.recursive) add_tree(dir->second / name);
            changed = true;
        } else if (ev.mask & (IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE)) {
            changed = true;
        }
    }
    if (changed) schedule_change();
}

void InotifyWatcher::schedule_change() {
    m_last_event = std::chrono::steady_clock::now();
    if (m_stopped) return;
    if (m_debouncing) {
        m_events_since_callback = true;
        return;
    }
    // The first event of a burst: called back now (the callback only asks
    // for a listing, which the engine runs one at a time); the burst's later
    // events wait for its end.
    m_debouncing = true;
    m_events_since_callback = false;
    asio::co_spawn(m_executor, debounce_loop(shared_from_this()), log_escape(m_account, "debounce"));
}

asio::awaitable<void> InotifyWatcher::debounce_loop(std::shared_ptr<InotifyWatcher> self) {
    // Ends with m_debouncing cleared however it ends (a callback may throw).
    struct Done {
        InotifyWatcher& w;
        ~Done() { w.m_debouncing = false; }
    } done{*self};
    self->fire();
    auto first = std::chrono::steady_clock::now();
    for (;;) {
        self->m_debounce_timer.expires_at(self->m_last_event + self->m_settings.debounce);
        boost::system::error_code ec;
        co_await self->m_debounce_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (self->m_stopped) co_return;
        const auto now = std::chrono::steady_clock::now();
        const bool quiet = now >= self->m_last_event + self->m_settings.debounce;
        if (!quiet && now - first < self->m_settings.max_delay) continue;
        if (std::exchange(self->m_events_since_callback, false)) self->fire();
        if (quiet) co_return;
        first = now;  // a continuous stream: called back every max_delay
    }
}

void InotifyWatcher::poke_after(std::chrono::milliseconds delay) {
    if (!m_started || m_stopped) return;
    const auto deadline = std::chrono::steady_clock::now() + delay;
    if (m_poke_armed && m_poke_deadline <= deadline) return;
    m_poke_armed = true;
    m_poke_deadline = deadline;
    m_poke_timer.expires_at(deadline);  // cancels an older, later wait
    asio::co_spawn(m_executor, poke_wait(shared_from_this(), ++m_poke_generation), log_escape(m_account, "timer"));
}

asio::awaitable<void> InotifyWatcher::poke_wait(std::shared_ptr<InotifyWatcher> self, uint64_t generation) {
    boost::system::error_code ec;
    co_await self->m_poke_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    // A newer poke re-armed the timer (and owns it now), or we were stopped.
    if (self->m_stopped || generation != self->m_poke_generation) co_return;
    self->m_poke_armed = false;
    self->fire();
}

void InotifyWatcher::fire() {
    if (m_stopped || !m_on_change) return;
    auto callback = m_on_change;  // the callback may call stop()
    callback();
}

void InotifyWatcher::stop() {
    if (m_stopped) return;
    m_stopped = true;
    m_on_change = nullptr;
    boost::system::error_code ec;
    m_stream.close(ec);
    m_debounce_timer.cancel();
    m_poke_timer.cancel();
    m_dirs.clear();
}

}  // namespace fitbridge::providers::folder
