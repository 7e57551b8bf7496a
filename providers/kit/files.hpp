#pragma once
// Activity files coming from and going to platforms: a downloaded body is
// accepted only when it is a FIT, TCX or GPX file (maybe gzipped, or the one
// activity inside a ZIP archive, as Garmin serves originals); anything else is
// a permanent error that says what came back.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "providers/kit/platform.hpp"

namespace fitbridge::providers::kit {

// Archives and gzip are opened up to this many bytes.
constexpr uint64_t k_max_unpacked = 512ull << 20;

// Checks `bytes` (downloaded for `what`, e.g. "activity 123"): FIT/TCX/GPX
// come back as they are (gzip kept), a ZIP gives its one activity member.
Result<std::string> accept_file(const Platform& platform, std::string bytes, std::string_view content_type,
                                std::string_view what);

// The single activity file inside a ZIP archive. Errors: an unreadable or
// truncated archive, no member, several activity members, a member that is
// not an activity file.
Result<std::string> unzip_activity(const Platform& platform, std::string_view zip, std::string_view what);

// Downloads `call` (size-capped by call.max_response_bytes) and accept_file()s it.
Task<std::string> fetch_file(PlatformClient& client, Call call, std::string what);

// "fit", "tcx", "gpx" (with ".gz" when gzipped) for an upload's file name;
// nullopt when the bytes are none of them.
std::optional<std::string> file_extension(std::span<const uint8_t> bytes);

}  // namespace fitbridge::providers::kit
