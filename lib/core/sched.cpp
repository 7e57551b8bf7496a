#include "core/sched.hpp"

#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>

namespace fitbridge::sched {

namespace {
// The kernel's struct sched_attr (its header clashes with glibc's sched.h).
struct sched_attr {
    uint32_t size;
    uint32_t sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime;
    uint64_t sched_deadline;
    uint64_t sched_period;
    uint32_t sched_util_min;
    uint32_t sched_util_max;
};
// glibc 2.36 has no wrappers for these.
int set_attr(sched_attr& a) { return static_cast<int>(::syscall(SYS_sched_setattr, 0, &a, 0)); }
int get_attr(sched_attr& a) { return static_cast<int>(::syscall(SYS_sched_getattr, 0, &a, sizeof a, 0)); }
}  // namespace

bool prefer_short_slices(std::chrono::microseconds slice) {
    sched_attr a;
    std::memset(&a, 0, sizeof a);
    a.size = sizeof a;
    if (get_attr(a) != 0) return false;
    if (a.sched_policy != SCHED_OTHER && a.sched_policy != SCHED_BATCH) return false;  // not the fair class
    // Keep the policy and nice value; only the slice changes.
    a.size = sizeof a;
    a.sched_flags = 0;
    a.sched_runtime = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(slice).count());
    return set_attr(a) == 0;
}

std::chrono::microseconds requested_slice() {
    sched_attr a;
    std::memset(&a, 0, sizeof a);
    a.size = sizeof a;
    if (get_attr(a) != 0) return std::chrono::microseconds(0);
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::nanoseconds(a.sched_runtime));
}

}  // namespace fitbridge::sched
