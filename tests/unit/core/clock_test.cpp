#include "core/clock.hpp"

#include <gtest/gtest.h>

namespace fitbridge {
namespace {

using std::chrono::milliseconds;

TEST(ClockOffset, ParsesSignedDecimalSeconds) {
    EXPECT_EQ(parse_clock_offset("86400"), milliseconds(86'400'000));
    EXPECT_EQ(parse_clock_offset("-1.5"), milliseconds(-1500));
    EXPECT_EQ(parse_clock_offset("0"), milliseconds(0));
}

TEST(ClockOffset, RefusesWhatIsNotANumberOfSeconds) {
    EXPECT_EQ(parse_clock_offset(""), std::nullopt);
    EXPECT_EQ(parse_clock_offset("1d"), std::nullopt);
    EXPECT_EQ(parse_clock_offset("86400 "), std::nullopt);
    EXPECT_EQ(parse_clock_offset("nan"), std::nullopt);
    EXPECT_EQ(parse_clock_offset("1e300"), std::nullopt);
}

TEST(OffsetClock, MovesWallTimeButNotTheMonotonicClock) {
    const OffsetClock clock(milliseconds(86'400'000));
    const auto system_before = SystemClock().now();
    const auto moved = clock.now();
    const auto system_after = SystemClock().now();
    EXPECT_GE(moved - system_before, milliseconds(86'400'000));
    EXPECT_LE(moved - system_after, milliseconds(86'400'000));
    const auto steady_before = std::chrono::steady_clock::now();
    const auto steady = clock.steady();
    EXPECT_GE(steady, steady_before);
    EXPECT_LE(steady, std::chrono::steady_clock::now());
}

}  // namespace
}  // namespace fitbridge
