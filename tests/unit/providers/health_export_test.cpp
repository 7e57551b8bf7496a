#include "providers/health_export/health_export.hpp"

#include <sys/stat.h>

#include <boost/asio/io_context.hpp>
#include <map>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/hash.hpp"
#include "formats/decode.hpp"
#include "provider_test_util.hpp"
#include "providers/health_export/apple.hpp"
#include "providers/health_export/samsung.hpp"
#include "support/health_export.hpp"

namespace fitbridge::providers::health_export {
namespace {

namespace fs = std::filesystem;
namespace synth = fitbridge::test;
using synth::SynthWorkout;
using test::run;

using test::TempDir;

constexpr double k_june = 1654061400;  // 2022-06-01T05:30:00Z

config::AccountConfig account(std::map<std::string, std::string> options) {
    config::AccountConfig a;
    a.id = "health";
    a.provider = "health_export";
    a.options = std::move(options);
    return a;
}

std::vector<SynthWorkout> three_workouts() {
    return {
        SynthWorkout{.start = k_june, .minutes = 30, .type = "Running", .km = 5},
        SynthWorkout{
            .start = k_june + 86400, .minutes = 45, .type = "Cycling", .km = 20, .route = false, .ios16 = true},
        SynthWorkout{
            .start = k_june + 2 * 86400, .minutes = 40, .type = "TraditionalStrengthTraining", .km = 0, .route = false},
    };
}

std::string id_of(std::string_view iso, std::string_view type, std::string_view source = "Alice's Apple Watch") {
    return fmt::format("apple:{}:{}:{}", iso, type, sha256_hex(source).substr(0, 8));
}

class HealthExportTest : public ::testing::Test {
protected:
    std::unique_ptr<Provider> make(const fs::path& path, std::string settle = "0") {
        Context ctx{.executor = m_io.get_executor(), .state_dir = m_dir.path()};
        auto p = factory().create(account({{"path", path.string()}, {"settle_time", settle}}), ctx);
        if (!p) throw std::runtime_error(p.error().message);
        return std::move(*p);
    }
    std::vector<RemoteActivity> list(Provider& p, ListQuery q = {}) {
        auto page = run(m_io, p.list(q));
        if (!page) throw std::runtime_error(page.error().message);
        return page->items;
    }
    static std::map<std::string, std::string> ignored(const Provider& p) {
        std::map<std::string, std::string> out;
        for (const auto& i : p.ignored()) out[fs::path(i.origin).filename().string()] = i.reason + ": " + i.detail;
        return out;
    }

    boost::asio::io_context m_io;
    TempDir m_dir;
};

TEST(AppleDate, ParsesTheExportsLocalTimesAsUtc) {
    EXPECT_EQ(parse_apple_date("2022-06-01 07:30:00 +0200"), k_june);
    EXPECT_EQ(parse_apple_date("2022-06-01 00:30:00 -0500"), k_june);
    EXPECT_EQ(synth::apple_date(k_june, -300), "2022-06-01 00:30:00 -0500");
    EXPECT_FALSE(parse_apple_date("2022-06-01T07:30:00+02:00"));
    EXPECT_FALSE(parse_apple_date("2022-13-01 07:30:00 +0200"));
    EXPECT_FALSE(parse_apple_date("2022-06-01 07:30:00"));
}

TEST(AppleParser, ReadsWorkoutsOfOldAndNewExports) {
    AppleParser parser("export.xml");
    const std::string xml = synth::apple_export_xml(three_workouts());
    // Chunks that cut elements and attributes in half.
    for (size_t at = 0; at < xml.size(); at += 97)
        ASSERT_TRUE(parser.feed(std::string_view(xml).substr(at, 97), false));
    ASSERT_TRUE(parser.feed({}, true));
    const auto& w = parser.workouts();
    ASSERT_EQ(w.size(), 3u);
    EXPECT_EQ(w[0].id, id_of("2022-06-01T05:30:00Z", "Running"));
    EXPECT_EQ(w[0].kind, "Running");
    EXPECT_EQ(w[0].family, "run");
    EXPECT_EQ(w[0].source, "Alice's Apple Watch");
    EXPECT_EQ(w[0].start, k_june);
    EXPECT_EQ(w[0].end, k_june + 1800);
    EXPECT_EQ(w[0].duration_s, 1800);
    EXPECT_EQ(w[0].distance_m, 5000);
    EXPECT_EQ(w[0].route, "/workout-routes/route_0.gpx");
    EXPECT_FALSE(w[0].indoor);
    EXPECT_EQ(w[1].kind, "Cycling");
    EXPECT_EQ(w[1].family, "ride");
    EXPECT_EQ(w[1].distance_m, 20000);  // iOS 16: from WorkoutStatistics
    EXPECT_EQ(w[1].route, "");
    EXPECT_EQ(w[2].kind, "Traditional Strength Training");
    EXPECT_EQ(w[2].family, "strength");
    EXPECT_FALSE(w[2].distance_m);
    EXPECT_TRUE(parser.heart_rate().empty());
}

TEST(AppleParser, UnitsAndIndoorWorkouts) {
    AppleParser parser("export.xml");
    ASSERT_TRUE(parser.feed(R"(<HealthData>
<Workout workoutActivityType="HKWorkoutActivityTypeSwimming" duration="1.5" durationUnit="hr" totalDistance="1500" totalDistanceUnit="yd" sourceName="W" startDate="2022-06-01 07:30:00 +0200" endDate="2022-06-01 09:00:00 +0200">
 <MetadataEntry key="HKIndoorWorkout" value="1"/>
</Workout>
<Workout workoutActivityType="HKWorkoutActivityTypeWalking" duration="600" durationUnit="s" totalDistance="1" totalDistanceUnit="mi" startDate="2022-06-01 10:00:00 +0200" endDate="2022-06-01 10:10:00 +0200"/>
<Workout workoutActivityType="HKWorkoutActivityTypeHiking" startDate="yesterday" endDate="2022-06-01 10:10:00 +0200"/>
</HealthData>)",
                            true));
    const auto& w = parser.workouts();
    ASSERT_EQ(w.size(), 2u);  // the one without a usable start is left out
    EXPECT_EQ(w[0].family, "swim");
    EXPECT_EQ(w[0].duration_s, 5400);
    EXPECT_DOUBLE_EQ(*w[0].distance_m, 1371.6);
    EXPECT_TRUE(w[0].indoor);
    EXPECT_EQ(w[1].family, "walk");
    EXPECT_EQ(w[1].duration_s, 600);
    EXPECT_DOUBLE_EQ(*w[1].distance_m, 1609.344);
}

TEST(AppleParser, AnErrorNamesLineAndColumnAndKeepsWhatCameBefore) {
    AppleParser parser("/exports/export.xml");
    auto r = parser.feed(R"(<HealthData>
<Workout workoutActivityType="HKWorkoutActivityTypeRunning" startDate="2022-06-01 07:30:00 +0200" endDate="2022-06-01 08:00:00 +0200"/>
<Record <
</HealthData>)",
                         true);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "health_export.malformed");
    EXPECT_EQ(r.error().message, "/exports/export.xml: line 3, column 9: not well-formed (invalid token)");
    EXPECT_EQ(parser.workouts().size(), 1u);
}

TEST(AppleParser, CollectsHeartRateOnlyInsideTheWindows) {
    const auto workouts = three_workouts();
    AppleParser parser("export.xml", {{k_june + 100, k_june + 110}, {k_june + 105, k_june + 120}});
    ASSERT_TRUE(parser.feed(synth::apple_export_xml(workouts), true));
    EXPECT_TRUE(parser.workouts().empty());
    const auto& hr = parser.heart_rate();
    ASSERT_EQ(hr.size(), 5u);  // samples at +100, +105, +110, +115, +120
    EXPECT_EQ(hr[0].time, k_june + 100);
    EXPECT_EQ(hr[0].bpm, synth::synth_bpm(20));
    EXPECT_EQ(hr[4].time, k_june + 120);
    EXPECT_EQ(hr[4].bpm, synth::synth_bpm(24));
}

TEST(HeartRateAt, TakesTheLastSampleOrTheNextClose) {
    const std::vector<HeartRate> s{{100, 120}, {110, 130}, {200, 140}};
    EXPECT_EQ(heart_rate_at(s, 100), 120);
    EXPECT_EQ(heart_rate_at(s, 109), 120);
    EXPECT_EQ(heart_rate_at(s, 139), 130);
    EXPECT_EQ(heart_rate_at(s, 175), 140);  // 65 s after the last, 25 s before the next
    EXPECT_EQ(heart_rate_at(s, 80), 120);
    EXPECT_FALSE(heart_rate_at(s, 150));
    EXPECT_FALSE(heart_rate_at({}, 150));
}

TEST(WordsOf, SplitsAppleTypeNames) {
    EXPECT_EQ(words_of("TraditionalStrengthTraining"), "Traditional Strength Training");
    EXPECT_EQ(words_of("HIIT"), "HIIT");
    EXPECT_EQ(words_of("Running"), "Running");
}

TEST_F(HealthExportTest, ListsEachWorkoutOfAnArchiveRoutesAsFilesTheRestAsSummaries) {
    const auto zip = m_dir / "export.zip";
    synth::write_zip(zip, synth::apple_export_members(three_workouts()));
    auto p = make(zip);
    const auto items = list(*p);
    ASSERT_EQ(items.size(), 3u);
    EXPECT_EQ(items[0].remote_id, id_of("2022-06-01T05:30:00Z", "Running"));
    EXPECT_EQ(items[0].name, "Running");
    EXPECT_EQ(items[0].start_time, k_june);
    EXPECT_EQ(items[0].elapsed_s, 1800);
    EXPECT_EQ(items[0].distance_m, 5000);
    EXPECT_EQ(items[0].sport_family, "run");
    EXPECT_EQ(items[0].origin, zip.string());
    EXPECT_FALSE(items[0].unavailable_reason);
    EXPECT_EQ(items[1].remote_id, id_of("2022-06-02T05:30:00Z", "Cycling"));
    EXPECT_EQ(items[1].sport_family, "ride");
    EXPECT_EQ(items[1].distance_m, 20000);
    EXPECT_EQ(items[1].unavailable_reason, "no GPS route in the Apple Health export: kept as the workout's summary");
    EXPECT_EQ(items[2].name, "Traditional Strength Training");
    EXPECT_EQ(items[2].sport_family, "strength");
    EXPECT_TRUE(ignored(*p).empty());

    // A window lists only the workouts that start in it.
    EXPECT_EQ(list(*p, ListQuery{.since = k_june + 1, .until = k_june + 86401}).size(), 1u);
}

TEST_F(HealthExportTest, ARouteBecomesATcxWithTheWorkoutsSportDistanceAndHeartRate) {
    const auto zip = m_dir / "export.zip";
    synth::write_zip(zip, synth::apple_export_members(three_workouts()));
    auto p = make(zip);
    const auto items = list(*p);
    auto file = run(m_io, p->download(items[0]));
    ASSERT_TRUE(file) << file.error().message;
    const auto s = formats::decode(test::bytes_of(*file));
    ASSERT_TRUE(s.ok) << s.error;
    EXPECT_EQ(s.format, formats::Format::tcx);
    EXPECT_EQ(s.start_time, k_june);
    EXPECT_EQ(s.sport_family, "run");
    EXPECT_EQ(s.total_distance, 5000);
    EXPECT_EQ(s.total_elapsed_time, 1800);
    EXPECT_EQ(s.records, 901);  // one every 2 s for 30 minutes
    EXPECT_EQ(s.records_with_position, 901);
    EXPECT_EQ(s.first_lat, 45.0);
    // Each point takes the watch's last sample at or before it (one every 5 s).
    double sum = 0;
    for (int t = 0; t <= 1800; t += 2) sum += synth::synth_bpm(t / 5);
    EXPECT_DOUBLE_EQ(*s.rec_avg_hr, sum / 901);
    EXPECT_EQ(s.rec_max_hr, 159);
    EXPECT_NE(file->find("<Notes>Running recorded by Alice's Apple Watch (Apple Health export)</Notes>"),
              std::string::npos)
        << file->substr(0, 600);
}

TEST_F(HealthExportTest, ANewerExportOfThePhoneAddsOnlyItsNewWorkouts) {
    auto workouts = three_workouts();
    synth::write_zip(m_dir / "drop/export-2022-06.zip", synth::apple_export_members(workouts, 120));
    auto p = make(m_dir / "drop");
    const auto first = list(*p);
    ASSERT_EQ(first.size(), 3u);
    // Exported months later, in New York: every date reads differently.
    workouts.push_back(SynthWorkout{.start = k_june + 90 * 86400, .minutes = 20, .type = "Walking", .km = 2});
    synth::write_zip(m_dir / "drop/export-2022-09.zip", synth::apple_export_members(workouts, -240));
    const auto second = list(*p);
    ASSERT_EQ(second.size(), 4u);
    for (size_t i = 0; i < 3; ++i) EXPECT_EQ(second[i].remote_id, first[i].remote_id);
    EXPECT_EQ(second[3].remote_id, id_of("2022-08-30T05:30:00Z", "Walking"));
    EXPECT_EQ(second[0].origin, (m_dir / "drop/export-2022-09.zip").string());  // the newer export's copy
    // Newer by time, not by name.
    fs::last_write_time(m_dir / "drop/export-2022-09.zip",
                        fs::last_write_time(m_dir / "drop/export-2022-06.zip") - std::chrono::hours(24));
    EXPECT_EQ(list(*p)[0].origin, (m_dir / "drop/export-2022-06.zip").string());
    // The newer one alone lists the same ids too.
    fs::remove(m_dir / "drop/export-2022-06.zip");
    EXPECT_EQ(list(*p).size(), 4u);
}

TEST_F(HealthExportTest, TheUnzippedFolderReadsLikeTheArchive) {
    synth::write_tree(m_dir / "Export", synth::apple_export_members(three_workouts()));
    auto p = make(m_dir / "Export");
    const auto items = list(*p);
    ASSERT_EQ(items.size(), 3u);
    EXPECT_FALSE(items[0].unavailable_reason);
    auto file = run(m_io, p->download(items[0]));
    ASSERT_TRUE(file) << file.error().message;
    EXPECT_EQ(formats::decode(test::bytes_of(*file)).records_with_position, 901);
    // export.xml directly in the folder works too.
    synth::write_tree(m_dir / "flat", {{"export.xml", synth::apple_export_xml(three_workouts())}});
    EXPECT_EQ(list(*make(m_dir / "flat")).size(), 3u);
}

TEST_F(HealthExportTest, AWorkoutWhoseRouteFileIsMissingIsKeptAsItsSummary) {
    auto members = synth::apple_export_members(three_workouts());
    std::erase_if(members, [](const auto& m) { return m.first.ends_with("route_0.gpx"); });
    synth::write_zip(m_dir / "export.zip", members);
    auto p = make(m_dir / "export.zip");
    const auto items = list(*p);
    ASSERT_EQ(items.size(), 3u);
    EXPECT_TRUE(items[0].unavailable_reason);
}

TEST_F(HealthExportTest, ABrokenRouteIsAnErrorOnThatWorkoutAlone) {
    auto members = synth::apple_export_members(three_workouts());
    for (auto& m : members)
        if (m.first.ends_with("route_0.gpx")) m.second = "<gpx><trk></trk></gpx>";
    synth::write_zip(m_dir / "export.zip", members);
    auto p = make(m_dir / "export.zip");
    const auto items = list(*p);
    auto file = run(m_io, p->download(items[0]));
    ASSERT_FALSE(file);
    EXPECT_EQ(file.error().message, (m_dir / "export.zip/apple_health_export/workout-routes/route_0.gpx").string() +
                                        ": the route holds no timed point");
}

TEST_F(HealthExportTest, BrokenExportsAreReportedAndTheOthersStillListed) {
    synth::write_zip(m_dir / "drop/good.zip", synth::apple_export_members(three_workouts()));
    const std::string whole = test::slurp(m_dir / "drop/good.zip");
    test::write_text(m_dir / "drop/cut.zip", whole.substr(0, whole.size() / 2));
    synth::write_zip(m_dir / "drop/photos.zip", {{"IMG_0001.jpg", "\xff\xd8\xff"}});
    test::write_text(m_dir / "drop/notes.txt", "not an export");
    auto xml = synth::apple_export_xml(three_workouts());
    xml.resize(xml.find("<Workout") + 300);  // inside the first Workout
    synth::write_tree(m_dir / "drop/cut-folder", {{"export.xml", xml}});
    auto p = make(m_dir / "drop");
    const auto items = list(*p);
    EXPECT_EQ(items.size(), 3u);
    const auto why = ignored(*p);
    ASSERT_EQ(why.size(), 3u);
    EXPECT_TRUE(why.at("cut.zip").starts_with("unreadable: " + (m_dir / "drop/cut.zip").string() +
                                              " is not a readable ZIP archive (damaged, or still being copied): "))
        << why.at("cut.zip");
    EXPECT_EQ(why.at("photos.zip"), "unreadable: " + (m_dir / "drop/photos.zip").string() +
                                        " is neither an Apple Health export (no export.xml) nor a Samsung Health "
                                        "export (no com.samsung.shealth.exercise.*.csv)");
    EXPECT_TRUE(why.at("cut-folder")
                    .starts_with("malformed: read up to an error, workouts before it are kept: " +
                                 (m_dir / "drop/cut-folder/export.xml").string() + ": line "))
        << why.at("cut-folder");

    // Only a broken export: the account says why.
    auto alone = make(m_dir / "drop/cut.zip");
    auto page = run(m_io, alone->list({}));
    ASSERT_FALSE(page);
    EXPECT_EQ(page.error().code, "health_export.unreadable");
    EXPECT_TRUE(page.error().message.starts_with((m_dir / "drop/cut.zip").string() + " is not a readable ZIP"));
}

TEST_F(HealthExportTest, AnExportStillBeingWrittenWaitsForSettleTime) {
    synth::write_zip(m_dir / "export.zip", synth::apple_export_members(three_workouts()));
    auto p = make(m_dir / "export.zip", "3600");
    EXPECT_TRUE(list(*p).empty());
    EXPECT_EQ(ignored(*p).at("export.zip"),
              "unstable: changed in the last 3600 s (settle_time); read once unchanged that long");
}

TEST_F(HealthExportTest, AMissingPathIsAnAccountErrorThatSaysWhere) {
    auto p = make(m_dir / "nothing-yet.zip");
    auto page = run(m_io, p->list({}));
    ASSERT_FALSE(page);
    EXPECT_EQ(page.error().code, "health_export.missing");
    EXPECT_EQ(page.error().message,
              (m_dir / "nothing-yet.zip").string() + " does not exist (yet): export the phone's health data there");
}

TEST(HealthExportFactory, IsALabelledUndocumentedSourceThatWatches) {
    const auto f = factory();
    EXPECT_EQ(f.name, "health_export");
    EXPECT_TRUE(f.unofficial);
    EXPECT_EQ(f.capabilities, k_list_window | k_download | k_watch);
    EXPECT_EQ(f.make_http, nullptr);
}

TEST_F(HealthExportTest, OptionsAreChecked) {
    auto no_path = factory().validate(account({}));
    ASSERT_FALSE(no_path);
    EXPECT_TRUE(no_path.error().message.starts_with("path: required"));
    auto relative = factory().validate(account({{"path", "exports"}}));
    ASSERT_FALSE(relative);
    EXPECT_EQ(relative.error().message, "path: 'exports' must be an absolute path or start with ~/");
    auto settle = factory().validate(account({{"path", "/x"}, {"settle_time", "-1"}}));
    ASSERT_FALSE(settle);
    EXPECT_TRUE(factory().validate(account({{"path", "~/Downloads/export.zip"}})));
}

// ---- Samsung Health ------------------------------------------------------------

constexpr double k_jan = 1704175200;  // 2024-01-02T06:00:00Z

std::vector<std::pair<std::string, std::string>> samsung_export() {
    std::string locations = "[", live = "[";
    for (int i = 0; i <= 60; ++i) {
        const auto ms = static_cast<int64_t>((k_jan + i * 10) * 1000);
        locations += fmt::format(
            "{}{{\"latitude\":{},\"longitude\":7.0,\"altitude\":{},\"start_time\":{},"
            "\"accuracy\":4.0}}",
            i ? "," : "", 45.0 + i * 0.0002, 200 + i, ms);
        live += fmt::format("{}{{\"start_time\":{},\"heart_rate\":{},\"speed\":6.5}}", i ? "," : "", ms, 130 + i % 20);
        live += fmt::format(",{{\"start_time\":{},\"speed\":6.6}}", ms + 5000);  // no heart rate
    }
    const std::string p = "com.samsung.health.exercise.";
    const std::string header = p + "start_time," + p + "end_time," + p + "exercise_type," + p + "duration," + p +
                               "distance," + p + "location_data," + p + "live_data," + p + "datauuid," + p +
                               "time_offset,\n";
    return {
        {"samsunghealth_alice_20240110/com.samsung.shealth.exercise.20240110093000.csv",
         "com.samsung.shealth.exercise,6312002,3\n" + header +
             "2024-01-02 06:00:00.000,2024-01-02 06:10:00.000,11007,600000,4000.5,"
             "u1.com.samsung.health.exercise.location_data.json,u1.com.samsung.health.exercise.live_data.json,u1,"
             "UTC+0100,\n"
             "2024-01-03 18:00:00.000,2024-01-03 18:20:00.000,\"9002\",1200000,,,,u2,UTC+0100,\n"
             "not a time,2024-01-03 18:20:00.000,1002,1,,,,u3,UTC+0100,\n"},
        {"samsunghealth_alice_20240110/jsons/com.samsung.shealth.exercise/u/"
         "u1.com.samsung.health.exercise.location_data.json",
         locations + "]"},
        {"samsunghealth_alice_20240110/jsons/com.samsung.shealth.exercise/u/"
         "u1.com.samsung.health.exercise.live_data.json",
         live + "]"},
    };
}

TEST_F(HealthExportTest, SamsungExercisesWithTheirPositionsAndHeartRate) {
    synth::write_tree(m_dir.path(), samsung_export());
    auto p = make(m_dir / "samsunghealth_alice_20240110");
    const auto items = list(*p);
    ASSERT_EQ(items.size(), 2u);
    EXPECT_EQ(items[0].remote_id, "samsung:u1");
    EXPECT_EQ(items[0].name, "Cycling");
    EXPECT_EQ(items[0].sport_family, "ride");
    EXPECT_EQ(items[0].start_time, k_jan);
    EXPECT_EQ(items[0].elapsed_s, 600);
    EXPECT_EQ(items[0].distance_m, 4000.5);
    EXPECT_FALSE(items[0].unavailable_reason);
    EXPECT_EQ(items[1].remote_id, "samsung:u2");
    EXPECT_EQ(items[1].name, "Yoga");
    EXPECT_EQ(items[1].unavailable_reason, "no GPS route in the Samsung Health export: kept as the workout's summary");
    auto file = run(m_io, p->download(items[0]));
    ASSERT_TRUE(file) << file.error().message;
    const auto s = formats::decode(test::bytes_of(*file));
    ASSERT_TRUE(s.ok) << s.error;
    EXPECT_EQ(s.start_time, k_jan);
    EXPECT_EQ(s.sport_family, "ride");
    EXPECT_EQ(s.total_distance, 4000.5);
    EXPECT_EQ(s.records_with_position, 61);
    double sum = 0;
    for (int i = 0; i <= 60; ++i) sum += 130 + i % 20;
    EXPECT_DOUBLE_EQ(*s.rec_avg_hr, sum / 61);
    EXPECT_EQ(s.rec_max_hr, 149);
}

TEST(SamsungTable, AnUnknownOrOutOfRangeSportIsExercise) {
    auto r = parse_samsung_exercises(
        "com.samsung.shealth.exercise,1,1\nstart_time,end_time,exercise_type,datauuid\n"
        "2024-01-02 06:00:00.000,2024-01-02 06:10:00.000,1.1e11,a\n"
        "2024-01-02 07:00:00.000,2024-01-02 07:10:00.000,4004,b\n"
        "2024-01-02 08:00:00.000,2024-01-02 08:10:00.000,1002,c\n",
        "x.csv", {});
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->size(), 3u);
    EXPECT_EQ((*r)[0].kind, "Exercise");
    EXPECT_EQ((*r)[0].family, "other");
    EXPECT_EQ((*r)[1].kind, "Exercise");
    EXPECT_EQ((*r)[2].kind, "Running");
    EXPECT_EQ((*r)[2].family, "run");
    EXPECT_EQ((*r)[2].id, "samsung:c");
    EXPECT_EQ((*r)[2].start, 1704182400);
}

TEST(SamsungTable, AHeaderWithoutTimesIsAClearError) {
    auto r = parse_samsung_exercises("com.samsung.shealth.exercise,1,1\nfoo,bar\n", "x.csv", {});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "x.csv: line 2 is no exercise header (no start_time and end_time columns)");
    EXPECT_TRUE(is_samsung_exercise_table("com.samsung.shealth.exercise.20240110093000.csv"));
    EXPECT_TRUE(is_samsung_exercise_table("export/com.samsung.shealth.exercise.20240110093000.csv"));
    EXPECT_FALSE(is_samsung_exercise_table("a/b/com.samsung.shealth.exercise.20240110093000.csv"));
    EXPECT_FALSE(is_samsung_exercise_table("com.samsung.shealth.exercise.weather.json"));
}

}  // namespace
}  // namespace fitbridge::providers::health_export
