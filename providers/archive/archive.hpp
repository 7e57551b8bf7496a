#pragma once
// The archive sink (provider "archive"): keeps each activity's original file
// under <root>/<YYYY>/<YYYY-MM-DD>T<HHMM>_<sport_family>_<short name>.<ext>[.gz],
// written atomically and never overwritten; the remote id is that path
// relative to the root.

#include <cstddef>
#include <string>
#include <string_view>

#include "providers/provider.hpp"

namespace fitbridge::providers::archive {

// The registry entry: options `root` (required, created when missing) and
// `gzip` (store plain originals gzip-compressed; default false).
Factory factory();

// A name reduced to [a-z0-9-] for file names: other characters become one
// '-', no leading or trailing '-', at most 40 characters; "activity" if empty.
std::string slugify(std::string_view name);

// How many times any archive listed a folder since the process started. An
// upload lists its folder only the first time or after something else changed
// it; tests hold it to that.
size_t folder_listings();

}  // namespace fitbridge::providers::archive
