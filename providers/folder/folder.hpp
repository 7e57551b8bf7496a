#pragma once
// The folder source (provider "folder"): a folder, recursive by default, of
// FIT/GPX/TCX files, gzipped or not, such as Zwift's or MyWhoosh's activity
// folder. A file is offered once it is stable; its id is the SHA-256 of its
// decompressed content, so renamed, moved and gzipped copies are one activity.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "providers/provider.hpp"

namespace fitbridge::providers::folder {

// The registry entry: validate() checks `path`, `preset`, `recursive`,
// `settle_time` and `min_bytes`; create() builds a provider for the account.
Factory factory();

enum class HostOs { gnu_linux, macos };

// The OS this binary was built for, which picks the preset folders.
HostOs host_os();

// The folder patterns a preset tries, in order, for a user whose home is
// `home`; a `*` component matches any one entry (Wine users, Proton app ids).
// Errors for an unknown preset with the text "unknown 'foo' (zwift, mywhoosh)".
Result<std::vector<std::string>> preset_candidates(std::string_view preset, const std::filesystem::path& home,
                                                   HostOs os);

// The first existing folder among the preset's candidates (a pattern's
// matches in name order), or an error listing every candidate tried.
Result<std::filesystem::path> resolve_preset(std::string_view preset, const std::filesystem::path& home, HostOs os);

// The reason code for a file skipped by its name alone ("dotfile",
// "temporary", "in_progress"), or empty when its name is acceptable.
std::string_view name_ignore_reason(std::string_view file_name);

}  // namespace fitbridge::providers::folder
