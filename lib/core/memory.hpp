#pragma once
// What an idle daemon can give back without losing anything: the heap glibc
// keeps after work (malloc_trim), and the resident pages of its code. Code
// pages (read-only, executable, file-backed mappings: the binary's and the
// libraries' text) are clean copies of the files: dropped from the process
// (MADV_DONTNEED), they stay in the page cache and come back as minor faults
// when that code runs again. Writable and read-only data mappings are never
// touched (relocated data would be lost).

#include <cstddef>

namespace fitbridge::memory {

struct Compaction {
    size_t resident_before = 0;  // bytes, VmRSS
    size_t resident_after = 0;
    size_t code_mappings = 0;  // mappings given back
};

// Trims the heap and drops the code pages. Safe to call at any time from any
// thread (the code that runs next faults its pages back in).
Compaction compact_idle();

// glibc's defaults for a daemon that moves whole activity files around:
// a block of up to 4 MiB comes from the heap and a freed one stays there for
// the next (at the defaults a 133 KB GPX file was a fresh mmap each time:
// its page faults and zeroing on the io thread, and a munmap when freed);
// up to 512 KiB free at the top of each arena is kept for the next ones.
// compact_idle gives back the rest of the main heap once the daemon is
// idle. Call once at start, before other threads run.
void tune_allocator_for_daemon();

// The process's resident set (VmRSS), in bytes; 0 when /proc cannot be read.
size_t resident_bytes();

}  // namespace fitbridge::memory
