#include "core/sched.hpp"

#include <gtest/gtest.h>
#include <sched.h>

#include <thread>

namespace fitbridge::sched {
namespace {

using namespace std::chrono_literals;

TEST(Sched, AShortSliceIsTheCallingThreadsAlone) {
    std::chrono::microseconds before{}, after{}, other{};
    bool accepted = false;
    std::thread t([&] {
        before = requested_slice();
        accepted = prefer_short_slices(100us);
        after = requested_slice();
    });
    t.join();
    std::thread u([&] { other = requested_slice(); });
    u.join();
    ASSERT_TRUE(accepted);
    // Linux 6.12 and later report the slice asked for; older kernels accept
    // the call, keep their own slice and report none.
    EXPECT_TRUE(after == 100us || after == 0us) << after.count();
    if (after == 100us) {
        EXPECT_NE(before, 100us);
        EXPECT_NE(other, 100us);  // a new thread has the default
    }
}

TEST(Sched, RunOnlyWhenIdleMovesTheCallingThreadAlone) {
    int inside = -1;
    bool accepted = false;
    std::thread t([&] {
        accepted = run_only_when_idle();
        inside = ::sched_getscheduler(0);
    });
    t.join();
    ASSERT_TRUE(accepted);
    EXPECT_EQ(inside, SCHED_IDLE);
    EXPECT_EQ(::sched_getscheduler(0), SCHED_OTHER);
}

}  // namespace
}  // namespace fitbridge::sched
