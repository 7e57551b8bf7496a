#include "providers/health_export/health_export.hpp"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <map>
#include <mutex>
#include <unordered_set>

#include <fmt/format.h>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/log.hpp"
#include "net/offload.hpp"
#include "providers/folder/watcher.hpp"
#include "providers/health_export/apple.hpp"
#include "providers/health_export/bundle.hpp"
#include "providers/health_export/samsung.hpp"
#include "providers/kit/track.hpp"

namespace fitbridge::providers::health_export {

namespace fs = std::filesystem;
namespace asio = boost::asio;

namespace {

constexpr std::string_view k_provider = "health_export";
constexpr uint32_t k_caps = k_list_window | k_download | k_watch;
constexpr uint64_t k_max_route = 64ull << 20;
constexpr uint64_t k_max_table = 256ull << 20;
// Heart rate is looked for this long around a workout's route.
constexpr double k_heart_rate_margin_s = 60;

Error invalid(std::string message) { return Error::permanent("config.invalid", std::move(message)); }

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

fs::path home_dir() {
    if (const char* h = std::getenv("HOME"); h != nullptr && *h != '\0') return h;
    if (const passwd* pw = ::getpwuid(::getuid()); pw != nullptr && pw->pw_dir != nullptr) return pw->pw_dir;
    return "/";
}

std::string check_settle_time(std::string_view s) {
    double v = -1;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v) || v < 0 || v > 86400)
        return fmt::format("expected seconds between 0 and 86400, got '{}'", s);
    return {};
}

constexpr OptionSpec k_options[] = {
    {.name = "path",
     .help = "an export.zip, an unzipped export folder, or a folder where exports are dropped (absolute or ~/...)"},
    {.name = "settle_time",
     .help = "seconds an export must stay unchanged before it is read (default: sync.settle_time)",
     .check = &check_settle_time},
};

struct Options {
    fs::path path;
    std::optional<double> settle_s;
};

Result<Options> parse_options(const config::AccountConfig& account) {
    auto values = providers::parse_options(account, {k_options});
    if (!values) return values.error();
    if (!values->has("path"))
        return invalid(
            "path: required (Apple Health's export.zip or its folder, a Samsung Health export folder, or a "
            "folder of exports)");
    const std::string raw = values->text("path");
    Options o;
    if (raw == "~")
        o.path = home_dir();
    else if (raw.starts_with("~/"))
        o.path = (home_dir() / raw.substr(2)).lexically_normal();
    else if (fs::path(raw).is_absolute())
        o.path = fs::path(raw).lexically_normal();
    else
        return invalid(fmt::format("path: '{}' must be an absolute path or start with ~/", raw));
    if (values->has("settle_time")) o.settle_s = std::stod(values->text("settle_time"));
    return o;
}

// What identifies one version of an export without reading it.
struct FileKey {
    uint64_t size = 0;
    int64_t mtime_ns = 0;
    uint64_t inode = 0;
    bool operator==(const FileKey&) const = default;
};

std::optional<FileKey> key_of(const fs::path& p) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) return std::nullopt;
    return FileKey{static_cast<uint64_t>(st.st_size), int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec,
                   static_cast<uint64_t>(st.st_ino)};
}

// The file whose change means a changed export: the archive itself, or an
// export folder's export.xml or exercise table.
std::optional<fs::path> main_file(const fs::path& p) {
    std::error_code ec;
    if (fs::is_regular_file(p, ec)) return p;
    if (!fs::is_directory(p, ec)) return std::nullopt;
    for (const auto& rel : {"export.xml", "apple_health_export/export.xml"})
        if (fs::is_regular_file(p / rel, ec)) return p / rel;
    std::optional<fs::path> table;
    for (fs::directory_iterator it(p, ec), end; !ec && it != end; it.increment(ec))
        if (is_samsung_exercise_table(it->path().filename().string()) && (!table || it->path() > *table))
            table = it->path();
    return table;
}

// One export as last read.
struct Parsed {
    FileKey key{};
    bool apple = true;
    std::string xml{};  // Apple: export.xml's member
    std::vector<Workout> workouts{};
    std::string error{};  // why reading stopped part-way (what came before is kept)
    // Apple's heart rate around the routes, read on the first download after
    // a listing and dropped at the next one.
    std::shared_ptr<const std::vector<HeartRate>> heart_rate{};
};

const char* platform_of(const Parsed& p) { return p.apple ? "Apple Health" : "Samsung Health"; }

Result<Parsed> parse_export(const fs::path& path, const std::atomic<bool>& stop) {
    auto bundle = open_bundle(path);
    if (!bundle) return bundle.error();
    const auto& members = (*bundle)->members();
    const std::unordered_set<std::string_view> names(members.begin(), members.end());
    Parsed out;
    auto xml = std::find_if(members.begin(), members.end(), [](const std::string& m) {
        return (m == "export.xml" || m.ends_with("/export.xml")) && std::count(m.begin(), m.end(), '/') <= 1;
    });
    if (xml != members.end()) {
        out.xml = *xml;
        const std::string where = (path / *xml).string();
        AppleParser parser(where);
        Result<void> fed;
        auto streamed = (*bundle)->stream(*xml, [&](std::string_view chunk) {
            if (stop.load(std::memory_order_relaxed)) return false;
            fed = parser.feed(chunk, false);
            return bool(fed);
        });
        if (fed && streamed) fed = parser.feed({}, true);
        if (!streamed) out.error = streamed.error().message;
        if (!fed) out.error = fed.error().message;
        if (stop.load()) return Error::transient("health_export.stopped", "stopped");
        const std::string dir = xml->substr(0, xml->rfind('/') + 1);
        out.workouts = std::move(parser.workouts());
        for (auto& w : out.workouts) {
            if (w.route.empty()) continue;
            std::string member = dir + std::string(std::string_view(w.route).substr(w.route.starts_with('/') ? 1 : 0));
            w.route = names.contains(member) ? member : std::string();
        }
        return out;
    }
    auto table = std::find_if(members.rbegin(), members.rend(),
                              [](const std::string& m) { return is_samsung_exercise_table(m); });
    if (table == members.rend())
        return Error::permanent("health_export.not_an_export",
                                fmt::format("{} is neither an Apple Health export (no export.xml) nor a Samsung Health "
                                            "export (no com.samsung.shealth.exercise.*.csv)",
                                            path.string()));
    out.apple = false;
    auto csv = (*bundle)->read(*table, k_max_table);
    if (!csv) return csv.error();
    auto workouts = parse_samsung_exercises(*csv, (path / *table).string(), members);
    if (!workouts) return workouts.error();
    out.workouts = std::move(*workouts);
    return out;
}

// The TCX file of a workout from its route and heart rate.
Result<std::string> build_file(const Workout& w, const std::vector<Fix>& fixes, const std::vector<HeartRate>& hr,
                               const char* platform) {
    kit::Track t;
    t.start = std::min(w.start, fixes.front().time);
    t.family = w.family;
    t.distance_m = w.distance_m;
    t.elapsed_s = std::max(w.end, fixes.back().time) - t.start;
    if (w.duration_s && *w.duration_s <= *t.elapsed_s) t.moving_s = w.duration_s;
    t.notes = fmt::format("{} recorded by {} ({} export)", w.kind, w.source, platform);
    t.points.reserve(fixes.size());
    for (const auto& f : fixes) {
        kit::TrackPoint p;
        p.offset_s = f.time - t.start;
        p.lat = f.lat;
        p.lon = f.lon;
        p.altitude_m = f.altitude_m;
        p.heart_rate = heart_rate_at(hr, f.time);
        t.points.push_back(p);
    }
    return kit::write_tcx(t);
}

class HealthExportProvider final : public Provider {
public:
    HealthExportProvider(std::string account, Options options, const Context& context, double settle_s)
        : m_account(std::move(account)), m_options(std::move(options)), m_context(context), m_settle_s(settle_s) {}
    ~HealthExportProvider() override {
        shutdown();  // (m_pool joins as it goes: the pass in progress sees the stop flag)
    }

    std::string_view account_id() const override { return m_account; }
    uint32_t capabilities() const override { return k_caps; }
    std::string_view platform_name() const override { return "a health export"; }

    Task<std::optional<std::string>> find_existing(const UploadRequest&) override {
        co_return unsupported_error("receiving uploads");
    }

    Task<ListPage> list(const ListQuery& query) override {
        std::error_code ec;
        if (!fs::exists(m_options.path, ec))
            co_return Error::transient(
                "health_export.missing",
                fmt::format("{} does not exist (yet): export the phone's health data there", m_options.path.string()));
        std::vector<IgnoredItem> ignored;
        std::vector<std::pair<fs::path, FileKey>> exports, stale;
        std::optional<double> next_settled;
        const auto now = fs::file_time_type::clock::now();
        for (const auto& e : find_exports(m_options.path)) {
            const auto main = main_file(e);
            const auto key = main ? key_of(*main) : std::nullopt;
            if (!key) {
                ignored.push_back({e.string(), "unreadable", "cannot read its state"});
                continue;
            }
            const double age = std::chrono::duration<double>(now - fs::last_write_time(*main, ec)).count();
            // (A modification time in the future says nothing about settling: such a file is read.)
            if (!ec && age >= 0 && age < m_settle_s) {
                next_settled = std::min(next_settled.value_or(m_settle_s), m_settle_s - age);
                ignored.push_back(
                    {e.string(), "unstable",
                     fmt::format("changed in the last {} s (settle_time); read once unchanged that long", m_settle_s)});
                continue;
            }
            exports.emplace_back(e, *key);
            std::lock_guard lock(m_mutex);
            auto c = m_exports.find(e);
            if (c == m_exports.end() || !(c->second.key == *key)) stale.emplace_back(e, *key);
        }
        if (!stale.empty()) {
            // Named, not a temporary in the co_await: GCC 12 destroys such temporaries twice.
            auto job = [stale, this] {
                std::vector<Result<Parsed>> out;
                for (const auto& [path, key] : stale) {
                    out.push_back(parse_export(path, m_stop));
                    if (out.back()) out.back()->key = key;
                }
                return out;
            };
            auto parsed = co_await m_pool.run(std::move(job));
            if (m_stop) co_return Error::transient("health_export.stopped", "the daemon is stopping");
            std::lock_guard lock(m_mutex);
            for (size_t i = 0; i < stale.size(); ++i) {
                if (parsed[i]) {
                    log::info("account '{}': read {} workouts from {}", m_account, parsed[i]->workouts.size(),
                              stale[i].first.string());
                    m_exports[stale[i].first] = std::move(*parsed[i]);
                    m_failed.erase(stale[i].first);
                } else {
                    m_exports.erase(stale[i].first);
                    m_failed[stale[i].first] = parsed[i].error().message;
                }
            }
        }
        ListPage page;
        std::string first_error;
        size_t usable = 0;
        {
            std::lock_guard lock(m_mutex);
            std::map<fs::path, Parsed> kept;
            m_index.clear();
            // Oldest first, so that a workout in several exports is taken from the newest.
            std::stable_sort(exports.begin(), exports.end(),
                             [](const auto& a, const auto& b) { return a.second.mtime_ns < b.second.mtime_ns; });
            for (const auto& [path, key] : exports) {
                auto c = m_exports.find(path);
                if (c == m_exports.end()) {
                    const auto& why = m_failed[path];
                    if (first_error.empty()) first_error = why;
                    ignored.push_back({path.string(), "unreadable", why});
                    continue;
                }
                ++usable;
                c->second.heart_rate.reset();  // read again by the next download that needs it
                if (!c->second.error.empty())
                    ignored.push_back(
                        {path.string(), "malformed",
                         fmt::format("read up to an error, workouts before it are kept: {}", c->second.error)});
                for (size_t i = 0; i < c->second.workouts.size(); ++i) m_index[c->second.workouts[i].id] = {path, i};
                kept.insert(m_exports.extract(c));
            }
            m_exports = std::move(kept);
            for (const auto& [id, at] : m_index) {
                const Parsed& p = m_exports.at(at.first);
                const Workout& w = p.workouts[at.second];
                if ((query.since && w.start < *query.since) || (query.until && w.start >= *query.until)) continue;
                page.items.push_back(item_of(w, p, at.first));
            }
        }
        std::sort(page.items.begin(), page.items.end(),
                  [](const RemoteActivity& a, const RemoteActivity& b) { return *a.start_time < *b.start_time; });
        {
            std::lock_guard lock(m_ignored_mutex);
            m_ignored = std::move(ignored);
        }
        if (next_settled && m_watcher)
            m_watcher->poke_after(std::chrono::milliseconds(static_cast<int64_t>(*next_settled * 1000) + 100));
        if (usable == 0 && !first_error.empty()) co_return Error::transient("health_export.unreadable", first_error);
        co_return page;
    }

    Task<std::string> download(const RemoteActivity& item) override {
        fs::path path;
        Workout w;
        Parsed info;
        {
            std::lock_guard lock(m_mutex);
            auto at = m_index.find(item.remote_id);
            if (at == m_index.end())
                co_return Error::transient("health_export.vanished",
                                           fmt::format("workout {} is in no export any more", item.remote_id));
            path = at->second.first;
            const Parsed& p = m_exports.at(path);
            w = p.workouts[at->second.second];
            info.apple = p.apple;
            info.xml = p.xml;
            info.key = p.key;
        }
        if (w.route.empty())
            co_return Error::permanent("health_export.unavailable", fmt::format("workout {} has no route", w.id));
        auto job = [this, path, w, info]() -> Result<std::string> {
            auto bundle = open_bundle(path);
            if (!bundle) return bundle.error();
            auto route = (*bundle)->read(w.route, k_max_route);
            if (!route) return route.error();
            const std::string where = (path / w.route).string();
            auto fixes = info.apple ? parse_route_gpx(*route, where) : parse_samsung_locations(*route, where);
            if (!fixes) return fixes.error();
            std::shared_ptr<const std::vector<HeartRate>> hr;
            if (info.apple) {
                auto r = apple_heart_rate(**bundle, path, info);
                if (!r) return r.error();
                hr = *r;
            } else if (!w.heart_rate.empty()) {
                auto live = (*bundle)->read(w.heart_rate, k_max_route);
                if (!live) return live.error();
                auto samples = parse_samsung_live(*live, (path / w.heart_rate).string());
                if (!samples) return samples.error();
                hr = std::make_shared<const std::vector<HeartRate>>(std::move(*samples));
            }
            return build_file(w, *fixes, hr ? *hr : std::vector<HeartRate>{}, platform_of(info));
        };
        co_return co_await m_pool.run(std::move(job));
    }

    std::vector<IgnoredItem> ignored() const override {
        std::lock_guard lock(m_ignored_mutex);
        return m_ignored;
    }

    void watch(std::function<void()> on_change) override {
        if (m_watcher) m_watcher->stop();
        m_watcher.reset();
        if (!m_context.executor) return;
        std::error_code ec;
        const bool dir = fs::is_directory(m_options.path, ec);
        const fs::path root = dir ? m_options.path : m_options.path.parent_path();
        auto w = std::make_shared<folder::InotifyWatcher>(
            m_context.executor, m_account, folder::InotifyWatcher::Settings{.recursive = dir && main_file(root)});
        if (w->start({root}, std::move(on_change))) m_watcher = std::move(w);
    }

    void shutdown() override {
        m_stop = true;
        if (m_watcher) m_watcher->stop();
        m_watcher.reset();
    }

private:
    RemoteActivity item_of(const Workout& w, const Parsed& p, const fs::path& path) const {
        RemoteActivity a;
        a.remote_id = w.id;
        a.name = w.indoor ? "Indoor " + w.kind : w.kind;
        a.start_time = w.start;
        a.elapsed_s = w.end - w.start;
        a.distance_m = w.distance_m;
        a.sport_family = w.family;
        a.origin = path.string();
        if (w.route.empty())
            a.unavailable_reason =
                fmt::format("no GPS route in the {} export: kept as the workout's summary", platform_of(p));
        return a;
    }

    // The heart-rate samples around the export's routes, read once per listing.
    Result<std::shared_ptr<const std::vector<HeartRate>>> apple_heart_rate(const Bundle& bundle, const fs::path& path,
                                                                           const Parsed& info) {
        std::vector<Window> windows;
        {
            std::lock_guard lock(m_mutex);
            auto c = m_exports.find(path);
            if (c == m_exports.end() || !(c->second.key == info.key))
                return Error::transient("health_export.changed", fmt::format("{} changed while read", path.string()));
            if (c->second.heart_rate) return c->second.heart_rate;
            for (const auto& w : c->second.workouts)
                if (!w.route.empty())
                    windows.emplace_back(w.start - k_heart_rate_margin_s, w.end + k_heart_rate_margin_s);
        }
        AppleParser parser((path / info.xml).string(), std::move(windows));
        Result<void> fed;
        auto streamed = bundle.stream(info.xml, [&](std::string_view chunk) {
            if (m_stop.load(std::memory_order_relaxed)) return false;
            fed = parser.feed(chunk, false);
            return bool(fed);
        });
        if (!streamed) return streamed.error();
        if (m_stop) return Error::transient("health_export.stopped", "the daemon is stopping");
        // A malformed tail was reported by the listing; the samples before it still count.
        if (fed) (void)parser.feed({}, true);
        auto shared = std::make_shared<const std::vector<HeartRate>>(std::move(parser.heart_rate()));
        std::lock_guard lock(m_mutex);
        if (auto c = m_exports.find(path); c != m_exports.end() && c->second.key == info.key)
            c->second.heart_rate = shared;
        return shared;
    }

    std::string m_account;
    Options m_options;
    Context m_context;
    double m_settle_s;
    std::atomic<bool> m_stop{false};
    std::mutex m_mutex;  // guards m_exports, m_failed and m_index (the pool's thread reads them)
    std::map<fs::path, Parsed> m_exports;
    std::map<fs::path, std::string> m_failed;
    std::map<std::string, std::pair<fs::path, size_t>> m_index;  // workout id -> export, index
    mutable std::mutex m_ignored_mutex;
    std::vector<IgnoredItem> m_ignored;
    std::shared_ptr<folder::InotifyWatcher> m_watcher;
    // Its own thread (one, not the daemon's shared pool): a pass over a 2 GiB
    // export must not hold up the daemon's other blocking work. Last: joined
    // first, while everything its jobs use is still there.
    net::Offload m_pool{1, 0, 0};
};

Result<void> validate(const config::AccountConfig& account) {
    auto o = parse_options(account);
    if (!o) return o.error();
    return {};
}

Result<std::unique_ptr<Provider>> create(const config::AccountConfig& account, const Context& context) {
    auto o = parse_options(account);
    if (!o) return o.error();
    const double settle =
        o->settle_s.value_or(context.config != nullptr ? static_cast<double>(context.config->sync.settle_time_s) : 5.0);
    std::unique_ptr<Provider> p = std::make_unique<HealthExportProvider>(account.id, std::move(*o), context, settle);
    return p;
}

}  // namespace

std::vector<fs::path> find_exports(const fs::path& path) {
    std::error_code ec;
    if (fs::is_regular_file(path, ec)) return {path};
    if (!fs::is_directory(path, ec)) return {};
    if (main_file(path)) return {path};
    std::vector<fs::path> out;
    for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
        const auto& p = it->path();
        const std::string name = p.filename().string();
        if (name.starts_with('.')) continue;
        std::error_code sec;
        if (it->is_regular_file(sec) ? lower(name).ends_with(".zip") : (it->is_directory(sec) && main_file(p)))
            out.push_back(p);
    }
    std::sort(out.begin(), out.end());
    return out;
}

Factory factory() {
    return Factory{
        .name = k_provider,
        .description =
            "Apple Health or Samsung Health exports: the workouts of export.zip, its folder, or a folder of "
            "exports (path)",
        .capabilities = k_caps,
        .validate = &validate,
        .create = &create,
        .accept_credentials = nullptr,  // reads local files: no credentials
        .oauth = nullptr,
        .make_http = nullptr,
        .options = k_options,
        // Neither Apple nor Samsung documents its export's layout.
        .unofficial = true,
    };
}

}  // namespace fitbridge::providers::health_export
