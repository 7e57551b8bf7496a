#pragma once
// One health export as a set of named files, whether the phone's archive
// (export.zip, read in place through libzip) or the unzipped folder: members
// are named by their path inside the export ("apple_health_export/export.xml").
// Reading streams in chunks, so a gigabyte member never sits in memory.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace fitbridge::providers::health_export {

class Bundle {
public:
    virtual ~Bundle() = default;
    // Where the export is, for messages ("/home/a/export.zip").
    virtual const std::filesystem::path& where() const = 0;
    // Every member's name, files only, in the archive's or the folder's order.
    virtual const std::vector<std::string>& members() const = 0;
    // Reads `member` in chunks, calling `sink` for each; `sink` returns false
    // to stop early. Errors name the export and the member.
    virtual Result<void> stream(std::string_view member,
                                const std::function<bool(std::string_view chunk)>& sink) const = 0;
    // The whole member, refused (permanent) when it is over `cap` bytes.
    Result<std::string> read(std::string_view member, uint64_t cap) const;
    bool has(std::string_view member) const;
};

// Opens a ZIP archive (its central directory is checked: a truncated or
// still-copying archive is an error saying so) or a folder.
Result<std::unique_ptr<Bundle>> open_bundle(const std::filesystem::path& path);

}  // namespace fitbridge::providers::health_export
