// FIT decoder, written from the FIT protocol description (file header, record
// headers, definition and data messages, base types, CRC). It walks the bytes
// once, keeps only accumulators for the summary, and never trusts a size it
// has not checked against the bytes present.

#include "formats/fit_decoder.hpp"

#include <array>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "formats/decode.hpp"
#include "formats/fit_profile.hpp"

namespace fitbridge::formats {
namespace {

constexpr int64_t k_fit_epoch_unix = 631065600;  // 1989-12-31T00:00:00Z
constexpr double k_degrees_per_semicircle = 180.0 / 2147483648.0;
constexpr size_t k_min_header_size = 12;
constexpr size_t k_crc_size = 2;
constexpr unsigned k_local_types = 16;
constexpr size_t k_crc_chunk = 16 * 1024;  // CRC in cache-sized steps behind the decoder

// ---------------------------------------------------------------------------
// CRC: slicing-by-8 tables for the reflected 0x8005 polynomial (0xA001), so the
// integrity pass runs at memory speed rather than one table lookup per byte.

struct CrcTables {
    std::array<std::array<uint16_t, 256>, 8> t{};
};

constexpr CrcTables make_crc_tables() {
    CrcTables c;
    for (unsigned i = 0; i < 256; ++i) {
        auto r = static_cast<uint16_t>(i);
        for (int b = 0; b < 8; ++b)
            r = (r & 1u) ? static_cast<uint16_t>((r >> 1) ^ 0xA001u) : static_cast<uint16_t>(r >> 1);
        c.t[0][i] = r;
    }
    for (unsigned k = 1; k < 8; ++k) {
        for (unsigned i = 0; i < 256; ++i) {
            const uint16_t prev = c.t[k - 1][i];
            c.t[k][i] = static_cast<uint16_t>((prev >> 8) ^ c.t[0][prev & 0xFFu]);
        }
    }
    return c;
}

constexpr CrcTables k_crc = make_crc_tables();

// ---------------------------------------------------------------------------
// Base types (the low five bits of a field definition's base type byte).

enum class NumKind : uint8_t { unsigned_int, signed_int, floating, not_number };

struct BaseType {
    uint8_t size;
    NumKind kind;
    uint64_t invalid;  // the all-ones (or zero for the *z types) invalid pattern
};

constexpr uint8_t k_base_type_count = 17;
constexpr std::array<BaseType, k_base_type_count> k_base_types{{
    {1, NumKind::unsigned_int, 0xFF},                 // 0x00 enum
    {1, NumKind::signed_int, 0x7F},                   // 0x01 sint8
    {1, NumKind::unsigned_int, 0xFF},                 // 0x02 uint8
    {2, NumKind::signed_int, 0x7FFF},                 // 0x83 sint16
    {2, NumKind::unsigned_int, 0xFFFF},               // 0x84 uint16
    {4, NumKind::signed_int, 0x7FFFFFFF},             // 0x85 sint32
    {4, NumKind::unsigned_int, 0xFFFFFFFF},           // 0x86 uint32
    {1, NumKind::not_number, 0x00},                   // 0x07 string
    {4, NumKind::floating, 0xFFFFFFFF},               // 0x88 float32
    {8, NumKind::floating, ~0ull},                    // 0x89 float64
    {1, NumKind::unsigned_int, 0x00},                 // 0x0A uint8z
    {2, NumKind::unsigned_int, 0x0000},               // 0x8B uint16z
    {4, NumKind::unsigned_int, 0x00000000},           // 0x8C uint32z
    {1, NumKind::not_number, 0xFF},                   // 0x0D byte
    {8, NumKind::signed_int, 0x7FFFFFFFFFFFFFFFull},  // 0x8E sint64
    {8, NumKind::unsigned_int, ~0ull},                // 0x8F uint64
    {8, NumKind::unsigned_int, 0x0},                  // 0x90 uint64z
}};

// Where one field of interest sits inside a data message (after its header).
struct FieldRef {
    uint32_t offset = 0;
    uint8_t size = 0;  // 0: the definition does not carry the field
    uint8_t base = 0;  // index into k_base_types
};

// Loads an unsigned integer of 1, 2, 4 or 8 bytes stored in the given byte order.
inline uint64_t load(const uint8_t* p, unsigned size, bool big_endian) {
    const bool swap = big_endian != (std::endian::native == std::endian::big);
    switch (size) {
        case 1: return p[0];
        case 2: {
            uint16_t v;
            std::memcpy(&v, p, sizeof v);
            return swap ? __builtin_bswap16(v) : v;
        }
        case 4: {
            uint32_t v;
            std::memcpy(&v, p, sizeof v);
            return swap ? __builtin_bswap32(v) : v;
        }
        default: {
            uint64_t v;
            std::memcpy(&v, p, sizeof v);
            return swap ? __builtin_bswap64(v) : v;
        }
    }
}

// The field's first element as a number; nullopt when absent, not numeric, of a
// size that is not a multiple of its base type, or holding the invalid value.
inline std::optional<double> read_number(const uint8_t* msg, FieldRef f, bool big_endian) {
    if (f.size == 0) return std::nullopt;
    const BaseType& bt = k_base_types[f.base];
    if (bt.kind == NumKind::not_number || f.size % bt.size != 0) return std::nullopt;
    const uint64_t raw = load(msg + f.offset, bt.size, big_endian);
    if (raw == bt.invalid) return std::nullopt;
    switch (bt.kind) {
        case NumKind::unsigned_int: return static_cast<double>(raw);
        case NumKind::signed_int: {
            const unsigned shift = 64 - 8u * bt.size;
            return static_cast<double>(static_cast<int64_t>(raw << shift) >> shift);
        }
        case NumKind::floating:
            if (bt.size == 4) {
                float x;
                const auto bits = static_cast<uint32_t>(raw);
                std::memcpy(&x, &bits, sizeof x);
                if (!std::isfinite(x)) return std::nullopt;  // JSON has no NaN
                return static_cast<double>(x);
            } else {
                double x;
                std::memcpy(&x, &raw, sizeof x);
                if (!std::isfinite(x)) return std::nullopt;
                return x;
            }
        case NumKind::not_number: break;
    }
    return std::nullopt;
}

// Conversions that refuse values the target cannot hold (a hostile file can
// declare any field with any base type, so no cast may assume the profile's).
std::optional<int64_t> to_int64(std::optional<double> v) {
    if (!v || !(*v >= -9.2e18 && *v <= 9.2e18)) return std::nullopt;
    return static_cast<int64_t>(*v);
}

std::optional<uint32_t> to_uint32(std::optional<double> v) {
    if (!v || !(*v >= 0.0 && *v <= 4294967295.0)) return std::nullopt;
    return static_cast<uint32_t>(*v);
}

template <typename T>
bool in_range(int64_t v) {
    return v >= 0 && v <= static_cast<int64_t>(std::numeric_limits<T>::max());
}

// ---------------------------------------------------------------------------
// Messages and fields the summary needs (FIT profile global numbers).

constexpr uint16_t k_mesg_file_id = 0;
constexpr uint16_t k_mesg_session = 18;
constexpr uint16_t k_mesg_lap = 19;
constexpr uint16_t k_mesg_record = 20;
constexpr uint8_t k_field_timestamp = 253;

enum class Kind : uint8_t { other, file_id, session, lap, record };

// Field numbers per kind; a field's index here is its slot in Definition::fields.
constexpr std::array<uint8_t, 4> k_file_id_fields{0, 1, 2, 4};  // type, manufacturer, product, time_created
enum FileIdSlot : uint8_t { fid_type, fid_manufacturer, fid_product, fid_time_created };
// start_time, sport, sub_sport, total_elapsed_time, total_timer_time, total_distance,
// avg_heart_rate, max_heart_rate, avg_power
constexpr std::array<uint8_t, 9> k_session_fields{2, 5, 6, 7, 8, 9, 16, 17, 20};
enum SessionSlot : uint8_t {
    ses_start,
    ses_sport,
    ses_sub_sport,
    ses_elapsed,
    ses_timer,
    ses_distance,
    ses_avg_hr,
    ses_max_hr,
    ses_avg_power
};
constexpr std::array<uint8_t, 4> k_record_fields{0, 1, 3, 7};  // position_lat, position_long, heart_rate, power
enum RecordSlot : uint8_t { rec_lat, rec_lon, rec_hr, rec_power };
constexpr size_t k_max_slots = 9;

// Profile scales of the session fields used (value = raw / scale).
constexpr double k_scale_time = 1000.0;     // total_*_time: s * 1000
constexpr double k_scale_distance = 100.0;  // total_distance: m * 100

// A local message type's layout, computed once per definition message so data
// messages are decoded by fixed offsets without any lookup.
struct Definition {
    bool defined = false;
    bool big_endian = false;
    Kind kind = Kind::other;
    uint16_t global = 0;
    uint16_t developer_fields = 0;
    uint32_t size = 0;  // bytes of one data message after its record header
    FieldRef timestamp;
    std::array<FieldRef, k_max_slots> fields{};
};

std::string hex(unsigned v, int digits) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%0*X", digits, v & 0xFFFFu);
    return buf;
}

std::string enum_text(std::string_view name, int64_t value, bool* is_number) {
    if (!name.empty()) {
        if (is_number) *is_number = false;
        return std::string(name);
    }
    if (is_number) *is_number = true;
    return std::to_string(value);
}

// One decode over a whole payload (a chain of FIT files).
class FitReader {
public:
    FitReader(std::span<const uint8_t> payload, Summary& out, FitDecodeStats& stats)
        : m_p(payload.data()), m_n(payload.size()), m_out(out), m_stats(stats) {}

    void run();

private:
    bool decode_file(size_t start, int index, size_t& next);
    bool decode_messages(size_t begin, size_t declared_end, int index);
    bool parse_definition(size_t pos, size_t limit, size_t declared_end, int index, size_t& length);
    void on_data(const Definition& def, const uint8_t* msg, std::optional<uint32_t> timestamp);
    bool overrun(size_t pos, size_t need, size_t declared_end, int index, std::string_view what);
    void fail(std::string message);
    void finish();
    void count(uint16_t global);

    static std::string in_file(int index) {
        return index > 1 ? " in file " + std::to_string(index) + " of chain" : std::string();
    }

    const uint8_t* m_p;
    size_t m_n;
    Summary& m_out;
    FitDecodeStats& m_stats;
    bool m_failed = false;
    bool m_truncated_message = false;  // the current file's messages ran into the end of the input
    uint16_t m_crc = 0;                // CRC of the current file's bytes [start, m_crc_pos)
    size_t m_crc_pos = 0;
    int m_files = 0;

    std::array<Definition, k_local_types> m_defs{};
    bool m_have_timestamp = false;
    uint32_t m_last_timestamp = 0;

    // Message counts: small numbers in place, the rare large ones in a lazily
    // allocated table (bounded by the 16-bit message number space).
    std::array<int64_t, 512> m_small_counts{};
    std::vector<int64_t> m_large_counts;

    // file_id
    bool m_have_file_id = false;
    // Enum values are kept wide: a writer may declare a field with a larger base
    // type than the profile's, and the value then prints as a number.
    std::optional<int64_t> m_file_type;
    std::optional<int64_t> m_manufacturer;
    std::optional<int64_t> m_product;
    std::optional<uint32_t> m_time_created;

    // sessions
    int64_t m_sessions = 0;
    std::optional<int64_t> m_sport, m_sub_sport;
    std::optional<uint32_t> m_session_start;
    std::optional<double> m_elapsed, m_timer, m_distance, m_max_hr;
    double m_hr_weighted = 0, m_hr_weight = 0, m_hr_plain = 0;
    int64_t m_hr_n = 0;
    double m_pw_weighted = 0, m_pw_weight = 0, m_pw_plain = 0;
    int64_t m_pw_n = 0;

    // laps and records
    int64_t m_laps = 0;
    int64_t m_records = 0, m_records_with_position = 0;
    std::optional<uint32_t> m_first_record_time;
    std::optional<double> m_first_lat, m_first_lon, m_last_lat, m_last_lon;
    double m_rec_hr_sum = 0, m_rec_pw_sum = 0;
    int64_t m_rec_hr_n = 0, m_rec_pw_n = 0;
    double m_rec_hr_max = 0;
};

void FitReader::fail(std::string message) {
    if (m_failed) return;
    m_failed = true;
    m_out.ok = false;
    m_out.error = std::move(message);
}

void FitReader::count(uint16_t global) {
    if (global < m_small_counts.size()) {
        ++m_small_counts[global];
        return;
    }
    if (m_large_counts.empty()) m_large_counts.assign(65536, 0);
    ++m_large_counts[global];
}

void FitReader::run() {
    if (m_n == 0) {
        fail("not a FIT file: empty input");
        finish();
        return;
    }
    size_t pos = 0;
    int index = 1;
    while (pos < m_n) {
        size_t next = 0;
        if (!decode_file(pos, index, next)) break;
        pos = next;
        ++index;
    }
    finish();
}

bool FitReader::decode_file(size_t start, int index, size_t& next) {
    const size_t avail = m_n - start;
    const uint8_t* h = m_p + start;
    const bool has_signature = avail >= k_min_header_size && std::memcmp(h + 8, ".FIT", 4) == 0;
    if (!has_signature || h[0] < k_min_header_size) {
        std::string why;
        if (avail < k_min_header_size) {
            why = std::to_string(avail) + " bytes, shorter than a 12-byte FIT header";
        } else if (!has_signature) {
            why = "no \".FIT\" signature at offset " + std::to_string(start + 8);
        } else {
            why = "header size " + std::to_string(h[0]) + " at offset " + std::to_string(start) +
                  " is below the minimum of 12";
        }
        if (index == 1) {
            fail("not a FIT file: " + why);
        } else {
            fail("FIT chain: the " + std::to_string(avail) + " bytes at offset " + std::to_string(start) +
                 " after file " + std::to_string(index - 1) + " are not a FIT file (" + why + ")");
        }
        return false;
    }
    ++m_files;
    const size_t header_size = h[0];
    if (header_size > avail) {
        fail("FIT data truncated at offset " + std::to_string(m_n) + in_file(index) + ": the header declares " +
             std::to_string(header_size) + " header bytes");
        return false;
    }
    const uint32_t data_size = static_cast<uint32_t>(load(h + 4, 4, false));
    if (header_size >= 14) {
        const auto stored = static_cast<uint16_t>(load(h + 12, 2, false));
        if (stored != 0) {
            const uint16_t computed = fit_crc16({h, 12});
            if (stored != computed) {
                fail("FIT header CRC mismatch" + in_file(index) + " at offset " + std::to_string(start + 12) +
                     " (stored " + hex(stored, 4) + ", computed " + hex(computed, 4) + ")");
                return false;
            }
        }
    }

    const size_t data_begin = start + header_size;
    const size_t declared_end = data_begin + data_size;  // no overflow: data_size < 2^32
    const bool complete = declared_end + k_crc_size <= m_n;

    m_defs = {};
    m_have_timestamp = false;
    m_truncated_message = false;
    m_crc = 0;
    m_crc_pos = start;
    const bool messages_ok = decode_messages(data_begin, declared_end, index);

    // The CRC runs a little behind the messages (same pass, bytes still in
    // cache); after a message error it is finished over the rest of the data,
    // so a flipped bit is reported as what it is rather than as whatever
    // garbage it decodes to.
    std::optional<std::string> crc_error;
    if (complete) {
        const uint16_t computed = fit_crc16({m_p + m_crc_pos, declared_end - m_crc_pos}, m_crc);
        const auto stored = static_cast<uint16_t>(load(m_p + declared_end, 2, false));
        if (computed != stored) {
            crc_error = "FIT CRC mismatch" + in_file(index) + " at offset " + std::to_string(declared_end) +
                        " (stored " + hex(stored, 4) + ", computed " + hex(computed, 4) + ")";
            // A writer that never finalised the header leaves the data size 0.
            if (data_size == 0 && m_n - declared_end > k_crc_size) {
                *crc_error +=
                    "; the header declares 0 data bytes but " + std::to_string(m_n - data_begin) + " bytes follow it";
            }
        }
    }
    // Priority of errors: a CRC mismatch or a header that promises more bytes
    // than the file holds explains any message error that follows from it.
    if (crc_error) {
        m_failed = false;
        fail(*crc_error);
        return false;
    }
    if (!complete && !m_truncated_message) {
        m_failed = false;
        fail("FIT data truncated at offset " + std::to_string(m_n) + in_file(index) + ": the header at offset " +
             std::to_string(start) + " declares " + std::to_string(data_size) + " data bytes and a 2-byte CRC, " +
             std::to_string(m_n - data_begin) + " bytes follow the header");
        return false;
    }
    if (!messages_ok) return false;
    next = declared_end + k_crc_size;
    return true;
}

// Reports a message that does not fit in the bytes left; returns false.
bool FitReader::overrun(size_t pos, size_t need, size_t declared_end, int index, std::string_view what) {
    if (pos + need > m_n) {
        m_truncated_message = true;
        fail("FIT data truncated at offset " + std::to_string(pos) + in_file(index) + ": " + std::string(what) +
             " needs " + std::to_string(need) + " bytes, the file ends at offset " + std::to_string(m_n));
    } else {
        fail("FIT " + std::string(what) + " at offset " + std::to_string(pos) + in_file(index) +
             " runs past the end of the data at offset " + std::to_string(declared_end));
    }
    return false;
}

bool FitReader::parse_definition(size_t pos, size_t limit, size_t declared_end, int index, size_t& length) {
    const uint8_t header = m_p[pos];
    if (pos + 6 > limit) return overrun(pos, 6, declared_end, index, "definition message");
    const uint8_t* d = m_p + pos;
    const bool big_endian = d[2] != 0;
    const unsigned num_fields = d[5];
    size_t len = 6 + 3 * static_cast<size_t>(num_fields);
    const bool has_dev = (header & 0x20) != 0;
    if (has_dev) {
        if (pos + len + 1 > limit) return overrun(pos, len + 1, declared_end, index, "definition message");
        len += 1 + 3 * static_cast<size_t>(d[len]);
    }
    if (pos + len > limit) return overrun(pos, len, declared_end, index, "definition message");

    Definition def;
    def.defined = true;
    def.big_endian = big_endian;
    def.global = static_cast<uint16_t>(load(d + 3, 2, big_endian));
    const uint8_t* fields_of_kind = nullptr;
    size_t kind_fields = 0;
    switch (def.global) {
        case k_mesg_file_id:
            def.kind = Kind::file_id;
            fields_of_kind = k_file_id_fields.data();
            kind_fields = k_file_id_fields.size();
            break;
        case k_mesg_session:
            def.kind = Kind::session;
            fields_of_kind = k_session_fields.data();
            kind_fields = k_session_fields.size();
            break;
        case k_mesg_lap: def.kind = Kind::lap; break;
        case k_mesg_record:
            def.kind = Kind::record;
            fields_of_kind = k_record_fields.data();
            kind_fields = k_record_fields.size();
            break;
        default: break;
    }

    uint32_t offset = 0;
    for (unsigned i = 0; i < num_fields; ++i) {
        const uint8_t* f = d + 6 + 3 * i;
        const uint8_t number = f[0];
        const uint8_t size = f[1];
        const uint8_t base = f[2] & 0x1F;
        if (base >= k_base_type_count) {
            fail("FIT definition message at offset " + std::to_string(pos) + in_file(index) + ": field " +
                 std::to_string(number) + " has unknown base type " + hex(f[2], 2));
            return false;
        }
        const FieldRef ref{offset, size, base};
        if (number == k_field_timestamp && def.timestamp.size == 0) def.timestamp = ref;
        for (size_t k = 0; k < kind_fields; ++k) {
            if (fields_of_kind[k] == number && def.fields[k].size == 0) def.fields[k] = ref;
        }
        offset += size;
    }
    if (has_dev) {
        const size_t dev_at = 6 + 3 * static_cast<size_t>(num_fields);
        const unsigned num_dev = d[dev_at];
        for (unsigned i = 0; i < num_dev; ++i) offset += d[dev_at + 1 + 3 * i + 1];
        def.developer_fields = static_cast<uint16_t>(num_dev);
    }
    def.size = offset;
    m_defs[header & 0x0F] = def;
    ++m_stats.definitions;
    if (big_endian) ++m_stats.big_endian_definitions;
    length = len;
    return true;
}

bool FitReader::decode_messages(size_t begin, size_t declared_end, int index) {
    const size_t limit = declared_end < m_n ? declared_end : m_n;
    size_t pos = begin;
    while (pos < limit) {
        if (pos - m_crc_pos >= k_crc_chunk) {
            m_crc = fit_crc16({m_p + m_crc_pos, pos - m_crc_pos}, m_crc);
            m_crc_pos = pos;
        }
        const uint8_t header = m_p[pos];
        if (header & 0x80) {
            // Compressed timestamp header: local type in bits 5-6, a 5-bit
            // rolling offset from the last full timestamp in bits 0-4.
            const Definition& def = m_defs[(header >> 5) & 0x03];
            if (!def.defined) {
                fail("FIT data message at offset " + std::to_string(pos) + in_file(index) +
                     " uses undefined local message type " + std::to_string((header >> 5) & 0x03));
                return false;
            }
            const size_t need = 1 + static_cast<size_t>(def.size);
            if (pos + need > limit) return overrun(pos, need, declared_end, index, "data message");
            std::optional<uint32_t> ts;
            if (m_have_timestamp) {
                const uint32_t offset = header & 0x1Fu;
                uint32_t t = (m_last_timestamp & ~0x1Fu) + offset;
                if (offset < (m_last_timestamp & 0x1Fu)) t += 0x20;
                m_last_timestamp = t;
                ts = t;
            }
            ++m_stats.compressed_timestamp_messages;
            on_data(def, m_p + pos + 1, ts);
            pos += need;
        } else if (header & 0x40) {
            size_t len = 0;
            if (!parse_definition(pos, limit, declared_end, index, len)) return false;
            pos += len;
        } else {
            const Definition& def = m_defs[header & 0x0F];
            if (!def.defined) {
                fail("FIT data message at offset " + std::to_string(pos) + in_file(index) +
                     " uses undefined local message type " + std::to_string(header & 0x0F));
                return false;
            }
            const size_t need = 1 + static_cast<size_t>(def.size);
            if (pos + need > limit) return overrun(pos, need, declared_end, index, "data message");
            const uint8_t* msg = m_p + pos + 1;
            std::optional<uint32_t> ts;
            if (def.timestamp.size != 0) {
                if (auto v = to_uint32(read_number(msg, def.timestamp, def.big_endian))) {
                    ts = *v;
                    m_last_timestamp = *ts;
                    m_have_timestamp = true;
                }
            }
            on_data(def, msg, ts);
            pos += need;
        }
    }
    return true;
}

void FitReader::on_data(const Definition& def, const uint8_t* msg, std::optional<uint32_t> timestamp) {
    ++m_stats.data_messages;
    m_stats.developer_fields += def.developer_fields;
    count(def.global);
    const bool be = def.big_endian;
    switch (def.kind) {
        case Kind::other: return;
        case Kind::lap: ++m_laps; return;
        case Kind::record: {
            ++m_records;
            if (timestamp) {
                if (!m_first_record_time) m_first_record_time = timestamp;
                m_stats.last_record_timestamp = *timestamp;
            }
            const auto lat = read_number(msg, def.fields[rec_lat], be);
            const auto lon = read_number(msg, def.fields[rec_lon], be);
            if (lat && lon) {
                ++m_records_with_position;
                const double la = *lat * k_degrees_per_semicircle;
                const double lo = *lon * k_degrees_per_semicircle;
                if (!m_first_lat) {
                    m_first_lat = la;
                    m_first_lon = lo;
                }
                m_last_lat = la;
                m_last_lon = lo;
            }
            if (const auto hr = read_number(msg, def.fields[rec_hr], be)) {
                m_rec_hr_sum += *hr;
                ++m_rec_hr_n;
                if (m_rec_hr_n == 1 || *hr > m_rec_hr_max) m_rec_hr_max = *hr;
            }
            if (const auto pw = read_number(msg, def.fields[rec_power], be)) {
                m_rec_pw_sum += *pw;
                ++m_rec_pw_n;
            }
            return;
        }
        case Kind::session: {
            const auto& f = def.fields;
            if (m_sessions++ == 0) {
                m_sport = to_int64(read_number(msg, f[ses_sport], be));
                m_sub_sport = to_int64(read_number(msg, f[ses_sub_sport], be));
                m_session_start = to_uint32(read_number(msg, f[ses_start], be));
            }
            const auto add = [](std::optional<double>& total, std::optional<double> v, double scale) {
                if (v) total = total.value_or(0.0) + *v / scale;
            };
            const auto timer_raw = read_number(msg, f[ses_timer], be);
            add(m_elapsed, read_number(msg, f[ses_elapsed], be), k_scale_time);
            add(m_timer, timer_raw, k_scale_time);
            add(m_distance, read_number(msg, f[ses_distance], be), k_scale_distance);
            const double weight = timer_raw && *timer_raw > 0 ? *timer_raw / k_scale_time : 0.0;
            if (auto v = read_number(msg, f[ses_avg_hr], be)) {
                m_hr_plain += *v;
                ++m_hr_n;
                m_hr_weighted += *v * weight;
                m_hr_weight += weight;
            }
            if (auto v = read_number(msg, f[ses_avg_power], be)) {
                m_pw_plain += *v;
                ++m_pw_n;
                m_pw_weighted += *v * weight;
                m_pw_weight += weight;
            }
            if (auto v = read_number(msg, f[ses_max_hr], be)) {
                if (!m_max_hr || *v > *m_max_hr) m_max_hr = *v;
            }
            return;
        }
        case Kind::file_id: {
            if (m_have_file_id) return;
            m_have_file_id = true;
            const auto& f = def.fields;
            m_file_type = to_int64(read_number(msg, f[fid_type], be));
            m_manufacturer = to_int64(read_number(msg, f[fid_manufacturer], be));
            m_product = to_int64(read_number(msg, f[fid_product], be));
            m_time_created = to_uint32(read_number(msg, f[fid_time_created], be));
            return;
        }
    }
}

// Non-activity file types: the daemon skips these (activity-summary.md).
bool is_non_activity(std::string_view type) {
    static constexpr std::array<std::string_view, 17> k_names{
        "device",           "settings",     "sport",   "workout",        "course",           "schedules",
        "weight",           "totals",       "goals",   "blood_pressure", "monitoring_a",     "activity_summary",
        "monitoring_daily", "monitoring_b", "segment", "segment_list",   "exd_configuration"};
    for (auto n : k_names) {
        if (n == type) return true;
    }
    return false;
}

void FitReader::finish() {
    Summary& s = m_out;
    if (!m_failed) {
        s.ok = true;
        s.error.clear();
    }
    s.fit_files_in_chain = m_files;
    s.records = m_records;
    s.records_with_position = m_records_with_position;
    s.laps = m_laps;
    s.sessions = m_sessions;

    if (m_file_type) {
        s.file_type =
            enum_text(in_range<uint8_t>(*m_file_type) ? fit_profile::file_name(static_cast<uint8_t>(*m_file_type)) : "",
                      *m_file_type, &s.file_type_is_number);
    }
    if (m_manufacturer) {
        s.manufacturer = enum_text(in_range<uint16_t>(*m_manufacturer)
                                       ? fit_profile::manufacturer_name(static_cast<uint16_t>(*m_manufacturer))
                                       : "",
                                   *m_manufacturer, &s.manufacturer_is_number);
    }
    s.product = m_product;
    if (m_sport) {
        s.sport = enum_text(in_range<uint8_t>(*m_sport) ? fit_profile::sport_name(static_cast<uint8_t>(*m_sport)) : "",
                            *m_sport, nullptr);
    }
    if (m_sub_sport) {
        s.sub_sport = enum_text(
            in_range<uint8_t>(*m_sub_sport) ? fit_profile::sub_sport_name(static_cast<uint8_t>(*m_sub_sport)) : "",
            *m_sub_sport, nullptr);
    }
    if (s.sport) s.sport_family = family_for_fit(*s.sport, s.sub_sport ? std::string_view(*s.sub_sport) : "");

    std::optional<uint32_t> start = m_session_start;
    if (!start) start = m_first_record_time;
    if (!start) start = m_time_created;
    if (start) s.start_time = static_cast<double>(static_cast<int64_t>(*start) + k_fit_epoch_unix);

    s.total_elapsed_time = m_elapsed;
    s.total_timer_time = m_timer;
    s.total_distance = m_distance;
    s.max_hr = m_max_hr;
    if (m_hr_n > 0) s.avg_hr = m_hr_weight > 0 ? m_hr_weighted / m_hr_weight : m_hr_plain / static_cast<double>(m_hr_n);
    if (m_pw_n > 0) {
        s.avg_power = m_pw_weight > 0 ? m_pw_weighted / m_pw_weight : m_pw_plain / static_cast<double>(m_pw_n);
    }

    s.first_lat = m_first_lat;
    s.first_lon = m_first_lon;
    s.last_lat = m_last_lat;
    s.last_lon = m_last_lon;
    if (m_rec_hr_n > 0) {
        s.rec_avg_hr = m_rec_hr_sum / static_cast<double>(m_rec_hr_n);
        s.rec_max_hr = m_rec_hr_max;
    }
    if (m_rec_pw_n > 0) s.rec_avg_power = m_rec_pw_sum / static_cast<double>(m_rec_pw_n);
    s.has_hr = m_rec_hr_n > 0;
    s.has_power = m_rec_pw_n > 0;

    s.msg_counts.clear();
    const auto add_count = [&](size_t global, int64_t n) {
        if (n == 0) return;
        const std::string_view name = fit_profile::message_name(static_cast<uint16_t>(global));
        s.msg_counts[name.empty() ? "mesg_" + std::to_string(global) : std::string(name)] = n;
    };
    for (size_t g = 0; g < m_small_counts.size(); ++g) add_count(g, m_small_counts[g]);
    for (size_t g = m_small_counts.size(); g < m_large_counts.size(); ++g) add_count(g, m_large_counts[g]);

    s.is_activity = true;
    s.not_activity_reason.clear();
    if (s.file_type && !s.file_type_is_number && is_non_activity(*s.file_type)) {
        s.is_activity = false;
        s.not_activity_reason = "FIT file type " + *s.file_type;
    }
}

}  // namespace

uint16_t fit_crc16(std::span<const uint8_t> bytes, uint16_t crc) {
    const uint8_t* p = bytes.data();
    size_t n = bytes.size();
    const auto& t = k_crc.t;
    while (n >= 8) {
        const unsigned x = crc ^ (p[0] | (static_cast<unsigned>(p[1]) << 8));
        crc = static_cast<uint16_t>(t[7][x & 0xFFu] ^ t[6][x >> 8] ^ t[5][p[2]] ^ t[4][p[3]] ^ t[3][p[4]] ^ t[2][p[5]] ^
                                    t[1][p[6]] ^ t[0][p[7]]);
        p += 8;
        n -= 8;
    }
    while (n-- > 0) crc = static_cast<uint16_t>((crc >> 8) ^ t[0][(crc ^ *p++) & 0xFFu]);
    return crc;
}

void decode_fit(std::span<const uint8_t> payload, Summary& out, FitDecodeStats& stats) {
    FitReader reader(payload, out, stats);
    reader.run();
}

void decode_fit(std::span<const uint8_t> payload, Summary& out) {
    FitDecodeStats stats;
    decode_fit(payload, out, stats);
}

}  // namespace fitbridge::formats
