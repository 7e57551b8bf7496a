#include "core/sched.hpp"

#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <utility>

#include <fmt/format.h>

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

namespace {
// A CPU set sized for `max_cpu`, freed with CPU_FREE.
struct CpuSetDeleter {
    void operator()(cpu_set_t* s) const { CPU_FREE(s); }
};
using CpuSetPtr = std::unique_ptr<cpu_set_t, CpuSetDeleter>;
}  // namespace

Cpus allowed_cpus() {
    // The kernel's mask may be wider than cpu_set_t's 1,024 CPUs: grow until it fits.
    for (int n = CPU_SETSIZE; n <= 1 << 16; n *= 2) {
        CpuSetPtr set(CPU_ALLOC(n));
        if (!set) return {};
        const size_t size = CPU_ALLOC_SIZE(n);
        CPU_ZERO_S(size, set.get());
        if (::sched_getaffinity(0, size, set.get()) != 0) {
            if (errno == EINVAL) continue;
            return {};
        }
        Cpus cpus;
        for (int c = 0; c < n; ++c)
            if (CPU_ISSET_S(c, size, set.get())) cpus.push_back(c);
        return cpus;
    }
    return {};
}

bool run_on(const Cpus& cpus) {
    if (cpus.empty() || cpus.front() < 0) return false;
    const int n = *std::max_element(cpus.begin(), cpus.end()) + 1;
    CpuSetPtr set(CPU_ALLOC(n));
    if (!set) return false;
    const size_t size = CPU_ALLOC_SIZE(n);
    CPU_ZERO_S(size, set.get());
    for (int c : cpus) CPU_SET_S(c, size, set.get());
    return ::sched_setaffinity(0, size, set.get()) == 0;
}

Cpus all_but_one(const Cpus& cpus) {
    if (cpus.size() < 2) return cpus;
    return Cpus(cpus.begin() + 1, cpus.end());
}

namespace {
int64_t steady_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}
}  // namespace

SpareCpu::SpareCpu(Cpus cpus, std::chrono::milliseconds hold)
    : m_all(std::move(cpus)), m_engine(all_but_one(m_all)), m_hold(hold) {}

void SpareCpu::note_client() {
    if (m_engine.size() == m_all.size()) return;
    m_until.store(steady_ns() + m_hold.count(), std::memory_order_relaxed);
}

void SpareCpu::follow() {
    if (m_engine.size() == m_all.size()) return;
    // What this thread was last given, and by which SpareCpu (a test's
    // thread may meet several).
    thread_local const SpareCpu* t_owner = nullptr;
    thread_local bool t_sparing = false;
    if (t_owner != this) {
        t_owner = this;
        t_sparing = false;
    }
    const int64_t until = m_until.load(std::memory_order_relaxed);
    const bool want = until != 0 && steady_ns() < until;
    if (want == t_sparing) return;
    // Refused (the process's cpuset changed): not asked again every item.
    run_on(want ? m_engine : m_all);
    t_sparing = want;
}

std::string describe(const Cpus& cpus) {
    std::string out;
    for (size_t i = 0; i < cpus.size();) {
        size_t j = i;
        while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
        if (!out.empty()) out += ',';
        out += j == i ? fmt::format("{}", cpus[i]) : fmt::format("{}-{}", cpus[i], cpus[j]);
        i = j + 1;
    }
    return out;
}

}  // namespace fitbridge::sched
