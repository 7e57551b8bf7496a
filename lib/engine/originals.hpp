#pragma once
// The original-file store: every ingested file's bytes under
// <state>/originals/<aa>/<content sha256>.<format>, written atomically and
// never rewritten (content-addressed, so storing twice is a no-op).

#include <filesystem>
#include <mutex>
#include <set>
#include <string>

#include "core/error.hpp"
#include "core/files.hpp"
#include "formats/summary.hpp"

namespace fitbridge::engine {

class OriginalStore {
public:
    explicit OriginalStore(std::filesystem::path state_dir) : m_root(std::move(state_dir) / "originals") {}
    // Stores `bytes` (decoded as `s`); returns the file's path. With
    // Durability::deferred the file is not synced: the caller syncs it
    // (sync_files) before anything that points at it is recorded. A file
    // already there is kept only if it holds exactly `bytes` (one written
    // deferred and cut short by a power cut is written again). Safe to call
    // from several threads.
    Result<std::string> store(const std::string& bytes, const formats::Summary& s,
                              Durability durability = Durability::now);
    // Removes temp files a kill during store() left behind.
    void remove_stale_temp_files();

private:
    // Makes the 256 shard folders (00 ... ff) the first time a file is
    // stored, with one sync of the folder holding them, instead of a mkdir
    // and a sync per new shard under the lock on the ingest's path (those
    // syncs serialised a fresh state's first few hundred ingests). Called
    // with m_mutex held.
    Result<void> make_shards();

    std::filesystem::path m_root;
    std::mutex m_mutex;                 // guards m_made_dirs, m_shards_made
    std::set<std::string> m_made_dirs;  // shard folders known to exist
    bool m_shards_made = false;
};

}  // namespace fitbridge::engine
