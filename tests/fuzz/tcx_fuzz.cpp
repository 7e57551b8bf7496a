// libFuzzer target for the TCX decoder. Seeds: the tcx/ corpus files
// (scripts/fuzz-smoke). Besides not crashing, a summary must be consistent.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "formats/decode.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    fitbridge::formats::Summary s;
    fitbridge::formats::decode_tcx(std::span<const uint8_t>(data, size), s);
    if (s.ok != s.error.empty()) std::abort();
    if (s.records_with_position > s.records) std::abort();
    if (s.ok) (void)fitbridge::formats::to_json(s, "fuzz");
    return 0;
}
