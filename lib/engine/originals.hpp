#pragma once
// The original-file store: every ingested file's bytes under
// <state>/originals/<aa>/<content sha256>.<format>, written atomically and
// never rewritten (content-addressed, so storing twice is a no-op).

#include <filesystem>
#include <set>
#include <string>

#include "core/error.hpp"
#include "formats/summary.hpp"

namespace fitbridge::engine {

class OriginalStore {
public:
    explicit OriginalStore(std::filesystem::path state_dir) : m_root(std::move(state_dir) / "originals") {}
    // Stores `bytes` (decoded as `s`); returns the file's path.
    Result<std::string> store(const std::string& bytes, const formats::Summary& s);
    // Removes temp files a kill during store() left behind.
    void remove_stale_temp_files();

private:
    std::filesystem::path m_root;
    std::set<std::string> m_made_dirs;  // shard folders known to exist
};

}  // namespace fitbridge::engine
