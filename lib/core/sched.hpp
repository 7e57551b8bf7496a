#pragma once
// Scheduling hints for the calling thread.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

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

// CPU numbers, ascending.
using Cpus = std::vector<int>;

// The CPUs the calling thread may run on (sched_getaffinity); empty when
// the kernel does not say.
Cpus allowed_cpus();

// Restricts the calling thread to `cpus` (threads it starts from then on
// inherit them). False when the kernel refuses (an empty set, or CPUs the
// process's cpuset does not have).
bool run_on(const Cpus& cpus);

// `cpus` without its lowest CPU when it has two or more; `cpus` otherwise.
Cpus all_but_one(const Cpus& cpus);

// Where the engine's threads run: on every CPU the daemon may use, except
// while the control API has clients. A client's request (note_client) makes
// the threads that call follow() between their items keep off one CPU for
// `hold`, so that the client and the API's thread find that CPU free instead
// of waiting behind the engine's work: on a busy CPU a thread that wakes
// waits out the running one's slice or the next tick (1-4 ms here). With
// nobody using the API a backfill has every CPU. With fewer than two CPUs,
// follow() does nothing.
class SpareCpu {
public:
    explicit SpareCpu(Cpus cpus, std::chrono::milliseconds hold = std::chrono::seconds(1));

    // Any thread: a client is using the API now.
    void note_client();
    // The calling thread, between two of its items: keeps off the spare CPU
    // while a client was seen in the last `hold`, runs on every CPU otherwise.
    // Two reads when nothing changes; a sched_setaffinity when it does.
    void follow();

    // The CPU kept free while clients are seen; -1 when there is none.
    int spare() const { return m_engine.size() < m_all.size() ? m_all.front() : -1; }
    const Cpus& all() const { return m_all; }
    const Cpus& engine_cpus() const { return m_engine; }

private:
    Cpus m_all;
    Cpus m_engine;  // m_all without its first CPU
    std::chrono::nanoseconds m_hold;
    std::atomic<int64_t> m_until{0};  // steady clock, ns: clients seen until then; 0: never
};

// "0-2,5": the form of /proc's Cpus_allowed_list and taskset's -c.
std::string describe(const Cpus& cpus);

}  // namespace fitbridge::sched
