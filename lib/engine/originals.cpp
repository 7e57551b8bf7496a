#include "engine/originals.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "core/files.hpp"
#include "core/log.hpp"

namespace fitbridge::engine {

namespace {
void sync_dir(const std::filesystem::path& dir) {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    ::fsync(fd);
    ::close(fd);
}
}  // namespace

Result<std::string> OriginalStore::store(const std::string& bytes, const formats::Summary& s, Durability durability) {
    auto dir = m_root / s.content_sha256.substr(0, 2);
    auto path = dir / (s.content_sha256 + "." + std::string(formats::format_name(s.format, s.gzipped)));
    std::error_code ec;
    bool overwrite = false;
    if (std::filesystem::exists(path, ec)) {
        // Content-addressed: the same name holds the same bytes, unless a
        // deferred write never reached the disk before a power cut.
        auto held = read_file(path);
        if (held && *held == bytes) return path.string();
        log::warn("original {} does not hold its content (cut short by a crash?); writing it again", path.string());
        overwrite = true;
    }
    const auto shard = s.content_sha256.substr(0, 2);
    if (std::lock_guard lock(m_mutex); !m_made_dirs.contains(shard)) {
        if (!m_shards_made) {
            if (auto r = make_shards(); !r) return r.error();
        }
        if (!m_made_dirs.contains(shard)) {
            // Not a hex shard (a content id made elsewhere): made on its own.
            const bool existed = std::filesystem::is_directory(dir, ec);
            std::filesystem::create_directories(dir, ec);
            if (ec)
                return Error::transient("engine.originals", fmt::format("cannot create {} for an original: {}",
                                                                        dir.string(), ec.message()));
            // A new folder's entry must be durable before a file in it counts.
            if (!existed) sync_dir(m_root);
            m_made_dirs.insert(shard);
        }
    }
    auto w = write_file_atomic(path, bytes, 0600, overwrite, durability);
    if (!w && w.error().code != "io.exists") return w.error();
    return path.string();
}

Result<void> OriginalStore::make_shards() {
    std::error_code ec;
    const bool root_existed = std::filesystem::is_directory(m_root, ec);
    std::filesystem::create_directories(m_root, ec);
    if (ec)
        return Error::transient("engine.originals",
                                fmt::format("cannot create {} for originals: {}", m_root.string(), ec.message()));
    bool made = false;
    for (int i = 0; i < 256; ++i) {
        const auto shard = fmt::format("{:02x}", i);
        const auto dir = m_root / shard;
        if (::mkdir(dir.c_str(), 0700) == 0) {
            made = true;
        } else if (errno != EEXIST) {
            return Error::transient("engine.originals", fmt::format("cannot create {} for an original: {}",
                                                                    dir.string(), std::strerror(errno)));
        }
        m_made_dirs.insert(shard);
    }
    // The new folders' entries must be durable before a file in them counts.
    if (made) sync_dir(m_root);
    if (!root_existed) sync_dir(m_root.parent_path());
    m_shards_made = true;
    return {};
}

// The original itself is rewritten on the next ingest of its item.
void OriginalStore::remove_stale_temp_files() {
    std::error_code ec;
    if (!std::filesystem::exists(m_root, ec)) return;
    for (auto it = std::filesystem::recursive_directory_iterator(m_root, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_regular_file(ec) && it->path().filename().string().find(".tmp-") != std::string::npos) {
            std::filesystem::remove(it->path(), ec);
            log::info("removed stale temp file {}", it->path().string());
        }
    }
}

}  // namespace fitbridge::engine
