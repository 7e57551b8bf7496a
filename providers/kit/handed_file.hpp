#pragma once
// Files a platform hands out by URL: a pre-signed bucket link in a listing or
// a detail answer (MyWhoosh, iGPSport, Zwift's S3 keys). They are fetched
// WITHOUT the account's credentials (the token must not leak to a storage
// host, and such hosts refuse unknown Authorization headers), size-capped,
// and checked: an activity file comes back as it is; anything else (a
// MyWhoosh .dms, an HTML page, an empty body) is a permanent
// "<name>.unavailable" error that says what it was, so the engine records the
// activity as unavailable once instead of fetching it again at every poll.

#include <cstdint>
#include <string>
#include <string_view>

#include "providers/kit/platform.hpp"

namespace fitbridge::providers::kit {

struct HandedFile {
    std::string bytes{};
    std::string content_type{};
    std::string name{};  // from Content-Disposition, else the URL path's last segment (may be empty)
};

// GETs `url` (absolute http(s); anything else is a permanent
// "<name>.bad_answer") without credentials. `what` names the file in errors
// ("the file of activity 42"). Non-2xx answers read as PlatformClient::call's.
Task<HandedFile> fetch_handed(PlatformClient& client, const std::string& url, const std::string& what,
                              net::Priority priority = net::Priority::live, uint64_t max_bytes = 0);

// The activity file in `file` (FIT/TCX/GPX, gzip kept, or the one activity of
// a ZIP: accept_file), or "<name>.unavailable" describing what came instead:
// "<title> serves a .dms file for <what> (1234 bytes of application/octet-stream
// starting "..."), not a FIT, TCX or GPX file; it is not uploaded anywhere".
Result<std::string> activity_or_unavailable(const Platform& platform, HandedFile file, std::string_view what);

// The file name of a download: Content-Disposition's filename, else the last
// path segment of `url` (query and fragment left out, %XX decoded).
std::string download_name(std::string_view content_disposition, std::string_view url);

}  // namespace fitbridge::providers::kit
