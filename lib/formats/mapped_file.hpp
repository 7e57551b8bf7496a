#pragma once
// Read-only view of a whole file for decoding: memory-mapped when possible, so
// decoding a file costs no copy and only one file is held at a time.

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace fitbridge::formats {

class MappedFile {
public:
    // Maps `path` (falls back to one read() for files that cannot be mapped,
    // e.g. pipes). Errors name the path and the system's reason.
    static Result<MappedFile> open(const std::filesystem::path& path);

    MappedFile(MappedFile&& other) noexcept;
    MappedFile& operator=(MappedFile&& other) noexcept;
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    ~MappedFile();

    std::span<const uint8_t> bytes() const { return m_view; }

private:
    MappedFile() = default;
    void release();

    void* m_map = nullptr;  // mmap'ed region, or null
    size_t m_map_size = 0;
    std::vector<uint8_t> m_copy;  // used when mapping is impossible
    std::span<const uint8_t> m_view;
};

}  // namespace fitbridge::formats
