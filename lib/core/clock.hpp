#pragma once
// Time sources. Code that needs "now" takes a Clock& so tests can control time.

#include <chrono>

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
