#pragma once
// Small file helpers that report failures as Result instead of throwing.

#include <cstdint>
#include <filesystem>
#include <memory>
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

// One file of a group written by write_new_files.
struct NewFile {
    std::filesystem::path path;
    std::string bytes;  // what to write, unless `shared` is set
    unsigned mode = 0600;
    // Bytes shared with their owner instead of copied into `bytes`.
    std::shared_ptr<const std::string> shared{};

    std::string_view data() const { return shared ? std::string_view(*shared) : std::string_view(bytes); }
};

// Writes new files durably as one group (group commit): each file's data
// goes to an unnamed inode (O_TMPFILE), all of them are synced side by side,
// then each is linked under its name, then their folders are synced side by
// side. A name never points at data a power cut can lose, and the whole
// group costs the file system two rounds of commits instead of two per file.
// One result per file, in order: "io.exists" (permanent) for a name that
// exists, a transient "io.write" naming the path otherwise. A file system
// without O_TMPFILE gets write_file_atomic's temp-name path for its files.
std::vector<Result<void>> write_new_files(const std::vector<NewFile>& files);

}  // namespace fitbridge
