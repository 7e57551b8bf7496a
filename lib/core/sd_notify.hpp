#pragma once
// systemd readiness and watchdog without libsystemd: datagrams to
// $NOTIFY_SOCKET. Every function is a no-op when the variable is unset.

#include <chrono>
#include <optional>
#include <string_view>

namespace fitbridge {

// Sends one notification ("READY=1", "STATUS=...", "STOPPING=1",
// "WATCHDOG=1", "RELOADING=1"). Returns false when unset or sending failed.
bool sd_notify(std::string_view state);

// The interval at which WATCHDOG=1 must be sent ($WATCHDOG_USEC, honouring
// $WATCHDOG_PID), or nullopt when the watchdog is off.
std::optional<std::chrono::microseconds> sd_watchdog_interval();

}  // namespace fitbridge
