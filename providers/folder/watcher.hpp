#pragma once
// inotify watching for the folder source. Change notices are only hints: the
// engine's periodic rescan stays the source of truth, so every failure here
// (no inotify, watch limit reached, queue overflow) degrades to rescanning.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace fitbridge::providers::folder {

// Watches folders (and, when recursive, every subfolder, including ones made
// later) and calls a callback on the executor when a file is written,
// created or moved in: at once for the first event after a quiet spell, then
// once more when the burst it began is over (or every max_delay while it
// lasts). Owned through shared_ptr so its coroutines can outlive a stop()
// that races with them.
class InotifyWatcher : public std::enable_shared_from_this<InotifyWatcher> {
public:
    struct Settings {
        bool recursive = true;
        // Quiet time that ends a burst of events (a sync client dropping 50
        // files): the burst's later events give one callback, this long after
        // the last of them. Its first event called back already, so a lone
        // new file is listed without waiting.
        std::chrono::milliseconds debounce{20};
        // A continuous stream of events still calls back this often.
        std::chrono::milliseconds max_delay{2000};
    };

    InotifyWatcher(boost::asio::any_io_executor executor, std::string account, Settings settings);
    ~InotifyWatcher();
    InotifyWatcher(const InotifyWatcher&) = delete;
    InotifyWatcher& operator=(const InotifyWatcher&) = delete;

    // Starts watching `roots`. False when inotify cannot be used at all
    // (logged once); a watch limit reached part-way is logged and tolerated.
    bool start(const std::vector<std::filesystem::path>& roots, std::function<void()> on_change);

    // Calls back once after `delay` (the earliest pending request wins), so
    // files that were still settling are picked up without waiting for the
    // periodic rescan. No effect before start() or after stop().
    void poke_after(std::chrono::milliseconds delay);

    // Closes the descriptor and cancels the timers; no callback after this.
    void stop();

    // Number of folders currently watched (for tests and status).
    size_t watched_folders() const { return m_dirs.size(); }

private:
    void add_tree(const std::filesystem::path& dir);
    void handle_events(const uint8_t* data, size_t size);
    void schedule_change();
    void fire();

    static boost::asio::awaitable<void> read_loop(std::shared_ptr<InotifyWatcher> self);
    static boost::asio::awaitable<void> debounce_loop(std::shared_ptr<InotifyWatcher> self);
    static boost::asio::awaitable<void> poke_wait(std::shared_ptr<InotifyWatcher> self, uint64_t generation);

    boost::asio::any_io_executor m_executor;
    std::string m_account;
    Settings m_settings;
    boost::asio::posix::stream_descriptor m_stream;
    boost::asio::steady_timer m_debounce_timer;
    boost::asio::steady_timer m_poke_timer;
    std::function<void()> m_on_change;
    std::unordered_map<int, std::filesystem::path> m_dirs;  // watch descriptor -> folder
    bool m_started = false;
    bool m_stopped = false;
    bool m_limit_logged = false;
    bool m_debouncing = false;
    std::chrono::steady_clock::time_point m_last_event{};
    bool m_events_since_callback = false;  // a burst's events after its first callback
    bool m_poke_armed = false;
    std::chrono::steady_clock::time_point m_poke_deadline{};
    uint64_t m_poke_generation = 0;
};

}  // namespace fitbridge::providers::folder
