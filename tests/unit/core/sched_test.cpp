#include "core/sched.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace fitbridge::sched
