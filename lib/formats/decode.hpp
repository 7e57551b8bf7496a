#pragma once
// Entry points: sniff the format from the bytes and decode to a Summary.
// Never throws for bad input: a damaged file gives ok=false and an error line.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "formats/summary.hpp"

namespace fitbridge::formats {

enum class Sniffed { fit, gpx, tcx, gzip, unknown };

// Detects by content only: FIT ".FIT" signature, gzip magic 1f 8b, XML root
// element `gpx` / `TrainingCenterDatabase` (after an optional BOM/whitespace).
Sniffed sniff(std::span<const uint8_t> bytes);

struct DecodeOptions {
    // Cap on the decompressed size of a gzip member (a bomb is an error).
    uint64_t max_decompressed_bytes = 512ull * 1024 * 1024;
};

// Decodes a whole file held in memory (bytes as stored) into its summary,
// including sha256/content_sha256/bytes/format.
Summary decode(std::span<const uint8_t> bytes, const DecodeOptions& options = {});

// Format-specific decoders over the (decompressed) payload. They fill the
// activity fields, ok and error; the caller fills identity fields.
void decode_fit(std::span<const uint8_t> payload, Summary& out);
void decode_gpx(std::span<const uint8_t> payload, Summary& out);
void decode_tcx(std::span<const uint8_t> payload, Summary& out);

// Sport family for each format's sport vocabulary.
std::optional<std::string> family_for_fit(std::string_view sport, std::string_view sub_sport);
std::optional<std::string> family_for_text(std::string_view sport);  // TCX Sport, GPX type

// The contract's JSON line for one file (no trailing newline).
std::string to_json(const Summary& s, std::string_view file);

}  // namespace fitbridge::formats
