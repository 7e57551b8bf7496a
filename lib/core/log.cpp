#include "core/log.hpp"

#include "core/time.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace fitbridge::log {

namespace {
std::atomic<Level> g_level{Level::info};

bool journal() {
    static const bool k_journal = std::getenv("JOURNAL_STREAM") != nullptr;
    return k_journal;
}
}  // namespace

void set_level(Level l) { g_level.store(l); }
Level level() { return g_level.load(); }

bool parse_level(std::string_view text, Level& out) {
    if (text == "debug")
        out = Level::debug;
    else if (text == "info")
        out = Level::info;
    else if (text == "warn")
        out = Level::warn;
    else if (text == "error")
        out = Level::error;
    else
        return false;
    return true;
}

void write(Level l, std::string_view message) {
    static constexpr std::string_view k_names[] = {"debug", "info", "warn", "error"};
    static constexpr int k_priorities[] = {7, 6, 4, 3};
    const auto idx = static_cast<int>(l);
    std::string line;
    if (journal()) {
        line = fmt::format("<{}>{}\n", k_priorities[idx], message);
    } else {
        auto now =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch());
        line =
            fmt::format("{} {:5} {}\n", format_iso8601(static_cast<double>(now.count() / 1000)), k_names[idx], message);
    }
    std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace fitbridge::log
