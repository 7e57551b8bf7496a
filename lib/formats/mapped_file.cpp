#include "formats/mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace fitbridge::formats {

namespace {

class Fd {
public:
    explicit Fd(int fd) : m_fd(fd) {}
    ~Fd() {
        if (m_fd >= 0) ::close(m_fd);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return m_fd; }

private:
    int m_fd;
};

Error io_error(const std::filesystem::path& path, std::string_view what, int err) {
    return Error::permanent("file.io", fmt::format("cannot {} {}: {}", what, path.string(), std::strerror(err)));
}

}  // namespace

Result<MappedFile> MappedFile::open(const std::filesystem::path& path) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return io_error(path, "open", errno);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return io_error(path, "stat", errno);
    if (S_ISDIR(st.st_mode)) return io_error(path, "read", EISDIR);

    MappedFile f;
    if (S_ISREG(st.st_mode)) {
        if (st.st_size == 0) return f;  // mmap of length 0 is an error; an empty view is the answer
        auto size = static_cast<size_t>(st.st_size);
        void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd.get(), 0);
        if (p != MAP_FAILED) {
            ::madvise(p, size, MADV_SEQUENTIAL);  // decoders read front to back once
            f.m_map = p;
            f.m_map_size = size;
            f.m_view = {static_cast<const uint8_t*>(p), size};
            return f;
        }
    }
    // Not mappable (pipe, special file, or mmap refused): read it all.
    uint8_t buf[65536];
    while (true) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            return io_error(path, "read", errno);
        }
        if (n == 0) break;
        f.m_copy.insert(f.m_copy.end(), buf, buf + n);
    }
    f.m_view = f.m_copy;
    return f;
}

MappedFile::MappedFile(MappedFile&& other) noexcept { *this = std::move(other); }

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
    if (this != &other) {
        release();
        m_map = std::exchange(other.m_map, nullptr);
        m_map_size = std::exchange(other.m_map_size, 0);
        m_copy = std::move(other.m_copy);
        m_view = m_map ? std::exchange(other.m_view, {}) : std::span<const uint8_t>(m_copy);
        other.m_view = {};
    }
    return *this;
}

MappedFile::~MappedFile() { release(); }

void MappedFile::release() {
    if (m_map) ::munmap(m_map, m_map_size);
    m_map = nullptr;
    m_map_size = 0;
    m_view = {};
}

}  // namespace fitbridge::formats
