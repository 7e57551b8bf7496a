#pragma once
// Reading back the contract's JSON line that formats::to_json writes.

#include <string_view>

#include "core/error.hpp"
#include "formats/summary.hpp"

namespace fitbridge::formats {

// Reads a line written by to_json back into a Summary (every field the line
// carries; has_power/has_hr and is_activity are not in it and stay default).
// Fails naming the field when the text is not such a line.
Result<Summary> summary_from_json(std::string_view text);

}  // namespace fitbridge::formats
