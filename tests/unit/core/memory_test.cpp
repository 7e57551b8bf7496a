#include "core/memory.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <vector>

namespace fitbridge::memory {
namespace {

// Code that must still run after its pages were given back.
std::string work() {
    std::vector<int> v(1000);
    std::iota(v.rbegin(), v.rend(), 0);
    std::sort(v.begin(), v.end());
    return fmt::format("{} {} {}", v.front(), v.back(), std::accumulate(v.begin(), v.end(), 0L));
}

TEST(CompactIdle, GivesBackCodePagesAndEverythingStillRuns) {
    EXPECT_EQ(work(), "0 999 499500");
    const auto c = compact_idle();
    EXPECT_GT(c.code_mappings, 1u);  // this test's binary and libc at least
    EXPECT_GT(c.resident_before, 0u);
    EXPECT_LT(c.resident_after, c.resident_before);
    // The code comes back as it runs.
    EXPECT_EQ(work(), "0 999 499500");
    const auto again = compact_idle();
    EXPECT_GT(again.code_mappings, 1u);
    EXPECT_EQ(work(), "0 999 499500");
}

}  // namespace
}  // namespace fitbridge::memory
