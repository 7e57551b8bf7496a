// to_json: the contract's keys, order, types and number printing.

#include <gtest/gtest.h>

#include <cstdlib>

#include "formats/decode.hpp"
#include "formats/summary_json.hpp"
#include "json/json.hpp"

namespace fitbridge::formats {
namespace {

const char* const k_common_keys[] = {"file",
                                     "format",
                                     "bytes",
                                     "sha256",
                                     "content_sha256",
                                     "ok",
                                     "error",
                                     "sport",
                                     "sport_family",
                                     "start_time",
                                     "total_elapsed_time",
                                     "total_timer_time",
                                     "total_distance",
                                     "records",
                                     "records_with_position",
                                     "laps",
                                     "first_lat",
                                     "first_lon",
                                     "last_lat",
                                     "last_lon",
                                     "avg_hr",
                                     "max_hr",
                                     "avg_power",
                                     "rec_avg_hr",
                                     "rec_max_hr",
                                     "rec_avg_power"};
const char* const k_fit_keys[] = {"fit_files_in_chain", "file_type", "manufacturer", "product",
                                  "sessions",           "sub_sport", "msg_counts"};

std::vector<std::string> keys_of(const rapidjson::Document& d) {
    std::vector<std::string> out;
    for (auto it = d.MemberBegin(); it != d.MemberEnd(); ++it) out.emplace_back(it->name.GetString());
    return out;
}

Summary gpx_summary() {
    Summary s;
    s.format = Format::gpx;
    s.bytes = 1234;
    s.sha256 = std::string(64, 'a');
    s.content_sha256 = s.sha256;
    s.ok = true;
    s.sport = "1";
    s.sport_family = "ride";
    s.start_time = 1325196081;  // 2011-12-29T22:01:21Z
    s.total_elapsed_time = 1414;
    s.total_distance = 6262.123456789012;
    s.records = 391;
    s.records_with_position = 391;
    s.first_lat = 33.7544920;
    s.first_lon = -84.38278;
    s.last_lat = 33.75;
    s.last_lon = -84.38;
    return s;
}

TEST(SummaryJson, GpxLineExact) {
    std::string line = to_json(gpx_summary(), "gpx/a.gpx");
    EXPECT_EQ(line,
              R"({"file":"gpx/a.gpx","format":"gpx","bytes":1234,"sha256":")" + std::string(64, 'a') +
                  R"(","content_sha256":")" + std::string(64, 'a') +
                  R"(","ok":true,"error":null,"sport":"1","sport_family":"ride","start_time":"2011-12-29T22:01:21Z",)"
                  R"("total_elapsed_time":1414,"total_timer_time":null,"total_distance":6262.123456789012,)"
                  R"("records":391,"records_with_position":391,"laps":null,"first_lat":33.754492,)"
                  R"("first_lon":-84.38278,"last_lat":33.75,"last_lon":-84.38,"avg_hr":null,"max_hr":null,)"
                  R"("avg_power":null,"rec_avg_hr":null,"rec_max_hr":null,"rec_avg_power":null})");
}

TEST(SummaryJson, NonFitHasNoFitKeys) {
    for (Format f : {Format::gpx, Format::tcx, Format::unknown}) {
        Summary s = gpx_summary();
        s.format = f;
        auto doc = json::parse(to_json(s, "x"));
        ASSERT_TRUE(doc.ok());
        auto keys = keys_of(*doc);
        EXPECT_EQ(keys, std::vector<std::string>(std::begin(k_common_keys), std::end(k_common_keys)));
    }
}

TEST(SummaryJson, FitKeysAndTypes) {
    Summary s;
    s.format = Format::fit;
    s.gzipped = true;
    s.ok = false;
    s.error = "FIT CRC mismatch in file 2 of chain at offset 97160";
    s.fit_files_in_chain = 2;
    s.file_type = "activity";
    s.manufacturer = "255";
    s.manufacturer_is_number = true;
    s.product = 3121;
    s.sessions = 1;
    s.sub_sport = "generic";
    s.msg_counts = {{"record", 10}, {"file_id", 1}, {"mesg_79", 2}};
    s.laps = 3;
    s.avg_hr = 141.5;
    auto doc = json::parse(to_json(s, "fit/x.fit.gz"));
    ASSERT_TRUE(doc.ok());
    std::vector<std::string> want(std::begin(k_common_keys), std::end(k_common_keys));
    want.insert(want.end(), std::begin(k_fit_keys), std::end(k_fit_keys));
    EXPECT_EQ(keys_of(*doc), want);
    const auto& d = *doc;
    EXPECT_STREQ(d["format"].GetString(), "fit.gz");
    EXPECT_FALSE(d["ok"].GetBool());
    EXPECT_STREQ(d["error"].GetString(), "FIT CRC mismatch in file 2 of chain at offset 97160");
    EXPECT_TRUE(d["manufacturer"].IsInt64());
    EXPECT_EQ(d["manufacturer"].GetInt64(), 255);
    EXPECT_STREQ(d["file_type"].GetString(), "activity");
    EXPECT_EQ(d["laps"].GetInt64(), 3);
    EXPECT_EQ(d["avg_hr"].GetDouble(), 141.5);
    EXPECT_TRUE(d["start_time"].IsNull());
    EXPECT_EQ(d["msg_counts"]["mesg_79"].GetInt64(), 2);
    EXPECT_EQ(d["msg_counts"].MemberCount(), 3u);
}

TEST(SummaryJson, FitWithEmptyMsgCountsStillHasTheObject) {
    Summary s;
    s.format = Format::fit;
    s.ok = false;  // error left empty: a placeholder keeps `error` a string
    std::string line = to_json(s, "z.fit");
    EXPECT_NE(line.find(R"("msg_counts":{})"), std::string::npos) << line;
    EXPECT_NE(line.find(R"x("error":"decoding failed (no detail recorded)")x"), std::string::npos) << line;
    EXPECT_NE(line.find(R"("fit_files_in_chain":null)"), std::string::npos) << line;
}

TEST(SummaryJson, NumbersRoundTripAndIntegralsHaveNoFraction) {
    Summary s = gpx_summary();
    s.total_elapsed_time = 2531.0;
    s.total_distance = 0.1 + 0.2;
    s.start_time = 1449848593.994;
    std::string line = to_json(s, "f");
    // The text reads back as the same double (checked with strtod on the
    // text: RapidJSON's default parser is not full-precision). Grisu2 is not
    // always the shortest such text, so the digits themselves are not fixed.
    const std::string key = R"("total_distance":)";
    auto at = line.find(key);
    ASSERT_NE(at, std::string::npos);
    EXPECT_EQ(std::strtod(line.c_str() + at + key.size(), nullptr), 0.1 + 0.2) << line;
    auto doc = json::parse(line);
    ASSERT_TRUE(doc.ok());
    EXPECT_TRUE((*doc)["total_elapsed_time"].IsInt64());
    EXPECT_STREQ((*doc)["start_time"].GetString(), "2015-12-11T15:43:13.994Z");
    EXPECT_STREQ((*doc)["file"].GetString(), "f");
}

TEST(SummaryJson, ReadsItsOwnLinesBack) {
    Summary fit;
    fit.format = Format::fit;
    fit.gzipped = true;
    fit.ok = true;
    fit.content_sha256 = std::string(64, 'c');
    fit.start_time = 1325196081.25;
    fit.fit_files_in_chain = 1;
    fit.file_type = "activity";
    fit.manufacturer = "255";
    fit.manufacturer_is_number = true;
    fit.product = 3121;
    fit.sub_sport = "generic";
    fit.msg_counts = {{"record", 10}, {"file_id", 1}};
    fit.laps = 3;
    fit.avg_power = 201.5;
    for (const Summary& s : {gpx_summary(), fit}) {
        const std::string line = to_json(s, "a/b.fit");
        auto back = summary_from_json(line);
        ASSERT_TRUE(back.ok()) << back.error().message;
        EXPECT_EQ(to_json(*back, "a/b.fit"), line);
        EXPECT_EQ(back->format, s.format);
        EXPECT_EQ(back->gzipped, s.gzipped);
        EXPECT_EQ(back->start_time, s.start_time);
        EXPECT_EQ(back->records, s.records);
        EXPECT_EQ(back->sport_family, s.sport_family);
    }
    auto bad = summary_from_json(R"({"format":"kml"})");
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().message, "summary: 'format' is missing or unknown ('kml')");
    EXPECT_FALSE(summary_from_json("[1]").ok());
}

TEST(SummaryJson, FileNamesAreEscaped) {
    std::string line = to_json(gpx_summary(), "dir/\"quoted\"\\name.gpx");
    auto doc = json::parse(line);
    ASSERT_TRUE(doc.ok());
    EXPECT_STREQ((*doc)["file"].GetString(), "dir/\"quoted\"\\name.gpx");
}

}  // namespace
}  // namespace fitbridge::formats
