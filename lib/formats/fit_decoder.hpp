#pragma once
// FIT decoder internals exposed for tests and diagnostics. The entry point for
// callers is decode_fit() in formats/decode.hpp; this overload also reports
// low-level counters of the messages it walked.

#include <cstdint>
#include <span>

#include "formats/summary.hpp"

namespace fitbridge::formats {

// Counters over every file of a chain; they describe the bytes, not the activity.
struct FitDecodeStats {
    int64_t definitions = 0;             // definition messages
    int64_t big_endian_definitions = 0;  // of those, architecture = 1
    int64_t data_messages = 0;           // normal and compressed-timestamp data messages
    int64_t compressed_timestamp_messages = 0;
    int64_t developer_fields = 0;        // developer field values skipped in data messages
    int64_t last_record_timestamp = -1;  // FIT seconds of the last record with a time, -1 if none
};

// Same contract as decode_fit(payload, out) in decode.hpp (fills the FIT fields,
// ok and error of `out`), and fills `stats` as it goes.
void decode_fit(std::span<const uint8_t> payload, Summary& out, FitDecodeStats& stats);

// CRC-16 as FIT uses it (polynomial 0x8005 reflected, initial value `crc`).
uint16_t fit_crc16(std::span<const uint8_t> bytes, uint16_t crc = 0);

}  // namespace fitbridge::formats
