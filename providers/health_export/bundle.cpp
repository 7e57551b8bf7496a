#include "providers/health_export/bundle.hpp"

#include <zip.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fmt/format.h>

namespace fitbridge::providers::health_export {

namespace fs = std::filesystem;

namespace {

constexpr size_t k_chunk = 256 * 1024;

Error unreadable(std::string message) { return Error::transient("health_export.unreadable", std::move(message)); }

class ZipBundle final : public Bundle {
public:
    ZipBundle(fs::path where, zip_t* archive) : m_where(std::move(where)), m_archive(archive) {
        const zip_int64_t count = zip_get_num_entries(archive, 0);
        for (zip_int64_t i = 0; i < count; ++i) {
            const char* name = zip_get_name(archive, static_cast<zip_uint64_t>(i), 0);
            if (name != nullptr && *name != '\0' && name[std::strlen(name) - 1] != '/') m_members.emplace_back(name);
        }
    }
    ~ZipBundle() override { zip_discard(m_archive); }
    ZipBundle(const ZipBundle&) = delete;
    ZipBundle& operator=(const ZipBundle&) = delete;

    const fs::path& where() const override { return m_where; }
    const std::vector<std::string>& members() const override { return m_members; }

    Result<void> stream(std::string_view member, const std::function<bool(std::string_view)>& sink) const override {
        const std::string name(member);
        zip_file_t* f = zip_fopen(m_archive, name.c_str(), 0);
        if (f == nullptr)
            return unreadable(fmt::format("{}: cannot open {}: {}", m_where.string(), name, zip_strerror(m_archive)));
        std::unique_ptr<zip_file_t, int (*)(zip_file_t*)> guard(f, &zip_fclose);
        std::string buffer(k_chunk, '\0');
        for (;;) {
            const zip_int64_t n = zip_fread(f, buffer.data(), buffer.size());
            if (n < 0)
                return unreadable(
                    fmt::format("{}: {} is damaged or cut short: {}", m_where.string(), name, zip_file_strerror(f)));
            if (n == 0) return {};
            if (!sink(std::string_view(buffer.data(), static_cast<size_t>(n)))) return {};
        }
    }

private:
    fs::path m_where;
    zip_t* m_archive;
    std::vector<std::string> m_members;
};

class FolderBundle final : public Bundle {
public:
    explicit FolderBundle(fs::path root) : m_root(std::move(root)) {
        std::error_code ec;
        fs::recursive_directory_iterator it(m_root, ec);
        for (const fs::recursive_directory_iterator end; !ec && it != end; it.increment(ec)) {
            std::error_code sec;
            if (it->is_regular_file(sec)) m_members.push_back(it->path().lexically_relative(m_root).generic_string());
        }
        std::sort(m_members.begin(), m_members.end());
    }

    const fs::path& where() const override { return m_root; }
    const std::vector<std::string>& members() const override { return m_members; }

    Result<void> stream(std::string_view member, const std::function<bool(std::string_view)>& sink) const override {
        const fs::path p = m_root / fs::path(std::string(member));
        std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(p.c_str(), "rbe"), &std::fclose);
        if (!f) return unreadable(fmt::format("cannot open {}: {}", p.string(), std::strerror(errno)));
        std::string buffer(k_chunk, '\0');
        for (;;) {
            const size_t n = std::fread(buffer.data(), 1, buffer.size(), f.get());
            if (n > 0 && !sink(std::string_view(buffer.data(), n))) return {};
            if (n < buffer.size()) {
                if (std::ferror(f.get()) != 0)
                    return unreadable(fmt::format("cannot read {}: {}", p.string(), std::strerror(errno)));
                return {};
            }
        }
    }

private:
    fs::path m_root;
    std::vector<std::string> m_members;
};

}  // namespace

Result<std::string> Bundle::read(std::string_view member, uint64_t cap) const {
    std::string out;
    bool over = false;
    auto r = stream(member, [&](std::string_view chunk) {
        if (out.size() + chunk.size() > cap) {
            over = true;
            return false;
        }
        out.append(chunk);
        return true;
    });
    if (!r) return r.error();
    if (over)
        return Error::permanent("health_export.too_large",
                                fmt::format("{}: {} is larger than {} MiB", where().string(), member, cap >> 20));
    return out;
}

bool Bundle::has(std::string_view member) const {
    const auto& m = members();
    return std::find(m.begin(), m.end(), member) != m.end();
}

Result<std::unique_ptr<Bundle>> open_bundle(const fs::path& path) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) return std::unique_ptr<Bundle>(std::make_unique<FolderBundle>(path));
    int code = 0;
    zip_t* archive = zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code);
    if (archive == nullptr) {
        zip_error_t error;
        zip_error_init_with_code(&error, code);
        std::string reason = zip_error_strerror(&error);
        zip_error_fini(&error);
        return unreadable(fmt::format("{} is not a readable ZIP archive (damaged, or still being copied): {}",
                                      path.string(), reason));
    }
    return std::unique_ptr<Bundle>(std::make_unique<ZipBundle>(path, archive));
}

}  // namespace fitbridge::providers::health_export
