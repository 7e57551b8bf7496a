#pragma once
// Expected GPX/TCX summaries and the helpers that compare them. The values in
// the tables that use this come from tests/oracle/xml_reference.py (Python
// standard library only, written from the contract text), never from the C++
// decoders.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.hpp"
#include "formats/decode.hpp"
#include "support/testdata.hpp"

namespace fitbridge::formats::testing {

inline constexpr std::nullopt_t N = std::nullopt;

// A file of the full corpus (tests calling this start with FITBRIDGE_REQUIRE_CORPUS()).
inline std::string corpus(std::string_view rel) {
    auto p = fitbridge::test::corpus_file(rel);
    return p ? p->string() : std::string();
}

// A file of tests/data (`rel` or its gzip copy `rel`.gz); an empty path, and a
// test failure, when it is missing.
inline std::string fixture(std::string_view rel) {
    auto p = fitbridge::test::fixture_file(rel);
    EXPECT_TRUE(p.has_value()) << "tests/data has no " << rel;
    return p ? p->string() : std::string();
}

inline std::vector<uint8_t> read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    EXPECT_TRUE(in.good()) << "cannot open " << path;
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline Summary decode_corpus(std::string_view rel) { return decode(read_bytes(corpus(rel))); }

inline Summary decode_fixture(std::string_view rel) { return decode(read_bytes(fixture(rel))); }

struct XmlExpect {
    const char* file;
    std::optional<std::string_view> sport;
    std::optional<std::string_view> start_time;
    std::optional<double> elapsed, timer, distance;
    int64_t records, records_with_position;
    std::optional<int64_t> laps;
    std::optional<double> first_lat, first_lon, last_lat, last_lon;
    std::optional<double> avg_hr, max_hr, avg_power, rec_avg_hr, rec_max_hr, rec_avg_power;
    bool is_activity;
};

// Relative tolerance 1e-9 (at least 1e-6 absolute): the oracle uses the same
// formulas, so only floating-point summation/parsing order can differ
// (fractional seconds are parsed digit by digit in C++, by float() in Python).
inline void expect_near(const char* what, const std::optional<double>& actual, const std::optional<double>& expected) {
    if (!expected) {
        EXPECT_FALSE(actual.has_value()) << what << " should be null, is " << actual.value_or(0);
        return;
    }
    ASSERT_TRUE(actual.has_value()) << what << " should be " << *expected << ", is null";
    EXPECT_NEAR(*actual, *expected, std::max(1e-6, std::fabs(*expected) * 1e-9)) << what;
}

inline void expect_summary(const Summary& s, const XmlExpect& e) {
    SCOPED_TRACE(e.file);
    EXPECT_TRUE(s.ok) << s.error;
    EXPECT_EQ(s.sport, e.sport ? std::optional<std::string>(std::string(*e.sport)) : std::nullopt);
    if (e.start_time) {
        ASSERT_TRUE(s.start_time.has_value());
        EXPECT_EQ(format_iso8601(*s.start_time), *e.start_time);
    } else {
        EXPECT_FALSE(s.start_time.has_value());
    }
    expect_near("total_elapsed_time", s.total_elapsed_time, e.elapsed);
    expect_near("total_timer_time", s.total_timer_time, e.timer);
    expect_near("total_distance", s.total_distance, e.distance);
    EXPECT_EQ(s.records, e.records);
    EXPECT_EQ(s.records_with_position, e.records_with_position);
    EXPECT_EQ(s.laps, e.laps);
    expect_near("first_lat", s.first_lat, e.first_lat);
    expect_near("first_lon", s.first_lon, e.first_lon);
    expect_near("last_lat", s.last_lat, e.last_lat);
    expect_near("last_lon", s.last_lon, e.last_lon);
    expect_near("avg_hr", s.avg_hr, e.avg_hr);
    expect_near("max_hr", s.max_hr, e.max_hr);
    expect_near("avg_power", s.avg_power, e.avg_power);
    expect_near("rec_avg_hr", s.rec_avg_hr, e.rec_avg_hr);
    expect_near("rec_max_hr", s.rec_max_hr, e.rec_max_hr);
    expect_near("rec_avg_power", s.rec_avg_power, e.rec_avg_power);
    EXPECT_EQ(s.is_activity, e.is_activity);
}

}  // namespace fitbridge::formats::testing
