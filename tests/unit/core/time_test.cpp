#include "core/time.hpp"

#include <gtest/gtest.h>

namespace fitbridge {
namespace {

TEST(Time, FormatsWholeSecondsWithoutFraction) {
    EXPECT_EQ(format_iso8601(0), "1970-01-01T00:00:00Z");
    // FIT epoch: 1989-12-31T00:00:00Z is Unix 631065600.
    EXPECT_EQ(format_iso8601(631065600), "1989-12-31T00:00:00Z");
    EXPECT_EQ(format_iso8601(1700000000), "2023-11-14T22:13:20Z");
}

TEST(Time, FormatsMillisecondsTrimmed) {
    EXPECT_EQ(format_iso8601(1700000000.5), "2023-11-14T22:13:20.5Z");
    EXPECT_EQ(format_iso8601(1700000000.123), "2023-11-14T22:13:20.123Z");
}

TEST(Time, ParsesZuluOffsetsAndFractions) {
    EXPECT_EQ(parse_iso8601("2023-11-14T22:13:20Z"), 1700000000.0);
    EXPECT_EQ(parse_iso8601("2023-11-14T23:13:20+01:00"), 1700000000.0);
    EXPECT_EQ(parse_iso8601("2023-11-14T21:13:20-0100"), 1700000000.0);
    EXPECT_DOUBLE_EQ(*parse_iso8601("2023-11-14T22:13:20.250Z"), 1700000000.25);
    EXPECT_EQ(parse_iso8601("2019-01-01"), 1546300800.0);
    EXPECT_EQ(parse_iso8601(" 2023-11-14T22:13:20Z\n"), 1700000000.0);
}

TEST(Time, RejectsMalformed) {
    EXPECT_FALSE(parse_iso8601(""));
    EXPECT_FALSE(parse_iso8601("2023-13-01"));
    EXPECT_FALSE(parse_iso8601("2023-11-14T22:13:20Zjunk"));
    EXPECT_FALSE(parse_iso8601("yesterday"));
}

}  // namespace
}  // namespace fitbridge
