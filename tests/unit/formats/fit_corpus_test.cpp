// Exact expected values for FIT files of the shared corpus, and the error line
// for every damaged file under bad/.
//
// Where the expected values come from: tests/oracle/fit_reference.mjs, run over
// ../shared/testdata/activities/fit with Garmin's JavaScript FIT SDK
// (@garmin/fitsdk 21.217 from npm), i.e. independently of the decoder under
// test. Four files the SDK cannot decode (compressed-timestamp headers; an SDK
// TypeError on accumulated fields in the FR255 triathlon files) were read with
// fit-file-parser's raw message reader instead, as that script explains; they
// are marked below. The error lines of bad/ files are this decoder's own
// wording; what they point at (CRC offsets, truncation offsets, file sizes) was
// checked against the bytes with xxd and against the SDK's errors.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "formats/decode.hpp"
#include "formats/fit_decoder.hpp"
#include "support/testdata.hpp"

namespace fs = std::filesystem;
using namespace fitbridge::formats;

namespace {

std::vector<uint8_t> read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Each table runs twice: over the files of tests/data (always) and over the
// full corpus (suites named *Corpus*, skipped without it).
enum class Source { fixtures, corpus };

// `rel` from tests/data or from the corpus; nullopt when that has no such file.
std::optional<fs::path> locate(Source src, const std::string& rel) {
    const std::optional<fs::path> p = src == Source::fixtures ? std::optional<fs::path>(fitbridge::test::fixture(rel))
                                                              : fitbridge::test::corpus_file(rel);
    if (!p || !fs::exists(*p)) return std::nullopt;
    return p;
}

Summary decode_path(const fs::path& p) {
    const auto bytes = read_file(p);
    Summary s;
    decode_fit(bytes, s);
    return s;
}

struct Expected {
    const char* file = nullptr;
    int64_t chain = 0;
    const char* file_type = nullptr;
    const char* manufacturer = nullptr;
    std::optional<int64_t> product;
    int64_t sessions = 0;
    const char* sport = nullptr;
    const char* sub_sport = nullptr;
    std::optional<double> start_time, total_elapsed_time, total_timer_time, total_distance;
    int64_t records = 0, records_with_position = 0, laps = 0;
    std::optional<double> first_lat, first_lon, last_lat, last_lon;
    std::optional<double> avg_hr, max_hr, avg_power, rec_avg_hr, rec_max_hr, rec_avg_power;
    std::map<std::string, int64_t> msg_counts;
};

// clang-format off
const Expected k_expected[] = {
    {.file = "chained-activity-settings.fit",
     .chain = 2, .file_type = "activity", .manufacturer = "dynastream", .product = 1,
     .sessions = 1, .sport = "running", .sub_sport = "generic", .start_time = 1334006546,
     .total_elapsed_time = 13.749, .total_timer_time = 13.749, .total_distance = 5.73,
     .records = 14, .records_with_position = 14, .laps = 1,
     .first_lat = 41.513926070183516, .first_lon = -73.14859078265727, .last_lat = 41.51392372325063, .last_lon = -73.14863906241953,
     .avg_hr = {}, .max_hr = {}, .avg_power = {},
     .rec_avg_hr = {}, .rec_max_hr = {}, .rec_avg_power = {},
     .msg_counts = {{"activity", 1}, {"event", 3}, {"file_creator", 1}, {"file_id", 2}, {"hrm_profile", 1}, {"lap", 1}, {"record", 14}, {"session", 1}, {"user_profile", 1}}},
    {.file = "chained-sdk-activity-poolswim.fit",
     .chain = 2, .file_type = "activity", .manufacturer = "development", .product = 0,
     .sessions = 2, .sport = "stand_up_paddleboarding", .sub_sport = "generic", .start_time = 1626815480,
     .total_elapsed_time = 4441, .total_timer_time = 4441, .total_distance = 457.2,
     .records = 3625, .records_with_position = 3601, .laps = 10,
     .first_lat = 0, .first_lon = 0, .last_lat = 0, .last_lon = 0.0323393102735281,
     .avg_hr = {}, .max_hr = {}, .avg_power = {},
     .rec_avg_hr = 126.50958067203554, .rec_max_hr = 254, .rec_avg_power = 199.76395445709525,
     .msg_counts = {{"activity", 2}, {"developer_data_id", 1}, {"device_info", 2}, {"event", 4}, {"field_description", 2}, {"file_id", 2}, {"lap", 10}, {"length", 24}, {"record", 3625}, {"session", 2}}},
    {.file = "garmin-fr935-swim-chained.fit",
     .chain = 7, .file_type = "activity", .manufacturer = "garmin", .product = 2691,
     .sessions = 1, .sport = "swimming", .sub_sport = "generic", .start_time = 1521889355,
     .total_elapsed_time = 7552.97, .total_timer_time = 7552.97, .total_distance = 0,
     .records = 7515, .records_with_position = 0, .laps = 89,
     .first_lat = {}, .first_lon = {}, .last_lat = {}, .last_lon = {},
     .avg_hr = 80, .max_hr = 151, .avg_power = {},
     .rec_avg_hr = 80.26028690071725, .rec_max_hr = 151, .rec_avg_power = {},
     .msg_counts = {{"activity", 1}, {"battery", 25}, {"developer_data_id", 1}, {"device_info", 10}, {"device_settings", 1}, {"event", 3}, {"field_description", 8}, {"file_creator", 1}, {"file_id", 1}, {"hr", 1432}, {"lap", 89}, {"mesg_140", 1}, {"mesg_141", 1}, {"mesg_147", 1}, {"mesg_22", 62}, {"mesg_233", 4944}, {"mesg_79", 1}, {"record", 7515}, {"session", 1}, {"sport", 1}, {"time_in_zone", 90}, {"training_settings", 1}, {"user_profile", 1}, {"zones_target", 1}}},
    {.file = "garmin-fr920xt-openwater-multi-header.fit",
     .chain = 4, .file_type = "activity", .manufacturer = "garmin", .product = 1765,
     .sessions = 5, .sport = "swimming", .sub_sport = "open_water", .start_time = 1527406381,
     .total_elapsed_time = 9491.348, .total_timer_time = 9491.348, .total_distance = 52533.68,
     .records = 1773, .records_with_position = 1462, .laps = 5,
     .first_lat = 45.180750377476215, .first_lon = -1.085221515968442, .last_lat = 45.1813003141433, .last_lon = -1.085149347782135,
     .avg_hr = 171.7561371682926, .max_hr = 187, .avg_power = {},
     .rec_avg_hr = 173.193006993007, .rec_max_hr = 187, .rec_avg_power = {},
     .msg_counts = {{"activity", 1}, {"device_info", 35}, {"event", 8}, {"file_creator", 1}, {"file_id", 1}, {"hr", 1161}, {"lap", 5}, {"mesg_113", 4}, {"mesg_125", 1}, {"mesg_140", 6}, {"mesg_141", 1}, {"mesg_22", 13}, {"mesg_79", 3}, {"record", 1773}, {"session", 5}, {"sport", 5}}},
    {.file = "garmin-fenix3-hrm-resync-chained.fit",
     .chain = 4, .file_type = "activity", .manufacturer = "garmin", .product = 2050,
     .sessions = 1, .sport = "swimming", .sub_sport = "lap_swimming", .start_time = 1525599512,
     .total_elapsed_time = 4435.036, .total_timer_time = 4409.589, .total_distance = 2700,
     .records = 4411, .records_with_position = 0, .laps = 11,
     .first_lat = {}, .first_lon = {}, .last_lat = {}, .last_lon = {},
     .avg_hr = 125, .max_hr = 160, .avg_power = {},
     .rec_avg_hr = {}, .rec_max_hr = {}, .rec_avg_power = {},
     .msg_counts = {{"activity", 1}, {"device_info", 6}, {"event", 3}, {"file_creator", 1}, {"file_id", 1}, {"hr", 1153}, {"lap", 11}, {"length", 116}, {"mesg_125", 1}, {"mesg_140", 1}, {"mesg_141", 1}, {"mesg_22", 15}, {"mesg_79", 1}, {"record", 4411}, {"session", 1}, {"sport", 1}, {"time_in_zone", 12}}},
    {.file = "garmin-fr955-hrm-plugin-chained.fit",
     .chain = 4, .file_type = "activity", .manufacturer = "garmin", .product = 4024,
     .sessions = 1, .sport = "walking", .sub_sport = "generic", .start_time = 1661797882,
     .total_elapsed_time = 308.545, .total_timer_time = 308.545, .total_distance = 59.61,
     .records = 310, .records_with_position = 309, .laps = 1,
     .first_lat = 40.02402358688414, .first_lon = -105.22214124910533, .last_lat = 40.023861061781645, .last_lon = -105.2218995988369,
     .avg_hr = 73, .max_hr = 93, .avg_power = {},
     .rec_avg_hr = 72.63095238095238, .rec_max_hr = 94, .rec_avg_power = {},
     .msg_counts = {{"activity", 1}, {"battery", 1}, {"device_info", 17}, {"device_settings", 1}, {"event", 3}, {"file_creator", 1}, {"file_id", 1}, {"gps_metadata", 323}, {"hr", 114}, {"hrv", 121}, {"lap", 1}, {"mesg_140", 1}, {"mesg_141", 1}, {"mesg_147", 3}, {"mesg_22", 17}, {"mesg_233", 225}, {"mesg_288", 1}, {"mesg_324", 9}, {"mesg_325", 10}, {"mesg_326", 6}, {"mesg_327", 3}, {"mesg_79", 1}, {"record", 310}, {"session", 1}, {"sport", 1}, {"time_in_zone", 2}, {"training_settings", 1}, {"user_profile", 1}, {"zones_target", 1}}},
    {.file = "garmin-fr735xt-swim-chained-hr.fit",
     .chain = 5, .file_type = "activity", .manufacturer = "garmin", .product = 2158,
     .sessions = 1, .sport = "swimming", .sub_sport = "lap_swimming", .start_time = 1497361350,
     .total_elapsed_time = 4567.485, .total_timer_time = 4371.56, .total_distance = 2606.04,
     .records = 4376, .records_with_position = 0, .laps = 99,
     .first_lat = {}, .first_lon = {}, .last_lat = {}, .last_lon = {},
     .avg_hr = 142, .max_hr = 161, .avg_power = {},
     .rec_avg_hr = {}, .rec_max_hr = {}, .rec_avg_power = {},
     .msg_counts = {{"activity", 1}, {"battery", 13}, {"device_info", 6}, {"device_settings", 1}, {"event", 7}, {"file_creator", 1}, {"file_id", 1}, {"hr", 1415}, {"lap", 99}, {"length", 166}, {"mesg_113", 1}, {"mesg_125", 1}, {"mesg_140", 2}, {"mesg_141", 1}, {"mesg_147", 4}, {"mesg_22", 1}, {"mesg_79", 1}, {"record", 4376}, {"session", 1}, {"sport", 1}, {"time_in_zone", 100}, {"training_settings", 1}, {"user_profile", 1}, {"zones_target", 1}}},
    {.file = "garmin-fr70-compressed-speed-distance.fit", // fit-file-parser raw messages (the SDK cannot decode this file)
     .chain = 1, .file_type = "activity", .manufacturer = "garmin", .product = 1436,
     .sessions = 1, .sport = "running", .sub_sport = nullptr, .start_time = 648283464,
     .total_elapsed_time = 3883.273, .total_timer_time = 3772.75, .total_distance = 10248.67,
     .records = 755, .records_with_position = 0, .laps = 11,
     .first_lat = {}, .first_lon = {}, .last_lat = {}, .last_lon = {},
     .avg_hr = 170, .max_hr = 190, .avg_power = {},
     .rec_avg_hr = 170.5212201591512, .rec_max_hr = 189, .rec_avg_power = {},
     .msg_counts = {{"activity", 1}, {"device_info", 3}, {"event", 4}, {"file_id", 1}, {"lap", 11}, {"mesg_22", 2}, {"mesg_36", 2}, {"record", 755}, {"session", 1}}},
    {.file = "garmin-fr70-compressed-ts-antfs.fit", // fit-file-parser raw messages (the SDK cannot decode this file)
     .chain = 1, .file_type = "activity", .manufacturer = "garmin", .product = 1436,
     .sessions = 1, .sport = "running", .sub_sport = nullptr, .start_time = 647506841,
     .total_elapsed_time = 3426.898, .total_timer_time = 3426.898, .total_distance = {},
     .records = 686, .records_with_position = 0, .laps = 1,
     .first_lat = {}, .first_lon = {}, .last_lat = {}, .last_lon = {},
     .avg_hr = 162, .max_hr = 195, .avg_power = {},
     .rec_avg_hr = 161.97956204379562, .rec_max_hr = 194, .rec_avg_power = {},
     .msg_counts = {{"activity", 1}, {"device_info", 2}, {"event", 2}, {"file_id", 1}, {"lap", 1}, {"mesg_22", 2}, {"record", 686}, {"session", 1}}},
    {.file = "garmin-fr945-multisport-small.fit",
     .chain = 1, .file_type = "activity", .manufacturer = "garmin", .product = 3113,
     .sessions = 2, .sport = "cycling", .sub_sport = "mountain", .start_time = 1587412580,
     .total_elapsed_time = 76.872, .total_timer_time = 76.872, .total_distance = 0,
     .records = 78, .records_with_position = 0, .laps = 7,
     .first_lat = {}, .first_lon = {}, .last_lat = {}, .last_lon = {},
     .avg_hr = 70.39966437714642, .max_hr = 77, .avg_power = {},
     .rec_avg_hr = 70.26923076923077, .rec_max_hr = 77, .rec_avg_power = {},
     .msg_counts = {{"activity", 1}, {"device_info", 18}, {"event", 2}, {"file_id", 1}, {"lap", 7}, {"record", 78}, {"session", 2}}},
    {.file = "garmin-fr935-triathlon-ironman.fit",
     .chain = 1, .file_type = "activity", .manufacturer = "garmin", .product = 2691,
     .sessions = 5, .sport = "swimming", .sub_sport = "open_water", .start_time = 1539450301,
     .total_elapsed_time = 34304.668000000005, .total_timer_time = 34256.455, .total_distance = 227231.90999999997,
     .records = 30582, .records_with_position = 30574, .laps = 73,
     .first_lat = 19.63831071741879, .first_lon = -155.99548760801554, .last_lat = 19.640164207667112, .last_lon = -155.99652461707592,
     .avg_hr = 135.71682201208503, .max_hr = 153, .avg_power = 221.99025734772994,
     .rec_avg_hr = 140.7241424542533, .rec_max_hr = 153, .rec_avg_power = 221.61748952026082,
     .msg_counts = {{"activity", 1}, {"battery", 116}, {"developer_data_id", 1}, {"device_info", 56}, {"device_settings", 1}, {"event", 8}, {"field_description", 7}, {"file_creator", 1}, {"file_id", 1}, {"hrv", 30787}, {"lap", 73}, {"mesg_113", 9}, {"mesg_125", 1}, {"mesg_140", 3}, {"mesg_141", 1}, {"mesg_147", 5}, {"mesg_22", 51}, {"mesg_233", 6}, {"mesg_79", 3}, {"record", 30582}, {"session", 5}, {"sport", 5}, {"time_in_zone", 71}, {"training_settings", 5}, {"user_profile", 1}, {"zones_target", 5}}},
    {.file = "garmin-fr255-triathlon-summary-first.fit", // fit-file-parser raw messages (the SDK cannot decode this file)
     .chain = 1, .file_type = "activity", .manufacturer = "garmin", .product = 3992,
     .sessions = 5, .sport = "swimming", .sub_sport = "open_water", .start_time = 1693660524,
     .total_elapsed_time = 4042.745, .total_timer_time = 4042.745, .total_distance = 18726.43,
     .records = 4043, .records_with_position = 4041, .laps = 11,
     .first_lat = 39.037168230861425, .first_lon = -94.76869630627334, .last_lat = 39.03751968406141, .last_lon = -94.7673546988517,
     .avg_hr = 151.64036663207796, .max_hr = 178, .avg_power = 403,
     .rec_avg_hr = 163.03478002378122, .rec_max_hr = 178, .rec_avg_power = 402.9479365079365,
     .msg_counts = {{"activity", 1}, {"battery", 12}, {"device_info", 36}, {"device_settings", 1}, {"event", 2}, {"file_creator", 1}, {"file_id", 1}, {"lap", 11}, {"mesg_113", 2}, {"mesg_140", 3}, {"mesg_147", 3}, {"mesg_22", 13}, {"mesg_288", 1}, {"mesg_79", 3}, {"record", 4043}, {"session", 5}, {"split", 4}, {"split_summary", 2}, {"sport", 5}, {"time_in_zone", 17}, {"training_settings", 5}, {"user_profile", 1}, {"zones_target", 5}}},
    {.file = "garmin-fr255-triathlon-summary-last.fit", // fit-file-parser raw messages (the SDK cannot decode this file)
     .chain = 1, .file_type = "activity", .manufacturer = "garmin", .product = 3992,
     .sessions = 5, .sport = "swimming", .sub_sport = "open_water", .start_time = 1693660524,
     .total_elapsed_time = 4042.745, .total_timer_time = 4042.745, .total_distance = 18726.43,
     .records = 4043, .records_with_position = 4041, .laps = 11,
     .first_lat = 39.037168230861425, .first_lon = -94.76869630627334, .last_lat = 39.03751968406141, .last_lon = -94.7673546988517,
     .avg_hr = 151.64036663207796, .max_hr = 178, .avg_power = 403,
     .rec_avg_hr = 163.03478002378122, .rec_max_hr = 178, .rec_avg_power = 402.9479365079365,
     .msg_counts = {{"activity", 1}, {"battery", 12}, {"device_info", 36}, {"device_settings", 1}, {"event", 2}, {"file_creator", 1}, {"file_id", 1}, {"gps_metadata", 4085}, {"lap", 11}, {"mesg_113", 2}, {"mesg_125", 71}, {"mesg_140", 3}, {"mesg_141", 1}, {"mesg_147", 3}, {"mesg_22", 13}, {"mesg_233", 3408}, {"mesg_288", 1}, {"mesg_325", 307}, {"mesg_326", 72}, {"mesg_327", 13}, {"mesg_394", 1}, {"mesg_79", 3}, {"mesg_89", 1}, {"record", 4043}, {"session", 5}, {"split", 4}, {"split_summary", 2}, {"sport", 5}, {"time_in_zone", 17}, {"training_settings", 5}, {"user_profile", 1}, {"zones_target", 5}}},
    {.file = "garmin-fenix5x-multisport-3mb.fit",
     .chain = 1, .file_type = "activity", .manufacturer = "garmin", .product = 2604,
     .sessions = 5, .sport = "swimming", .sub_sport = "open_water", .start_time = 1574600058,
     .total_elapsed_time = 50706.475, .total_timer_time = 50559.208, .total_distance = 218778.71000000002,
     .records = 45805, .records_with_position = 44944, .laps = 112,
     .first_lat = 20.469806492328644, .first_lon = -86.98068927973509, .last_lat = 20.55174990557134, .last_lon = -86.92387472838163,
     .avg_hr = 129.7371150671506, .max_hr = 159, .avg_power = 138,
     .rec_avg_hr = 129.68434073281625, .rec_max_hr = 159, .rec_avg_power = 136.26952329495865,
     .msg_counts = {{"activity", 1}, {"battery", 310}, {"developer_data_id", 2}, {"device_info", 61}, {"device_settings", 1}, {"event", 142}, {"field_description", 8}, {"file_creator", 1}, {"file_id", 1}, {"hrv", 44843}, {"lap", 112}, {"mesg_125", 1}, {"mesg_140", 1}, {"mesg_141", 1}, {"mesg_147", 8}, {"mesg_22", 86}, {"mesg_233", 87}, {"mesg_79", 2}, {"record", 45805}, {"session", 5}, {"sport", 5}, {"time_in_zone", 117}, {"training_settings", 5}, {"user_profile", 1}, {"zones_target", 5}}},
    {.file = "sdk-developerdata.fit",
     .chain = 1, .file_type = "activity", .manufacturer = "dynastream", .product = 9001,
     .sessions = 0, .sport = nullptr, .sub_sport = nullptr, .start_time = {},
     .total_elapsed_time = {}, .total_timer_time = {}, .total_distance = {},
     .records = 3, .records_with_position = 0, .laps = 0,
     .first_lat = {}, .first_lon = {}, .last_lat = {}, .last_lon = {},
     .avg_hr = {}, .max_hr = {}, .avg_power = {},
     .rec_avg_hr = 142.33333333333334, .rec_max_hr = 144, .rec_avg_power = {},
     .msg_counts = {{"developer_data_id", 1}, {"field_description", 1}, {"file_id", 1}, {"record", 3}}},
    {.file = "garmin-fr955-indoor-smo2-devfields.fit",
     .chain = 1, .file_type = "activity", .manufacturer = "garmin", .product = 4024,
     .sessions = 1, .sport = "cycling", .sub_sport = "indoor_cycling", .start_time = 1747921887,
     .total_elapsed_time = 15.601, .total_timer_time = 15.601, .total_distance = 0,
     .records = 16, .records_with_position = 0, .laps = 1,
     .first_lat = {}, .first_lon = {}, .last_lat = {}, .last_lon = {},
     .avg_hr = 82, .max_hr = 84, .avg_power = {},
     .rec_avg_hr = 82, .rec_max_hr = 84, .rec_avg_power = {},
     .msg_counts = {{"activity", 1}, {"developer_data_id", 2}, {"device_info", 7}, {"device_settings", 1}, {"event", 2}, {"field_description", 28}, {"file_creator", 1}, {"file_id", 1}, {"lap", 1}, {"mesg_140", 1}, {"mesg_141", 1}, {"mesg_147", 8}, {"mesg_22", 2}, {"mesg_233", 26}, {"mesg_288", 1}, {"mesg_326", 1}, {"mesg_327", 3}, {"mesg_394", 1}, {"mesg_79", 1}, {"record", 16}, {"session", 1}, {"sport", 1}, {"time_in_zone", 2}, {"timestamp_correlation", 1}, {"training_settings", 1}, {"user_profile", 1}, {"zones_target", 1}}},
    {.file = "sdk-activity-sup-devfields.fit",
     .chain = 1, .file_type = "activity", .manufacturer = "development", .product = 0,
     .sessions = 1, .sport = "stand_up_paddleboarding", .sub_sport = "generic", .start_time = 1626815480,
     .total_elapsed_time = 3601, .total_timer_time = 3601, .total_distance = {},
     .records = 3601, .records_with_position = 3601, .laps = 1,
     .first_lat = 0, .first_lon = 0, .last_lat = 0, .last_lon = 0.0323393102735281,
     .avg_hr = {}, .max_hr = {}, .avg_power = {},
     .rec_avg_hr = 126.50958067203554, .rec_max_hr = 254, .rec_avg_power = 199.76395445709525,
     .msg_counts = {{"activity", 1}, {"developer_data_id", 1}, {"device_info", 1}, {"event", 2}, {"field_description", 2}, {"file_id", 1}, {"lap", 1}, {"record", 3601}, {"session", 1}}},
    {.file = "wahoo-elemnt-bolt-devdata-no-appid.fit",
     .chain = 1, .file_type = "activity", .manufacturer = "wahoo_fitness", .product = 31,
     .sessions = 1, .sport = "cycling", .sub_sport = nullptr, .start_time = 1503303480,
     .total_elapsed_time = 140, .total_timer_time = 132, .total_distance = 963.65,
     .records = 132, .records_with_position = 131, .laps = 1,
     .first_lat = 49.870526706799865, .first_lon = 8.622173359617591, .last_lat = 49.87263768911362, .last_lon = 8.627756712958217,
     .avg_hr = {}, .max_hr = {}, .avg_power = 182,
     .rec_avg_hr = {}, .rec_max_hr = {}, .rec_avg_power = 213.61739130434782,
     .msg_counts = {{"activity", 1}, {"developer_data_id", 2}, {"device_info", 8}, {"event", 4}, {"field_description", 2}, {"file_id", 1}, {"lap", 1}, {"mesg_65280", 9}, {"mesg_65281", 2}, {"record", 132}, {"session", 1}, {"sport", 1}, {"workout", 1}}},
    {.file = "garmin-fr55-coretemp-walk.fit",
     .chain = 1, .file_type = "activity", .manufacturer = "garmin", .product = 3869,
     .sessions = 1, .sport = "walking", .sub_sport = nullptr, .start_time = 1738071182,
     .total_elapsed_time = 588.228, .total_timer_time = 588.228, .total_distance = 732.76,
     .records = 582, .records_with_position = 582, .laps = 1,
     .first_lat = 51.25080596655607, .first_lon = 0.008936449885368347, .last_lat = 51.25085215084255, .last_lon = 0.004496388137340546,
     .avg_hr = {}, .max_hr = {}, .avg_power = {},
     .rec_avg_hr = 83.64432989690722, .rec_max_hr = 98, .rec_avg_power = {},
     .msg_counts = {{"activity", 1}, {"battery", 2}, {"developer_data_id", 1}, {"device_info", 9}, {"device_settings", 1}, {"event", 2}, {"field_description", 13}, {"file_creator", 1}, {"file_id", 1}, {"lap", 1}, {"mesg_140", 1}, {"mesg_141", 1}, {"mesg_147", 2}, {"mesg_22", 5}, {"mesg_288", 1}, {"mesg_325", 31}, {"mesg_326", 6}, {"mesg_327", 2}, {"mesg_79", 1}, {"record", 582}, {"session", 1}, {"sport", 1}, {"time_in_zone", 2}, {"training_settings", 1}, {"user_profile", 1}, {"zones_target", 1}}},
    {.file = "sdk-activity-poolswim.fit",
     .chain = 1, .file_type = "activity", .manufacturer = "development", .product = 0,
     .sessions = 1, .sport = "swimming", .sub_sport = "lap_swimming", .start_time = 1626815480,
     .total_elapsed_time = 840, .total_timer_time = 840, .total_distance = 457.2,
     .records = 24, .records_with_position = 0, .laps = 9,
     .first_lat = {}, .first_lon = {}, .last_lat = {}, .last_lon = {},
     .avg_hr = {}, .max_hr = {}, .avg_power = {},
     .rec_avg_hr = {}, .rec_max_hr = {}, .rec_avg_power = {},
     .msg_counts = {{"activity", 1}, {"device_info", 1}, {"event", 2}, {"file_id", 1}, {"lap", 9}, {"length", 24}, {"record", 24}, {"session", 1}}},
    {.file = "garmin-fenix3-poolswim.fit",
     .chain = 1, .file_type = "activity", .manufacturer = "garmin", .product = 2050,
     .sessions = 1, .sport = "swimming", .sub_sport = "lap_swimming", .start_time = 1535096136,
     .total_elapsed_time = 1411.482, .total_timer_time = 1389.238, .total_distance = 780,
     .records = 39, .records_with_position = 0, .laps = 1,
     .first_lat = {}, .first_lon = {}, .last_lat = {}, .last_lon = {},
     .avg_hr = {}, .max_hr = {}, .avg_power = {},
     .rec_avg_hr = {}, .rec_max_hr = {}, .rec_avg_power = {},
     .msg_counts = {{"activity", 1}, {"device_info", 4}, {"event", 3}, {"file_creator", 1}, {"file_id", 1}, {"lap", 1}, {"length", 39}, {"mesg_125", 1}, {"mesg_140", 1}, {"mesg_141", 1}, {"mesg_22", 1}, {"mesg_79", 1}, {"record", 39}, {"session", 1}, {"sport", 1}}},
    {.file = "apple-watch-app-poolswim.fit",
     .chain = 1, .file_type = "activity", .manufacturer = "development", .product = {},
     .sessions = 1, .sport = "swimming", .sub_sport = "lap_swimming", .start_time = 1728882262,
     .total_elapsed_time = 5101.159, .total_timer_time = 4904.138, .total_distance = 4025,
     .records = 4807, .records_with_position = 0, .laps = 60,
     .first_lat = {}, .first_lon = {}, .last_lat = {}, .last_lon = {},
     .avg_hr = 114, .max_hr = 151, .avg_power = {},
     .rec_avg_hr = 114.1538681948424, .rec_max_hr = 151, .rec_avg_power = {},
     .msg_counts = {{"activity", 1}, {"developer_data_id", 1}, {"device_info", 1}, {"event", 7}, {"field_description", 5}, {"file_creator", 1}, {"file_id", 1}, {"lap", 60}, {"length", 191}, {"record", 4807}, {"session", 1}, {"sport", 1}, {"time_in_zone", 1}}},
    {.file = "sdk-poolswim-with-hr.fit",
     .chain = 1, .file_type = "activity", .manufacturer = "garmin", .product = 2050,
     .sessions = 1, .sport = "swimming", .sub_sport = "lap_swimming", .start_time = 1471093847,
     .total_elapsed_time = 3504.649, .total_timer_time = 3485.293, .total_distance = 1700,
     .records = 3501, .records_with_position = 0, .laps = 38,
     .first_lat = {}, .first_lon = {}, .last_lat = {}, .last_lon = {},
     .avg_hr = 103, .max_hr = 133, .avg_power = {},
     .rec_avg_hr = {}, .rec_max_hr = {}, .rec_avg_power = {},
     .msg_counts = {{"activity", 1}, {"device_info", 7}, {"event", 4}, {"file_id", 1}, {"hr", 950}, {"lap", 38}, {"length", 87}, {"record", 3501}, {"session", 1}}},
    {.file = "garmin-edge800-indoor-trainer.fit",
     .chain = 1, .file_type = "activity", .manufacturer = "garmin", .product = 1169,
     .sessions = 1, .sport = "cycling", .sub_sport = "generic", .start_time = 1320238459,
     .total_elapsed_time = 2261.85, .total_timer_time = 2261.85, .total_distance = 0,
     .records = 2263, .records_with_position = 0, .laps = 5,
     .first_lat = {}, .first_lon = {}, .last_lat = {}, .last_lon = {},
     .avg_hr = 148, .max_hr = 176, .avg_power = 201,
     .rec_avg_hr = 147.74723817940787, .rec_max_hr = 176, .rec_avg_power = 201.42439243924392,
     .msg_counts = {{"activity", 1}, {"device_info", 8}, {"event", 3}, {"file_creator", 1}, {"file_id", 1}, {"lap", 5}, {"mesg_22", 8}, {"record", 2263}, {"session", 1}}},
    {.file = "garmin-edge1030-tacx-neo-indoor.fit",
     .chain = 1, .file_type = "activity", .manufacturer = "garmin", .product = 2713,
     .sessions = 1, .sport = "cycling", .sub_sport = "indoor_cycling", .start_time = 1574341059,
     .total_elapsed_time = 625.468, .total_timer_time = 625.468, .total_distance = 4982.04,
     .records = 627, .records_with_position = 0, .laps = 1,
     .first_lat = {}, .first_lon = {}, .last_lat = {}, .last_lon = {},
     .avg_hr = 131, .max_hr = 150, .avg_power = 101,
     .rec_avg_hr = 131.44972577696527, .rec_max_hr = 150, .rec_avg_power = 100.9505582137161,
     .msg_counts = {{"activity", 1}, {"battery", 2}, {"developer_data_id", 2}, {"device_info", 13}, {"device_settings", 1}, {"event", 5}, {"field_description", 7}, {"file_creator", 1}, {"file_id", 1}, {"hrv", 551}, {"lap", 1}, {"mesg_140", 1}, {"mesg_147", 5}, {"mesg_22", 15}, {"mesg_288", 1}, {"mesg_79", 1}, {"record", 627}, {"session", 1}, {"sport", 1}, {"time_in_zone", 2}, {"training_settings", 1}, {"user_profile", 1}, {"zones_target", 1}}},
    {.file = "garmin-fr945-treadmill-6860622783.fit",
     .chain = 1, .file_type = "activity", .manufacturer = "garmin", .product = 3113,
     .sessions = 1, .sport = "running", .sub_sport = "treadmill", .start_time = 1580642373,
     .total_elapsed_time = 3763.503, .total_timer_time = 3097.789, .total_distance = 10630.37,
     .records = 3101, .records_with_position = 0, .laps = 1,
     .first_lat = {}, .first_lon = {}, .last_lat = {}, .last_lon = {},
     .avg_hr = 145, .max_hr = 177, .avg_power = {},
     .rec_avg_hr = 145.1431796194776, .rec_max_hr = 177, .rec_avg_power = {},
     .msg_counts = {{"activity", 1}, {"battery", 13}, {"developer_data_id", 1}, {"device_info", 44}, {"device_settings", 1}, {"event", 12}, {"field_description", 8}, {"file_creator", 1}, {"file_id", 1}, {"hrv", 3603}, {"lap", 1}, {"mesg_113", 4}, {"mesg_140", 1}, {"mesg_141", 1}, {"mesg_147", 10}, {"mesg_22", 61}, {"mesg_233", 1}, {"mesg_288", 4}, {"mesg_79", 1}, {"record", 3101}, {"session", 1}, {"sport", 1}, {"time_in_zone", 2}, {"training_settings", 1}, {"user_profile", 1}, {"zones_target", 1}}},
    {.file = "garmin-fr735xt-indoor-rowing.fit",
     .chain = 1, .file_type = "activity", .manufacturer = "garmin", .product = 2158,
     .sessions = 1, .sport = "rowing", .sub_sport = "indoor_rowing", .start_time = 1720459889,
     .total_elapsed_time = 1412.896, .total_timer_time = 1412.896, .total_distance = 0,
     .records = 1414, .records_with_position = 0, .laps = 1,
     .first_lat = {}, .first_lon = {}, .last_lat = {}, .last_lon = {},
     .avg_hr = 124, .max_hr = 145, .avg_power = {},
     .rec_avg_hr = 123.54950495049505, .rec_max_hr = 145, .rec_avg_power = {},
     .msg_counts = {{"activity", 1}, {"battery", 4}, {"developer_data_id", 1}, {"device_info", 8}, {"device_settings", 1}, {"event", 4}, {"field_description", 16}, {"file_creator", 1}, {"file_id", 1}, {"lap", 1}, {"mesg_125", 2}, {"mesg_140", 1}, {"mesg_141", 1}, {"mesg_147", 10}, {"mesg_22", 1}, {"mesg_79", 1}, {"record", 1414}, {"session", 1}, {"sport", 1}, {"time_in_zone", 2}, {"training_settings", 1}, {"user_profile", 1}, {"zones_target", 1}}},
    {.file = "nonact-course-garmin.fit",
     .chain = 1, .file_type = "course", .manufacturer = "garmin", .product = 1001,
     .sessions = 0, .sport = nullptr, .sub_sport = nullptr, .start_time = 1520945085,
     .total_elapsed_time = {}, .total_timer_time = {}, .total_distance = {},
     .records = 25, .records_with_position = 25, .laps = 1,
     .first_lat = 44.68094998039305, .first_lon = 6.073670033365488, .last_lat = 44.67821999453008, .last_lon = 6.074419962242246,
     .avg_hr = {}, .max_hr = {}, .avg_power = {},
     .rec_avg_hr = {}, .rec_max_hr = {}, .rec_avg_power = {},
     .msg_counts = {{"course", 1}, {"event", 2}, {"file_id", 1}, {"lap", 1}, {"record", 25}}},
    {.file = "nonact-monitoring-vivofit.fit",
     .chain = 1, .file_type = "monitoring_b", .manufacturer = "garmin", .product = 1837,
     .sessions = 0, .sport = nullptr, .sub_sport = nullptr, .start_time = 1419660000,
     .total_elapsed_time = {}, .total_timer_time = {}, .total_distance = {},
     .records = 0, .records_with_position = 0, .laps = 0,
     .first_lat = {}, .first_lon = {}, .last_lat = {}, .last_lon = {},
     .avg_hr = {}, .max_hr = {}, .avg_power = {},
     .rec_avg_hr = {}, .rec_max_hr = {}, .rec_avg_power = {},
     .msg_counts = {{"device_info", 1}, {"event", 15}, {"file_id", 1}, {"monitoring", 337}, {"monitoring_info", 1}}},
    {.file = "nonact-settings-edge510.fit",
     .chain = 1, .file_type = "settings", .manufacturer = "garmin", .product = 1561,
     .sessions = 0, .sport = nullptr, .sub_sport = nullptr, .start_time = {},
     .total_elapsed_time = {}, .total_timer_time = {}, .total_distance = {},
     .records = 0, .records_with_position = 0, .laps = 0,
     .first_lat = {}, .first_lon = {}, .last_lat = {}, .last_lon = {},
     .avg_hr = {}, .max_hr = {}, .avg_power = {},
     .rec_avg_hr = {}, .rec_max_hr = {}, .rec_avg_power = {},
     .msg_counts = {{"bike_profile", 10}, {"connectivity", 1}, {"device_settings", 1}, {"file_creator", 1}, {"file_id", 1}, {"hrm_profile", 1}, {"user_profile", 1}}},
    {.file = "nonact-weightscale-multiuser.fit",
     .chain = 1, .file_type = "weight", .manufacturer = "dynastream", .product = 22,
     .sessions = 0, .sport = nullptr, .sub_sport = nullptr, .start_time = 1252528680,
     .total_elapsed_time = {}, .total_timer_time = {}, .total_distance = {},
     .records = 0, .records_with_position = 0, .laps = 0,
     .first_lat = {}, .first_lon = {}, .last_lat = {}, .last_lon = {},
     .avg_hr = {}, .max_hr = {}, .avg_power = {},
     .rec_avg_hr = {}, .rec_max_hr = {}, .rec_avg_power = {},
     .msg_counts = {{"device_info", 2}, {"file_id", 1}, {"user_profile", 2}, {"weight_scale", 2}}},
    {.file = "nonact-workout-steps.fit",
     .chain = 1, .file_type = "workout", .manufacturer = "dynastream", .product = 22,
     .sessions = 0, .sport = nullptr, .sub_sport = nullptr, .start_time = 1252528680,
     .total_elapsed_time = {}, .total_timer_time = {}, .total_distance = {},
     .records = 0, .records_with_position = 0, .laps = 0,
     .first_lat = {}, .first_lon = {}, .last_lat = {}, .last_lon = {},
     .avg_hr = {}, .max_hr = {}, .avg_power = {},
     .rec_avg_hr = {}, .rec_max_hr = {}, .rec_avg_power = {},
     .msg_counts = {{"file_id", 1}, {"workout", 1}, {"workout_step", 4}}},
    {.file = "bryton-fileid-only.fit",
     .chain = 1, .file_type = "activity", .manufacturer = "bryton", .product = {},
     .sessions = 0, .sport = nullptr, .sub_sport = nullptr, .start_time = 1693832119,
     .total_elapsed_time = {}, .total_timer_time = {}, .total_distance = {},
     .records = 1, .records_with_position = 0, .laps = 0,
     .first_lat = {}, .first_lon = {}, .last_lat = {}, .last_lon = {},
     .avg_hr = {}, .max_hr = {}, .avg_power = {},
     .rec_avg_hr = 112, .rec_max_hr = 112, .rec_avg_power = {},
     .msg_counts = {{"activity", 1}, {"file_id", 1}, {"record", 1}}},
    {.file = "moxy-monitor.fit",
     .chain = 1, .file_type = nullptr, .manufacturer = "moxy", .product = 3,
     .sessions = 1, .sport = nullptr, .sub_sport = nullptr, .start_time = 1415072793,
     .total_elapsed_time = 348, .total_timer_time = {}, .total_distance = {},
     .records = 175, .records_with_position = 0, .laps = 3,
     .first_lat = {}, .first_lon = {}, .last_lat = {}, .last_lon = {},
     .avg_hr = {}, .max_hr = {}, .avg_power = {},
     .rec_avg_hr = {}, .rec_max_hr = {}, .rec_avg_power = {},
     .msg_counts = {{"activity", 1}, {"file_id", 1}, {"lap", 3}, {"record", 175}, {"session", 1}}},
    {.file = "garmin-edge500-empty-ride.fit",
     .chain = 1, .file_type = "activity", .manufacturer = "garmin", .product = 1036,
     .sessions = 1, .sport = "cycling", .sub_sport = nullptr, .start_time = 1324378400,
     .total_elapsed_time = 38.35, .total_timer_time = 18.71, .total_distance = {},
     .records = 0, .records_with_position = 0, .laps = 1,
     .first_lat = {}, .first_lon = {}, .last_lat = {}, .last_lon = {},
     .avg_hr = 107, .max_hr = 110, .avg_power = {},
     .rec_avg_hr = {}, .rec_max_hr = {}, .rec_avg_power = {},
     .msg_counts = {{"activity", 1}, {"device_info", 5}, {"event", 8}, {"file_creator", 1}, {"file_id", 1}, {"lap", 1}, {"mesg_22", 5}, {"session", 1}}},
    {.file = "sdk-activity-truncated-valid.fit",
     .chain = 1, .file_type = "activity", .manufacturer = "dynastream", .product = 1,
     .sessions = 0, .sport = nullptr, .sub_sport = nullptr, .start_time = 1334006546,
     .total_elapsed_time = {}, .total_timer_time = {}, .total_distance = {},
     .records = 14, .records_with_position = 0, .laps = 0,
     .first_lat = {}, .first_lon = {}, .last_lat = {}, .last_lon = {},
     .avg_hr = {}, .max_hr = {}, .avg_power = {},
     .rec_avg_hr = {}, .rec_max_hr = {}, .rec_avg_power = {},
     .msg_counts = {{"event", 1}, {"file_id", 1}, {"record", 14}}},
    {.file = "wahoo-indoor-unterminated-strings.fit",
     .chain = 1, .file_type = "activity", .manufacturer = "wahoo_fitness", .product = 37,
     .sessions = 1, .sport = "cycling", .sub_sport = "indoor_cycling", .start_time = 1699438778,
     .total_elapsed_time = 32, .total_timer_time = 32, .total_distance = 69,
     .records = 33, .records_with_position = 0, .laps = 1,
     .first_lat = {}, .first_lon = {}, .last_lat = {}, .last_lon = {},
     .avg_hr = 90, .max_hr = 96, .avg_power = 37,
     .rec_avg_hr = 87.25806451612904, .rec_max_hr = 96, .rec_avg_power = 43.61290322580645,
     .msg_counts = {{"activity", 1}, {"developer_data_id", 21}, {"device_info", 8}, {"event", 5}, {"field_description", 28}, {"file_id", 1}, {"hr_zone", 5}, {"lap", 1}, {"mesg_65281", 2}, {"mesg_65284", 35}, {"mesg_65285", 3}, {"power_zone", 6}, {"record", 33}, {"session", 1}, {"sport", 1}, {"workout", 1}}},
    {.file = "wahoo-elemnt-ride-2021.fit",
     .chain = 1, .file_type = "activity", .manufacturer = "wahoo_fitness", .product = 31,
     .sessions = 1, .sport = "cycling", .sub_sport = nullptr, .start_time = 1558263758,
     .total_elapsed_time = 9190, .total_timer_time = 8921, .total_distance = 72430.42,
     .records = 8921, .records_with_position = 8828, .laps = 1,
     .first_lat = 42.682371670380235, .first_lon = -83.59942166134715, .last_lat = 42.68476000986993, .last_lon = -83.59359498135746,
     .avg_hr = 143, .max_hr = 162, .avg_power = {},
     .rec_avg_hr = 142.82255352538954, .rec_max_hr = 162, .rec_avg_power = {},
     .msg_counts = {{"activity", 1}, {"developer_data_id", 7}, {"device_info", 91}, {"event", 435}, {"field_description", 7}, {"file_id", 1}, {"hr_zone", 5}, {"lap", 1}, {"mesg_65280", 270}, {"mesg_65281", 2}, {"power_zone", 6}, {"record", 8921}, {"session", 1}, {"sport", 1}, {"workout", 1}}},
    {.file = "garmin-venu3-yoga.fit",
     .chain = 1, .file_type = "activity", .manufacturer = "garmin", .product = 4260,
     .sessions = 1, .sport = "training", .sub_sport = "yoga", .start_time = 1768637442,
     .total_elapsed_time = 778.918, .total_timer_time = 778.918, .total_distance = {},
     .records = 779, .records_with_position = 0, .laps = 0,
     .first_lat = {}, .first_lon = {}, .last_lat = {}, .last_lon = {},
     .avg_hr = 102, .max_hr = 118, .avg_power = {},
     .rec_avg_hr = 101.94094993581514, .rec_max_hr = 118, .rec_avg_power = {},
     .msg_counts = {{"activity", 1}, {"device_info", 10}, {"device_settings", 1}, {"event", 2}, {"file_creator", 1}, {"file_id", 1}, {"mesg_140", 1}, {"mesg_141", 1}, {"mesg_147", 1}, {"mesg_22", 1}, {"mesg_233", 780}, {"mesg_288", 1}, {"mesg_326", 1}, {"mesg_327", 3}, {"mesg_394", 1}, {"mesg_79", 1}, {"record", 779}, {"session", 1}, {"set", 1}, {"sport", 1}, {"time_in_zone", 2}, {"timestamp_correlation", 1}, {"training_settings", 1}, {"user_profile", 1}, {"zones_target", 1}}},
    {.file = "sdk-activity-hrm1.fit",
     .chain = 1, .file_type = "activity", .manufacturer = "dynastream", .product = 1,
     .sessions = 1, .sport = "running", .sub_sport = "generic", .start_time = 1334006546,
     .total_elapsed_time = 13.749, .total_timer_time = 13.749, .total_distance = 5.73,
     .records = 14, .records_with_position = 14, .laps = 1,
     .first_lat = 41.513926070183516, .first_lon = -73.14859078265727, .last_lat = 41.51392372325063, .last_lon = -73.14863906241953,
     .avg_hr = {}, .max_hr = {}, .avg_power = {},
     .rec_avg_hr = {}, .rec_max_hr = {}, .rec_avg_power = {},
     .msg_counts = {{"activity", 1}, {"event", 3}, {"file_creator", 1}, {"file_id", 1}, {"lap", 1}, {"record", 14}, {"session", 1}}},
    {.file = "unknown-1052-ride-broken-dates.fit",
     .chain = 1, .file_type = nullptr, .manufacturer = "1052", .product = 1052,
     .sessions = 1, .sport = "cycling", .sub_sport = nullptr, .start_time = 1490036968,
     .total_elapsed_time = 658.083, .total_timer_time = {}, .total_distance = 3599.62,
     .records = 3279, .records_with_position = 0, .laps = 0,
     .first_lat = {}, .first_lon = {}, .last_lat = {}, .last_lon = {},
     .avg_hr = {}, .max_hr = {}, .avg_power = {},
     .rec_avg_hr = 119.10003049710278, .rec_max_hr = 172, .rec_avg_power = 89.1991460811223,
     .msg_counts = {{"file_id", 1}, {"record", 3279}, {"session", 1}}},
    {.file = "gc-resaved-fr55-walk.fit",
     .chain = 1, .file_type = "activity", .manufacturer = "0", .product = 0,
     .sessions = 1, .sport = "generic", .sub_sport = "generic", .start_time = 1738071406,
     .total_elapsed_time = 588, .total_timer_time = {}, .total_distance = 732.82,
     .records = 588, .records_with_position = 588, .laps = 1,
     .first_lat = 51.25080588273704, .first_lon = 0.008936366066336632, .last_lat = 51.25085215084255, .last_lon = 0.00449630431830883,
     .avg_hr = {}, .max_hr = {}, .avg_power = {},
     .rec_avg_hr = 83.62585034013605, .rec_max_hr = 98, .rec_avg_power = {},
     .msg_counts = {{"activity", 1}, {"developer_data_id", 1}, {"event", 2}, {"field_description", 6}, {"file_creator", 1}, {"file_id", 1}, {"lap", 1}, {"record", 588}, {"session", 1}}},
    {.file = "app-15706-ride.fit",
     .chain = 1, .file_type = "activity", .manufacturer = "development", .product = 15706,
     .sessions = 1, .sport = "cycling", .sub_sport = "generic", .start_time = 1448903678,
     .total_elapsed_time = 3822, .total_timer_time = {}, .total_distance = 32227.5,
     .records = 3806, .records_with_position = 3806, .laps = 1,
     .first_lat = 37.539225993677974, .first_lon = -77.43131297640502, .last_lat = 37.536008013412356, .last_lon = -77.43250396102667,
     .avg_hr = 148, .max_hr = 180, .avg_power = 143,
     .rec_avg_hr = 147.9416710457173, .rec_max_hr = 180, .rec_avg_power = 142.9858118759853,
     .msg_counts = {{"activity", 1}, {"device_info", 1}, {"event", 5}, {"file_id", 1}, {"lap", 1}, {"record", 3806}, {"session", 1}}},
    {.file = "bryton-ride-100k-records.fit",
     .chain = 1, .file_type = "activity", .manufacturer = "bryton", .product = {},
     .sessions = 1, .sport = "cycling", .sub_sport = "road", .start_time = 1693832119,
     .total_elapsed_time = 30877, .total_timer_time = {}, .total_distance = 32172.05,
     .records = 99998, .records_with_position = 99998, .laps = 0,
     .first_lat = -7.584060989320278, .first_lon = 110.91162792406976, .last_lat = -7.584060989320278, .last_lon = 110.91162792406976,
     .avg_hr = {}, .max_hr = {}, .avg_power = {},
     .rec_avg_hr = 110, .rec_max_hr = 110, .rec_avg_power = {},
     .msg_counts = {{"activity", 1}, {"file_id", 1}, {"record", 99998}, {"session", 1}, {"sport", 1}}},
    {.file = "zwift-virtual-ride.fit",
     .chain = 1, .file_type = "activity", .manufacturer = "zwift", .product = 0,
     .sessions = 1, .sport = "cycling", .sub_sport = "virtual_activity", .start_time = 1507161846,
     .total_elapsed_time = 1807, .total_timer_time = 1808, .total_distance = 13400.14,
     .records = 1808, .records_with_position = 1808, .laps = 1,
     .first_lat = 51.50937259197235, .first_lon = -0.07808832451701164, .last_lat = 51.49846136569977, .last_lon = -0.10736488737165928,
     .avg_hr = 0, .max_hr = 0, .avg_power = 123,
     .rec_avg_hr = 0, .rec_max_hr = 0, .rec_avg_power = 122.86449115044248,
     .msg_counts = {{"activity", 1}, {"device_info", 1}, {"event", 2}, {"file_id", 1}, {"lap", 1}, {"record", 1808}, {"session", 1}}},
    {.file = "garmin-edge830-stages-power.fit",
     .chain = 1, .file_type = "activity", .manufacturer = "garmin", .product = 3122,
     .sessions = 1, .sport = "cycling", .sub_sport = nullptr, .start_time = 1580043639,
     .total_elapsed_time = {}, .total_timer_time = 1799, .total_distance = {},
     .records = 1798, .records_with_position = 0, .laps = 0,
     .first_lat = {}, .first_lon = {}, .last_lat = {}, .last_lon = {},
     .avg_hr = {}, .max_hr = {}, .avg_power = {},
     .rec_avg_hr = 141.65016685205785, .rec_max_hr = 164, .rec_avg_power = 161.64794215795328,
     .msg_counts = {{"activity", 1}, {"battery", 75}, {"device_info", 4}, {"event", 8}, {"file_creator", 1}, {"file_id", 1}, {"mesg_22", 7}, {"record", 1798}, {"session", 1}, {"sport", 1}}},
    {.file = "suunto-race2-strength.fit",
     .chain = 1, .file_type = "activity", .manufacturer = "suunto", .product = 66,
     .sessions = 1, .sport = "training", .sub_sport = "strength_training", .start_time = 1769081803,
     .total_elapsed_time = 4803.57, .total_timer_time = 4803.666, .total_distance = {},
     .records = 4803, .records_with_position = 0, .laps = 0,
     .first_lat = {}, .first_lon = {}, .last_lat = {}, .last_lon = {},
     .avg_hr = 94, .max_hr = 141, .avg_power = {},
     .rec_avg_hr = 93.19408201304753, .rec_max_hr = 141, .rec_avg_power = {},
     .msg_counts = {{"activity", 1}, {"developer_data_id", 1}, {"device_info", 2}, {"event", 2}, {"field_description", 2}, {"file_id", 1}, {"record", 4803}, {"session", 1}}},
    {.file = "garmin-fr945-run-6782987395.fit",
     .chain = 1, .file_type = "activity", .manufacturer = "garmin", .product = 3113,
     .sessions = 1, .sport = "running", .sub_sport = "generic", .start_time = 1560591743,
     .total_elapsed_time = 4989.112, .total_timer_time = 4989.112, .total_distance = 14004.85,
     .records = 4988, .records_with_position = 4967, .laps = 2,
     .first_lat = 41.1630395706743, .first_lon = -74.17961918748915, .last_lat = 41.16429383866489, .last_lon = -74.18127117678523,
     .avg_hr = 137, .max_hr = 167, .avg_power = {},
     .rec_avg_hr = 137.20317205380445, .rec_max_hr = 167, .rec_avg_power = {},
     .msg_counts = {{"activity", 1}, {"battery", 16}, {"developer_data_id", 1}, {"device_info", 15}, {"device_settings", 1}, {"event", 7}, {"field_description", 7}, {"file_creator", 1}, {"file_id", 1}, {"lap", 2}, {"mesg_113", 4}, {"mesg_140", 1}, {"mesg_141", 1}, {"mesg_147", 5}, {"mesg_22", 26}, {"mesg_233", 2}, {"mesg_288", 6}, {"mesg_79", 1}, {"record", 4988}, {"session", 1}, {"sport", 1}, {"time_in_zone", 3}, {"training_file", 1}, {"training_settings", 1}, {"user_profile", 1}, {"zones_target", 1}}},
};
// clang-format on

void expect_string(const std::optional<std::string>& actual, const char* expected, const char* what) {
    if (expected == nullptr) {
        EXPECT_FALSE(actual.has_value()) << what << " = " << actual.value_or("");
    } else {
        EXPECT_EQ(actual.value_or("<null>"), expected) << what;
    }
}

void expect_number(const std::optional<double>& actual, const std::optional<double>& expected, const char* what) {
    ASSERT_EQ(actual.has_value(), expected.has_value()) << what << " = " << actual.value_or(-1.0);
    if (expected) {
        EXPECT_DOUBLE_EQ(*actual, *expected) << what;
    }
}

bool all_digits(const char* s) {
    return s != nullptr && *s != '\0' &&
           std::all_of(s, s + std::char_traits<char>::length(s), [](char c) { return c >= '0' && c <= '9'; });
}

struct Case {
    const Expected* expected;
    Source source;
};

std::ostream& operator<<(std::ostream& os, const Case& c) { return os << c.expected->file; }

// The table rows whose file is in tests/data, or every row.
std::vector<Case> cases(Source src) {
    std::vector<Case> out;
    for (const auto& e : k_expected) {
        if (src == Source::corpus || fs::exists(fitbridge::test::fixture(std::string("fit/") + e.file))) {
            out.push_back({&e, src});
        }
    }
    return out;
}

class FitValues : public ::testing::TestWithParam<Case> {};

TEST_P(FitValues, MatchReference) {
    const Expected& e = *GetParam().expected;
    if (GetParam().source == Source::corpus) FITBRIDGE_REQUIRE_CORPUS();
    const auto path = locate(GetParam().source, std::string("fit/") + e.file);
    ASSERT_TRUE(path.has_value()) << e.file;
    const Summary s = decode_path(*path);
    ASSERT_TRUE(s.ok) << s.error;
    EXPECT_EQ(s.error, "");
    EXPECT_EQ(s.fit_files_in_chain, e.chain);
    expect_string(s.file_type, e.file_type, "file_type");
    expect_string(s.manufacturer, e.manufacturer, "manufacturer");
    EXPECT_EQ(s.manufacturer_is_number, all_digits(e.manufacturer));
    EXPECT_EQ(s.product, e.product);
    EXPECT_EQ(s.sessions, e.sessions);
    expect_string(s.sport, e.sport, "sport");
    expect_string(s.sub_sport, e.sub_sport, "sub_sport");
    expect_number(s.start_time, e.start_time, "start_time");
    expect_number(s.total_elapsed_time, e.total_elapsed_time, "total_elapsed_time");
    expect_number(s.total_timer_time, e.total_timer_time, "total_timer_time");
    expect_number(s.total_distance, e.total_distance, "total_distance");
    EXPECT_EQ(s.records, e.records);
    EXPECT_EQ(s.records_with_position, e.records_with_position);
    EXPECT_EQ(s.laps, e.laps);
    expect_number(s.first_lat, e.first_lat, "first_lat");
    expect_number(s.first_lon, e.first_lon, "first_lon");
    expect_number(s.last_lat, e.last_lat, "last_lat");
    expect_number(s.last_lon, e.last_lon, "last_lon");
    expect_number(s.avg_hr, e.avg_hr, "avg_hr");
    expect_number(s.max_hr, e.max_hr, "max_hr");
    expect_number(s.avg_power, e.avg_power, "avg_power");
    expect_number(s.rec_avg_hr, e.rec_avg_hr, "rec_avg_hr");
    expect_number(s.rec_max_hr, e.rec_max_hr, "rec_max_hr");
    expect_number(s.rec_avg_power, e.rec_avg_power, "rec_avg_power");
    EXPECT_EQ(s.has_hr, e.rec_avg_hr.has_value());
    EXPECT_EQ(s.has_power, e.rec_avg_power.has_value());
    EXPECT_EQ(s.msg_counts, e.msg_counts);
}

std::string test_name(const ::testing::TestParamInfo<Case>& info) {
    std::string name = info.param.expected->file;
    for (char& c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    }
    return name;
}

INSTANTIATE_TEST_SUITE_P(Fixture, FitValues, ::testing::ValuesIn(cases(Source::fixtures)), test_name);
INSTANTIATE_TEST_SUITE_P(Corpus, FitValues, ::testing::ValuesIn(cases(Source::corpus)), test_name);

std::vector<fs::path> plain_fit_files(const fs::path& dir) {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir)) {
        const auto ext = e.path().extension().string();
        if (ext == ".fit" || ext == ".FIT") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    return files;
}

void expect_all_decode(const std::vector<fs::path>& files) {
    for (const auto& f : files) {
        const auto bytes = read_file(f);
        Summary s;
        decode_fit(bytes, s);
        EXPECT_TRUE(s.ok) << f.filename() << ": " << s.error;
        EXPECT_TRUE(s.error.empty()) << f.filename();
        EXPECT_EQ(s.fit_files_in_chain.value_or(0) >= 1, true) << f.filename();
    }
}

// Returns how many of the cases' files were found.
int expect_non_activities_flagged(Source src) {
    const std::pair<const char*, const char*> cases[] = {
        {"fit/nonact-course-garmin.fit", "FIT file type course"},
        {"fit/nonact-monitoring-vivofit.fit", "FIT file type monitoring_b"},
        {"fit/nonact-settings-edge510.fit", "FIT file type settings"},
        {"fit/nonact-weightscale-multiuser.fit", "FIT file type weight"},
        {"fit/nonact-workout-steps.fit", "FIT file type workout"},
        // An activity chained with a settings file is still an activity (first file_id).
        {"fit/chained-activity-settings.fit", ""},
        // No file type at all: treated as an activity.
        {"fit/moxy-monitor.fit", ""},
    };
    int found = 0;
    for (const auto& [file, reason] : cases) {
        const auto path = locate(src, file);
        if (!path) continue;
        ++found;
        const Summary s = decode_path(*path);
        EXPECT_TRUE(s.ok) << file;
        EXPECT_EQ(s.is_activity, *reason == '\0') << file;
        EXPECT_EQ(s.not_activity_reason, reason) << file;
    }
    return found;
}

// Definitions, big-endian definitions, data messages and developer field
// values as counted by the SDK's definition and message listeners; the
// compressed-timestamp count is fit-file-parser's record count (every record
// of that file uses a compressed header, which is why the SDK stops at byte 426).
int expect_low_level_counters(Source src) {
    struct Counts {
        const char* file;
        int64_t definitions, big_endian, data_messages, developer_fields, compressed;
    };
    const Counts cases[] = {
        {"fit/chained-activity-settings.fit", 13, 13, 25, 0, 0},
        {"fit/sdk-developerdata.fit", 4, 4, 6, 3, 0},
        {"fit/wahoo-elemnt-ride-2021.fit", 994, 994, 9750, 21, 0},
        {"fit/garmin-fr955-indoor-smo2-devfields.fit", 32, 0, 113, 178, 0},
        {"fit/garmin-fr70-compressed-ts-antfs.fit", -1, -1, -1, -1, 686},
    };
    int found = 0;
    for (const auto& c : cases) {
        const auto path = locate(src, c.file);
        if (!path) continue;
        ++found;
        FitDecodeStats stats;
        Summary s;
        decode_fit(read_file(*path), s, stats);
        EXPECT_EQ(stats.compressed_timestamp_messages, c.compressed) << c.file;
        if (c.definitions < 0) continue;  // only the compressed-timestamp count is known
        EXPECT_EQ(stats.definitions, c.definitions) << c.file;
        EXPECT_EQ(stats.big_endian_definitions, c.big_endian) << c.file;
        EXPECT_EQ(stats.data_messages, c.data_messages) << c.file;
        EXPECT_EQ(stats.developer_fields, c.developer_fields) << c.file;
    }
    return found;
}

int expect_bad_file_errors(Source src) {
    const std::pair<const char*, const char*> cases[] = {
        {"bad/bitflip-fenix2-run.fit", "FIT CRC mismatch at offset 121837 (stored 0xCF14, computed 0x92EC)"},
        {"bad/chained-corrupt-second-header.fit",
         "FIT chain: the 83 bytes at offset 771 after file 1 are not a FIT file (no \".FIT\" signature at offset 779)"},
        {"bad/chained-second-crc-bad.fit",
         "FIT CRC mismatch in file 2 of chain at offset 1540 (stored 0xB1D5, computed 0xA1D5)"},
        {"bad/chained-second-nodata.fit",
         "FIT data truncated at offset 783 in file 2 of chain: definition message needs 6 bytes, the file ends at "
         "offset 786"},
        {"bad/crc-bad-activity.fit", "FIT CRC mismatch at offset 769 (stored 0xB1D5, computed 0xA1D5)"},
        {"bad/empty-activities-crc.fit",
         "FIT CRC mismatch at offset 12 (stored 0x0040, computed 0x29D8); the header declares 0 data bytes but "
         "86004 bytes follow it"},
        {"bad/gpx-content-named.fit", "not a FIT file: no \".FIT\" signature at offset 8"},
        {"bad/header-only.fit",
         "FIT data truncated at offset 12: definition message needs 6 bytes, the file ends at offset 14"},
        {"bad/sigma-truncated-ride.fit", "FIT CRC mismatch at offset 403454 (stored 0x0040, computed 0x1AD2)"},
        {"bad/strava-android-size-mismatch.fit",
         "FIT data truncated at offset 78233: the header at offset 0 declares 78236 data bytes and a 2-byte CRC, "
         "78219 bytes follow the header"},
        {"bad/trunc-half-edge500.fit",
         "FIT data truncated at offset 178414: the header at offset 0 declares 356815 data bytes and a 2-byte CRC, "
         "178402 bytes follow the header"},
        {"bad/unexpected-eof.fit",
         "FIT data truncated at offset 751: data message needs 18 bytes, the file ends at offset 768"},
        {"bad/zero-bytes.fit", "not a FIT file: empty input"},
        {"bad/trunc-strava-sample.gpx", "not a FIT file: no \".FIT\" signature at offset 8"},
        {"bad/trunc-tcxparser-run.tcx", "not a FIT file: no \".FIT\" signature at offset 8"},
        {"bad/trunc-korita-zbevnica.gpx", "not a FIT file: no \".FIT\" signature at offset 8"},
    };
    int found = 0;
    for (const auto& [file, error] : cases) {
        const auto path = locate(src, file);
        if (!path) continue;
        ++found;
        const Summary s = decode_path(*path);
        EXPECT_FALSE(s.ok) << file;
        EXPECT_EQ(s.error, error) << file;
        EXPECT_EQ(s.error.find('\n'), std::string::npos) << file;
    }
    return found;
}

}  // namespace

// The counts are the files of each list that tests/data holds.
TEST(FitFixtures, EveryPlainFitFileDecodes) {
    const auto files = plain_fit_files(fitbridge::test::fixture("fit"));
    EXPECT_EQ(files.size(), 21u);
    expect_all_decode(files);
}

TEST(FitFixtures, NonActivityFilesAreFlagged) { EXPECT_EQ(expect_non_activities_flagged(Source::fixtures), 5); }

TEST(FitFixtures, LowLevelCounters) { EXPECT_EQ(expect_low_level_counters(Source::fixtures), 2); }

TEST(FitFixtures, BadFilesGiveOneLineErrors) { EXPECT_EQ(expect_bad_file_errors(Source::fixtures), 12); }

TEST(FitFixtures, DamagedFilesKeepWhatWasDecodedBeforeTheDamage) {
    // The chain's first file is intact: its session and records stay available.
    const Summary s = decode_path(fitbridge::test::fixture("bad/chained-second-crc-bad.fit"));
    EXPECT_FALSE(s.ok);
    EXPECT_EQ(s.fit_files_in_chain, 2);
    EXPECT_EQ(s.sport, "running");
}

TEST(FitCorpus, EveryPlainFitFileDecodes) {
    FITBRIDGE_REQUIRE_CORPUS();
    const auto files = plain_fit_files(*fitbridge::test::corpus_dir() / "fit");
    ASSERT_GE(files.size(), 100u);
    expect_all_decode(files);
}

TEST(FitCorpus, NonActivityFilesAreFlagged) {
    FITBRIDGE_REQUIRE_CORPUS();
    EXPECT_EQ(expect_non_activities_flagged(Source::corpus), 7);
}

TEST(FitCorpus, LowLevelCounters) {
    FITBRIDGE_REQUIRE_CORPUS();
    EXPECT_EQ(expect_low_level_counters(Source::corpus), 5);
}

TEST(FitCorpus, BadFilesGiveOneLineErrors) {
    FITBRIDGE_REQUIRE_CORPUS();
    EXPECT_EQ(expect_bad_file_errors(Source::corpus), 15);  // trunc-korita-zbevnica.gpx is in tests/data only
}
