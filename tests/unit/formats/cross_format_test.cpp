// Files that SOURCES.md lists as the same activity in two formats agree on
// start time and duration. The formats define these fields differently
// (activity-summary.md), which sets the tolerances:
//
// - Start. FIT: session start_time; GPX: first timed track point; TCX: the
//   first Activity/Id. Garmin Connect's TCX exports (2019 and later in this
//   corpus) write Activity/Id truncated to the minute (e.g. 09:42:00 for a run
//   whose first lap and trackpoint are at 09:42:23), so for those files the
//   TCX start must equal the other start floored to the minute, exactly.
//   Otherwise starts agree within 1 s (FIT stores whole seconds, the XML
//   files whole seconds or milliseconds).
// - Duration. FIT's total_elapsed_time runs to the session's end (the stop
//   button); GPX/TCX elapsed ends at the last trackpoint. So compare end
//   instants (start + elapsed): FIT may end later by the idle time after the
//   last record but never earlier than 1 s (sub-second rounding of the XML
//   times). That idle time is a few seconds for rides and runs (10 s bound;
//   the vivoactive HR run has 6.4 s) and longer for swims, where the rest at
//   the wall after the last length belongs to the session but has no
//   trackpoints (5% bound; fr945 pool swim 6860712481: 135 s of 2983 s).
// - TCX timer time is the sum of lap times the exporter wrote; Garmin's 2015-
//   2018 exporters truncate each lap to whole seconds, hence 1 s per lap.
//   TCX lap distances are the device's numbers and match FIT's to 1 cm.
// The FIT values come from the FIT decoder, the GPX/TCX values from the XML
// decoders; both are checked against their own oracles elsewhere.

#include <gtest/gtest.h>

#include <cmath>

#include "formats/decode.hpp"
#include "xml_expect.hpp"

namespace fitbridge::formats {
namespace {

using testing::decode_corpus;
using testing::decode_fixture;

struct SameActivity {
    const char* reference;  // FIT (or GPX for the GPX/TCX pair)
    const char* other;      // GPX or TCX
    bool id_minute_truncated;
    double end_slack_s;  // how much later the reference may end
};

constexpr double k_run_slack = 10;

double swim_slack(double elapsed) { return 0.05 * elapsed; }

const SameActivity k_pairs[] = {
    {"fit/garmin-edge1000-ride-3939576645.fit", "gpx/garmin-connect-ride-3939576645.gpx", false, k_run_slack},
    {"fit/garmin-vivoactivehr-run-2067489619.fit", "gpx/garmin-connect-run-2067489619.gpx", false, k_run_slack},
    {"fit/garmin-fr945-run-6782987395.fit", "gpx/garmin-connect-run-6782987395.gpx", false, k_run_slack},
    {"fit/garmin-fr945-run-6782987395.fit", "tcx/garmin-run-6782987395.tcx", true, k_run_slack},
    {"gpx/garmin-connect-run-6782987395.gpx", "tcx/garmin-run-6782987395.tcx", true, 1},
    {"fit/garmin-fr15-10k-run.fit", "tcx/garmin-fr15-10k-run.tcx", false, k_run_slack},
    {"fit/garmin-fr945-treadmill-6860622783.fit", "tcx/garmin-treadmill-6860622783.tcx", true, k_run_slack},
    {"fit/garmin-fenix3-hrm-resync-chained.fit", "tcx/garmin-fenix3-hrm-resync.tcx", false, -1},
    {"fit/garmin-fr920xt-hrmswim-chained.fit", "tcx/garmin-fr920xt-hrmswim.tcx", false, -1},
    {"fit/garmin-fr935-poolswim-6688025408.fit", "tcx/garmin-poolswim-6688025408.tcx", true, -1},
    {"fit/garmin-fr945-poolswim-6860712481.fit", "tcx/garmin-poolswim-6860712481.tcx", true, -1},
};

void expect_same_activity(const SameActivity& p, const Summary& ref, const Summary& other) {
    ASSERT_TRUE(ref.ok) << ref.error;
    ASSERT_TRUE(other.ok) << other.error;
    ASSERT_TRUE(ref.start_time && other.start_time && ref.total_elapsed_time && other.total_elapsed_time);

    if (p.id_minute_truncated) {
        EXPECT_EQ(*other.start_time, std::floor(*ref.start_time / 60) * 60)
            << format_iso8601(*other.start_time) << " vs " << format_iso8601(*ref.start_time);
    } else {
        EXPECT_NEAR(*other.start_time, *ref.start_time, 1.0);
    }

    const double ref_end = *ref.start_time + *ref.total_elapsed_time;
    const double other_end = *other.start_time + *other.total_elapsed_time;
    const double slack = p.end_slack_s >= 0 ? p.end_slack_s : swim_slack(*ref.total_elapsed_time);
    EXPECT_GE(ref_end - other_end, -1.0);
    EXPECT_LE(ref_end - other_end, slack);

    if (other.format == Format::tcx && ref.format == Format::fit) {
        ASSERT_TRUE(ref.total_timer_time && other.total_timer_time && other.laps);
        EXPECT_NEAR(*other.total_timer_time, *ref.total_timer_time, static_cast<double>(*other.laps));
        ASSERT_TRUE(ref.total_distance && other.total_distance);
        EXPECT_NEAR(*other.total_distance, *ref.total_distance, 0.01);
    }
}

// The pair whose two files are in tests/data (the FR15 10k run).
TEST(CrossFormat, FixturePairAgreesOnStartAndDuration) {
    int checked = 0;
    for (const auto& p : k_pairs) {
        if (!fitbridge::test::fixture_file(p.reference) || !fitbridge::test::fixture_file(p.other)) continue;
        SCOPED_TRACE(std::string(p.reference) + " vs " + p.other);
        expect_same_activity(p, decode_fixture(p.reference), decode_fixture(p.other));
        ++checked;
    }
    EXPECT_EQ(checked, 1);
}

TEST(CrossFormatCorpus, SameActivityAgreesOnStartAndDuration) {
    FITBRIDGE_REQUIRE_CORPUS();
    for (const auto& p : k_pairs) {
        SCOPED_TRACE(std::string(p.reference) + " vs " + p.other);
        expect_same_activity(p, decode_corpus(p.reference), decode_corpus(p.other));
    }
}

}  // namespace
}  // namespace fitbridge::formats
