// Hand-built FIT files: every expected value follows from the bytes written
// here (FIT protocol: 12/14-byte header, definition and data messages, base
// types, CRC-16). The CRC used to build them is a bit-by-bit implementation
// local to this test, not the decoder's table-driven one.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <map>
#include <string>
#include <vector>

#include "formats/decode.hpp"
#include "formats/fit_decoder.hpp"

using namespace fitbridge::formats;

namespace {

constexpr double k_fit_epoch = 631065600.0;

uint16_t crc_bitwise(const std::vector<uint8_t>& bytes, size_t begin, size_t end) {
    uint16_t crc = 0;
    for (size_t i = begin; i < end; ++i) {
        crc ^= bytes[i];
        for (int b = 0; b < 8; ++b) crc = (crc & 1) ? static_cast<uint16_t>((crc >> 1) ^ 0xA001) : crc >> 1;
    }
    return crc;
}

struct Field {
    uint8_t number, size, base;
};
struct DevField {
    uint8_t number, size, index;
};

// Base type bytes as they appear in definitions.
constexpr uint8_t k_enum = 0x00, k_uint8 = 0x02, k_uint16 = 0x84, k_sint32 = 0x85, k_uint32 = 0x86, k_uint8z = 0x0A;

class FitBuilder {
public:
    FitBuilder& definition(uint8_t local, uint16_t global, std::initializer_list<Field> fields, bool big_endian = false,
                           std::initializer_list<DevField> dev = {}) {
        m_data.push_back(static_cast<uint8_t>(0x40 | (dev.size() ? 0x20 : 0) | local));
        m_data.push_back(0);  // reserved
        m_data.push_back(big_endian ? 1 : 0);
        if (big_endian) {
            m_data.push_back(static_cast<uint8_t>(global >> 8));
            m_data.push_back(static_cast<uint8_t>(global));
        } else {
            m_data.push_back(static_cast<uint8_t>(global));
            m_data.push_back(static_cast<uint8_t>(global >> 8));
        }
        m_data.push_back(static_cast<uint8_t>(fields.size()));
        for (const auto& f : fields) m_data.insert(m_data.end(), {f.number, f.size, f.base});
        if (dev.size()) {
            m_data.push_back(static_cast<uint8_t>(dev.size()));
            for (const auto& d : dev) m_data.insert(m_data.end(), {d.number, d.size, d.index});
        }
        return *this;
    }
    // Normal data message; the caller writes the field bytes in definition order.
    FitBuilder& data(uint8_t local, std::initializer_list<uint8_t> bytes) {
        m_data.push_back(local);
        m_data.insert(m_data.end(), bytes);
        return *this;
    }
    FitBuilder& compressed(uint8_t local, uint8_t time_offset, std::initializer_list<uint8_t> bytes) {
        m_data.push_back(static_cast<uint8_t>(0x80 | (local << 5) | (time_offset & 0x1F)));
        m_data.insert(m_data.end(), bytes);
        return *this;
    }
    FitBuilder& raw(std::initializer_list<uint8_t> bytes) {
        m_data.insert(m_data.end(), bytes);
        return *this;
    }
    size_t data_size() const { return m_data.size(); }

    // Header (14 bytes with a header CRC unless `header12`) + data + file CRC.
    std::vector<uint8_t> build(bool header12 = false) const { return build_with_size(m_data.size(), header12); }

    std::vector<uint8_t> build_with_size(size_t declared, bool header12 = false) const {
        std::vector<uint8_t> out;
        const uint8_t hs = header12 ? 12 : 14;
        out.insert(out.end(), {hs, 0x20, 0x08, 0x08});
        for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(declared >> (8 * i)));
        out.insert(out.end(), {'.', 'F', 'I', 'T'});
        if (!header12) {
            const uint16_t hc = crc_bitwise(out, 0, 12);
            out.push_back(static_cast<uint8_t>(hc));
            out.push_back(static_cast<uint8_t>(hc >> 8));
        }
        out.insert(out.end(), m_data.begin(), m_data.end());
        const size_t crc_end = hs + declared;
        const uint16_t c = crc_bitwise(out, 0, crc_end <= out.size() ? crc_end : out.size());
        std::vector<uint8_t> file(out.begin(), out.begin() + static_cast<long>(std::min(crc_end, out.size())));
        file.push_back(static_cast<uint8_t>(c));
        file.push_back(static_cast<uint8_t>(c >> 8));
        if (crc_end < out.size()) file.insert(file.end(), out.begin() + static_cast<long>(crc_end), out.end());
        return file;
    }

private:
    std::vector<uint8_t> m_data;
};

// Little-endian byte helpers for the brace lists of data messages.
#define U16(v) static_cast<uint8_t>((v)&0xFF), static_cast<uint8_t>(((v) >> 8) & 0xFF)
#define U32(v)                                                                                                         \
    static_cast<uint8_t>((v)&0xFF), static_cast<uint8_t>(((v) >> 8) & 0xFF), static_cast<uint8_t>(((v) >> 16) & 0xFF), \
        static_cast<uint8_t>((static_cast<uint32_t>(v) >> 24) & 0xFF)
#define BE32(v)                                                                                              \
    static_cast<uint8_t>((static_cast<uint32_t>(v) >> 24) & 0xFF), static_cast<uint8_t>(((v) >> 16) & 0xFF), \
        static_cast<uint8_t>(((v) >> 8) & 0xFF), static_cast<uint8_t>((v)&0xFF)
#define BE16(v) static_cast<uint8_t>(((v) >> 8) & 0xFF), static_cast<uint8_t>((v)&0xFF)

// file_id: type (enum), manufacturer (uint16), product (uint16), time_created (uint32).
FitBuilder& file_id(FitBuilder& b, uint8_t type, uint16_t manufacturer, uint16_t product, uint32_t created) {
    b.definition(0, 0, {{0, 1, k_enum}, {1, 2, k_uint16}, {2, 2, k_uint16}, {4, 4, k_uint32}});
    return b.data(0, {type, U16(manufacturer), U16(product), U32(created)});
}

// record: timestamp, position_lat, position_long, heart_rate, power.
void define_record(FitBuilder& b, uint8_t local) {
    b.definition(local, 20,
                 {{253, 4, k_uint32}, {0, 4, k_sint32}, {1, 4, k_sint32}, {3, 1, k_uint8}, {7, 2, k_uint16}});
}

// session: start_time, sport, sub_sport, total_elapsed_time, total_timer_time,
// total_distance, avg_heart_rate, max_heart_rate, avg_power.
void define_session(FitBuilder& b, uint8_t local, bool big_endian = false) {
    b.definition(local, 18,
                 {{2, 4, k_uint32},
                  {5, 1, k_enum},
                  {6, 1, k_enum},
                  {7, 4, k_uint32},
                  {8, 4, k_uint32},
                  {9, 4, k_uint32},
                  {16, 1, k_uint8},
                  {17, 1, k_uint8},
                  {20, 2, k_uint16}},
                 big_endian);
}

Summary decode_bytes(const std::vector<uint8_t>& bytes, FitDecodeStats* stats = nullptr) {
    Summary s;
    FitDecodeStats local;
    decode_fit(bytes, s, stats ? *stats : local);
    return s;
}

// 2^28 semicircles = 180 / 8 degrees.
constexpr int32_t k_semi_22_5 = 1 << 28;

}  // namespace

TEST(FitCrc, MatchesTheBitwiseDefinition) {
    const std::vector<uint8_t> check{'1', '2', '3', '4', '5', '6', '7', '8', '9'};
    EXPECT_EQ(fit_crc16(check), 0xBB3D);  // CRC-16/ARC check value
    std::vector<uint8_t> bytes(1000);
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 7 + 3);
    for (size_t n : {0u, 1u, 7u, 8u, 9u, 15u, 16u, 17u, 999u}) {
        EXPECT_EQ(fit_crc16({bytes.data(), n}), crc_bitwise(bytes, 0, n)) << n;
    }
}

TEST(FitCrafted, MinimalActivity) {
    FitBuilder b;
    file_id(b, 4, 1, 1234, 1000000000);
    define_record(b, 1);
    b.data(1, {U32(1000000010), U32(k_semi_22_5), U32(-k_semi_22_5), 150, U16(250)});
    b.data(1, {U32(1000000011), U32(2 * k_semi_22_5), U32(k_semi_22_5), 160, U16(0)});
    define_session(b, 2);
    b.data(2, {U32(1000000005), 2, 7, U32(3600500), U32(3500250), U32(4200012), 140, 180, U16(220)});
    const auto bytes = b.build();
    const Summary s = decode_bytes(bytes);
    ASSERT_TRUE(s.ok) << s.error;
    EXPECT_EQ(s.fit_files_in_chain, 1);
    EXPECT_EQ(s.file_type, "activity");
    EXPECT_EQ(s.manufacturer, "garmin");
    EXPECT_FALSE(s.manufacturer_is_number);
    EXPECT_EQ(s.product, 1234);
    EXPECT_EQ(s.sport, "cycling");
    EXPECT_EQ(s.sub_sport, "road");
    EXPECT_EQ(s.start_time, 1000000005 + k_fit_epoch);
    EXPECT_EQ(s.total_elapsed_time, 3600.5);
    EXPECT_EQ(s.total_timer_time, 3500.25);
    EXPECT_EQ(s.total_distance, 42000.12);
    EXPECT_EQ(s.sessions, 1);
    EXPECT_EQ(s.laps, 0);
    EXPECT_EQ(s.records, 2);
    EXPECT_EQ(s.records_with_position, 2);
    EXPECT_EQ(s.first_lat, 22.5);
    EXPECT_EQ(s.first_lon, -22.5);
    EXPECT_EQ(s.last_lat, 45.0);
    EXPECT_EQ(s.last_lon, 22.5);
    EXPECT_EQ(s.avg_hr, 140.0);
    EXPECT_EQ(s.max_hr, 180.0);
    EXPECT_EQ(s.avg_power, 220.0);
    EXPECT_EQ(s.rec_avg_hr, 155.0);
    EXPECT_EQ(s.rec_max_hr, 160.0);
    EXPECT_EQ(s.rec_avg_power, 125.0);  // the zero counts toward the mean
    EXPECT_TRUE(s.has_hr);
    EXPECT_TRUE(s.has_power);
    EXPECT_TRUE(s.is_activity);
    const std::map<std::string, int64_t> counts{{"file_id", 1}, {"record", 2}, {"session", 1}};
    EXPECT_EQ(s.msg_counts, counts);

    // The same bytes with a 12-byte header decode the same.
    const Summary s12 = decode_bytes(b.build(true));
    ASSERT_TRUE(s12.ok) << s12.error;
    EXPECT_EQ(s12.total_distance, 42000.12);
    EXPECT_EQ(s12.records, 2);
}

TEST(FitCrafted, BigEndianDefinition) {
    FitBuilder b;
    define_session(b, 0, /*big_endian=*/true);
    b.data(0, {BE32(1000000005), 1, 0, BE32(60000), BE32(59000), BE32(1234567), 150, 170, BE16(300)});
    b.definition(1, 20, {{253, 4, k_uint32}, {0, 4, k_sint32}, {1, 4, k_sint32}}, /*big_endian=*/true);
    b.data(1, {BE32(1000000006), BE32(-k_semi_22_5), BE32(k_semi_22_5)});
    FitDecodeStats stats;
    const Summary s = decode_bytes(b.build(), &stats);
    ASSERT_TRUE(s.ok) << s.error;
    EXPECT_EQ(stats.big_endian_definitions, 2);
    EXPECT_EQ(s.sport, "running");
    EXPECT_EQ(s.sub_sport, "generic");
    EXPECT_EQ(s.start_time, 1000000005 + k_fit_epoch);
    EXPECT_EQ(s.total_elapsed_time, 60.0);
    EXPECT_EQ(s.total_timer_time, 59.0);
    EXPECT_EQ(s.total_distance, 12345.67);
    EXPECT_EQ(s.avg_hr, 150.0);
    EXPECT_EQ(s.max_hr, 170.0);
    EXPECT_EQ(s.avg_power, 300.0);
    EXPECT_EQ(s.first_lat, -22.5);
    EXPECT_EQ(s.first_lon, 22.5);
    EXPECT_FALSE(s.file_type.has_value());  // no file_id
}

TEST(FitCrafted, CompressedTimestampsRollOver) {
    FitBuilder b;
    // A full timestamp 1000 (low five bits 8), then records with compressed headers.
    b.definition(0, 20, {{253, 4, k_uint32}, {3, 1, k_uint8}});
    b.data(0, {U32(1000), 100});
    b.definition(1, 20, {{3, 1, k_uint8}});
    b.compressed(1, 30, {101});  // 1000 - 8 + 30 = 1022
    b.compressed(1, 2, {102});   // 2 < 30: rolls over: 992 + 32 + 2 = 1026
    b.compressed(1, 2, {103});   // same offset: no change, 1026
    FitDecodeStats stats;
    const Summary s = decode_bytes(b.build(), &stats);
    ASSERT_TRUE(s.ok) << s.error;
    EXPECT_EQ(stats.compressed_timestamp_messages, 3);
    EXPECT_EQ(stats.last_record_timestamp, 1026);
    EXPECT_EQ(s.records, 4);
    EXPECT_EQ(s.rec_avg_hr, 101.5);
    EXPECT_EQ(s.rec_max_hr, 103.0);
    // No session: the start is the first record's timestamp.
    EXPECT_EQ(s.start_time, 1000 + k_fit_epoch);
}

TEST(FitCrafted, CompressedTimestampUsesLastTimestampOfAnyMessage) {
    FitBuilder b;
    b.definition(0, 21, {{253, 4, k_uint32}});  // an event carries the full time
    b.data(0, {U32(2000)});                     // 2000 = 0x7D0, low five bits 16
    b.definition(1, 20, {{3, 1, k_uint8}});
    b.compressed(1, 20, {90});  // 2000 - 16 + 20 = 2004
    FitDecodeStats stats;
    const Summary s = decode_bytes(b.build(), &stats);
    ASSERT_TRUE(s.ok) << s.error;
    EXPECT_EQ(stats.last_record_timestamp, 2004);
    EXPECT_EQ(s.start_time, 2004 + k_fit_epoch);
    EXPECT_EQ(s.msg_counts.at("event"), 1);
}

TEST(FitCrafted, DeveloperFieldsAreSkippedBySize) {
    FitBuilder b;
    // developer_data_id and field_description are ordinary messages here.
    b.definition(0, 207, {{3, 1, k_uint8}});
    b.data(0, {0});
    b.definition(1, 20, {{3, 1, k_uint8}}, false, {{0, 3, 0}, {1, 2, 0}});
    b.data(1, {120, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE});
    b.data(1, {130, 0x01, 0x02, 0x03, 0x04, 0x05});
    define_record(b, 2);
    b.data(2, {U32(500), U32(k_semi_22_5), U32(k_semi_22_5), 140, U16(200)});
    FitDecodeStats stats;
    const Summary s = decode_bytes(b.build(), &stats);
    ASSERT_TRUE(s.ok) << s.error;
    EXPECT_EQ(stats.developer_fields, 4);
    EXPECT_EQ(s.records, 3);
    EXPECT_EQ(s.rec_avg_hr, 130.0);
    EXPECT_EQ(s.rec_avg_power, 200.0);
    EXPECT_EQ(s.records_with_position, 1);
    EXPECT_EQ(s.msg_counts.at("developer_data_id"), 1);
}

TEST(FitCrafted, InvalidValuesAreAbsent) {
    FitBuilder b;
    b.definition(0, 0, {{0, 1, k_enum}, {1, 2, k_uint16}, {2, 2, k_uint16}, {3, 4, 0x8C}});
    b.data(0, {0xFF, U16(0xFFFF), U16(0xFFFF), U32(0)});  // all invalid (uint32z: zero)
    define_record(b, 1);
    // lat invalid (0x7FFFFFFF), lon valid, hr invalid, power invalid.
    b.data(1, {U32(0xFFFFFFFFu), U32(0x7FFFFFFF), U32(k_semi_22_5), 0xFF, U16(0xFFFF)});
    define_session(b, 2);
    b.data(2, {U32(0xFFFFFFFFu), 0xFF, 0xFF, U32(0xFFFFFFFFu), U32(0xFFFFFFFFu), U32(0xFFFFFFFFu), 0xFF, 0xFF,
               U16(0xFFFF)});
    const Summary s = decode_bytes(b.build());
    ASSERT_TRUE(s.ok) << s.error;
    EXPECT_FALSE(s.file_type);
    EXPECT_FALSE(s.manufacturer);
    EXPECT_FALSE(s.product);
    EXPECT_EQ(s.records, 1);
    EXPECT_EQ(s.records_with_position, 0);
    EXPECT_FALSE(s.first_lat);
    EXPECT_FALSE(s.rec_avg_hr);
    EXPECT_FALSE(s.rec_avg_power);
    EXPECT_FALSE(s.has_hr);
    EXPECT_FALSE(s.has_power);
    EXPECT_EQ(s.sessions, 1);
    EXPECT_FALSE(s.sport);
    EXPECT_FALSE(s.sport_family);
    EXPECT_FALSE(s.start_time);  // no session start, no record time, no time_created
    EXPECT_FALSE(s.total_elapsed_time);
    EXPECT_FALSE(s.total_timer_time);
    EXPECT_FALSE(s.total_distance);
    EXPECT_FALSE(s.avg_hr);
    EXPECT_FALSE(s.max_hr);
    EXPECT_FALSE(s.avg_power);
}

TEST(FitCrafted, ZeroInvalidTypesAndOddSizes) {
    FitBuilder b;
    // heart_rate as uint8z (0 is invalid) and power in a 3-byte uint16 field (not
    // a multiple of the base type: unusable).
    b.definition(0, 20, {{3, 1, k_uint8z}, {7, 3, k_uint16}});
    b.data(0, {0, 0x10, 0x00, 0x00});
    b.data(0, {90, 0x10, 0x00, 0x00});
    const Summary s = decode_bytes(b.build());
    ASSERT_TRUE(s.ok) << s.error;
    EXPECT_EQ(s.records, 2);
    EXPECT_EQ(s.rec_avg_hr, 90.0);
    EXPECT_FALSE(s.rec_avg_power);
}

TEST(FitCrafted, SessionsAreSummedAndWeightedByTimerTime) {
    FitBuilder b;
    define_session(b, 0);
    b.data(0, {U32(100), 5, 17, U32(110000), U32(100000), U32(200000), 100, 150, U16(100)});
    b.data(0, {U32(300), 2, 6, U32(310000), U32(300000), U32(1000000), 200, 190, U16(200)});
    b.definition(1, 19, {{253, 4, k_uint32}});
    b.data(1, {U32(150)}).data(1, {U32(350)}).data(1, {U32(360)});
    const Summary s = decode_bytes(b.build());
    ASSERT_TRUE(s.ok) << s.error;
    EXPECT_EQ(s.sessions, 2);
    EXPECT_EQ(s.laps, 3);
    EXPECT_EQ(s.sport, "swimming");  // the first session's
    EXPECT_EQ(s.sub_sport, "lap_swimming");
    EXPECT_EQ(s.start_time, 100 + k_fit_epoch);
    EXPECT_EQ(s.total_elapsed_time, 420.0);
    EXPECT_EQ(s.total_timer_time, 400.0);
    EXPECT_EQ(s.total_distance, 12000.0);
    EXPECT_EQ(s.avg_hr, 175.0);     // (100*100 + 200*300) / 400
    EXPECT_EQ(s.avg_power, 175.0);  // same weights
    EXPECT_EQ(s.max_hr, 190.0);
}

TEST(FitCrafted, UnnamedValuesStayNumbers) {
    FitBuilder b;
    file_id(b, 200, 9999, 7, 0);
    define_session(b, 1);
    b.data(1, {U32(10), 250, 240, U32(1000), U32(1000), U32(100), 0xFF, 0xFF, U16(0xFFFF)});
    b.definition(2, 0xFF00, {{0, 1, k_uint8}}).data(2, {1}).data(2, {2});
    b.definition(3, 79, {{0, 1, k_uint8}}).data(3, {1});
    const Summary s = decode_bytes(b.build());
    ASSERT_TRUE(s.ok) << s.error;
    EXPECT_EQ(s.file_type, "200");
    EXPECT_TRUE(s.file_type_is_number);
    EXPECT_TRUE(s.is_activity);  // an unnamed file type is not known to be a non-activity
    EXPECT_EQ(s.manufacturer, "9999");
    EXPECT_TRUE(s.manufacturer_is_number);
    EXPECT_EQ(s.sport, "250");
    EXPECT_EQ(s.sub_sport, "240");
    EXPECT_EQ(s.msg_counts.at("mesg_65280"), 2);
    EXPECT_EQ(s.msg_counts.at("mesg_79"), 1);
    EXPECT_EQ(s.msg_counts.at("session"), 1);
}

TEST(FitCrafted, NonActivityFileType) {
    FitBuilder b;
    file_id(b, 6, 1, 1, 12345);  // course
    const Summary s = decode_bytes(b.build());
    ASSERT_TRUE(s.ok) << s.error;
    EXPECT_EQ(s.file_type, "course");
    EXPECT_FALSE(s.is_activity);
    EXPECT_EQ(s.not_activity_reason, "FIT file type course");
    EXPECT_EQ(s.start_time, 12345 + k_fit_epoch);  // falls back to time_created
}

TEST(FitCrafted, EmptyDataIsValid) {
    const Summary s = decode_bytes(FitBuilder().build());
    ASSERT_TRUE(s.ok) << s.error;
    EXPECT_EQ(s.records, 0);
    EXPECT_EQ(s.sessions, 0);
    EXPECT_TRUE(s.msg_counts.empty());
}

TEST(FitCrafted, ChainsAreWalkedAndSummed) {
    FitBuilder a;
    file_id(a, 4, 1, 1, 100);
    define_record(a, 1);
    a.data(1, {U32(100), U32(k_semi_22_5), U32(k_semi_22_5), 100, U16(10)});
    FitBuilder b;
    file_id(b, 2, 1, 1, 200);  // settings: the first file_id decides
    define_record(b, 1);
    b.data(1, {U32(200), U32(2 * k_semi_22_5), U32(2 * k_semi_22_5), 200, U16(30)});
    auto bytes = a.build();
    const auto second = b.build(true);
    bytes.insert(bytes.end(), second.begin(), second.end());
    const Summary s = decode_bytes(bytes);
    ASSERT_TRUE(s.ok) << s.error;
    EXPECT_EQ(s.fit_files_in_chain, 2);
    EXPECT_EQ(s.file_type, "activity");
    EXPECT_TRUE(s.is_activity);
    EXPECT_EQ(s.records, 2);
    EXPECT_EQ(s.first_lat, 22.5);
    EXPECT_EQ(s.last_lat, 45.0);
    EXPECT_EQ(s.rec_avg_hr, 150.0);
    EXPECT_EQ(s.rec_avg_power, 20.0);
    EXPECT_EQ(s.msg_counts.at("file_id"), 2);

    // The second file's CRC is wrong: the error names the file and the offset.
    auto broken = bytes;
    broken.back() ^= 0x01;
    const Summary bad = decode_bytes(broken);
    EXPECT_FALSE(bad.ok);
    const size_t crc_offset = broken.size() - 2;
    const uint16_t stored = static_cast<uint16_t>(broken[crc_offset] | (broken[crc_offset + 1] << 8));
    const uint16_t computed = stored ^ 0x0100;
    char expected[160];
    std::snprintf(expected, sizeof expected,
                  "FIT CRC mismatch in file 2 of chain at offset %zu (stored 0x%04X, computed 0x%04X)", crc_offset,
                  stored, computed);
    EXPECT_EQ(bad.error, expected);
}

TEST(FitCrafted, FileCrcMismatch) {
    FitBuilder b;
    file_id(b, 4, 1, 1, 100);
    auto bytes = b.build();
    bytes[20] ^= 0x40;  // a byte of the file_id definition
    const uint16_t stored = static_cast<uint16_t>(bytes[bytes.size() - 2] | (bytes.back() << 8));
    const uint16_t computed = crc_bitwise(bytes, 0, bytes.size() - 2);
    char expected[128];
    std::snprintf(expected, sizeof expected, "FIT CRC mismatch at offset %zu (stored 0x%04X, computed 0x%04X)",
                  bytes.size() - 2, stored, computed);
    const Summary s = decode_bytes(bytes);
    EXPECT_FALSE(s.ok);
    EXPECT_EQ(s.error, expected);
}

TEST(FitCrafted, HeaderCrc) {
    FitBuilder b;
    file_id(b, 4, 1, 1, 100);
    auto bytes = b.build();
    // A zero header CRC means "not computed" and is accepted (the file CRC covers the header).
    auto zero = bytes;
    zero[12] = 0;
    zero[13] = 0;
    const uint16_t c = crc_bitwise(zero, 0, zero.size() - 2);
    zero[zero.size() - 2] = static_cast<uint8_t>(c);
    zero.back() = static_cast<uint8_t>(c >> 8);
    EXPECT_TRUE(decode_bytes(zero).ok) << decode_bytes(zero).error;

    auto wrong = bytes;
    const uint16_t good = static_cast<uint16_t>(wrong[12] | (wrong[13] << 8));
    wrong[12] ^= 0xFF;
    char expected[128];
    std::snprintf(expected, sizeof expected, "FIT header CRC mismatch at offset 12 (stored 0x%04X, computed 0x%04X)",
                  good ^ 0xFF, good);
    EXPECT_EQ(decode_bytes(wrong).error, expected);
}

TEST(FitCrafted, NotFitOrTruncatedHeader) {
    EXPECT_EQ(decode_bytes({}).error, "not a FIT file: empty input");
    EXPECT_EQ(decode_bytes({0x0E, 0x10, 0x00, 0x00, 0x00}).error,
              "not a FIT file: 5 bytes, shorter than a 12-byte FIT header");
    const std::vector<uint8_t> gpx{'<', '?', 'x', 'm', 'l', ' ', 'v', 'e', 'r', 's', 'i', 'o', 'n', '='};
    EXPECT_EQ(decode_bytes(gpx).error, "not a FIT file: no \".FIT\" signature at offset 8");
    std::vector<uint8_t> small_header{8, 0x10, 0, 0, 0, 0, 0, 0, '.', 'F', 'I', 'T', 0, 0};
    EXPECT_EQ(decode_bytes(small_header).error, "not a FIT file: header size 8 at offset 0 is below the minimum of 12");
    // A header that promises 4 GiB of data.
    std::vector<uint8_t> huge{12, 0x10, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, '.', 'F', 'I', 'T', 0x40};
    EXPECT_EQ(decode_bytes(huge).error,
              "FIT data truncated at offset 12: definition message needs 6 bytes, the file ends at offset 13");
}

TEST(FitCrafted, MessageErrors) {
    {
        FitBuilder b;
        b.data(3, {1, 2});
        EXPECT_EQ(decode_bytes(b.build()).error, "FIT data message at offset 14 uses undefined local message type 3");
    }
    {
        FitBuilder b;
        b.compressed(2, 0, {});
        EXPECT_EQ(decode_bytes(b.build()).error, "FIT data message at offset 14 uses undefined local message type 2");
    }
    {
        FitBuilder b;
        b.definition(0, 20, {{3, 1, 0x1F}});
        EXPECT_EQ(decode_bytes(b.build()).error,
                  "FIT definition message at offset 14: field 3 has unknown base type 0x1F");
    }
    {
        // The last message is cut by the declared data size (the file itself is complete).
        FitBuilder b;
        b.definition(0, 20, {{3, 1, k_uint8}, {7, 2, k_uint16}});  // 12 bytes at 14..25
        b.data(0, {1, 2, 3});                                      // 4 bytes at 26..29
        const auto bytes = b.build_with_size(b.data_size() - 1);
        EXPECT_EQ(decode_bytes(bytes).error,
                  "FIT data message at offset 26 runs past the end of the data at offset 29");
    }
    {
        // Bytes after the last file that are not a FIT file.
        FitBuilder b;
        auto bytes = b.build();
        bytes.insert(bytes.end(), {0, 0, 0});
        EXPECT_EQ(decode_bytes(bytes).error,
                  "FIT chain: the 3 bytes at offset 16 after file 1 are not a FIT file (3 bytes, shorter than a "
                  "12-byte FIT header)");
    }
}

TEST(FitCrafted, FieldsDeclaredWithOtherBaseTypes) {
    // Found by fuzzing: a session whose sport is declared uint16 (value 720) must
    // print as a number rather than be squeezed into the 8-bit enum.
    FitBuilder b;
    b.definition(0, 18, {{5, 2, k_uint16}, {6, 4, k_uint32}, {2, 1, k_uint8}});
    b.data(0, {U16(720), U32(70000), 5});
    // A record with a signed heart rate and a float32 power of 1.5 W.
    b.definition(1, 20, {{3, 1, 0x01}, {7, 4, 0x88}});
    b.data(1, {0xF6, 0x00, 0x00, 0xC0, 0x3F});  // -10, 1.5f
    b.data(1, {0xFB, 0xFF, 0xFF, 0xFF, 0xFF});  // -5, invalid float (all ones)
    b.data(1, {0x0A, 0x00, 0x00, 0xC0, 0x7F});  // 10, NaN: not a usable value
    const Summary s = decode_bytes(b.build());
    ASSERT_TRUE(s.ok) << s.error;
    EXPECT_EQ(s.sport, "720");
    EXPECT_EQ(s.sub_sport, "70000");
    EXPECT_EQ(s.start_time, 5 + k_fit_epoch);
    EXPECT_EQ(s.rec_avg_hr, -5.0 / 3.0);
    EXPECT_EQ(s.rec_max_hr, 10.0);
    EXPECT_EQ(s.rec_avg_power, 1.5);
}
