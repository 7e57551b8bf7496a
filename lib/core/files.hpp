#pragma once
// Small file helpers that report failures as Result instead of throwing.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace fitbridge {

// Reads a whole file. Fails with a message naming the path.
Result<std::string> read_file(const std::filesystem::path& path);

// Writes atomically: temp file in the same directory, fsync, rename, fsync dir.
// `mode` applies to the new file. With `overwrite` false an existing target is
// an error ("exists").
Result<void> write_file_atomic(const std::filesystem::path& path, std::string_view bytes, unsigned mode = 0600,
                               bool overwrite = true);

}  // namespace fitbridge
