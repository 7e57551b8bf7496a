// GPX decoding. Corpus values come from tests/oracle/xml_reference.py (see
// xml_expect.hpp); the synthetic documents below have hand-computed values.

#include <gtest/gtest.h>

#include <numbers>

#include "formats/decode.hpp"
#include "xml_expect.hpp"

namespace fitbridge::formats {
namespace {

using testing::corpus;
using testing::decode_corpus;
using testing::decode_fixture;
using testing::N;
using testing::read_bytes;
using testing::XmlExpect;

// Every GPX file of the corpus against values computed by
// tests/oracle/xml_reference.py (independent Python implementation of the
// contract; regenerate the table with
//   cd ../shared/testdata/activities && python3 /path/to/repo/tests/oracle/xml_reference.py gpx/*
// ). The rows whose file is in tests/data run always; all of them run against
// the full corpus when it is there. Columns: file, sport, start_time, total_elapsed_time, total_timer_time,
// total_distance, records, records_with_position, laps, first_lat, first_lon,
// last_lat, last_lon, avg_hr, max_hr, avg_power, rec_avg_hr, rec_max_hr,
// rec_avg_power, is_activity. N = null.
const XmlExpect k_gpx_corpus[] = {
    {"gpx/amazfit-run.gpx",
     "Running",
     "2018-05-14T09:54:12Z",
     2531.0,
     N,
     8722.637529011461,
     1216,
     1216,
     N,
     60.272281646728516,
     24.973012924194336,
     60.272216796875,
     24.97271728515625,
     146.4934210526316,
     160.0,
     N,
     146.4934210526316,
     160.0,
     N,
     true},
    {"gpx/etrex20x-with-car.gpx",
     N,
     "2020-12-18T06:15:50Z",
     514.0,
     N,
     2733.2392379350617,
     104,
     104,
     N,
     45.273518851,
     13.7142099626,
     45.2733349521,
     13.7139970623,
     N,
     N,
     N,
     N,
     N,
     N,
     true},
    {"gpx/fittrackee-e2e.gpx",
     N,
     "2018-03-13T12:44:45Z",
     250.0,
     N,
     316.79802554809885,
     25,
     25,
     N,
     44.68095,
     6.07367,
     44.67822,
     6.07442,
     N,
     N,
     N,
     N,
     N,
     N,
     true},
    {"gpx/garmin-connect-ride-3939576645.gpx",
     "road_biking",
     "2019-08-11T12:52:20Z",
     7475.0,
     N,
     41783.29583782438,
     2547,
     2547,
     N,
     45.20685279741883,
     5.78827821649611,
     45.21019600331783,
     5.782436113804579,
     153.35178641539065,
     186.0,
     N,
     153.35178641539065,
     186.0,
     N,
     true},
    {"gpx/garmin-connect-run-2067489619.gpx",
     "running",
     "2017-10-08T14:54:11Z",
     2818.0,
     N,
     4395.237699463206,
     502,
     502,
     N,
     45.209877071902156,
     5.781761202961206,
     45.21028627641499,
     5.782373081892729,
     134.14342629482073,
     178.0,
     N,
     134.14342629482073,
     178.0,
     N,
     true},
    {"gpx/garmin-connect-run-6782987395.gpx",
     "running",
     "2019-06-15T09:42:23Z",
     4989.0,
     N,
     14152.771749730176,
     4967,
     4967,
     N,
     41.1630395706743,
     -74.17961918748915,
     41.16429383866489,
     -74.18127117678523,
     137.25423387096774,
     167.0,
     N,
     137.25423387096774,
     167.0,
     N,
     true},
    {"gpx/garmin-connect-sample.gpx",
     "running",
     "2018-04-23T15:54:34Z",
     1377.0,
     N,
     3874.7159442002894,
     217,
     217,
     N,
     60.29198664240539,
     25.024855211377144,
     60.2922747284174,
     25.024909526109695,
     121.2073732718894,
     132.0,
     N,
     121.2073732718894,
     132.0,
     N,
     true},
    {"gpx/gpsbabel-cerknicko-jezero.gpx",
     N,
     "2010-08-05T14:23:59Z",
     7190.0,
     N,
     4575.012633497177,
     296,
     296,
     N,
     45.772175035,
     14.357659249,
     45.790873384,
     14.304442042,
     N,
     N,
     N,
     N,
     N,
     N,
     true},
    {"gpx/gpsbabel-cerknicko-no-times.gpx",
     N,
     "2010-08-05T16:22:52Z",
     57.0,
     N,
     4575.012633497177,
     296,
     296,
     N,
     45.772175035,
     14.357659249,
     45.790873384,
     14.304442042,
     N,
     N,
     N,
     N,
     N,
     N,
     true},
    {"gpx/gpsbabel-korita-zbevnica.gpx",
     "jkljkl",
     "2010-10-03T09:36:30Z",
     13381.0,
     N,
     14897.062757656064,
     871,
     871,
     N,
     45.380600095,
     14.144491442,
     45.452453708,
     14.018215053,
     N,
     N,
     N,
     N,
     N,
     N,
     true},
    {"gpx/gpsvisualizer-gpx10-ride.gpx",
     N,
     "2010-03-21T21:55:01Z",
     6004.0,
     N,
     40648.059522293675,
     5935,
     5935,
     N,
     43.688452,
     -116.303153,
     43.688829,
     -116.304364,
     N,
     N,
     N,
     N,
     N,
     N,
     true},
    {"gpx/gpx10-all-fields.gpx",
     N,
     "2013-01-01T12:00:04Z",
     0.0,
     N,
     0.0,
     1,
     1,
     N,
     10.1,
     -20.2,
     10.1,
     -20.2,
     N,
     N,
     N,
     N,
     N,
     N,
     true},
    {"gpx/gpx11-all-fields.gpx",
     "t",
     "2013-01-01T12:00:04Z",
     0.0,
     N,
     0.0,
     1,
     1,
     N,
     10.1,
     -20.2,
     10.1,
     -20.2,
     N,
     N,
     N,
     N,
     N,
     N,
     true},
    {"gpx/mapmyfitness-ride.gpx",
     N,
     N,
     N,
     N,
     96275.89778142204,
     9722,
     9722,
     N,
     39.962613578112,
     -105.15878458605,
     39.951812261341,
     -105.1470691606,
     N,
     N,
     N,
     N,
     N,
     N,
     true},
    {"gpx/mapstogpx-swim.gpx",
     N,
     "2021-01-04T16:22:18Z",
     4487.0,
     N,
     2534.02458722941,
     355,
     355,
     N,
     40.95668,
     29.075289,
     40.956917,
     29.075443,
     145.02535211267605,
     184.0,
     N,
     145.02535211267605,
     184.0,
     N,
     true},
    {"gpx/movescount-ride-2014.gpx",
     N,
     "2014-01-16T18:48:44.34Z",
     1656.4500000476837,
     N,
     8541.245966721595,
     669,
     669,
     N,
     47.26376,
     9.043626,
     47.263722,
     9.043721,
     N,
     N,
     N,
     N,
     N,
     N,
     true},
    {"gpx/movescount-sample.gpx",
     N,
     "2018-05-13T14:11:03Z",
     6548.0,
     N,
     12264.636871421217,
     1592,
     1592,
     N,
     42.941313,
     0.962994,
     42.941103,
     0.962901,
     140.17798742138365,
     170.0,
     N,
     140.17798742138365,
     170.0,
     N,
     true},
    {"gpx/mytrails-run.gpx",
     N,
     "2014-09-07T08:03:31Z",
     23422.0,
     N,
     40836.04018124337,
     2665,
     2665,
     N,
     45.050407,
     6.1410327,
     45.050365,
     6.1411114,
     N,
     N,
     N,
     N,
     N,
     N,
     true},
    {"gpx/nikeplus-subsecond-time.gpx",
     "run",
     "2015-12-11T14:43:13Z",
     0.9939999580383301,
     N,
     1.5614309600965066,
     2,
     2,
     N,
     57.011456,
     9.992872,
     57.01147,
     9.992874,
     N,
     N,
     N,
     N,
     N,
     N,
     true},
    {"gpx/route-only.gpx", N, N, N, N, N, 0, 0, N, N, N, N, N, N, N, N, N, N, N, false},
    {"gpx/runkeeper-garmin-extension.gpx", N, N, N, N, N, 0, 0, N, N, N, N, N, N, N, N, N, N, N, false},
    {"gpx/sports-tracker-sample.gpx",
     N,
     "2018-05-13T14:10:59Z",
     6582.0,
     N,
     12285.967005152117,
     7785,
     7785,
     N,
     42.94121,
     0.9630066666666667,
     42.94110166666667,
     0.9628966666666667,
     141.92698944115375,
     171.0,
     N,
     141.92698944115375,
     171.0,
     N,
     true},
    {"gpx/strava-android-run.gpx",
     "9",
     "2017-03-19T16:49:30Z",
     1958.0,
     N,
     4589.17682764233,
     1038,
     1038,
     N,
     45.200135,
     5.770336,
     45.191322,
     5.781143,
     146.4865125240848,
     176.0,
     N,
     146.4865125240848,
     176.0,
     N,
     true},
    {"gpx/strava-iphone-sample.gpx",
     "1",
     "2011-12-29T22:01:21Z",
     1414.0,
     N,
     6260.944453443448,
     391,
     391,
     N,
     33.772438,
     -84.404904,
     33.752202,
     -84.358478,
     N,
     N,
     N,
     N,
     N,
     N,
     true},
    {"gpx/strava-iphone-sample.gpx.gz",
     "1",
     "2011-12-29T22:01:21Z",
     1414.0,
     N,
     6260.944453443448,
     391,
     391,
     N,
     33.772438,
     -84.404904,
     33.752202,
     -84.358478,
     N,
     N,
     N,
     N,
     N,
     N,
     true},
    {"gpx/strava-metadata-only.gpx", N, N, N, N, N, 0, 0, N, N, N, N, N, N, N, N, N, N, N, false},
    {"gpx/strava-openwater-4623204522.gpx",
     "16",
     "2018-10-13T17:05:01Z",
     3688.0,
     N,
     3864.8618364059053,
     88,
     88,
     N,
     19.638311,
     -155.995488,
     19.639979,
     -155.996975,
     74.0909090909091,
     115.0,
     N,
     74.0909090909091,
     115.0,
     N,
     true},
    {"gpx/strava-ride-big.gpx",
     "1",
     "2021-09-05T10:47:21Z",
     10453.0,
     N,
     70110.90762288964,
     10063,
     10063,
     N,
     45.199848,
     5.756316,
     45.206298,
     5.764139,
     164.778793600318,
     184.0,
     151.71204136422392,
     164.778793600318,
     184.0,
     151.71204136422392,
     true},
    {"gpx/strava-sample.gpx",
     N,
     "2018-05-14T14:54:21Z",
     7723.0,
     N,
     21117.920276605317,
     7264,
     7264,
     N,
     42.941059,
     0.963041,
     42.936951,
     0.962304,
     145.38862885462555,
     169.0,
     N,
     145.38862885462555,
     169.0,
     N,
     true},
    {"gpx/track-empty-segment.gpx",
     N,
     "2013-07-06T17:26:26Z",
     76.0,
     N,
     85.8532087230591,
     9,
     9,
     N,
     50.7772126,
     6.0819695,
     50.7776715,
     6.0827203,
     N,
     N,
     N,
     N,
     N,
     N,
     true},
    {"gpx/ultragpslogger-comments.gpx",
     N,
     "2014-05-06T12:29:33Z",
     0.0,
     N,
     0.0,
     1,
     1,
     N,
     51.519402,
     -0.134462,
     51.519402,
     -0.134462,
     N,
     N,
     N,
     N,
     N,
     N,
     true},
    {"gpx/urbanbiker-ride.gpx",
     N,
     "2019-04-18T14:12:19Z",
     3850.927999973297,
     N,
     21116.365701311177,
     2870,
     2870,
     N,
     48.87888891,
     9.18873599,
     48.73928878,
     9.16763937,
     132.14912280701753,
     182.0,
     197.2687038988409,
     132.14912280701753,
     182.0,
     197.2687038988409,
     true},
    {"gpx/utf8-bom.gpx", N, N, N, N, N, 0, 0, N, N, N, N, N, N, N, N, N, N, N, false},
};

TEST(GpxDecoder, FixturesMatchOracle) {
    int checked = 0;
    for (const auto& e : k_gpx_corpus) {
        if (!fitbridge::test::fixture_file(e.file)) continue;
        Summary s = decode_fixture(e.file);
        EXPECT_EQ(s.format, Format::gpx) << e.file;
        testing::expect_summary(s, e);
        ++checked;
    }
    EXPECT_EQ(checked, 13);  // the GPX files of tests/data
}

TEST(GpxCorpus, EveryFileMatchesOracle) {
    FITBRIDGE_REQUIRE_CORPUS();
    for (const auto& e : k_gpx_corpus) {
        Summary s = decode_corpus(e.file);
        EXPECT_EQ(s.format, Format::gpx) << e.file;
        testing::expect_summary(s, e);
    }
}

Summary decode_text(std::string_view xml) {
    return decode(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(xml.data()), xml.size()));
}

// One degree of longitude on the equator: R * pi / 180.
constexpr double k_one_degree_m = 6371000.0 * std::numbers::pi / 180.0;

TEST(GpxDecoder, SegmentsAreNotBridgedAndEmptySegmentsAreHarmless) {
    Summary s = decode_text(R"(<?xml version="1.0"?>
<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1"><trk>
 <trkseg><trkpt lat="0" lon="0"><time>2020-01-01T00:00:00Z</time></trkpt>
         <trkpt lat="0" lon="1"><time>2020-01-01T00:10:00Z</time></trkpt></trkseg>
 <trkseg></trkseg>
 <trkseg><trkpt lat="0" lon="50"><time>2020-01-01T01:00:00Z</time></trkpt>
         <trkpt lat="0" lon="51"><time>2020-01-01T01:10:00Z</time></trkpt></trkseg>
</trk></gpx>)");
    ASSERT_TRUE(s.ok) << s.error;
    EXPECT_EQ(s.records, 4);
    // Two 1-degree hops; the 49-degree gap between segments is not counted.
    EXPECT_NEAR(*s.total_distance, 2 * k_one_degree_m, 1e-6);
    EXPECT_EQ(*s.total_elapsed_time, 4200);
    EXPECT_EQ(*s.last_lon, 51);
}

TEST(GpxDecoder, ExtensionLeavesInAnyNamespaceAndGpx10Inline) {
    Summary s = decode_text(R"(<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1"
  xmlns:tp="http://www.garmin.com/xmlschemas/TrackPointExtension/v1" xmlns:x="urn:x"><trk><trkseg>
 <trkpt lat="1" lon="1"><extensions><tp:TrackPointExtension><tp:hr>100</tp:hr></tp:TrackPointExtension>
   <x:power>200</x:power></extensions></trkpt>
 <trkpt lat="1" lon="1"><extensions><heartrate>120</heartrate><hr>999</hr><PowerInWatts>0</PowerInWatts></extensions></trkpt>
 <trkpt lat="1" lon="1"><hr>90</hr><watts>100</watts></trkpt>
 <trkpt lat="1" lon="1"/>
</trkseg></trk></gpx>)");
    ASSERT_TRUE(s.ok) << s.error;
    // First hr-like leaf per point wins (120, not 999); zeros count toward the mean.
    EXPECT_EQ(*s.rec_avg_hr, (100 + 120 + 90) / 3.0);
    EXPECT_EQ(*s.rec_max_hr, 120);
    EXPECT_EQ(*s.rec_avg_power, 100);  // (200 + 0 + 100) / 3
    EXPECT_EQ(s.avg_hr, s.rec_avg_hr);
    EXPECT_EQ(s.max_hr, s.rec_max_hr);
    EXPECT_EQ(s.avg_power, s.rec_avg_power);
    EXPECT_FALSE(s.start_time.has_value());  // no timed points
    EXPECT_EQ(*s.total_distance, 0);
    EXPECT_FALSE(s.laps.has_value());
    EXPECT_FALSE(s.total_timer_time.has_value());
}

TEST(GpxDecoder, ByteOrderMarkAndWhitespaceBeforeDeclaration) {
    Summary s = decode_text(
        "\xEF\xBB\xBF  \n<?xml version=\"1.0\"?><gpx><trk><type> Ride </type><trkseg>"
        "<trkpt lat=\"1\" lon=\"2\"><time>2020-01-01T00:00:00.5+01:00</time></trkpt>"
        "</trkseg></trk></gpx>");
    ASSERT_TRUE(s.ok) << s.error;
    EXPECT_EQ(s.format, Format::gpx);
    EXPECT_EQ(*s.sport, "Ride");
    EXPECT_EQ(*s.sport_family, "ride");
    EXPECT_EQ(format_iso8601(*s.start_time), "2019-12-31T23:00:00.5Z");
}

TEST(GpxDecoder, BomFileIsWaypointsOnly) {
    Summary s = decode_fixture("gpx/utf8-bom.gpx");
    EXPECT_TRUE(s.ok) << s.error;
    EXPECT_EQ(s.format, Format::gpx);
    EXPECT_FALSE(s.is_activity);
    EXPECT_EQ(s.records, 0);
    EXPECT_FALSE(s.total_distance.has_value());
}

TEST(GpxDecoder, RouteOnlyIsNotAnActivity) {
    Summary s = decode_fixture("gpx/route-only.gpx");
    EXPECT_TRUE(s.ok) << s.error;
    EXPECT_FALSE(s.is_activity);
    EXPECT_NE(s.not_activity_reason.find("route"), std::string::npos) << s.not_activity_reason;
    EXPECT_EQ(s.records, 0);
}

TEST(GpxCorpus, StravaNumericTypesAndWordsMapToFamilies) {
    FITBRIDGE_REQUIRE_CORPUS();
    EXPECT_EQ(*decode_corpus("gpx/strava-android-run.gpx").sport_family, "run");               // <type>9</type>
    EXPECT_EQ(*decode_corpus("gpx/strava-ride-big.gpx").sport_family, "ride");                 // <type>1</type>
    EXPECT_EQ(*decode_corpus("gpx/strava-openwater-4623204522.gpx").sport_family, "swim");     // 16
    EXPECT_EQ(*decode_corpus("gpx/garmin-connect-ride-3939576645.gpx").sport_family, "ride");  // road_biking
    EXPECT_EQ(*decode_corpus("gpx/amazfit-run.gpx").sport_family, "run");                      // Running
    EXPECT_FALSE(decode_corpus("gpx/strava-sample.gpx").sport_family.has_value());             // no <type>
}

TEST(GpxDecoder, TruncatedFileReportsLineAndColumn) {
    // The first 60% of gpsbabel-korita-zbevnica.gpx; Python's expat (oracle)
    // also stops on line 1940.
    Summary s = decode_fixture("bad/trunc-korita-zbevnica.gpx");
    EXPECT_FALSE(s.ok);
    EXPECT_EQ(s.format, Format::gpx);
    EXPECT_NE(s.error.find("malformed GPX XML at line 1940, column"), std::string::npos) << s.error;
    EXPECT_NE(s.error.find("truncated"), std::string::npos) << s.error;
}

TEST(GpxCorpus, TruncatedFileReportsLineAndColumn) {
    FITBRIDGE_REQUIRE_CORPUS();
    Summary s = decode_corpus("bad/trunc-strava-sample.gpx");
    EXPECT_FALSE(s.ok);
    EXPECT_EQ(s.format, Format::gpx);
    // Python's expat (oracle) also stops on line 942 of this file.
    EXPECT_NE(s.error.find("malformed GPX XML at line 942, column"), std::string::npos) << s.error;
    EXPECT_NE(s.error.find("truncated"), std::string::npos) << s.error;
}

TEST(GpxDecoder, MalformedXmlMidFile) {
    Summary s = decode_text("<gpx>\n<trk>\n  <trkseg><trkpt lat=\"1\" lon=\"2\"></trkseg>\n</trk>\n" +
                            std::string(300, ' ') + "</gpx>");
    EXPECT_FALSE(s.ok);
    EXPECT_NE(s.error.find("at line 3, column"), std::string::npos) << s.error;
    EXPECT_EQ(s.error.find("truncated"), std::string::npos) << s.error;
}

TEST(GpxDecoder, RepeatedTimeCountsOnce) {
    Summary s = decode_text(R"(<gpx><trk><trkseg>
      <trkpt lat="1" lon="1"><time>2020-01-01T00:00:00Z</time></trkpt>
      <trkpt lat="1" lon="1"><time>2020-01-01T00:00:10Z</time><time>2020-01-01T05:00:00Z</time></trkpt>
    </trkseg></trk></gpx>)");
    ASSERT_TRUE(s.ok) << s.error;
    EXPECT_EQ(*s.total_elapsed_time, 10);
}

}  // namespace
}  // namespace fitbridge::formats
