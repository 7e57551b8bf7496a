// Sport family tables (lib/formats/sport_family.cpp documents the choices).

#include <gtest/gtest.h>

#include "formats/decode.hpp"

namespace fitbridge::formats {
namespace {

std::string fit(std::string_view sport, std::string_view sub = "generic") {
    return family_for_fit(sport, sub).value_or("<null>");
}
std::string text(std::string_view s) { return family_for_text(s).value_or("<null>"); }

TEST(SportFamily, FitSports) {
    EXPECT_EQ(fit("cycling"), "ride");
    EXPECT_EQ(fit("e_biking"), "ride");
    EXPECT_EQ(fit("cycling", "virtual_activity"), "ride");
    EXPECT_EQ(fit("cycling", "indoor_cycling"), "ride");
    EXPECT_EQ(fit("running", "treadmill"), "run");
    EXPECT_EQ(fit("running", "trail"), "run");
    EXPECT_EQ(fit("swimming", "lap_swimming"), "swim");
    EXPECT_EQ(fit("walking"), "walk");
    EXPECT_EQ(fit("hiking"), "hike");
    EXPECT_EQ(fit("rowing"), "row");
    EXPECT_EQ(fit("paddling"), "row");
    EXPECT_EQ(fit("kayaking"), "row");
    EXPECT_EQ(fit("stand_up_paddleboarding"), "row");
    EXPECT_EQ(fit("cross_country_skiing"), "ski");
    EXPECT_EQ(fit("alpine_skiing", "backcountry"), "ski");
    EXPECT_EQ(fit("snowboarding"), "ski");
    EXPECT_EQ(fit("training", "strength_training"), "strength");
    EXPECT_EQ(fit("training", "yoga"), "yoga");
    EXPECT_EQ(fit("training", "pilates"), "yoga");
    EXPECT_EQ(fit("training", "cardio_training"), "other");
    EXPECT_EQ(fit("fitness_equipment", "indoor_rowing"), "row");
    EXPECT_EQ(fit("fitness_equipment", "treadmill"), "run");
    EXPECT_EQ(fit("fitness_equipment", "elliptical"), "other");
    EXPECT_EQ(fit("generic"), "other");
    EXPECT_EQ(fit("diving"), "other");
    EXPECT_EQ(fit("snorkeling"), "other");
    EXPECT_EQ(fit("254"), "other");  // a sport number the profile does not name
    EXPECT_EQ(fit(""), "<null>");
}

TEST(SportFamily, TcxAndGpxText) {
    EXPECT_EQ(text("Running"), "run");
    EXPECT_EQ(text("Biking"), "ride");
    EXPECT_EQ(text("Other"), "other");
    EXPECT_EQ(text("cycling"), "ride");
    EXPECT_EQ(text("road_biking"), "ride");
    EXPECT_EQ(text("Ride"), "ride");
    EXPECT_EQ(text("Run"), "run");
    EXPECT_EQ(text("hiking"), "hike");
    EXPECT_EQ(text("TrailRun"), "run");
    EXPECT_EQ(text("Nordic Ski"), "ski");
    EXPECT_EQ(text("WeightTraining"), "strength");
    EXPECT_EQ(text("Afternoon Trail Running"), "run");
    EXPECT_EQ(text("example type"), "other");
    EXPECT_EQ(text("   "), "<null>");
}

TEST(SportFamily, StravaNumericCodes) {
    EXPECT_EQ(text("1"), "ride");
    EXPECT_EQ(text("4"), "hike");
    EXPECT_EQ(text("9"), "run");
    EXPECT_EQ(text("10"), "walk");
    EXPECT_EQ(text("16"), "swim");
    EXPECT_EQ(text("17"), "ride");
    EXPECT_EQ(text("0"), "other");
    EXPECT_EQ(text("99"), "other");
    EXPECT_EQ(text("123456789012345678901234567890"), "other");
}

}  // namespace
}  // namespace fitbridge::formats
