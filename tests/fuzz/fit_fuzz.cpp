// libFuzzer entry for the FIT decoder: any byte string must decode to a
// Summary (ok or a one-line error) without crashing, hanging or leaking.

#include <cstddef>
#include <cstdint>
#include <span>

#include "formats/decode.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    fitbridge::formats::Summary summary;
    fitbridge::formats::decode_fit(std::span<const uint8_t>(data, size), summary);
    if (!summary.ok && summary.error.empty()) __builtin_trap();           // every failure says why
    if (summary.error.find('\n') != std::string::npos) __builtin_trap();  // and in one line
    return 0;
}
