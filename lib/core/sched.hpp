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
bool prefer_short_slices(std::chrono::microseconds slice);

// Moves the calling thread to SCHED_IDLE: it runs only on a CPU that no
// other thread wants, and any waking thread of the normal class preempts it
// at once (a nice value only shrinks its share, and a thread waking behind it
// may wait for the next scheduler tick: 4 ms at 250 Hz). For background work
// (decoding, syncing) that a client of the control API must never wait for.
// False when the kernel refuses (the thread keeps its class).
bool run_only_when_idle();

// The calling thread's requested slice; zero when none was set or the kernel
// does not report one.
std::chrono::microseconds requested_slice();

}  // namespace fitbridge::sched
