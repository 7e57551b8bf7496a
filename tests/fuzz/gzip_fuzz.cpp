// libFuzzer target for decode(), the entry that sniffs, inflates gzip (with a
// small cap so bombs are found cheaply) and dispatches. Seeds: the corpus's
// .gz files.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "formats/decode.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    fitbridge::formats::DecodeOptions options;
    options.max_decompressed_bytes = 8u << 20;
    fitbridge::formats::Summary s = fitbridge::formats::decode(std::span<const uint8_t>(data, size), options);
    if (s.ok != s.error.empty()) std::abort();
    if (s.bytes != size || s.sha256.size() != 64 || s.content_sha256.size() != 64) std::abort();
    (void)fitbridge::formats::to_json(s, "fuzz");
    return 0;
}
