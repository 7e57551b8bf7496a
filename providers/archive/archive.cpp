#include "providers/archive/archive.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "core/files.hpp"
#include "core/hash.hpp"
#include "core/log.hpp"
#include "formats/decode.hpp"
#include "formats/gzip.hpp"
#include "net/group_commit.hpp"
#include "net/offload.hpp"

namespace fitbridge::providers::archive {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view k_provider = "archive";
constexpr uint32_t k_caps = k_upload;
constexpr size_t k_concurrent_uploads = 32;
constexpr size_t k_max_slug = 40;
// Far more same-minute, same-name activities than anyone records; a bound
// keeps a broken folder from looping forever.
constexpr int k_max_slot = 1000;
constexpr std::string_view k_tmp_marker = ".tmp-";  // write_file_atomic: ".tmp-" + 12 hex digits
constexpr size_t k_tmp_hex = 12;

Error invalid(std::string message) { return Error::permanent("config.invalid", std::move(message)); }

struct Options {
    fs::path root;
    bool gzip = false;
};

fs::path home_dir() {
    if (const char* h = std::getenv("HOME"); h != nullptr && *h != '\0') return h;
    if (const passwd* pw = ::getpwuid(::getuid()); pw != nullptr && pw->pw_dir != nullptr) return pw->pw_dir;
    return "/";
}

constexpr OptionSpec k_options[] = {
    {.name = "root",
     .help = "the folder to keep the archive in (absolute or ~/...)",
     .empty_error = "required (the folder to keep the archive in)"},
    {.name = "gzip", .type = OptionType::boolean, .default_value = "false", .help = "gzip plain files"},
};

Result<Options> parse_options(const config::AccountConfig& account, const fs::path& home) {
    auto values = providers::parse_options(account, {k_options});
    if (!values) return values.error();
    if (!values->has("root")) return invalid("root: required (the folder to keep the archive in)");
    Options o;
    const std::string raw = values->text("root");
    if (raw == "~") {
        o.root = home;
    } else if (raw.starts_with("~/")) {
        o.root = (home / raw.substr(2)).lexically_normal();
    } else if (fs::path(raw).is_absolute()) {
        o.root = fs::path(raw).lexically_normal();
    } else {
        // The daemon's working directory differs between a shell and systemd.
        return invalid(fmt::format("root: '{}' must be an absolute path or start with ~/", raw));
    }
    std::error_code ec;
    if (fs::exists(o.root, ec) && !fs::is_directory(o.root, ec))
        return invalid(fmt::format("root: {} exists and is not a directory", o.root.string()));
    o.gzip = values->boolean("gzip");
    return o;
}

// Full disks and I/O errors can clear up; a folder we may not write to, or a
// read-only file system, will not until a person acts, so say where.
Error fs_error(int err, std::string_view what, const fs::path& p) {
    std::string message = fmt::format("{} {}: {}", what, p.string(), std::strerror(err));
    switch (err) {
        case EACCES:
        case EPERM:
        case EROFS: return Error::permanent("archive.denied", std::move(message));
        case ENOTDIR:
        case ENAMETOOLONG:
        case ELOOP: return Error::permanent("archive.path", std::move(message));
        default: return Error::transient("archive.io", std::move(message));
    }
}

bool is_gzip(std::span<const uint8_t> b) { return b.size() >= 2 && b[0] == 0x1f && b[1] == 0x8b; }

std::span<const uint8_t> as_bytes(const std::string& s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// SHA-256 of the decompressed content, as formats::decode computes it.
std::string content_id(std::span<const uint8_t> bytes) {
    if (!is_gzip(bytes)) return sha256_hex(bytes);
    return sha256_hex(formats::gunzip(bytes, formats::DecodeOptions{}.max_decompressed_bytes).payload);
}

Result<std::string> gzip_compress(std::span<const uint8_t> in) {
    if (in.size() > UINT_MAX) return Error::permanent("archive.gzip", "file too large to gzip in one pass");
    z_stream z{};
    // windowBits 15 + 16 selects the gzip wrapper; zlib writes mtime 0, so
    // the same input always gives the same bytes.
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return Error::transient("archive.gzip", "cannot initialise zlib");
    std::string out(deflateBound(&z, static_cast<uLong>(in.size())), '\0');
    z.next_in = const_cast<Bytef*>(in.data());
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    const int rc = deflate(&z, Z_FINISH);
    const auto written = z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) return Error::transient("archive.gzip", fmt::format("zlib deflate failed ({})", rc));
    out.resize(written);
    return out;
}

// File mode for new files: 0666 under the process umask, read without
// changing it (umask() would race with other threads creating files).
unsigned file_mode() {
    unsigned mask = 022;
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);) {
        if (line.starts_with("Umask:")) {
            mask = static_cast<unsigned>(std::strtoul(line.c_str() + 6, nullptr, 8));
            break;
        }
    }
    return 0666u & ~mask;
}

void fsync_dir(const fs::path& dir) {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    ::fsync(fd);
    ::close(fd);
}

struct Layout {
    std::string folder;  // "2024", or "undated"
    std::string stem;    // "2024-03-01T0712_ride_morning-ride"
    std::string ext;     // "fit", "gpx", "tcx"

    std::string file_name(int slot, bool gz) const {
        return fmt::format("{}{}.{}{}", stem, slot > 1 ? fmt::format("-{}", slot) : "", ext, gz ? ".gz" : "");
    }
};

Result<Layout> layout_for(const formats::Summary& s, std::string_view name) {
    Layout l;
    switch (s.format) {
        case formats::Format::fit: l.ext = "fit"; break;
        case formats::Format::gpx: l.ext = "gpx"; break;
        case formats::Format::tcx: l.ext = "tcx"; break;
        case formats::Format::unknown:
            return Error::permanent("archive.format", "cannot archive a file that is not FIT, GPX or TCX");
    }
    // A file without any timestamp still deserves a place in the archive.
    std::string stamp = "undated";
    l.folder = "undated";
    if (s.start_time && std::isfinite(*s.start_time)) {
        const auto t = static_cast<std::time_t>(std::floor(*s.start_time));
        std::tm tm{};
        if (::gmtime_r(&t, &tm) != nullptr) {
            l.folder = fmt::format("{:04d}", tm.tm_year + 1900);
            stamp = fmt::format("{:04d}-{:02d}-{:02d}T{:02d}{:02d}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                                tm.tm_hour, tm.tm_min);
        }
    }
    const std::string family =
        s.sport_family && !s.sport_family->empty() ? slugify(*s.sport_family) : std::string("other");
    l.stem = fmt::format("{}_{}_{}", stamp, family, slugify(name));
    return l;
}

struct Variant {
    int slot = 1;
    bool gz = false;
};

// Recognises stem[-N].ext[.gz] (N >= 2) and nothing else.
std::optional<Variant> parse_variant(std::string_view f, const Layout& l) {
    if (!f.starts_with(l.stem)) return std::nullopt;
    f.remove_prefix(l.stem.size());
    Variant v;
    if (f.starts_with('-')) {
        size_t i = 1;
        while (i < f.size() && std::isdigit(static_cast<unsigned char>(f[i]))) ++i;
        if (i == 1 || f[1] == '0') return std::nullopt;
        auto [p, ec] = std::from_chars(f.data() + 1, f.data() + i, v.slot);
        if (ec != std::errc() || v.slot < 2) return std::nullopt;
        f.remove_prefix(i);
    }
    if (!f.starts_with('.')) return std::nullopt;
    f.remove_prefix(1);
    if (!f.starts_with(l.ext)) return std::nullopt;
    f.remove_prefix(l.ext.size());
    if (f == ".gz") {
        v.gz = true;
    } else if (!f.empty()) {
        return std::nullopt;
    }
    return v;
}

// The part before write_file_atomic's temp suffix, or nullopt when `f` is
// not such a temp file.
std::optional<std::string_view> strip_temp_suffix(std::string_view f) {
    if (f.size() < k_tmp_marker.size() + k_tmp_hex) return std::nullopt;
    const size_t pos = f.size() - k_tmp_marker.size() - k_tmp_hex;
    if (f.substr(pos, k_tmp_marker.size()) != k_tmp_marker) return std::nullopt;
    if (f.find_first_not_of("0123456789abcdef", pos + k_tmp_marker.size()) != std::string_view::npos)
        return std::nullopt;
    return f.substr(0, pos);
}

struct FolderScan {
    std::vector<std::pair<Variant, std::string>> files;  // finished files of this activity's name
    std::vector<fs::path> temps;                         // our temp files for this activity's name
    std::set<int> used_slots;
};

std::atomic<size_t> g_folder_listings{0};

Result<std::set<std::string>> list_folder(const fs::path& dir) {
    ++g_folder_listings;
    std::set<std::string> names;
    std::error_code ec;
    fs::directory_iterator it(dir, ec);
    for (const fs::directory_iterator end; !ec && it != end; it.increment(ec))
        names.insert(it->path().filename().string());
    if (ec) return fs_error(ec.value(), "cannot list", dir);
    return names;
}

// The files of one activity's name among a folder's names: every one starts
// with the layout's stem, so only that range of the sorted set is read.
FolderScan scan_names(const std::set<std::string>& names, const fs::path& dir, const Layout& l) {
    FolderScan out;
    for (auto it = names.lower_bound(l.stem); it != names.end() && it->starts_with(l.stem); ++it) {
        const std::string& name = *it;
        if (auto base = strip_temp_suffix(name)) {
            if (parse_variant(*base, l)) out.temps.push_back(dir / name);
        } else if (auto v = parse_variant(name, l)) {
            out.files.emplace_back(*v, name);
            out.used_slots.insert(v->slot);
        }
    }
    std::sort(out.files.begin(), out.files.end(), [](const auto& a, const auto& b) {
        return std::tie(a.first.slot, a.second) < std::tie(b.first.slot, b.second);
    });
    return out;
}

Result<FolderScan> scan_folder(const fs::path& dir, const Layout& l) {
    auto names = list_folder(dir);
    if (!names) return names.error();
    return scan_names(*names, dir, l);
}

// The names in one archive folder, listed once and then kept up to date by
// the provider's own writes, so an upload does not list a folder of
// thousands of files. The folder's mtime, taken before the listing and after
// each own write, tells when something else changed it: then it is listed again.
struct FolderIndex {
    std::set<std::string> names;
    timespec mtime{};
    bool valid = false;
    // Own copies being written into the folder: their links change its
    // mtime before note_written sees them, so while any is in flight the
    // mtime says nothing about other writers (a name someone else took
    // still shows, as io.exists, and is listed again then).
    int writing = 0;
};

bool same_time(const timespec& a, const timespec& b) { return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec; }

class ArchiveProvider final : public Provider {
public:
    ArchiveProvider(std::string account, Options options, const Context& context)
        : m_account(std::move(account)),
          m_options(std::move(options)),
          m_mode(file_mode()),
          m_offload(context.offload),
          m_writes(m_offload, [](std::vector<NewFile>& files) { return write_new_files(files); }) {}

    std::string_view account_id() const override { return m_account; }
    uint32_t capabilities() const override { return k_caps; }
    std::string_view platform_name() const override { return "an archive"; }
    // Concurrent uploads write their copies as one group (m_writes): the
    // more at once, the fewer syncs per copy.
    size_t concurrent_uploads() const override { return k_concurrent_uploads; }

    Task<UploadResult> upload(const UploadRequest& req) override {
        if (req.summary == nullptr)
            co_return Error::permanent("archive.no_summary", "upload without a decoded summary");
        auto layout = layout_for(*req.summary, req.name);
        if (!layout) co_return layout.error();
        const std::string want =
            req.summary->content_sha256.empty() ? content_id(req.bytes) : req.summary->content_sha256;

        // Originals stay byte-exact; only the gzip option may wrap a plain one.
        const bool compress = m_options.gzip && !is_gzip(req.bytes);
        std::string stored;  // made below, at each attempt that needs it
        const bool gz = compress || is_gzip(req.bytes);

        const fs::path dir = m_options.root / layout->folder;
        if (auto r = co_await ensure_folder(dir); !r) co_return r.error();
        // A lost race for a name (another writer linked it first) rescans.
        for (int attempt = 0; attempt < 3; ++attempt) {
            auto index = folder_index(dir);
            if (!index) co_return index.error();
            const auto scan = scan_names((*index)->names, dir, *layout);
            auto same = find_same(dir, *layout, scan, want);
            if (!same) co_return same.error();
            if (*same) co_return UploadResult{**same, true};

            int slot = 1;
            while (scan.used_slots.contains(slot)) ++slot;
            if (slot > k_max_slot)
                co_return Error::permanent("archive.full", fmt::format("{} already holds {} files named {}.*",
                                                                       dir.string(), k_max_slot, layout->stem));
            const std::string name = layout->file_name(slot, gz);
            if (::access(dir.c_str(), W_OK) != 0) co_return fs_error(errno, "cannot write to", dir);
            // Written and synced off the io thread. The name is taken in the
            // index meanwhile, so that a concurrent upload of the same name
            // picks the next slot.
            FolderIndex* held = *index;
            held->names.insert(name);
            // The write shares the engine's bytes when it can: a copy of a
            // large file costs the io thread its page faults (0.5-3 ms in a
            // backfill). A retry makes its own bytes again.
            const bool share = !compress && req.owner != nullptr && !req.bytes.empty() &&
                               reinterpret_cast<const char*>(req.bytes.data()) == req.owner->data() &&
                               req.bytes.size() == req.owner->size();
            if (stored.empty() && !req.bytes.empty() && !share) {
                if (compress) {
                    // Compressing is CPU work: on the pool, not the io thread.
                    auto z = co_await net::run_blocking(m_offload, [&req] { return gzip_compress(req.bytes); });
                    if (!z) co_return z.error();
                    stored = std::move(*z);
                } else {
                    stored.assign(reinterpret_cast<const char*>(req.bytes.data()), req.bytes.size());
                }
            }
            // Named first: GCC 12 destroys a temporary in a co_await expression twice.
            NewFile copy{dir / name, std::move(stored), m_mode, share ? req.owner : nullptr};
            stored.clear();
            ++held->writing;
            auto w = co_await write_copy(std::move(copy));
            --held->writing;
            if (w) {
                note_written(dir, *held, name);
                co_return UploadResult{layout->folder + "/" + name, false};
            }
            held->names.erase(name);
            held->valid = false;  // someone else's file took the name: list again
            if (w.error().code != "io.exists") {
                // write_file_atomic reports every failure as transient; a
                // folder that became unwritable is not.
                if (::access(dir.c_str(), W_OK) != 0) co_return fs_error(errno, "cannot write to", dir);
                co_return Error::transient("archive.io", w.error().message);
            }
        }
        co_return Error::transient("archive.busy",
                                   fmt::format("{}: names kept being taken while writing", dir.string()));
    }

    Task<std::optional<std::string>> find_existing(const UploadRequest& req) override {
        if (req.summary == nullptr) co_return std::optional<std::string>{};
        auto layout = layout_for(*req.summary, req.name);
        if (!layout) co_return std::optional<std::string>{};
        const std::string want =
            req.summary->content_sha256.empty() ? content_id(req.bytes) : req.summary->content_sha256;
        const fs::path dir = m_options.root / layout->folder;
        std::error_code ec;
        if (!fs::is_directory(dir, ec)) co_return std::optional<std::string>{};
        auto scan = scan_folder(dir, *layout);
        if (!scan) co_return scan.error();
        // A crash between writing the temp file and linking it leaves the temp
        // behind; it never became the archive copy, so it can go.
        for (const auto& t : scan->temps) {
            if (::unlink(t.c_str()) == 0)
                log::info("account '{}': removed unfinished {}", m_account, t.string());
            else if (errno != ENOENT)
                log::warn("account '{}': cannot remove unfinished {}: {}", m_account, t.string(), std::strerror(errno));
        }
        co_return find_same(dir, *layout, *scan, want);
    }

private:
    // Writes one new copy durably, in a group with the copies other uploads
    // are writing meanwhile.
    Task<void> write_copy(NewFile file) {
        auto written = co_await m_writes.submit(std::move(file));
        if (!written) co_return Error::transient("archive.stopped", "stopped while the copy was being written");
        co_return std::move(*written);
    }

    Result<FolderIndex*> folder_index(const fs::path& dir) {
        struct stat st {};
        if (::stat(dir.c_str(), &st) != 0) return fs_error(errno, "cannot read", dir);
        auto& index = m_folders[dir.string()];
        if (index.valid && (index.writing > 0 || same_time(index.mtime, st.st_mtim))) return &index;
        auto names = list_folder(dir);
        if (!names) return names.error();
        index.names = std::move(*names);
        index.mtime = st.st_mtim;
        index.valid = true;
        return &index;
    }

    static void note_written(const fs::path& dir, FolderIndex& index, const std::string& name) {
        index.names.insert(name);
        struct stat st {};
        if (::stat(dir.c_str(), &st) == 0)
            index.mtime = st.st_mtim;
        else
            index.valid = false;
    }

    // Makes `dir` when it is missing; the making and its syncs (a journal
    // commit each) run on the disk pool, not the io thread.
    Task<void> ensure_folder(const fs::path& dir) {
        std::error_code ec;
        if (fs::is_directory(dir, ec)) co_return Result<void>{};
        auto make = [dir, root = m_options.root]() -> Result<void> {
            std::error_code e;
            const bool root_existed = fs::is_directory(root, e);
            fs::create_directories(dir, e);
            if (e) return fs_error(e.value(), "cannot create folder", dir);
            // The new folder's entry must be durable before files in it count.
            fsync_dir(dir.parent_path());
            if (!root_existed) fsync_dir(root.parent_path());
            return {};
        };
        co_return co_await net::run_syncing(m_offload, std::move(make));
    }

    // The relative path of a file of this activity's name holding `want`.
    Result<std::optional<std::string>> find_same(const fs::path& dir, const Layout& l, const FolderScan& scan,
                                                 const std::string& want) const {
        for (const auto& [variant, name] : scan.files) {
            auto bytes = read_file(dir / name);
            if (!bytes) {
                std::error_code ec;
                if (!fs::exists(dir / name, ec)) continue;  // removed since the listing
                // Unreadable for good means a person must fix permissions.
                if (::access((dir / name).c_str(), R_OK) != 0) return fs_error(errno, "cannot read", dir / name);
                return Error::transient("archive.io", bytes.error().message);
            }
            if (content_id(as_bytes(*bytes)) == want) return std::optional<std::string>(l.folder + "/" + name);
        }
        return std::optional<std::string>{};
    }

    std::string m_account;
    Options m_options;
    unsigned m_mode;
    net::Offload* m_offload;                           // where files are written and synced; null: right here
    net::GroupCommit<NewFile, Result<void>> m_writes;  // copies written side by side share their syncs
    std::map<std::string, FolderIndex> m_folders;      // by folder path
};

Result<void> validate(const config::AccountConfig& account) {
    auto o = parse_options(account, home_dir());
    if (!o) return o.error();
    return {};
}

Result<std::unique_ptr<Provider>> create(const config::AccountConfig& account, const Context& context) {
    auto o = parse_options(account, home_dir());
    if (!o) return o.error();
    std::error_code ec;
    fs::create_directories(o->root, ec);
    if (ec) return fs_error(ec.value(), "cannot create archive folder", o->root);
    std::unique_ptr<Provider> p = std::make_unique<ArchiveProvider>(account.id, std::move(*o), context);
    return p;
}

}  // namespace

size_t folder_listings() { return g_folder_listings.load(); }

std::string slugify(std::string_view name) {
    std::string out;
    bool dash = false;
    for (char ch : name) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x80 && std::isalnum(c)) {
            const bool sep = dash && !out.empty();
            if (out.size() + (sep ? 2 : 1) > k_max_slug) break;
            if (sep) out += '-';
            dash = false;
            out += static_cast<char>(std::tolower(c));
        } else {
            dash = true;
        }
    }
    return out.empty() ? std::string("activity") : out;
}

Factory factory() {
    return Factory{
        .name = k_provider,
        .description = "a local archive of original files by year and date (root, gzip)",
        .capabilities = k_caps,
        .validate = &validate,
        .create = &create,
        .accept_credentials = nullptr,  // reads local files: no credentials
        .oauth = nullptr,
        .make_http = nullptr,
        .options = k_options,
    };
}

}  // namespace fitbridge::providers::archive
