#pragma once
// Small file helpers that report failures as Result instead of throwing.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace fitbridge {

// Reads a whole file. Fails with a message naming the path.
Result<std::string> read_file(const std::filesystem::path& path);

// When a written file becomes durable: before write_file_atomic returns
// (fsync of the file and its folder), or later, by the caller's sync_files
// over a whole batch (group commit: one pass of syncs for many files).
enum class Durability { now, deferred };

// Writes atomically: a new file is written unnamed (O_TMPFILE) and linked
// under its name, else (an existing name to overwrite, a file system without
// O_TMPFILE) written under a temp name in the same folder and renamed; then
// the file and its folder are fsynced.
// `mode` applies to the new file. With `overwrite` false an existing target is
// an error ("exists"). With Durability::deferred no sync is made: the file is
// whole or absent to every reader, but a power cut may lose it (or leave it
// empty) until sync_files has covered it.
Result<void> write_file_atomic(const std::filesystem::path& path, std::string_view bytes, unsigned mode = 0600,
                               bool overwrite = true, Durability durability = Durability::now);

// Makes files written with Durability::deferred durable: each file's data
// (fdatasync), then each distinct folder holding them (fsync), the syncs
// issued from several threads at once so that the file system commits them
// together. Fails naming the first path that could not be synced.
Result<void> sync_files(const std::vector<std::filesystem::path>& files);

}  // namespace fitbridge
