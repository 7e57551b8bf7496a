#pragma once
// Time sources. Code that needs "now" takes a Clock& so tests can control time.

#include <chrono>
#include <optional>
#include <string_view>

namespace fitbridge {

using SysTime = std::chrono::sys_time<std::chrono::milliseconds>;

class Clock {
public:
    virtual ~Clock() = default;
    // Wall-clock UTC time.
    virtual SysTime now() const = 0;
    // Monotonic time for measuring intervals.
    virtual std::chrono::steady_clock::time_point steady() const = 0;
};

class SystemClock final : public Clock {
public:
    SysTime now() const override {
        return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
    }
    std::chrono::steady_clock::time_point steady() const override { return std::chrono::steady_clock::now(); }
};

// The system clock moved by a fixed offset (wall time only: intervals and
// timers run at the real pace).
class OffsetClock final : public Clock {
public:
    explicit OffsetClock(std::chrono::milliseconds offset) : m_offset(offset) {}
    SysTime now() const override { return SystemClock().now() + m_offset; }
    std::chrono::steady_clock::time_point steady() const override { return std::chrono::steady_clock::now(); }

private:
    std::chrono::milliseconds m_offset;
};

// The daemon's wall clock: the system's, moved by $FITBRIDGE_CLOCK_OFFSET
// seconds when that is set (read once). It lets end-to-end tests pass a night
// or a quota day without waiting for it; nothing else should set it. Code
// given a Clock uses that one; this is for what is made without one (the
// service, a platform's shared HTTP client).
const Clock& process_clock();

// The offset FITBRIDGE_CLOCK_OFFSET's text means (decimal seconds, signed);
// nullopt when it is not such a number.
std::optional<std::chrono::milliseconds> parse_clock_offset(std::string_view text);

// A clock that only moves when told to.
class ManualClock final : public Clock {
public:
    explicit ManualClock(SysTime start) : m_now(start) {}
    SysTime now() const override { return m_now; }
    std::chrono::steady_clock::time_point steady() const override {
        return std::chrono::steady_clock::time_point(m_now.time_since_epoch());
    }
    void advance(std::chrono::milliseconds d) { m_now += d; }

private:
    SysTime m_now;
};

}  // namespace fitbridge
