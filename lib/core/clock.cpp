#include "core/clock.hpp"

#include <cmath>
#include <cstdlib>
#include <string>

#include "core/log.hpp"

namespace fitbridge {

namespace {

std::chrono::milliseconds offset_from_environment() {
    const char* text = std::getenv("FITBRIDGE_CLOCK_OFFSET");
    if (text == nullptr || *text == '\0') return std::chrono::milliseconds(0);
    auto offset = parse_clock_offset(text);
    if (!offset) {
        log::warn("FITBRIDGE_CLOCK_OFFSET='{}' is not a number of seconds: the clock is not moved", text);
        return std::chrono::milliseconds(0);
    }
    log::warn("the wall clock is moved by {} s (FITBRIDGE_CLOCK_OFFSET; for tests only)", text);
    return *offset;
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_clock_offset(std::string_view text) {
    const std::string copy(text);
    char* end = nullptr;
    const double seconds = std::strtod(copy.c_str(), &end);
    if (copy.empty() || end != copy.c_str() + copy.size() || !std::isfinite(seconds) || std::fabs(seconds) > 1e10)
        return std::nullopt;
    return std::chrono::milliseconds(static_cast<int64_t>(std::llround(seconds * 1000)));
}

const Clock& process_clock() {
    static const OffsetClock k_clock(offset_from_environment());
    return k_clock;
}

}  // namespace fitbridge
