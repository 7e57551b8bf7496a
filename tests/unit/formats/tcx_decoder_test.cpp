// TCX decoding. Corpus values come from tests/oracle/xml_reference.py (see
// xml_expect.hpp); the synthetic documents below have hand-computed values.

#include <gtest/gtest.h>

#include "formats/decode.hpp"
#include "xml_expect.hpp"

namespace fitbridge::formats {
namespace {

using testing::decode_corpus;
using testing::decode_fixture;
using testing::N;
using testing::XmlExpect;

// Every TCX file of the corpus against values computed by
// tests/oracle/xml_reference.py (independent Python implementation of the
// contract; regenerate the table with
//   cd ../shared/testdata/activities && python3 /path/to/repo/tests/oracle/xml_reference.py tcx/*
// ). The rows whose file is in tests/data run always; all of them run against
// the full corpus when it is there. Columns: file, sport, start_time, total_elapsed_time, total_timer_time,
// total_distance, records, records_with_position, laps, first_lat, first_lon,
// last_lat, last_lon, avg_hr, max_hr, avg_power, rec_avg_hr, rec_max_hr,
// rec_avg_power, is_activity. N = null.
const XmlExpect k_tcx_corpus[] = {
    {"tcx/course-brighton-beach.tcx",
     N,
     N,
     N,
     N,
     N,
     2402,
     2402,
     1,
     40.75622691,
     -73.9973099,
     40.57761895,
     -73.9612219,
     N,
     N,
     N,
     N,
     N,
     N,
     false},
    {"tcx/edge705-below-sea-level.tcx",
     "Biking",
     "2008-12-28T16:13:27Z",
     28422.0,
     19294.41,
     161301.800781,
     6653,
     6568,
     3,
     33.274054,
     -116.643781,
     33.715478,
     -116.372903,
     N,
     N,
     N,
     N,
     N,
     N,
     true},
    {"tcx/edge705-no-hr-no-power.tcx",
     "Biking",
     "2009-01-09T19:13:14Z",
     7766.0,
     7687.12,
     238.741821,
     1439,
     61,
     1,
     37.614171,
     -122.388878,
     37.613855,
     -122.387777,
     N,
     N,
     N,
     N,
     N,
     N,
     true},
    {"tcx/edge705-power.tcx",
     "Biking",
     "2009-08-31T01:17:25Z",
     4284.0,
     4120.67,
     18660.498047,
     4111,
     4106,
     1,
     37.38709,
     -122.174444,
     37.387126,
     -122.174441,
     126.0,
     154.0,
     N,
     125.78058866455851,
     154.0,
     N,
     true},
    {"tcx/edge705-short-stops.tcx",
     "Biking",
     "2010-04-05T21:45:04Z",
     5784.0,
     5518.96,
     45256.441406,
     5517,
     5517,
     1,
     30.412026,
     -97.755223,
     30.412348,
     -97.755927,
     N,
     N,
     148.0,
     N,
     N,
     148.2824510514866,
     true},
    {"tcx/edge705-smart-recording.tcx",
     "Biking",
     "2009-09-19T13:22:42Z",
     8686.0,
     8686.76,
     50970.933594,
     1863,
     1863,
     1,
     43.643745,
     -116.206754,
     43.643374,
     -116.206624,
     134.0,
     204.0,
     243.0,
     135.42619431025227,
     204.0,
     177.34058759521218,
     true},
    {"tcx/garmin-fenix3-hrm-resync.tcx",
     "Other",
     "2018-05-06T09:38:32Z",
     4410.0,
     4399.0,
     2700.0,
     4421,
     0,
     11,
     N,
     N,
     N,
     N,
     119.06001363946352,
     160.0,
     N,
     117.91442155309034,
     160.0,
     N,
     true},
    {"tcx/garmin-fr15-10k-run.tcx",
     "Running",
     "2014-10-11T18:08:45Z",
     2224.0,
     2223.8029999999994,
     10010.82,
     686,
     686,
     11,
     -34.90647330880165,
     -57.940703043714166,
     -34.903291119262576,
     -57.93717912398279,
     N,
     N,
     N,
     N,
     N,
     N,
     true},
    {"tcx/garmin-fr910xt-swim.tcx",
     "Other",
     "2015-01-31T09:17:02Z",
     2254.0,
     2299.011,
     2000.0,
     85,
     0,
     8,
     N,
     N,
     N,
     N,
     N,
     N,
     N,
     N,
     N,
     N,
     true},
    {"tcx/garmin-fr920xt-hrmswim.tcx",
     "Other",
     "2015-11-23T19:11:49Z",
     2630.0,
     2629.118,
     1350.0,
     2630,
     0,
     11,
     N,
     N,
     N,
     N,
     127.7989542500565,
     156.0,
     N,
     127.85627376425856,
     156.0,
     N,
     true},
    {"tcx/garmin-openwater.tcx",
     "Other",
     "2022-07-24T11:18:16Z",
     1689.0,
     1433.0,
     975.0,
     2870,
     1586,
     2,
     44.8593564,
     13.8216834,
     44.85928,
     13.8215967,
     118.57013258897418,
     143.0,
     N,
     116.99929922915207,
     143.0,
     N,
     true},
    {"tcx/garmin-poolswim-6688025408.tcx",
     "Other",
     "2020-10-23T11:11:00Z",
     3967.0,
     3963.1279999999997,
     2300.0,
     3999,
     0,
     36,
     N,
     N,
     N,
     N,
     117.74191699082137,
     146.0,
     N,
     118.52613153288323,
     146.0,
     N,
     true},
    {"tcx/garmin-poolswim-6860712481.tcx",
     "Other",
     "2019-07-21T13:14:00Z",
     2907.0,
     2847.0259999999994,
     2000.0,
     2875,
     0,
     28,
     N,
     N,
     N,
     N,
     127.32337077357217,
     157.0,
     N,
     128.39095652173913,
     156.0,
     N,
     true},
    {"tcx/garmin-ride-6791039036.tcx",
     "Biking",
     "2019-08-11T12:52:20Z",
     7475.0,
     7263.962,
     42220.87,
     2547,
     2547,
     1,
     45.20685279741883,
     5.78827821649611,
     45.21019600331783,
     5.782436113804579,
     155.0,
     186.0,
     N,
     153.35178641539065,
     186.0,
     N,
     true},
    {"tcx/garmin-run-1604524853.tcx",
     "Running",
     "2016-09-11T15:57:36Z",
     4070.0,
     4070.0,
     6106.6,
     1495,
     1495,
     1,
     45.200577,
     5.733392,
     45.199918,
     5.733223,
     157.0,
     191.0,
     N,
     157.97993311036788,
     191.0,
     N,
     true},
    {"tcx/garmin-run-6782987395.tcx",
     "Running",
     "2019-06-15T09:42:00Z",
     5012.0,
     4989.112,
     14004.849999999999,
     4989,
     4968,
     2,
     41.1630395706743,
     -74.17961918748915,
     41.16429383866489,
     -74.18127117678523,
     137.16164379552916,
     167.0,
     N,
     137.2007226013649,
     167.0,
     N,
     true},
    {"tcx/garmin-sample-run.tcx",
     "Running",
     "2017-08-29T15:23:18Z",
     5183.0,
     5171.0,
     11086.87,
     5070,
     5070,
     12,
     39.66474219225347,
     20.840197261422873,
     39.66502541676164,
     20.84021528251469,
     157.164378263392,
     182.0,
     N,
     157.35641025641024,
     182.0,
     N,
     true},
    {"tcx/garmin-treadmill-6860622783.tcx",
     "Running",
     "2020-02-02T11:19:00Z",
     3796.0,
     3097.789,
     10630.37,
     3101,
     0,
     1,
     N,
     N,
     N,
     N,
     145.0,
     177.0,
     N,
     145.1431796194776,
     177.0,
     N,
     true},
    {"tcx/garmin-velodrome-aero.tcx",
     "Biking",
     "2015-05-09T14:11:44Z",
     485.0,
     485.0,
     4677.87,
     490,
     0,
     5,
     N,
     N,
     N,
     N,
     161.1958762886598,
     180.0,
     209.64948453608247,
     161.34285714285716,
     180.0,
     209.13061224489795,
     true},
    {"tcx/movescount-sample-run.tcx",
     "Running",
     "2018-02-23T16:55:43Z",
     907.0,
     625.0,
     1999.04,
     903,
     903,
     2,
     52.353527,
     4.848538,
     52.332674,
     4.836042,
     136.9952,
     149.0,
     N,
     138.05869324473974,
     149.0,
     N,
     true},
    {"tcx/multi-session-run.tcx",
     "Running",
     "2011-11-29T12:12:00Z",
     12590.0,
     12590.01,
     17056.0576172,
     1893,
     1325,
     4,
     51.530332,
     -0.0424575,
     51.5238729,
     -0.0707328,
     141.97789834956447,
     180.0,
     N,
     144.79491255961844,
     180.0,
     N,
     true},
    {"tcx/multiple-running-activities.tcx",
     "Running",
     "2014-12-26T10:00:39Z",
     8550.0,
     8529.0,
     33483.24999999999,
     2717,
     2717,
     26,
     46.09344659373164,
     14.678033776581287,
     45.12948330491781,
     13.863564496859908,
     177.03914373088685,
     181.0,
     N,
     176.6602870813397,
     181.0,
     N,
     true},
    {"tcx/multisport-2009-05-28.tcx",
     "Running",
     "2009-05-28T20:29:02Z",
     3058.0,
     2878.86,
     6188.3012695,
     494,
     492,
     1,
     42.1199718,
     -75.9405656,
     42.1200901,
     -75.9407649,
     150.0,
     187.0,
     N,
     158.9878048780488,
     187.0,
     N,
     true},
    {"tcx/polar-sample-run.tcx",
     "Running",
     "2018-01-21T10:10:58Z",
     6959.072000026703,
     6314.0,
     10821.0,
     6313,
     6313,
     2,
     53.32048667,
     17.97784,
     53.32033667,
     17.97884167,
     157.04783021856193,
     185.0,
     N,
     156.68541105654998,
     185.0,
     N,
     true},
    {"tcx/polar-v800-run.tcx",
     "Running",
     "2016-09-12T11:19:55Z",
     2163.0510001182556,
     1545.0,
     4156.7001953125,
     1545,
     1545,
     5,
     47.19740667,
     -1.59416333,
     47.22991833,
     -1.60798333,
     129.78446601941747,
     139.0,
     N,
     129.90873786407766,
     139.0,
     N,
     true},
    {"tcx/polar-vantage-v-notes.tcx",
     "Biking",
     "2020-02-05T16:25:14.909Z",
     6953.866000175476,
     6862.0,
     0.0,
     6862,
     0,
     3,
     N,
     N,
     N,
     N,
     149.79364616729816,
     185.0,
     N,
     149.45963276012824,
     185.0,
     N,
     true},
    {"tcx/pool-swim.tcx",
     "Other",
     "2022-08-26T16:35:13Z",
     1531.0,
     1530.668,
     1500.0,
     32,
     0,
     1,
     N,
     N,
     N,
     N,
     N,
     N,
     N,
     N,
     N,
     N,
     true},
    {"tcx/rwgps-ride.tcx.gz",
     N,
     N,
     N,
     N,
     N,
     8218,
     8218,
     1,
     33.811424,
     -84.406372,
     33.811337,
     -84.406158,
     N,
     N,
     N,
     N,
     N,
     N,
     false},
    {"tcx/swim-activity.tcx",
     "Other",
     "2018-08-10T08:39:31Z",
     1865.0,
     1864.189,
     1330.32,
     1317,
     975,
     1,
     44.722057515755296,
     14.896940169855952,
     44.72212431952357,
     14.89702801220119,
     118.0,
     147.0,
     N,
     120.4039483675019,
     147.0,
     N,
     true},
    {"tcx/tcxparser-run-no-hr.tcx",
     "Running",
     "2012-12-26T21:29:53Z",
     1992.0,
     1992.78,
     4689.24267578,
     384,
     383,
     3,
     35.951880198,
     -79.0931872185,
     35.9519544616,
     -79.0930143837,
     N,
     N,
     N,
     N,
     N,
     N,
     true},
    {"tcx/tcxparser-run.tcx",
     "Running",
     "2012-12-26T21:29:53Z",
     1992.0,
     1992.78,
     4689.24267578,
     384,
     383,
     3,
     35.951880198,
     -79.0931872185,
     35.9519544616,
     -79.0930143837,
     160.24403095173577,
     189.0,
     N,
     156.65274151436032,
     189.0,
     N,
     true},
    {"tcx/tracekit-sample-run.tcx",
     "Running",
     "2010-05-24T12:42:00Z",
     2804.0,
     2804.4300000000003,
     7034.551757599999,
     455,
     454,
     5,
     30.3217675,
     -86.1412655,
     30.3214854,
     -86.1414248,
     158.68349718124537,
     179.0,
     N,
     159.3149779735683,
     179.0,
     N,
     true},
    {"tcx/treadmill-run.tcx",
     "Running",
     "2025-10-24T15:25:26Z",
     1638.0,
     1638.071,
     4111.48,
     215,
     0,
     3,
     N,
     N,
     N,
     N,
     125.11945147676748,
     144.0,
     N,
     125.90232558139535,
     144.0,
     N,
     true},
    {"tcx/unknown-sample-run.tcx",
     "Running",
     "2017-05-09T18:11:26Z",
     1916.0,
     1916.1669999999997,
     5729.0,
     752,
     752,
     32,
     52.377871,
     4.91335,
     52.357276,
     4.899604,
     N,
     N,
     N,
     140.38829787234042,
     177.0,
     N,
     true},
    {"tcx/walking-activity.tcx",
     "Other",
     "2018-10-01T15:00:44Z",
     4495.0,
     4495.153,
     3988.82,
     660,
     660,
     4,
     46.53376347385347,
     15.599038721993566,
     46.53402448631823,
     15.599082726985216,
     87.24522391117722,
     114.0,
     N,
     88.38787878787879,
     114.0,
     N,
     true},
    {"tcx/workout-only.tcx", N, N, N, N, N, 0, 0, 0, N, N, N, N, N, N, N, N, N, N, false},
    {"tcx/xc-skiing.tcx",
     "Other",
     "2020-12-26T15:14:21Z",
     2401.0,
     2401.2599999999998,
     5692.01,
     486,
     486,
     2,
     46.495856987312436,
     15.50414820201695,
     46.49620885960758,
     15.504515916109085,
     142.69619949526498,
     172.0,
     N,
     141.1954732510288,
     172.0,
     N,
     true},
};

TEST(TcxDecoder, FixturesMatchOracle) {
    int checked = 0;
    for (const auto& e : k_tcx_corpus) {
        if (!fitbridge::test::fixture_file(e.file)) continue;
        Summary s = decode_fixture(e.file);
        EXPECT_EQ(s.format, Format::tcx) << e.file;
        testing::expect_summary(s, e);
        ++checked;
    }
    EXPECT_EQ(checked, 11);  // the TCX files of tests/data
}

TEST(TcxCorpus, EveryFileMatchesOracle) {
    FITBRIDGE_REQUIRE_CORPUS();
    for (const auto& e : k_tcx_corpus) {
        Summary s = decode_corpus(e.file);
        EXPECT_EQ(s.format, Format::tcx) << e.file;
        testing::expect_summary(s, e);
    }
}

Summary decode_text(std::string_view xml) {
    return decode(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(xml.data()), xml.size()));
}

// Two activities, three laps; LX/AvgWatts on one lap only.
constexpr std::string_view k_two_activities = R"(<?xml version="1.0" encoding="UTF-8"?>
<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"
    xmlns:ns3="http://www.garmin.com/xmlschemas/ActivityExtension/v2">
 <Folders><History><Running Name="Running"><ActivityRef><Id>1999-01-01T00:00:00Z</Id></ActivityRef></Running></History></Folders>
 <Activities>
  <Activity Sport="Biking"><Id>2020-01-01T10:00:00Z</Id>
   <Lap StartTime="2020-01-01T10:00:05Z"><TotalTimeSeconds>100</TotalTimeSeconds><DistanceMeters>1000</DistanceMeters>
    <AverageHeartRateBpm><Value>100</Value></AverageHeartRateBpm><MaximumHeartRateBpm><Value>150</Value></MaximumHeartRateBpm>
    <Track>
     <Trackpoint><Time>2020-01-01T10:00:05Z</Time><Position><LatitudeDegrees>1.5</LatitudeDegrees><LongitudeDegrees>2.5</LongitudeDegrees></Position>
      <HeartRateBpm><Value>90</Value></HeartRateBpm><Extensions><ns3:TPX><ns3:Watts>10</ns3:Watts></ns3:TPX></Extensions></Trackpoint>
     <Trackpoint><Time>2020-01-01T10:01:40Z</Time><HeartRateBpm><Value>110</Value></HeartRateBpm>
      <Extensions><ns3:TPX><ns3:Watts>30</ns3:Watts></ns3:TPX></Extensions></Trackpoint>
    </Track>
    <Extensions><ns3:LX><ns3:AvgWatts>200</ns3:AvgWatts></ns3:LX></Extensions></Lap>
   <Lap StartTime="2020-01-01T10:01:45Z"><TotalTimeSeconds>300</TotalTimeSeconds><DistanceMeters>2000</DistanceMeters>
    <AverageHeartRateBpm><Value>140</Value></AverageHeartRateBpm><MaximumHeartRateBpm><Value>170</Value></MaximumHeartRateBpm>
    <Track><Trackpoint><Time>2020-01-01T10:06:00Z</Time></Trackpoint></Track></Lap>
  </Activity>
  <Activity Sport="Running"><Id>2020-01-01T12:00:00Z</Id>
   <Lap StartTime="2020-01-01T12:00:00Z"><TotalTimeSeconds>60</TotalTimeSeconds><DistanceMeters>100</DistanceMeters>
    <AverageHeartRateBpm><Value>120</Value></AverageHeartRateBpm>
    <Track><Trackpoint><Time>2020-01-01T12:00:30Z</Time></Trackpoint></Track></Lap>
  </Activity>
 </Activities>
</TrainingCenterDatabase>)";

TEST(TcxDecoder, LapSumsElapsedPerActivityAndWeightedHeartRate) {
    Summary s = decode_text(k_two_activities);
    ASSERT_TRUE(s.ok) << s.error;
    EXPECT_EQ(*s.sport, "Biking");  // first activity's Sport, as written
    EXPECT_EQ(*s.sport_family, "ride");
    EXPECT_EQ(format_iso8601(*s.start_time), "2020-01-01T10:00:00Z");  // Activity/Id, not Folders' ActivityRef
    EXPECT_EQ(*s.laps, 3);
    EXPECT_EQ(*s.total_timer_time, 460);
    EXPECT_EQ(*s.total_distance, 3100);
    // (10:06:00 - 10:00:00) + (12:00:30 - 12:00:00)
    EXPECT_EQ(*s.total_elapsed_time, 390);
    // (100*100 + 140*300 + 120*60) / 460
    EXPECT_DOUBLE_EQ(*s.avg_hr, 59200.0 / 460.0);
    EXPECT_EQ(*s.max_hr, 170);
    EXPECT_EQ(*s.avg_power, 200);  // a lap has LX/AvgWatts, so trackpoint watts are not used
    EXPECT_EQ(*s.rec_avg_hr, 100);
    EXPECT_EQ(*s.rec_max_hr, 110);
    EXPECT_EQ(*s.rec_avg_power, 20);
    EXPECT_EQ(s.records, 4);
    EXPECT_EQ(s.records_with_position, 1);
    EXPECT_EQ(*s.first_lat, 1.5);
    EXPECT_EQ(*s.last_lon, 2.5);
    EXPECT_TRUE(s.is_activity);
}

TEST(TcxDecoder, AvgPowerFallsBackToTrackpointWatts) {
    std::string xml(k_two_activities);
    auto from = xml.find("<Extensions><ns3:LX>");
    auto to = xml.find("</Extensions></Lap>") + std::string_view("</Extensions>").size();
    xml.erase(from, to - from);
    Summary s = decode_text(xml);
    ASSERT_TRUE(s.ok) << s.error;
    EXPECT_EQ(*s.avg_power, 20);  // mean of TPX/Watts 10 and 30
}

TEST(TcxDecoder, StartFallsBackToLapStartThenTrackpoint) {
    Summary s = decode_text(R"(<TrainingCenterDatabase><Activities><Activity Sport="Other"><Id>not a time</Id>
      <Lap StartTime="2021-05-05T05:05:05Z"><Track><Trackpoint><Time>2021-05-05T05:06:05Z</Time></Trackpoint></Track></Lap>
      </Activity></Activities></TrainingCenterDatabase>)");
    ASSERT_TRUE(s.ok) << s.error;
    EXPECT_EQ(format_iso8601(*s.start_time), "2021-05-05T05:05:05Z");
    EXPECT_EQ(*s.total_elapsed_time, 60);
    EXPECT_FALSE(s.total_timer_time.has_value());  // no lap carries TotalTimeSeconds
    EXPECT_EQ(*s.sport_family, "other");

    Summary t = decode_text(R"(<TrainingCenterDatabase><Activities><Activity Sport="Running"><Lap>
      <Track><Trackpoint><Time>2021-05-05T05:06:05Z</Time></Trackpoint></Track></Lap>
      </Activity></Activities></TrainingCenterDatabase>)");
    ASSERT_TRUE(t.ok) << t.error;
    EXPECT_EQ(format_iso8601(*t.start_time), "2021-05-05T05:06:05Z");
}

TEST(TcxDecoder, MultiSportSessionActivitiesCount) {
    Summary s = decode_text(R"(<TrainingCenterDatabase><Activities><MultiSportSession><Id>2020-01-01T00:00:00Z</Id>
      <FirstSport><Activity Sport="Running"><Id>2020-01-01T00:00:00Z</Id><Lap StartTime="2020-01-01T00:00:00Z">
        <TotalTimeSeconds>10</TotalTimeSeconds><Track><Trackpoint><Time>2020-01-01T00:00:10Z</Time></Trackpoint></Track></Lap></Activity></FirstSport>
      <NextSport><Activity Sport="Biking"><Id>2020-01-01T00:01:00Z</Id><Lap StartTime="2020-01-01T00:01:00Z">
        <TotalTimeSeconds>20</TotalTimeSeconds><Track><Trackpoint><Time>2020-01-01T00:01:20Z</Time></Trackpoint></Track></Lap></Activity></NextSport>
      </MultiSportSession></Activities></TrainingCenterDatabase>)");
    ASSERT_TRUE(s.ok) << s.error;
    EXPECT_EQ(*s.sport, "Running");
    EXPECT_EQ(*s.laps, 2);
    EXPECT_EQ(*s.total_timer_time, 30);
    EXPECT_EQ(*s.total_elapsed_time, 30);  // 10 + 20
}

TEST(TcxDecoder, CourseAndWorkoutAreNotActivities) {
    Summary course = decode_fixture("tcx/course-brighton-beach.tcx");
    EXPECT_TRUE(course.ok) << course.error;
    EXPECT_FALSE(course.is_activity);
    EXPECT_EQ(course.not_activity_reason, "TCX course: not an activity");
    EXPECT_EQ(course.records, 2402);  // records from the course track
    EXPECT_EQ(course.laps, 1);
    EXPECT_EQ(course.first_lat, 40.75622691);
    EXPECT_EQ(course.last_lon, -73.9612219);
    EXPECT_FALSE(course.start_time.has_value());
    EXPECT_FALSE(course.sport.has_value());

    Summary workout = decode_fixture("tcx/workout-only.tcx");
    EXPECT_TRUE(workout.ok) << workout.error;
    EXPECT_FALSE(workout.is_activity);
    EXPECT_EQ(workout.not_activity_reason, "TCX workout: not an activity");
    EXPECT_EQ(workout.records, 0);
    EXPECT_EQ(workout.laps, 0);
    EXPECT_FALSE(workout.first_lat.has_value());
    EXPECT_FALSE(workout.sport.has_value());
}

// Courses (TCX v2 Courses/Course): Lap elements count as laps, the track
// points as records with the first/last positioned one as first/last
// position; the laps' totals and the track's times and heart rates are not
// activity values.
TEST(TcxDecoder, CourseLapsAndPositionsComeFromItsLapsAndTrack) {
    Summary s = decode_text(R"(<TrainingCenterDatabase><Courses>
      <Course><Name>A</Name>
        <Lap><TotalTimeSeconds>600</TotalTimeSeconds><DistanceMeters>5000</DistanceMeters></Lap>
        <Lap><TotalTimeSeconds>300</TotalTimeSeconds><DistanceMeters>2000</DistanceMeters></Lap>
        <Track>
          <Trackpoint><Time>2020-01-01T00:00:00Z</Time></Trackpoint>
          <Trackpoint><Time>2020-01-01T00:00:01Z</Time><Position><LatitudeDegrees>10.5</LatitudeDegrees>
            <LongitudeDegrees>20.25</LongitudeDegrees></Position><HeartRateBpm><Value>150</Value></HeartRateBpm></Trackpoint>
          <Trackpoint><Time>2020-01-01T00:00:02Z</Time><Position><LatitudeDegrees>99</LatitudeDegrees>
            <LongitudeDegrees>1</LongitudeDegrees></Position></Trackpoint>
        </Track>
      </Course>
      <Course><Name>B</Name>
        <Lap><TotalTimeSeconds>60</TotalTimeSeconds></Lap>
        <Track><Trackpoint><Position><LatitudeDegrees>-1.5</LatitudeDegrees>
          <LongitudeDegrees>-2.75</LongitudeDegrees></Position></Trackpoint></Track>
      </Course>
    </Courses></TrainingCenterDatabase>)");
    ASSERT_TRUE(s.ok) << s.error;
    EXPECT_FALSE(s.is_activity);
    EXPECT_EQ(s.laps, 3);
    EXPECT_EQ(s.records, 4);
    EXPECT_EQ(s.records_with_position, 2);  // latitude 99 is out of range
    EXPECT_EQ(s.first_lat, 10.5);
    EXPECT_EQ(s.first_lon, 20.25);
    EXPECT_EQ(s.last_lat, -1.5);
    EXPECT_EQ(s.last_lon, -2.75);
    EXPECT_FALSE(s.start_time.has_value());
    EXPECT_FALSE(s.total_timer_time.has_value());
    EXPECT_FALSE(s.total_distance.has_value());
    EXPECT_FALSE(s.total_elapsed_time.has_value());
    EXPECT_FALSE(s.rec_avg_hr.has_value());
    EXPECT_FALSE(s.has_hr);
}

// Every TCX file has a lap count: 0 for a course without Lap elements, a
// workout, or a document with nothing in it.
TEST(TcxDecoder, LapsAreZeroNotNullWithoutLapElements) {
    Summary course = decode_text(R"(<TrainingCenterDatabase><Courses><Course><Track>
      <Trackpoint><Position><LatitudeDegrees>1</LatitudeDegrees><LongitudeDegrees>2</LongitudeDegrees></Position></Trackpoint>
      </Track></Course></Courses></TrainingCenterDatabase>)");
    ASSERT_TRUE(course.ok) << course.error;
    EXPECT_EQ(course.laps, 0);
    EXPECT_EQ(course.records, 1);
    EXPECT_EQ(course.first_lat, 1);
    EXPECT_EQ(course.last_lon, 2);

    Summary workout = decode_text(R"(<TrainingCenterDatabase><Workouts><Workout Sport="Running"><Name>Intervals</Name>
      <Step><StepId>1</StepId></Step></Workout></Workouts></TrainingCenterDatabase>)");
    ASSERT_TRUE(workout.ok) << workout.error;
    EXPECT_EQ(workout.not_activity_reason, "TCX workout: not an activity");
    EXPECT_EQ(workout.laps, 0);
    EXPECT_EQ(workout.records, 0);
    EXPECT_FALSE(workout.first_lat.has_value());

    Summary empty = decode_text("<TrainingCenterDatabase><Activities/></TrainingCenterDatabase>");
    ASSERT_TRUE(empty.ok) << empty.error;
    EXPECT_FALSE(empty.is_activity);
    EXPECT_EQ(empty.laps, 0);
}

TEST(TcxDecoder, WhitespaceBeforeDeclaration) {
    Summary s = decode_text(
        " \r\n\t<?xml version=\"1.0\"?>\n<TrainingCenterDatabase><Activities><Activity Sport=\"Running\">"
        "<Id>2020-01-01T00:00:00Z</Id></Activity></Activities></TrainingCenterDatabase>");
    EXPECT_TRUE(s.ok) << s.error;
    EXPECT_EQ(s.format, Format::tcx);
    EXPECT_EQ(s.laps, 0);
}

TEST(TcxCorpus, WhitespaceBeforeDeclaration) {
    FITBRIDGE_REQUIRE_CORPUS();
    // polar-v800-run.tcx starts with spaces before <?xml ...?>.
    Summary s = decode_corpus("tcx/polar-v800-run.tcx");
    EXPECT_TRUE(s.ok) << s.error;
    EXPECT_EQ(s.format, Format::tcx);
}

TEST(TcxDecoder, TruncatedFileReportsLineAndColumn) {
    Summary s = decode_fixture("bad/trunc-tcxparser-run.tcx");
    EXPECT_FALSE(s.ok);
    EXPECT_EQ(s.format, Format::tcx);
    // Python's expat (oracle) also stops on line 2332 ("no element found"); it
    // points just past the last byte, pugixml at the last byte (column 13).
    EXPECT_NE(s.error.find("malformed TCX XML at line 2332, column 13"), std::string::npos) << s.error;
    EXPECT_NE(s.error.find("truncated"), std::string::npos) << s.error;
}

// Fuzz regression (tcx_fuzz): a trackpoint with repeated Position elements
// counted two positions for one record. The first of each child counts.
TEST(TcxDecoder, RepeatedTrackpointChildrenCountOnce) {
    Summary s =
        decode_text(R"(<TrainingCenterDatabase><Activities><Activity Sport="Running"><Id>2020-01-01T00:00:00Z</Id>
      <Lap><Track><Trackpoint><Time>2020-01-01T00:00:10Z</Time><Time>2020-01-01T09:00:00Z</Time>
        <Position><LatitudeDegrees>1</LatitudeDegrees><LongitudeDegrees>2</LongitudeDegrees></Position>
        <Position><LatitudeDegrees>3</LatitudeDegrees><LongitudeDegrees>4</LongitudeDegrees></Position>
        <HeartRateBpm><Value>100</Value></HeartRateBpm><HeartRateBpm><Value>200</Value></HeartRateBpm>
      </Trackpoint></Track></Lap></Activity></Activities></TrainingCenterDatabase>)");
    ASSERT_TRUE(s.ok) << s.error;
    EXPECT_EQ(s.records, 1);
    EXPECT_EQ(s.records_with_position, 1);
    EXPECT_EQ(*s.last_lat, 1);
    EXPECT_EQ(*s.total_elapsed_time, 10);
    EXPECT_EQ(*s.rec_max_hr, 100);
}

}  // namespace
}  // namespace fitbridge::formats
