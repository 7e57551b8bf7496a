#pragma once
// Test helper: a fresh directory per test under the system temp dir, removed
// with everything in it at scope end, and a writer for the files put there.

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace fitbridge::test {

// A new empty directory named fb-<tag>-XXXXXX (unique, so tests in parallel
// processes never share one), removed with its contents when the object goes.
class TempDir {
public:
    explicit TempDir(std::string_view tag = "test") {
        std::string tmpl = (std::filesystem::temp_directory_path() / ("fb-" + std::string(tag) + "-XXXXXX")).string();
        if (::mkdtemp(tmpl.data()) == nullptr)
            throw std::runtime_error("cannot create a temporary directory like " + tmpl);
        m_path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(m_path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const { return m_path; }
    std::filesystem::path operator/(const std::filesystem::path& rel) const { return m_path / rel; }

private:
    std::filesystem::path m_path;
};

// Writes `bytes` to `p` exactly (binary, truncating), creating its parent directories.
inline void write_text(const std::filesystem::path& p, std::string_view bytes) {
    std::filesystem::create_directories(p.parent_path());
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw std::runtime_error("cannot write " + p.string());
}

}  // namespace fitbridge::test
