#pragma once
// gzip decompression for gzip-wrapped activity files (Strava exports .fit.gz,
// .gpx.gz, .tcx.gz).

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace fitbridge::formats {

struct Gunzipped {
    std::vector<uint8_t> payload;  // everything inflated, kept even when `error` is set
    std::string error;             // empty on success; else one line naming the byte offset
};

// Inflates every gzip member of `bytes` (concatenated members form one
// payload) and checks each member's CRC-32 and length. Output beyond
// `max_output` bytes stops decompression with an error, so a decompression
// bomb costs at most `max_output` bytes of memory.
Gunzipped gunzip(std::span<const uint8_t> bytes, uint64_t max_output);

}  // namespace fitbridge::formats
