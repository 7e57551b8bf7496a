#include "core/files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "core/hash.hpp"
#include "core/side_by_side.hpp"

namespace fitbridge {

Result<std::string> read_file(const std::filesystem::path& path) {
    // open, fstat and read into a buffer of the file's size: the io thread
    // reads a folder's files, and a stream cost twice the time in copies.
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return Error::permanent("io.open", fmt::format("cannot open {}: {}", path.string(), std::strerror(errno)));
    struct Close {
        int fd;
        ~Close() { ::close(fd); }
    } close_fd{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0)
        return Error::permanent("io.read", fmt::format("cannot read {}: {}", path.string(), std::strerror(errno)));
    if (S_ISDIR(st.st_mode))
        return Error::permanent("io.read", fmt::format("cannot read {}: is a folder", path.string()));
    // One byte more than its size: the read that finds the end needs room.
    std::string data((st.st_size > 0 ? static_cast<size_t>(st.st_size) : size_t{0}) + 1, '\0');
    size_t got = 0;
    for (;;) {
        // Full: the file grew since fstat, or says size 0 (/proc): read on.
        if (got == data.size()) data.resize(data.size() + std::max<size_t>(data.size() / 2, 16 * 1024));
        const ssize_t n = ::read(fd, data.data() + got, data.size() - got);
        if (n < 0) {
            if (errno == EINTR) continue;
            return Error::permanent("io.read", fmt::format("cannot read {}: {}", path.string(), std::strerror(errno)));
        }
        if (n == 0) break;
        got += static_cast<size_t>(n);
    }
    data.resize(got);
    return data;
}

namespace {
Result<void> sys_error(std::string_view what, const std::filesystem::path& p) {
    return Error::transient("io.write", fmt::format("{} {}: {}", what, p.string(), std::strerror(errno)));
}
}  // namespace

namespace {
bool write_all(int fd, std::string_view bytes) {
    size_t off = 0;
    while (off < bytes.size()) {
        ssize_t n = ::write(fd, bytes.data() + off, bytes.size() - off);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        off += static_cast<size_t>(n);
    }
    return true;
}

void sync_folder_of(const std::filesystem::path& path) {
    auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
    int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
}

// A new file without a temporary name: an unnamed inode (O_TMPFILE), written,
// then linked under its name, which fails if the name exists. Nothing is ever
// unlinked, so a crash leaves no temp file behind, and a stream of writes
// leaves no trail of deleted inodes (ext4 skips inodes deleted in the last
// minutes while their table block is dirty: with unsynced writes, each new
// file's allocation would scan past all the temps before it). nullopt: the
// file system or the kernel cannot do it, use a temporary name.
std::optional<Result<void>> write_unnamed(const std::filesystem::path& path, std::string_view bytes, unsigned mode,
                                          bool sync) {
    auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
    int fd = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, mode);
    if (fd < 0) {
        if (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL) return std::nullopt;
        return sys_error("cannot create a file in", dir);
    }
    struct Close {
        int fd;
        ~Close() { ::close(fd); }
    } close_fd{fd};
    if (!write_all(fd, bytes)) return sys_error("cannot write", path);
    if (::fchmod(fd, mode) != 0 || (sync && ::fsync(fd) != 0)) return sys_error("cannot sync", path);
    const auto proc = fmt::format("/proc/self/fd/{}", fd);
    if (::linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, path.c_str(), AT_SYMLINK_FOLLOW) != 0) {
        if (errno == EEXIST) return Error::permanent("io.exists", fmt::format("{} already exists", path.string()));
        if (errno == ENOENT && ::access("/proc/self/fd", F_OK) != 0) return std::nullopt;  // no /proc
        return sys_error("cannot link", path);
    }
    if (sync) sync_folder_of(path);
    return Result<void>{};
}
}  // namespace

Result<void> write_file_atomic(const std::filesystem::path& path, std::string_view bytes, unsigned mode, bool overwrite,
                               Durability durability) {
    const bool sync = durability == Durability::now;
    if (!overwrite) {
        if (auto r = write_unnamed(path, bytes, mode, sync)) return std::move(*r);
    }
    uint8_t rnd[6];
    random_bytes(rnd);
    auto tmp = path;
    tmp += fmt::format(".tmp-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}", rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) return sys_error("cannot create", tmp);
    if (!write_all(fd, bytes)) {
        auto r = sys_error("cannot write", tmp);
        ::close(fd);
        ::unlink(tmp.c_str());
        return r;
    }
    if (::fchmod(fd, mode) != 0 || (sync && ::fsync(fd) != 0)) {
        auto r = sys_error("cannot sync", tmp);
        ::close(fd);
        ::unlink(tmp.c_str());
        return r;
    }
    ::close(fd);
    if (!overwrite) {
        // link() fails if the target exists, which gives no-overwrite atomically.
        if (::link(tmp.c_str(), path.c_str()) != 0) {
            int err = errno;
            ::unlink(tmp.c_str());
            if (err == EEXIST) return Error::permanent("io.exists", fmt::format("{} already exists", path.string()));
            errno = err;
            return sys_error("cannot link", path);
        }
        ::unlink(tmp.c_str());
    } else if (::rename(tmp.c_str(), path.c_str()) != 0) {
        auto r = sys_error("cannot rename to", path);
        ::unlink(tmp.c_str());
        return r;
    }
    if (sync) sync_folder_of(path);
    return {};
}

namespace {
// fsync (or fdatasync) of one path; the error names it.
Result<void> sync_path(const std::filesystem::path& p, bool folder) {
    int fd = ::open(p.c_str(), (folder ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
    if (fd < 0) return sys_error("cannot open to sync", p);
    const int r = folder ? ::fsync(fd) : ::fdatasync(fd);
    const int err = errno;
    ::close(fd);
    errno = err;
    if (r != 0) return sys_error("cannot sync", p);
    return {};
}

// Starts writing a file's data back without waiting for it. Syncing a
// group of new files then costs about one journal commit instead of one per
// file: by the time the first fdatasync commits, the others' blocks are
// allocated in the same transaction (a hint only; fdatasync still decides).
void start_writeback(int fd) { ::sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE); }

// Syncs `paths` side by side; the first failure wins.
Result<void> sync_all(const std::vector<std::filesystem::path>& paths, bool folders) {
    std::mutex mutex;
    std::optional<Error> failed;
    auto fail = [&](Result<void> r) {
        std::lock_guard lock(mutex);
        if (!failed) failed = r.error();
    };
    if (folders) {
        for_each_side_by_side(paths.size(), [&](size_t i) {
            if (auto r = sync_path(paths[i], true); !r) fail(std::move(r));
        });
    } else {
        std::vector<int> fds(paths.size(), -1);
        for (size_t i = 0; i < paths.size(); ++i) {
            fds[i] = ::open(paths[i].c_str(), O_RDONLY | O_CLOEXEC);
            if (fds[i] < 0)
                fail(sys_error("cannot open to sync", paths[i]));
            else
                start_writeback(fds[i]);
        }
        for_each_side_by_side(paths.size(), [&](size_t i) {
            if (fds[i] >= 0 && ::fdatasync(fds[i]) != 0) fail(sys_error("cannot sync", paths[i]));
        });
        for (int fd : fds)
            if (fd >= 0) ::close(fd);
    }
    if (failed) return *failed;
    return {};
}
}  // namespace

std::vector<Result<void>> write_new_files(const std::vector<NewFile>& files) {
    std::vector<Result<void>> out(files.size());
    std::vector<int> fds(files.size(), -1);
    struct CloseAll {
        std::vector<int>& fds;
        ~CloseAll() {
            for (int fd : fds)
                if (fd >= 0) ::close(fd);
        }
    } close_all{fds};
    // Each file's data, in an inode without a name yet.
    for (size_t i = 0; i < files.size(); ++i) {
        const auto& f = files[i];
        const auto dir = f.path.has_parent_path() ? f.path.parent_path() : std::filesystem::path(".");
        const int fd = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, f.mode);
        if (fd < 0) {
            if (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)
                out[i] = write_file_atomic(f.path, f.data(), f.mode, /*overwrite=*/false, Durability::now);
            else
                out[i] = sys_error("cannot create a file in", dir);
            continue;
        }
        fds[i] = fd;
        if (!write_all(fd, f.data()) || ::fchmod(fd, f.mode) != 0) out[i] = sys_error("cannot write", f.path);
    }
    // Their data, synced side by side.
    for (size_t i = 0; i < files.size(); ++i)
        if (fds[i] >= 0 && out[i]) start_writeback(fds[i]);
    for_each_side_by_side(files.size(), [&](size_t i) {
        if (fds[i] >= 0 && out[i] && ::fdatasync(fds[i]) != 0) out[i] = sys_error("cannot sync", files[i].path);
    });
    // Their names, then the folders holding the names.
    std::vector<std::filesystem::path> folders;
    for (size_t i = 0; i < files.size(); ++i) {
        if (fds[i] < 0 || !out[i]) continue;
        const auto& path = files[i].path;
        const auto proc = fmt::format("/proc/self/fd/{}", fds[i]);
        if (::linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, path.c_str(), AT_SYMLINK_FOLLOW) != 0) {
            if (errno == EEXIST)
                out[i] = Error::permanent("io.exists", fmt::format("{} already exists", path.string()));
            else if (errno == ENOENT && ::access("/proc/self/fd", F_OK) != 0)  // no /proc
                out[i] = write_file_atomic(path, files[i].data(), files[i].mode, /*overwrite=*/false, Durability::now);
            else
                out[i] = sys_error("cannot link", path);
            continue;
        }
        auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
        if (std::find(folders.begin(), folders.end(), dir) == folders.end()) folders.push_back(std::move(dir));
    }
    std::vector<std::optional<Error>> folder_errors(folders.size());
    for_each_side_by_side(folders.size(), [&](size_t i) {
        if (auto r = sync_path(folders[i], true); !r) folder_errors[i] = r.error();
    });
    for (size_t k = 0; k < folders.size(); ++k) {
        if (!folder_errors[k]) continue;
        for (size_t i = 0; i < files.size(); ++i) {
            const auto& path = files[i].path;
            if (out[i] && fds[i] >= 0 &&
                (path.has_parent_path() ? path.parent_path() : std::filesystem::path(".")) == folders[k])
                out[i] = *folder_errors[k];
        }
    }
    return out;
}

Result<void> sync_files(const std::vector<std::filesystem::path>& files) {
    // Data first, then the folders' entries: a name made durable must never
    // point at data that is not.
    if (auto r = sync_all(files, false); !r) return r;
    std::set<std::filesystem::path> folders;
    for (const auto& f : files) folders.insert(f.has_parent_path() ? f.parent_path() : std::filesystem::path("."));
    return sync_all({folders.begin(), folders.end()}, true);
}

}  // namespace fitbridge
