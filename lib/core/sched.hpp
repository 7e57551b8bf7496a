#pragma once
// Scheduling hints for the calling thread.

#include <chrono>

namespace fitbridge::sched {

// Asks Linux for short time slices on the calling thread, so that it runs
// soon after it wakes on a busy machine. Since 6.12 a fair-class thread may
// choose its slice (sched_setattr's sched_runtime, 0.1 to 100 ms): a shorter
// slice gives an earlier deadline, and a waking thread with a shorter slice
// than the running one preempts it. Its share of the CPU is unchanged. Older
// kernels ignore the value. False when the kernel refuses the call (the
// thread keeps its slice).
// The default, 0.1 ms, is the shortest the kernel takes: what the daemon's
// io and API threads ask for.
inline constexpr std::chrono::microseconds k_short_slice{100};
bool prefer_short_slices(std::chrono::microseconds slice = k_short_slice);

// The calling thread's requested slice; zero when none was set or the kernel
// does not report one.
std::chrono::microseconds requested_slice();

}  // namespace fitbridge::sched
