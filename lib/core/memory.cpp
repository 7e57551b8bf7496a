#include "core/memory.hpp"

#include <malloc.h>
#include <sys/mman.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace fitbridge::memory {

size_t resident_bytes() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
    return 0;
}

void tune_allocator_for_daemon() {
    ::mallopt(M_MMAP_THRESHOLD, 4 << 20);
    // What each arena keeps free at its top. malloc_trim gives back the
    // main heap's but never a thread arena's (glibc trims those only as it
    // frees), so this bounds what the pools' seven arenas hold while idle.
    ::mallopt(M_TRIM_THRESHOLD, 512 << 10);
}

Compaction compact_idle() {
    Compaction c;
    c.resident_before = resident_bytes();
    ::malloc_trim(0);
    // Read whole before any madvise: the list must not change under the loop.
    std::ifstream maps("/proc/self/maps");
    std::string line;
    struct Range {
        uintptr_t from, to;
    };
    std::vector<Range> code;
    while (std::getline(maps, line)) {
        unsigned long from = 0, to = 0;
        char perms[5] = {};
        unsigned long offset = 0;
        char dev[16] = {};
        unsigned long inode = 0;
        if (std::sscanf(line.c_str(), "%lx-%lx %4s %lx %15s %lu", &from, &to, perms, &offset, dev, &inode) != 6)
            continue;
        // Private, read-only and executable, backed by a file (inode != 0):
        // text never written to. Not [vdso]/[vsyscall] (no inode).
        if (std::strcmp(perms, "r-xp") != 0 || inode == 0) continue;
        code.push_back({from, to});
    }
    for (const auto& r : code)
        if (::madvise(reinterpret_cast<void*>(r.from), r.to - r.from, MADV_DONTNEED) == 0) ++c.code_mappings;
    c.resident_after = resident_bytes();
    return c;
}

}  // namespace fitbridge::memory
