#include "pipeline/match.hpp"

#include <gtest/gtest.h>

namespace fitbridge::pipeline {
namespace {

Facts ride(int64_t id, double start, double elapsed, double distance, int64_t records = 3600, std::string hash = "") {
    Facts f;
    f.activity_id = id;
    if (!hash.empty()) f.content_sha256 = {hash};
    f.start_time = start;
    f.sport_family = "ride";
    f.elapsed_s = elapsed;
    f.distance_m = distance;
    f.records = records;
    f.first_position = std::make_pair(45.0, 7.0);
    f.last_position = std::make_pair(45.1, 7.1);
    return f;
}

constexpr double k_t0 = 1700000000;

TEST(Match, ExactContentHashWinsOverEverything) {
    std::vector<Facts> known{ride(1, k_t0 - 86400, 100, 100, 1, "aaa"), ride(2, k_t0, 3600, 30000)};
    auto in = ride(0, k_t0, 3600, 30000, 3600, "aaa");
    auto r = match(in, known, {});
    EXPECT_EQ(r.kind, MatchKind::exact);
    EXPECT_EQ(r.activity_ids, std::vector<int64_t>{1});
    EXPECT_EQ(r.confidence, 1.0);
}

TEST(Match, SameRideFromTwoDevices) {
    // The Zwift file and the head unit's file: starts 40 s apart, 1% apart in
    // duration and distance, different record counts.
    std::vector<Facts> known{ride(7, k_t0, 3600, 30000, 3600)};
    auto in = ride(0, k_t0 + 40, 3564, 29800, 1790);
    auto r = match(in, known, {});
    EXPECT_EQ(r.kind, MatchKind::time);
    EXPECT_EQ(r.activity_ids, std::vector<int64_t>{7});
    EXPECT_DOUBLE_EQ(r.confidence, 0.9 - 0.3 * 40 / 300);
}

TEST(Match, NearDuplicateOutsideRatioIsNew) {
    std::vector<Facts> known{ride(7, k_t0, 3600, 30000)};
    EXPECT_EQ(match(ride(0, k_t0 + 10, 3600, 25000), known, {}).kind, MatchKind::none);   // 17% shorter
    EXPECT_EQ(match(ride(0, k_t0 + 10, 1800, 30000), known, {}).kind, MatchKind::none);   // half the time
    EXPECT_EQ(match(ride(0, k_t0 + 301, 3600, 30000), known, {}).kind, MatchKind::none);  // outside tolerance
    EXPECT_EQ(match(ride(0, k_t0 + 300, 3600, 30000), known, {}).kind, MatchKind::time);  // at the edge
}

TEST(Match, BackToBackActivitiesStaySeparate) {
    // A warm-up ride 20 min long, then the race starting 25 min after it.
    std::vector<Facts> known{ride(1, k_t0, 1200, 8000, 1200)};
    auto race = ride(0, k_t0 + 1500, 3600, 40000, 3600);
    EXPECT_EQ(match(race, known, {}).kind, MatchKind::none);
    // Two short back-to-back intervals 4 min apart with very different lengths.
    std::vector<Facts> known2{ride(1, k_t0, 240, 2000, 240)};
    EXPECT_EQ(match(ride(0, k_t0 + 240, 600, 5000, 600), known2, {}).kind, MatchKind::none);
}

TEST(Match, IncompatibleSportIsNotAMatch) {
    std::vector<Facts> known{ride(1, k_t0, 3600, 10000)};
    auto run = ride(0, k_t0, 3600, 10000);
    run.sport_family = "run";
    EXPECT_EQ(match(run, known, {}).kind, MatchKind::none);
    run.sport_family = "other";
    EXPECT_EQ(match(run, known, {}).kind, MatchKind::time);
    run.sport_family.reset();
    EXPECT_EQ(match(run, known, {}).kind, MatchKind::time);
    EXPECT_TRUE(compatible_sport("walk", "hike"));
    EXPECT_FALSE(compatible_sport("swim", "run"));
}

TEST(Match, TimeZoneShiftedCopy) {
    // A device that wrote local time (UTC+2) as UTC: same shape, same records.
    std::vector<Facts> known{ride(3, k_t0, 3600, 30000, 3600)};
    auto shifted = ride(0, k_t0 + 7200, 3601, 30010, 3600);
    auto r = match(shifted, known, {});
    EXPECT_EQ(r.kind, MatchKind::time_shifted);
    EXPECT_EQ(r.activity_ids, std::vector<int64_t>{3});
    EXPECT_DOUBLE_EQ(r.confidence, 0.6);
    // India's +5:30 and Nepal-like +5:45 quarter hours count too.
    EXPECT_EQ(match(ride(0, k_t0 + 5 * 3600 + 45 * 60, 3600, 30000, 3600), known, {}).kind, MatchKind::time_shifted);
    // Same shift but different record count: a different ride.
    EXPECT_EQ(match(ride(0, k_t0 + 7200, 3600, 30000, 3599), known, {}).kind, MatchKind::none);
    // Not a whole quarter hour.
    EXPECT_EQ(match(ride(0, k_t0 + 7200 + 400, 3600, 30000, 3600), known, {}).kind, MatchKind::none);
    // The same route ridden again two hours later: same shape and even the
    // same record count, but it starts a few metres away: a different ride.
    auto again = ride(0, k_t0 + 7200, 3600, 30000, 3600);
    again.first_position = std::make_pair(45.00005, 7.0);
    EXPECT_EQ(match(again, known, {}).kind, MatchKind::none);
    // Without positions (indoor) a shifted clock cannot be told from a repeat.
    auto indoor = ride(0, k_t0 + 7200, 3600, 30000, 3600);
    indoor.first_position.reset();
    EXPECT_EQ(match(indoor, known, {}).kind, MatchKind::none);
}

TEST(Match, NoDistanceActivitiesUseDurationOnly) {
    Facts strength;
    strength.activity_id = 9;
    strength.start_time = k_t0;
    strength.sport_family = "strength";
    strength.elapsed_s = 2700;
    strength.records = 0;
    std::vector<Facts> known{strength};
    Facts in = strength;
    in.activity_id = 0;
    in.start_time = k_t0 + 60;
    in.elapsed_s = 2650;
    EXPECT_EQ(match(in, known, {}).kind, MatchKind::time);
    in.distance_m = 0;  // zero distance gives no verdict either
    EXPECT_EQ(match(in, known, {}).kind, MatchKind::time);
    in.elapsed_s = 1200;
    EXPECT_EQ(match(in, known, {}).kind, MatchKind::none);
}

TEST(Match, SeveralCandidatesAreAmbiguousNeverMerged) {
    std::vector<Facts> known{ride(4, k_t0 - 100, 3600, 30000), ride(2, k_t0 + 100, 3600, 30000)};
    auto r = match(ride(0, k_t0, 3600, 30000), known, {});
    EXPECT_EQ(r.kind, MatchKind::ambiguous);
    EXPECT_EQ(r.activity_ids, (std::vector<int64_t>{2, 4}));
}

TEST(Match, ToleranceAndRatioAreOptions) {
    std::vector<Facts> known{ride(1, k_t0, 3600, 30000)};
    MatchOptions strict{60, 0.01};
    EXPECT_EQ(match(ride(0, k_t0 + 90, 3600, 30000), known, strict).kind, MatchKind::none);
    EXPECT_EQ(match(ride(0, k_t0 + 30, 3620, 30000), known, strict).kind, MatchKind::time);
    EXPECT_EQ(match(ride(0, k_t0 + 30, 3700, 30000), known, strict).kind, MatchKind::none);
}

TEST(Richness, PowerThenHeartRateThenRecords) {
    EXPECT_TRUE(richer({true, false, 10}, {false, true, 1000}));
    EXPECT_TRUE(richer({false, true, 10}, {false, false, 1000}));
    EXPECT_TRUE(richer({true, true, 1001}, {true, true, 1000}));
    EXPECT_FALSE(richer({true, true, 1000}, {true, true, 1000}));
}

}  // namespace
}  // namespace fitbridge::pipeline
