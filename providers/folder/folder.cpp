#include "providers/folder/folder.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <fmt/format.h>

#include "core/files.hpp"
#include "core/hash.hpp"
#include "core/log.hpp"
#include "formats/decode.hpp"
#include "formats/gzip.hpp"
#include "net/offload.hpp"
#include "providers/folder/watcher.hpp"

namespace fitbridge::providers::folder {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using SteadyTime = std::chrono::steady_clock::time_point;

namespace {

constexpr std::string_view k_provider = "folder";
constexpr uint32_t k_caps = k_list_window | k_download | k_watch;
constexpr uint64_t k_default_min_bytes = 1024;
constexpr int64_t k_default_settle_s = 5;
// Enough to find an XML root element behind a long prolog; FIT and gzip
// need 12 and 2 bytes.
constexpr size_t k_sniff_bytes = 64 * 1024;
constexpr size_t k_read_chunk = 256 * 1024;

Error invalid(std::string message) { return Error::permanent("config.invalid", std::move(message)); }

struct Options {
    std::vector<fs::path> roots;
    bool recursive = true;
    std::optional<double> settle_time_s;  // unset: the config's sync.settle_time
    uint64_t min_bytes = k_default_min_bytes;
};

fs::path home_dir() {
    if (const char* h = std::getenv("HOME"); h != nullptr && *h != '\0') return h;
    if (const passwd* pw = ::getpwuid(::getuid()); pw != nullptr && pw->pw_dir != nullptr) return pw->pw_dir;
    return "/";
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// A relative folder would depend on the daemon's working directory, which
// differs between a terminal and systemd; refuse it rather than guess.
Result<fs::path> expand_path(std::string_view option, const std::string& raw, const fs::path& home) {
    if (raw == "~") return home;
    if (raw.starts_with("~/")) return (home / raw.substr(2)).lexically_normal();
    fs::path p(raw);
    if (!p.is_absolute())
        return invalid(fmt::format("{}: '{}' must be an absolute path or start with ~/", option, raw));
    return p.lexically_normal();
}

std::string check_settle_time(std::string_view s) {
    double v = -1;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v) || v < 0 || v > 86400)
        return fmt::format("expected seconds between 0 and 86400, got '{}'", s);
    return {};
}

std::string check_min_bytes(std::string_view s) {
    uint64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size())
        return fmt::format("expected a whole number of bytes, got '{}'", s);
    return {};
}

constexpr OptionSpec k_options[] = {
    {.name = "path", .help = "a folder of activity files (absolute or ~/...)"},
    {.name = "preset", .help = "zwift | mywhoosh: the app's own activity folder"},
    {.name = "recursive", .type = OptionType::boolean, .default_value = "true", .help = "look in subfolders"},
    {.name = "settle_time",
     .help = "seconds a file must stay unchanged before it is read (default: sync.settle_time)",
     .check = &check_settle_time},
    {.name = "min_bytes", .default_value = "1024", .help = "smaller files are ignored", .check = &check_min_bytes},
};

Result<Options> parse_options(const config::AccountConfig& account, const fs::path& home, HostOs os) {
    auto values = providers::parse_options(account, {k_options});
    if (!values) return values.error();
    Options o;
    if (!values->has("path") && !values->has("preset"))
        return invalid("path: required (a folder of activity files), unless preset: zwift | mywhoosh is set");
    if (values->has("path")) {
        auto p = expand_path("path", values->text("path"), home);
        if (!p) return p.error();
        std::error_code ec;
        if (!fs::is_directory(*p, ec))
            return invalid(fmt::format("path: {} does not exist or is not a directory", p->string()));
        o.roots.push_back(*p);
    }
    if (values->has("preset")) {
        auto p = resolve_preset(values->text("preset"), home, os);
        if (!p) return invalid(fmt::format("preset: {}", p.error().message));
        if (std::find(o.roots.begin(), o.roots.end(), *p) == o.roots.end()) o.roots.push_back(*p);
    }
    o.recursive = values->boolean("recursive");
    if (values->has("settle_time")) o.settle_time_s = std::stod(values->text("settle_time"));
    o.min_bytes = std::stoull(values->text("min_bytes"));
    return o;
}

// What identifies one version of a file without reading it: a rewrite
// changes the mtime, a replacement by rename changes the inode.
struct FileKey {
    uint64_t size = 0;
    int64_t mtime_ns = 0;
    uint64_t inode = 0;
    bool operator==(const FileKey&) const = default;
};

struct Identity {
    bool activity = false;
    std::string content_id;  // hex SHA-256 of the decompressed content
    std::string detail;      // why it is not an activity file
};

struct Observation {
    FileKey key;
    SteadyTime since;  // when this key was first seen
};

struct CachedIdentity {
    FileKey key;
    Identity identity;
};

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

// Reads up to `max` bytes (fewer only at end of file) and appends them.
Result<size_t> read_some(int fd, std::vector<uint8_t>& out, size_t max, const fs::path& path) {
    const size_t start = out.size();
    out.resize(start + max);
    size_t got = 0;
    while (got < max) {
        ssize_t n = ::read(fd, out.data() + start + got, max - got);
        if (n < 0) {
            if (errno == EINTR) continue;
            out.resize(start + got);
            return Error::transient("folder.read",
                                    fmt::format("cannot read {}: {}", path.string(), std::strerror(errno)));
        }
        if (n == 0) break;
        got += static_cast<size_t>(n);
    }
    out.resize(start + got);
    return got;
}

bool is_activity_kind(formats::Sniffed k) {
    return k == formats::Sniffed::fit || k == formats::Sniffed::gpx || k == formats::Sniffed::tcx;
}

// Decides by content and hashes what the decoder will hash: a plain file is
// streamed through SHA-256 without holding it; a gzip file is inflated with
// the decoder's own cap so the id equals Summary::content_sha256.
Result<Identity> identify(const fs::path& path) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
    if (fd.get() < 0)
        return Error::transient("folder.read", fmt::format("cannot open {}: {}", path.string(), std::strerror(errno)));
    std::vector<uint8_t> head;
    if (auto r = read_some(fd.get(), head, k_sniff_bytes, path); !r) return r.error();
    const auto kind = formats::sniff(head);
    if (is_activity_kind(kind)) {
        Sha256 h;
        h.update(head);
        std::vector<uint8_t> chunk;
        for (;;) {
            chunk.clear();
            auto n = read_some(fd.get(), chunk, k_read_chunk, path);
            if (!n) return n.error();
            if (*n == 0) break;
            h.update(chunk);
        }
        return Identity{true, h.hex(), {}};
    }
    if (kind == formats::Sniffed::gzip) {
        for (;;) {
            auto n = read_some(fd.get(), head, k_read_chunk, path);
            if (!n) return n.error();
            if (*n == 0) break;
        }
        const auto g = formats::gunzip(head, formats::DecodeOptions{}.max_decompressed_bytes);
        if (is_activity_kind(formats::sniff(g.payload))) return Identity{true, sha256_hex(g.payload), {}};
        return Identity{
            false, {}, g.error.empty() ? "gzip file whose content is not FIT, GPX or TCX" : "gzip: " + g.error};
    }
    return Identity{false, {}, "content is not FIT, GPX or TCX (files are recognised by content, not by name)"};
}

FileKey key_of(const struct stat& st) {
    return {static_cast<uint64_t>(st.st_size), int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec,
            static_cast<uint64_t>(st.st_ino)};
}

// A whole file, and its key when it held still while read (the same before
// and after, through one descriptor).
struct KeyedRead {
    std::string bytes;
    std::optional<FileKey> key;
};

Result<KeyedRead> read_keyed(const fs::path& path) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
    if (fd.get() < 0) {
        if (errno == ENOENT)
            return Error::transient("folder.vanished", fmt::format("{} vanished since it was listed", path.string()));
        return Error::transient("folder.read", fmt::format("cannot open {}: {}", path.string(), std::strerror(errno)));
    }
    struct stat before {};
    if (::fstat(fd.get(), &before) != 0)
        return Error::transient("folder.read", fmt::format("cannot read {}: {}", path.string(), std::strerror(errno)));
    KeyedRead out;
    // One byte more than its size: the read that finds the end needs room.
    out.bytes.resize(static_cast<size_t>(std::max<off_t>(before.st_size, 0)) + 1);
    size_t got = 0;
    for (;;) {
        if (got == out.bytes.size()) out.bytes.resize(out.bytes.size() * 2);  // it grew
        const ssize_t n = ::read(fd.get(), out.bytes.data() + got, out.bytes.size() - got);
        if (n < 0) {
            if (errno == EINTR) continue;
            return Error::transient("folder.read",
                                    fmt::format("cannot read {}: {}", path.string(), std::strerror(errno)));
        }
        if (n == 0) break;
        got += static_cast<size_t>(n);
    }
    out.bytes.resize(got);
    struct stat after {};
    if (::fstat(fd.get(), &after) == 0 && key_of(after) == key_of(before) && got == static_cast<size_t>(after.st_size))
        out.key = key_of(after);
    return out;
}

// The id of bytes already in memory, computed the way identify() does.
std::string content_id(std::span<const uint8_t> bytes) {
    if (formats::sniff(bytes) != formats::Sniffed::gzip) return sha256_hex(bytes);
    return sha256_hex(formats::gunzip(bytes, formats::DecodeOptions{}.max_decompressed_bytes).payload);
}

// "Ride.fit.gz" -> "Ride": the title a person gave the file.
std::string display_name(const fs::path& p) {
    std::string name = p.filename().string();
    if (lower(name).ends_with(".gz")) name.resize(name.size() - 3);
    std::string stem = fs::path(name).stem().string();
    return stem.empty() ? name : stem;
}

std::string_view detail_for(std::string_view reason) {
    if (reason == "temporary") return "a temporary or partial download; the finished file gets another name";
    if (reason == "in_progress") return "Zwift's live recording buffer; the saved ride gets its own file";
    return "";
}

class FolderProvider final : public Provider {
public:
    FolderProvider(std::string account, Options options, const Context& context, double settle_s)
        : m_account(std::move(account)),
          m_options(std::move(options)),
          m_context(context),
          m_settle(milliseconds(static_cast<int64_t>(std::llround(settle_s * 1000)))) {}
    ~FolderProvider() override { shutdown(); }

    std::string_view account_id() const override { return m_account; }
    uint32_t capabilities() const override { return k_caps; }
    std::string_view platform_name() const override { return "a folder"; }

    Task<ListPage> list(const ListQuery&) override {
        // A listing stats every file and hashes each new one: on the offload
        // pool, so a folder of thousands does not hold the io thread.
        auto job = [this]() {
            std::lock_guard lock(m_scan_mutex);
            return scan();
        };
        Result<ListPage> page = co_await net::run_blocking(m_context.offload, std::move(job));
        std::optional<milliseconds> poke;
        {
            std::lock_guard lock(m_scan_mutex);
            poke = std::exchange(m_poke_after, std::nullopt);
        }
        // The watcher's timer lives on the io thread.
        if (poke && m_watcher) m_watcher->poke_after(*poke);
        co_return page;
    }
    // A folder is only a source: nothing is ever uploaded to it.
    Task<std::optional<std::string>> find_existing(const UploadRequest&) override {
        co_return unsupported_error("receiving uploads");
    }

    Task<std::string> download(const RemoteActivity& item) override {
        auto read = read_keyed(item.origin);
        if (!read) co_return read.error();
        // Unchanged since the listing hashed it (size, mtime and inode, as the
        // listing itself trusts): the same content, not hashed again.
        bool as_listed = false;
        if (read->key) {
            std::lock_guard lock(m_cache_mutex);
            auto c = m_cache.find(item.origin);
            as_listed =
                c != m_cache.end() && c->second.key == *read->key && c->second.identity.content_id == item.remote_id;
        }
        if (!as_listed) {
            const auto& bytes = read->bytes;
            const auto id =
                content_id(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
            if (id != item.remote_id)
                co_return Error::transient("folder.changed",
                                           fmt::format("{} changed since it was listed (content {}…, listed as {}…)",
                                                       item.origin, id.substr(0, 12), item.remote_id.substr(0, 12)));
        }
        co_return std::move(read->bytes);
    }

    std::vector<IgnoredItem> ignored() const override {
        std::lock_guard lock(m_ignored_mutex);
        return m_ignored;
    }

    void watch(std::function<void()> on_change) override {
        shutdown();
        if (!m_context.executor) {
            log::warn("account '{}': no executor to watch on; new files are found by the periodic rescan", m_account);
            return;
        }
        auto w = std::make_shared<InotifyWatcher>(m_context.executor, m_account,
                                                  InotifyWatcher::Settings{.recursive = m_options.recursive});
        if (w->start(m_options.roots, std::move(on_change))) m_watcher = std::move(w);
    }

    void shutdown() override {
        if (m_watcher) m_watcher->stop();
        m_watcher.reset();
    }

private:
    const Clock& clock() const { return m_context.clock != nullptr ? *m_context.clock : process_clock(); }

    void walk(const fs::path& dir, std::vector<fs::path>& files, std::vector<IgnoredItem>& ignored,
              std::set<std::pair<dev_t, ino_t>>& visited) const {
        struct stat st {};
        // A symlinked folder can lead back to an ancestor.
        if (::stat(dir.c_str(), &st) == 0 && !visited.emplace(st.st_dev, st.st_ino).second) return;
        std::error_code ec;
        fs::directory_iterator it(dir, ec);
        for (const fs::directory_iterator end; !ec && it != end; it.increment(ec)) {
            const fs::path& p = it->path();
            const std::string name = p.filename().string();
            const std::string_view reason = name_ignore_reason(name);
            std::error_code sec;
            const auto status = it->status(sec);  // follows symlinks
            const bool is_dir = !sec && fs::is_directory(status);
            if (reason == "dotfile") {
                ignored.push_back({p.string(), "dotfile", is_dir ? "hidden folder, not scanned" : "hidden file"});
            } else if (is_dir) {
                if (m_options.recursive) walk(p, files, ignored, visited);
            } else if (!reason.empty()) {
                ignored.push_back({p.string(), std::string(reason), std::string(detail_for(reason))});
            } else if (sec) {
                ignored.push_back({p.string(), "unreadable", sec.message()});
            } else if (!fs::is_regular_file(status)) {
                ignored.push_back({p.string(), "unreadable", "not a regular file"});
            } else {
                files.push_back(p);
            }
        }
        if (ec) ignored.push_back({dir.string(), "unreadable", fmt::format("cannot list folder: {}", ec.message())});
    }

    Result<ListPage> scan() {
        std::vector<fs::path> files;
        std::vector<IgnoredItem> ignored;
        std::set<std::pair<dev_t, ino_t>> visited;
        for (const auto& root : m_options.roots) {
            std::error_code ec;
            if (!fs::is_directory(root, ec))
                return Error::transient("folder.missing",
                                        fmt::format("{} does not exist or is not a directory", root.string()));
            walk(root, files, ignored, visited);
        }
        std::sort(files.begin(), files.end());

        const SteadyTime now = clock().steady();
        std::unordered_map<std::string, Observation> seen;
        std::unordered_map<std::string, CachedIdentity> cache;
        std::unordered_set<std::string> ids;
        std::optional<milliseconds> next_settled;
        ListPage page;
        for (const auto& p : files) {
            const std::string path = p.string();
            struct stat st {};
            if (::stat(p.c_str(), &st) != 0) {
                ignored.push_back({path, "unreadable", std::strerror(errno)});
                continue;
            }
            const auto size = static_cast<uint64_t>(st.st_size);
            if (size < m_options.min_bytes) {
                ignored.push_back(
                    {path, "too_small", fmt::format("{} bytes, under min_bytes {}", size, m_options.min_bytes)});
                continue;
            }
            const FileKey key = key_of(st);
            Observation obs{key, now};
            if (auto prev = m_seen.find(path); prev != m_seen.end() && prev->second.key == key) obs = prev->second;
            seen[path] = obs;
            const auto stable_for = std::chrono::duration_cast<milliseconds>(now - obs.since);
            if (stable_for < m_settle) {
                const auto wait = m_settle - stable_for;
                if (!next_settled || wait < *next_settled) next_settled = wait;
                ignored.push_back({path, "unstable",
                                   fmt::format("changed in the last {} s (settle_time); taken once unchanged that long",
                                               static_cast<double>(m_settle.count()) / 1000)});
                continue;
            }

            Identity identity;
            if (auto c = m_cache.find(path); c != m_cache.end() && c->second.key == key) {
                identity = c->second.identity;
            } else {
                auto r = identify(p);
                if (!r) {
                    ignored.push_back({path, "unreadable", r.error().message});
                    continue;
                }
                identity = std::move(*r);
            }
            cache[path] = {key, identity};
            if (!identity.activity) {
                ignored.push_back({path, "not_activity_format", identity.detail});
                continue;
            }
            // A second path with the same content is the same activity.
            if (!ids.insert(identity.content_id).second) continue;
            RemoteActivity item;
            item.remote_id = identity.content_id;
            item.name = display_name(p);
            item.origin = path;
            page.items.push_back(std::move(item));
        }
        // Forgetting vanished paths keeps both maps as small as the folder.
        m_seen = std::move(seen);
        {
            std::lock_guard lock(m_cache_mutex);
            m_cache = std::move(cache);
        }
        {
            std::lock_guard lock(m_ignored_mutex);
            m_ignored = std::move(ignored);
        }
        if (next_settled) m_poke_after = *next_settled + milliseconds(100);
        return page;
    }

    std::string m_account;
    Options m_options;
    Context m_context;
    milliseconds m_settle;
    // One scan at a time (two jobs may list at once); it runs on the offload pool.
    std::mutex m_scan_mutex;
    std::optional<milliseconds> m_poke_after;  // set by scan, handed to the watcher on the io thread
    std::unordered_map<std::string, Observation> m_seen;
    // Written by scan (under m_cache_mutex), read by scan and by download on
    // the io thread (under m_cache_mutex).
    std::unordered_map<std::string, CachedIdentity> m_cache;
    mutable std::mutex m_cache_mutex;
    mutable std::mutex m_ignored_mutex;
    std::vector<IgnoredItem> m_ignored;
    std::shared_ptr<InotifyWatcher> m_watcher;
};

Result<void> validate(const config::AccountConfig& account) {
    auto o = parse_options(account, home_dir(), host_os());
    if (!o) return o.error();
    return {};
}

Result<std::unique_ptr<Provider>> create(const config::AccountConfig& account, const Context& context) {
    auto o = parse_options(account, home_dir(), host_os());
    if (!o) return o.error();
    const double settle = o->settle_time_s.value_or(
        context.config != nullptr ? static_cast<double>(context.config->sync.settle_time_s) : k_default_settle_s);
    std::unique_ptr<Provider> p = std::make_unique<FolderProvider>(account.id, std::move(*o), context, settle);
    return p;
}

}  // namespace

std::string_view name_ignore_reason(std::string_view file_name) {
    if (file_name.starts_with('.')) return "dotfile";
    const std::string l = lower(file_name);
    if (l == "inprogressactivity" || l.starts_with("inprogressactivity.")) return "in_progress";
    for (std::string_view suffix : {".tmp", ".part", ".partial", ".crdownload", "~"})
        if (l.ends_with(suffix)) return "temporary";
    // write_file_atomic's temp names: "<target>.tmp-" and 12 hex digits.
    if (const auto pos = l.rfind(".tmp-"); pos != std::string::npos && l.size() - pos == 5 + 12 &&
                                           l.find_first_not_of("0123456789abcdef", pos + 5) == std::string::npos)
        return "temporary";
    return {};
}

Factory factory() {
    return Factory{
        .name = k_provider,
        .description = "a folder of FIT/GPX/TCX files, plain or gzipped (path, or preset: zwift | mywhoosh)",
        .capabilities = k_caps,
        .validate = &validate,
        .create = &create,
        .accept_credentials = nullptr,  // reads local files: no credentials
        .oauth = nullptr,
        .make_http = nullptr,
        .options = k_options,
    };
}

}  // namespace fitbridge::providers::folder
