// `fitbridge inspect`: argument handling, exit codes, directory walking and
// the `file` labels of the contract. Runs on copies in a sandboxed temp dir.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/inspect.hpp"
#include "json/json.hpp"
#include "support/temp_dir.hpp"

namespace fitbridge::cli {
namespace {

namespace fs = std::filesystem;

class InspectTest : public ::testing::Test {
protected:
    void SetUp() override {
        fs::create_directories(m_dir / "acts" / "sub");
        const fs::path data(FITBRIDGE_SOURCE_DIR "/tests/data");
        fs::copy_file(data / "gpx/fittrackee-e2e.gpx", m_dir / "acts" / "b.gpx");
        fs::copy_file(data / "tcx/pool-swim.tcx", m_dir / "acts" / "sub" / "a.tcx");
        fs::copy_file(data / "gpx/gpsbabel-cerknicko-jezero.gpx.gz", m_dir / "acts" / "a.gpx.gz");
        std::ofstream(m_dir / "bad.fit") << "not an activity";
        std::ofstream(m_dir / "acts" / "README.md") << "# notes, not an activity";
    }

    int run(std::vector<std::string> args) {
        m_out.str("");
        m_err.str("");
        return run_inspect(args, m_out, m_err);
    }
    std::vector<rapidjson::Document> lines() {
        std::vector<rapidjson::Document> out;
        std::istringstream in(m_out.str());
        for (std::string line; std::getline(in, line);) {
            auto doc = json::parse(line);
            EXPECT_TRUE(doc.ok()) << line;
            if (doc.ok()) out.push_back(std::move(*doc));
        }
        return out;
    }

    test::TempDir m_dir{"inspect"};
    std::ostringstream m_out, m_err;
};

// README.md in the directory is skipped: walks pick *.fit/*.gpx/*.tcx[.gz].
TEST_F(InspectTest, DirectoryIsWalkedSortedWithRelativeLabels) {
    EXPECT_EQ(run({"--json", (m_dir / "acts").string()}), 0) << m_err.str();
    auto docs = lines();
    ASSERT_EQ(docs.size(), 3u);
    EXPECT_STREQ(docs[0]["file"].GetString(), "a.gpx.gz");
    EXPECT_STREQ(docs[0]["format"].GetString(), "gpx.gz");
    EXPECT_STREQ(docs[1]["file"].GetString(), "b.gpx");
    EXPECT_STREQ(docs[2]["file"].GetString(), "sub/a.tcx");
    EXPECT_STREQ(docs[2]["format"].GetString(), "tcx");
    EXPECT_EQ(docs[1]["records"].GetInt64(), 25);
    EXPECT_EQ(m_err.str(), "");
}

TEST_F(InspectTest, FilesKeepTheirPathAsGivenInArgumentOrder) {
    const std::string b = (m_dir / "acts" / "b.gpx").string();
    const std::string a = (m_dir / "acts" / "sub" / "a.tcx").string();
    EXPECT_EQ(run({b, "--json", a}), 0);
    auto docs = lines();
    ASSERT_EQ(docs.size(), 2u);
    EXPECT_EQ(docs[0]["file"].GetString(), b);
    EXPECT_EQ(docs[1]["file"].GetString(), a);
}

TEST_F(InspectTest, AnyBadFileMakesExitOne) {
    EXPECT_EQ(run({"--json", (m_dir / "acts" / "b.gpx").string(), (m_dir / "bad.fit").string()}), 1);
    auto docs = lines();
    ASSERT_EQ(docs.size(), 2u);
    EXPECT_TRUE(docs[0]["ok"].GetBool());
    EXPECT_FALSE(docs[1]["ok"].GetBool());
    EXPECT_STREQ(docs[1]["format"].GetString(), "unknown");
    EXPECT_TRUE(docs[1]["error"].IsString());
}

TEST_F(InspectTest, UsageErrorsExitTwoWithoutOutput) {
    EXPECT_EQ(run({}), 2);
    EXPECT_NE(m_err.str().find("no PATH given"), std::string::npos);
    EXPECT_EQ(run({"--jsn", (m_dir / "acts").string()}), 2);
    EXPECT_NE(m_err.str().find("unknown option '--jsn'"), std::string::npos);
    EXPECT_EQ(run({"--json", (m_dir / "acts").string(), (m_dir / "missing.gpx").string()}), 2);
    EXPECT_NE(m_err.str().find("cannot access"), std::string::npos) << m_err.str();
    EXPECT_EQ(m_out.str(), "");  // a typo fails before any file is decoded
}

TEST_F(InspectTest, DoubleDashEndsOptions) {
    fs::copy_file(m_dir / "acts" / "b.gpx", m_dir / "-x.gpx");
    const fs::path cwd = fs::current_path();
    fs::current_path(m_dir.path());
    const int rc = run({"--json", "--", "-x.gpx"});
    fs::current_path(cwd);
    EXPECT_EQ(rc, 0) << m_err.str();
    EXPECT_STREQ(lines().at(0)["file"].GetString(), "-x.gpx");
}

TEST_F(InspectTest, TableByDefault) {
    EXPECT_EQ(run({(m_dir / "acts").string(), (m_dir / "bad.fit").string()}), 1);
    const std::string out = m_out.str();
    EXPECT_EQ(out.rfind("FILE", 0), 0u) << out;
    for (const char* column : {"FORMAT", "SPORT", "START", "DURATION", "DISTANCE", "RECORDS", "STATUS"})
        EXPECT_NE(out.find(column), std::string::npos) << column;
    // fittrackee-e2e.gpx: 25 points from 12:44:45 over 250 s and 316.8 m (oracle values).
    EXPECT_NE(out.find("2018-03-13T12:44:45Z"), std::string::npos) << out;
    EXPECT_NE(out.find("0:04:10"), std::string::npos) << out;
    EXPECT_NE(out.find("0.32 km"), std::string::npos) << out;
    EXPECT_NE(out.find("ERROR: file is not a FIT, GPX or TCX file"), std::string::npos) << out;
}

// A TCX course: first/last position from its track points and its Lap count
// (tests/oracle/xml_reference.py on tcx/course-brighton-beach.tcx), not nulls.
TEST_F(InspectTest, TcxCourseReportsPositionsAndLaps) {
    const fs::path course = fs::path(FITBRIDGE_SOURCE_DIR) / "tests/data/tcx/course-brighton-beach.tcx.gz";
    EXPECT_EQ(run({"--json", course.string()}), 0) << m_err.str();
    auto docs = lines();
    ASSERT_EQ(docs.size(), 1u);
    const auto& d = docs[0];
    EXPECT_STREQ(d["format"].GetString(), "tcx.gz");
    EXPECT_TRUE(d["ok"].GetBool());
    EXPECT_EQ(d["records"].GetInt64(), 2402);
    EXPECT_EQ(d["records_with_position"].GetInt64(), 2402);
    ASSERT_TRUE(d["laps"].IsInt64());
    EXPECT_EQ(d["laps"].GetInt64(), 1);
    ASSERT_TRUE(d["first_lat"].IsNumber() && d["last_lon"].IsNumber());
    EXPECT_DOUBLE_EQ(d["first_lat"].GetDouble(), 40.75622691);
    EXPECT_DOUBLE_EQ(d["first_lon"].GetDouble(), -73.9973099);
    EXPECT_DOUBLE_EQ(d["last_lat"].GetDouble(), 40.57761895);
    EXPECT_DOUBLE_EQ(d["last_lon"].GetDouble(), -73.9612219);
    EXPECT_TRUE(d["start_time"].IsNull());
    EXPECT_TRUE(d["total_distance"].IsNull());
}

}  // namespace
}  // namespace fitbridge::cli
