#include "providers/intervals_icu/intervals_icu.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <ctime>
#include <mutex>

#include <fmt/format.h>

#include "core/files.hpp"
#include "core/hash.hpp"
#include "core/log.hpp"
#include "formats/decode.hpp"
#include "formats/gzip.hpp"
#include "json/json.hpp"
#include "net/http_client.hpp"
#include "net/oauth.hpp"
#include "net/rate_limit.hpp"
#include "net/retry.hpp"
#include "net/url.hpp"

namespace fitbridge::providers::intervals_icu {

namespace fs = std::filesystem;
using net::url_encode;

namespace {

constexpr std::string_view k_provider = "intervals_icu";
constexpr uint32_t k_caps = k_list_window | k_download | k_upload | k_update_name | k_update_description |
                            k_update_sport | k_update_gear | k_list_gear;
// The API takes the athlete's *local* dates; UTC offsets span -12 h..+14 h,
// so windows are widened by this much and filtered on the UTC start_date.
constexpr double k_tz_slack_s = 14 * 3600;
// find_existing: the window listed around an upload's start, and how close a
// listed start must be to count as the same activity.
constexpr double k_find_window_s = 300;
constexpr double k_same_start_s = 60;
constexpr uint64_t k_max_gunzip = 512ull << 20;
constexpr std::string_view k_list_fields =
    "id,name,start_date,start_date_local,type,elapsed_time,distance,source,external_id";
constexpr std::string_view k_stub_reason = "Strava-sourced activity: Intervals.icu does not provide it through its API";

Error invalid(std::string message) { return Error::permanent("config.invalid", std::move(message)); }

struct Options {
    std::string athlete_id = "0";
    std::optional<std::string> api_key_file;
    std::optional<std::string> token_file;
    // Credentials kept in the state store (`credentials: stored`, implied by
    // client_id): from `fitbridge auth` or POST /v1/accounts/{id}/credentials.
    bool stored = false;
    std::optional<std::string> client_id;
    std::optional<std::string> client_secret_file;
    std::string oauth_scope = "ACTIVITY:WRITE";
    std::string base_url = "https://intervals.icu";
    int overlap_days = 3;
    int page_size = 200;
    std::vector<std::pair<std::string, std::string>> gear_map;  // sport family -> gear id
};

std::optional<int> parse_int(std::string_view s) {
    int v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    return v;
}

Result<void> parse_gear_entry(std::string_view entry, Options& o) {
    auto colon = entry.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == entry.size())
        return invalid(fmt::format("gear_map: '{}' must be <sport family>:<gear id>, e.g. ride:b12345", entry));
    o.gear_map.emplace_back(std::string(entry.substr(0, colon)), std::string(entry.substr(colon + 1)));
    return {};
}

Result<Options> parse_options(const config::AccountConfig& account) {
    static constexpr std::array<std::string_view, 11> k_known{
        "athlete_id",  "api_key_file", "token_file",   "credentials", "client_id", "client_secret_file",
        "oauth_scope", "base_url",     "overlap_days", "page_size",   "gear_map"};
    auto known = [](std::string_view k) { return std::find(k_known.begin(), k_known.end(), k) != k_known.end(); };
    Options o;
    for (const auto& [key, values] : account.list_options) {
        if (key != "gear_map") {
            if (known(key)) return invalid(fmt::format("{}: expected one value, got a list", key));
            return invalid(fmt::format("unknown option '{}'", key));
        }
        for (const auto& v : values)
            if (auto r = parse_gear_entry(v, o); !r) return r.error();
    }
    for (const auto& [key, value] : account.options) {
        if (!known(key)) return invalid(fmt::format("unknown option '{}'", key));
        if (key == "athlete_id") {
            if (value.empty()) return invalid("athlete_id: must not be empty (0 means the key's own athlete)");
            o.athlete_id = value;
        } else if (key == "api_key_file") {
            o.api_key_file = value;
        } else if (key == "token_file") {
            o.token_file = value;
        } else if (key == "credentials") {
            if (value != "stored")
                return invalid(fmt::format(
                    "credentials: expected 'stored' (set with fitbridge auth or POST /v1/accounts/ID/credentials), "
                    "got '{}'",
                    value));
            o.stored = true;
        } else if (key == "client_id") {
            if (value.empty()) return invalid("client_id: must not be empty");
            o.client_id = value;
            o.stored = true;
        } else if (key == "client_secret_file") {
            if (value.empty()) return invalid("client_secret_file: must name a file");
            o.client_secret_file = value;
        } else if (key == "oauth_scope") {
            if (value.empty()) return invalid("oauth_scope: must not be empty (e.g. ACTIVITY:WRITE)");
            o.oauth_scope = value;
        } else if (key == "base_url") {
            std::string u = value;
            while (!u.empty() && u.back() == '/') u.pop_back();
            if (!u.starts_with("https://") && !u.starts_with("http://"))
                return invalid(
                    fmt::format("base_url: '{}' must start with https:// (or http:// for a local fake)", value));
            o.base_url = u;
        } else if (key == "overlap_days") {
            auto n = parse_int(value);
            if (!n || *n < 0 || *n > 365)
                return invalid(fmt::format("overlap_days: expected a whole number of days 0..365, got '{}'", value));
            o.overlap_days = *n;
        } else if (key == "page_size") {
            auto n = parse_int(value);
            if (!n || *n < 1 || *n > 1000)
                return invalid(fmt::format("page_size: expected a number 1..1000, got '{}'", value));
            o.page_size = *n;
        } else if (key == "gear_map") {
            if (auto r = parse_gear_entry(value, o); !r) return r.error();
        }
    }
    const int ways = (o.api_key_file ? 1 : 0) + (o.token_file ? 1 : 0) + (o.stored ? 1 : 0);
    if (ways > 1)
        return invalid(
            "api_key_file, token_file, credentials/client_id: set only one (an API key uses Basic auth, an OAuth "
            "token Bearer; stored credentials come from fitbridge auth or the API)");
    if (ways == 0)
        return invalid(
            "api_key_file: required (a file holding the API key from intervals.icu/settings), or token_file for an "
            "OAuth token, or client_id + client_secret_file for fitbridge auth, or credentials: stored");
    if (o.client_id.has_value() != o.client_secret_file.has_value())
        return invalid(o.client_id ? "client_secret_file: required with client_id (the OAuth app's secret)"
                                   : "client_id: required with client_secret_file");
    if ((o.api_key_file && o.api_key_file->empty()) || (o.token_file && o.token_file->empty()))
        return invalid(fmt::format("{}: must name a file", o.api_key_file ? "api_key_file" : "token_file"));
    return o;
}

// "YYYY-MM-DDTHH:MM:SS" of Unix seconds; the API reads it as a local time.
std::string iso_seconds(double t) {
    const auto s = static_cast<std::time_t>(std::floor(t));
    std::tm tm{};
    ::gmtime_r(&s, &tm);
    return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                       tm.tm_hour, tm.tm_min, tm.tm_sec);
}

// Parses "YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM]" as Unix seconds (no zone = as
// if UTC, which is what a local date-time compared with local bounds needs).
std::optional<double> parse_iso(std::string_view s) {
    if (s.size() < 19 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':')
        return std::nullopt;
    auto num = [&](size_t pos, size_t len) { return parse_int(s.substr(pos, len)); };
    auto y = num(0, 4), mo = num(5, 2), d = num(8, 2), h = num(11, 2), mi = num(14, 2), se = num(17, 2);
    if (!y || !mo || !d || !h || !mi || !se) return std::nullopt;
    std::tm tm{};
    tm.tm_year = *y - 1900;
    tm.tm_mon = *mo - 1;
    tm.tm_mday = *d;
    tm.tm_hour = *h;
    tm.tm_min = *mi;
    tm.tm_sec = *se;
    double t = static_cast<double>(::timegm(&tm));
    size_t pos = 19;
    if (pos < s.size() && s[pos] == '.') {
        size_t end = pos + 1;
        while (end < s.size() && std::isdigit(static_cast<unsigned char>(s[end]))) ++end;
        t += std::stod(std::string(s.substr(pos, end - pos)));
        pos = end;
    }
    if (pos < s.size() && (s[pos] == '+' || s[pos] == '-') && s.size() >= pos + 6) {
        auto oh = num(pos + 1, 2), om = num(pos + 4, 2);
        if (oh && om) t -= (s[pos] == '-' ? -1 : 1) * (*oh * 3600.0 + *om * 60.0);
    }
    return t;
}

std::string header_value(const net::HttpResponse& r, std::string_view lower) {
    for (const auto& [k, v] : r.headers) {
        if (k.size() != lower.size()) continue;
        bool same = true;
        for (size_t i = 0; i < k.size() && same; ++i) same = std::tolower(static_cast<unsigned char>(k[i])) == lower[i];
        if (same) return v;
    }
    return {};
}

// The "message" (or else "error") of a Spring-style error body, or a
// printable prefix of whatever came back.
std::string body_message(const std::string& body) {
    if (auto doc = json::parse(body); doc && doc->IsObject()) {
        if (auto m = json::get_string(*doc, "message"); m && !m->empty()) return *m;
        if (auto e = json::get_string(*doc, "error"); e && !e->empty()) return *e;
    }
    std::string out;
    for (char c : body.substr(0, 200)) out.push_back(std::isprint(static_cast<unsigned char>(c)) ? c : ' ');
    return out.empty() ? std::string("(empty body)") : out;
}

std::string printable_prefix(const std::string& body) {
    std::string out;
    for (char c : body.substr(0, 32)) {
        auto u = static_cast<unsigned char>(c);
        out += std::isprint(u) ? std::string(1, c) : fmt::format("\\x{:02x}", u);
    }
    return out;
}

struct Page {
    std::vector<RemoteActivity> items;
    std::vector<std::pair<std::string, std::string>> external_ids;  // remote id -> external_id
    std::optional<std::string> oldest_local;                        // start_date_local of the oldest row returned
    std::vector<std::string> oldest_ids;                            // ids of the rows with that start
    size_t rows = 0;
};

const Clock& system_clock() {
    static const SystemClock k_clock;
    return k_clock;
}

// A secret read from its file at every request, so a replaced key is used
// without a restart. Nothing to refresh: a rejected secret stays rejected.
class FileSecretSource final : public net::TokenSource {
public:
    FileSecretSource(std::string option, std::string path, bool basic, const config::Config& config)
        : m_option(std::move(option)), m_path(std::move(path)), m_basic(basic), m_config(config) {}
    boost::asio::awaitable<Result<std::string>> authorization() override {
        auto secret = config::read_secret(m_path, m_config);
        if (!secret)
            co_return Error::auth("intervals_icu.credentials", fmt::format("{}: {}", m_option, secret.error().message));
        co_return m_basic ? "Basic " + net::base64("API_KEY:" + *secret) : "Bearer " + *secret;
    }
    bool invalidate(const std::string&) override { return false; }

private:
    std::string m_option;
    std::string m_path;
    bool m_basic;
    const config::Config& m_config;
};

// Stored credentials that are not there (yet): every request is an auth error
// that says how to provide them.
class MissingSource final : public net::TokenSource {
public:
    explicit MissingSource(Error error) : m_error(std::move(error)) {}
    boost::asio::awaitable<Result<std::string>> authorization() override { co_return m_error; }
    bool invalidate(const std::string&) override { return false; }

private:
    Error m_error;
};

// The OAuth app of an account with client_id (§4.1): the authorize page and
// the token endpoint live on the same host as the API.
Result<net::OAuthEndpoints> endpoints_of(const config::AccountConfig& account, const Options& o,
                                         const config::Config& config) {
    if (!o.client_id)
        return invalid(
            fmt::format("account {} has no client_id: OAuth needs an app registered with Intervals.icu (client_id + "
                        "client_secret_file); a personal account uses api_key_file instead",
                        account.id));
    auto secret = config::read_secret(*o.client_secret_file, config);
    if (!secret) return invalid(fmt::format("client_secret_file: {}", secret.error().message));
    net::OAuthEndpoints e;
    e.authorize_url = o.base_url + "/oauth/authorize";
    e.token_url = o.base_url + "/api/oauth/token";
    e.client_id = *o.client_id;
    e.client_secret = *secret;
    e.scope = o.oauth_scope;
    return e;
}

class Impl final : public IntervalsIcuProvider {
public:
    Impl(const config::AccountConfig& account, Options options, const Context& context)
        : m_id(account.id),
          m_o(std::move(options)),
          m_http(context.http),
          m_clock(context.clock != nullptr ? *context.clock : system_clock()),
          m_config(context.config != nullptr ? *context.config : m_empty_config) {
        m_tokens = make_token_source(account, context);
        if (!context.state_dir.empty())
            m_watermark_path = context.state_dir / "intervals_icu" / (account.id + ".watermark");
        load_watermark();
    }

    std::string_view account_id() const override { return m_id; }
    uint32_t capabilities() const override { return k_caps; }

    Task<ListPage> list(const ListQuery& query) override {
        Window w;
        if (query.cursor) {
            auto c = parse_cursor(*query.cursor);
            if (!c) co_return Error::permanent("intervals_icu.cursor", "malformed listing cursor: " + *query.cursor);
            w = *c;
        } else {
            w.incremental = !query.since.has_value();
            const double now = std::chrono::duration<double>(m_clock.now().time_since_epoch()).count();
            const double overlap = m_o.overlap_days * 86400.0;
            w.since = query.since ? *query.since : (m_watermark ? *m_watermark : now) - overlap;
            w.until = query.until;
            if (w.incremental) m_listing_max.reset();
        }
        const std::string newest =
            w.newest_local ? *w.newest_local : (w.until ? iso_seconds(*w.until + k_tz_slack_s) : std::string());
        auto page = co_await fetch_page(iso_seconds(w.since - k_tz_slack_s), newest, m_o.page_size,
                                        query.backfill ? net::Priority::backfill : net::Priority::live);
        if (!page) co_return page.error();
        ListPage out;
        for (auto& item : page->items) {
            // Rows at the previous page's boundary second were listed there.
            if (std::find(w.seen_ids.begin(), w.seen_ids.end(), item.remote_id) != w.seen_ids.end()) continue;
            if (item.start_time) {
                if (*item.start_time < w.since || (w.until && *item.start_time >= *w.until)) continue;
                if (w.incremental) m_listing_max = std::max(m_listing_max.value_or(*item.start_time), *item.start_time);
            }
            out.items.push_back(std::move(item));
        }
        if (page->rows >= static_cast<size_t>(m_o.page_size) && page->oldest_local) {
            // No page parameter: the next page is the same window with `newest`
            // moved down to the oldest start seen. That second is listed
            // again, so its ids ride along in the cursor to be skipped; if a
            // whole page shares it, step one second past it so listing moves.
            std::string next = *page->oldest_local;
            w.seen_ids = page->oldest_ids;
            if (next == newest) {
                next = iso_seconds(parse_iso(next).value_or(0) - 1);
                w.seen_ids.clear();
            }
            w.newest_local = next;
            out.next_cursor = format_cursor(w);
        } else if (w.incremental && m_listing_max) {
            store_watermark(*m_listing_max);
        }
        co_return out;
    }

    Task<std::string> download(const RemoteActivity& item) override {
        if (item.unavailable_reason) co_return Error::permanent("intervals_icu.unavailable", *item.unavailable_reason);
        auto r = co_await call("GET", fmt::format("/api/v1/activity/{}/file", url_encode(item.remote_id)), {}, {},
                               fmt::format("download of activity {}", item.remote_id), {},
                               item.backfill ? net::Priority::backfill : net::Priority::live);
        if (!r) co_return r.error();
        auto bytes = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(r->body.data()), r->body.size());
        auto kind = formats::sniff(bytes);
        if (kind == formats::Sniffed::gzip) {
            auto inner = formats::gunzip(bytes, k_max_gunzip);
            kind = inner.error.empty() ? formats::sniff(inner.payload) : formats::Sniffed::unknown;
            if (!inner.error.empty())
                co_return Error::permanent("intervals_icu.bad_file",
                                           fmt::format("Intervals.icu sent a damaged gzip file for activity {}: {}",
                                                       item.remote_id, inner.error));
        }
        if (kind == formats::Sniffed::unknown) {
            std::string ctype = header_value(*r, "content-type");
            co_return Error::permanent(
                "intervals_icu.not_a_file",
                r->body.empty()
                    ? fmt::format("Intervals.icu sent an empty body for the file of activity {}", item.remote_id)
                    : fmt::format("Intervals.icu sent {} bytes of {} starting \"{}\" for activity {}, not a FIT, "
                                  "TCX or GPX file",
                                  r->body.size(), ctype.empty() ? std::string("unknown type") : ctype,
                                  printable_prefix(r->body), item.remote_id));
        }
        co_return std::move(r->body);
    }

    Task<UploadResult> upload(const UploadRequest& request) override {
        auto ext = file_extension(request.bytes);
        if (!ext)
            co_return Error::permanent("intervals_icu.bad_file",
                                       "cannot upload to Intervals.icu: the file is not FIT, TCX or GPX");
        const std::string boundary = make_boundary();
        const std::string file_name =
            fmt::format("{}.{}", request.external_id.empty() ? std::string("activity") : request.external_id, *ext);
        std::string body;
        body.reserve(request.bytes.size() + 512);
        body += fmt::format(
            "--{}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{}\"\r\nContent-Type: "
            "application/octet-stream\r\n\r\n",
            boundary, file_name);
        body.append(reinterpret_cast<const char*>(request.bytes.data()), request.bytes.size());
        body += fmt::format("\r\n--{}--\r\n", boundary);
        // name/external_id are query parameters in the API (spec uploadActivity).
        std::string query;
        if (!request.name.empty()) query += "name=" + url_encode(request.name);
        if (!request.external_id.empty())
            query += (query.empty() ? "" : "&") + std::string("external_id=") + url_encode(request.external_id);
        // (Headers built outside the co_await: GCC 12 miscompiles braced
        // initializer lists inside co_await expressions.)
        net::Headers headers{{"Content-Type", "multipart/form-data; boundary=" + boundary}};
        auto r = co_await call("POST", fmt::format("/api/v1/athlete/{}/activities", url_encode(m_o.athlete_id)), query,
                               std::move(headers), "upload", std::move(body));
        if (!r) co_return r.error();
        UploadResult out;
        // 201: at least one activity created; 200: every activity in the file
        // was a duplicate (the API de-duplicates by a hash of the file).
        out.duplicate = r->status == 200;
        if (auto doc = json::parse(r->body); doc && doc->IsObject()) {
            if (auto id = json::get_string(*doc, "id")) out.remote_id = *id;
            if (out.remote_id.empty() && doc->HasMember("activities") && (*doc)["activities"].IsArray() &&
                !(*doc)["activities"].Empty() && (*doc)["activities"][0].IsObject())
                out.remote_id = json::get_string((*doc)["activities"][0], "id").value_or("");
        }
        if (out.remote_id.empty()) {
            // No id in the answer: read the activity back by its start/external id.
            auto found = co_await find_existing(request);
            if (!found) co_return found.error();
            if (!*found)
                co_return Error::transient("intervals_icu.upload_unconfirmed",
                                           "Intervals.icu accepted the upload but the activity is not listed yet");
            out.remote_id = **found;
        }
        if (!out.duplicate) co_await apply_gear_map(out.remote_id, request);
        co_return out;
    }

    Task<std::optional<std::string>> find_existing(const UploadRequest& request) override {
        if (request.summary == nullptr || !request.summary->start_time) co_return std::optional<std::string>{};
        const double start = *request.summary->start_time;
        auto page = co_await fetch_page(iso_seconds(start - k_find_window_s - k_tz_slack_s),
                                        iso_seconds(start + k_find_window_s + k_tz_slack_s), 0);
        if (!page) co_return page.error();
        if (!request.external_id.empty())
            for (const auto& [id, ext] : page->external_ids)
                if (ext == request.external_id) co_return std::optional<std::string>(id);
        for (const auto& item : page->items) {
            if (!item.start_time || std::abs(*item.start_time - start) > k_same_start_s) continue;
            const auto& family = request.summary->sport_family;
            if (family && item.sport_family && *family != *item.sport_family) continue;
            co_return std::optional<std::string>(item.remote_id);
        }
        co_return std::optional<std::string>{};
    }

    Task<void> update_name(const std::string& remote_id, const std::string& name) override {
        ActivityUpdate u;
        u.name = name;
        co_return co_await update_activity(remote_id, u);
    }

    Task<void> update_activity(const std::string& remote_id, const ActivityUpdate& update) override {
        json::Builder b;
        b.w.StartObject();
        auto field = [&](const char* key, const std::optional<std::string>& v) {
            if (!v) return;
            b.key(key);
            b.string(*v);
        };
        field("name", update.name);
        field("description", update.description);
        field("type", update.type);
        if (update.gear_id) {
            b.key("gear");
            b.w.StartObject();
            b.key("id");
            b.string(*update.gear_id);
            b.w.EndObject();
        }
        b.w.EndObject();
        if (!update.name && !update.description && !update.type && !update.gear_id) co_return Result<void>{};
        net::Headers headers{{"Content-Type", "application/json"}};
        auto r = co_await call("PUT", fmt::format("/api/v1/activity/{}", url_encode(remote_id)), {}, std::move(headers),
                               fmt::format("update of activity {}", remote_id), b.str());
        if (!r) co_return r.error();
        co_return Result<void>{};
    }

    Task<std::vector<Gear>> list_gear() override {
        auto r = co_await call("GET", fmt::format("/api/v1/athlete/{}/gear", url_encode(m_o.athlete_id)), {}, {},
                               "gear list");
        if (!r) co_return r.error();
        auto doc = json::parse(r->body);
        if (!doc || !doc->IsArray())
            co_return Error::transient("intervals_icu.bad_answer",
                                       "Intervals.icu answered the gear list with something that is not a JSON array");
        std::vector<Gear> out;
        for (const auto& g : doc->GetArray()) {
            if (!g.IsObject()) continue;
            Gear x;
            x.id = json::get_string(g, "id").value_or("");
            x.name = json::get_string(g, "name").value_or("");
            x.type = json::get_string(g, "type").value_or("");
            x.retired = json::get_string(g, "retired").has_value();
            if (!x.id.empty()) out.push_back(std::move(x));
        }
        co_return out;
    }

private:
    struct Window {
        double since = 0;
        std::optional<double> until;
        std::optional<std::string> newest_local;
        bool incremental = false;
        std::vector<std::string> seen_ids;
    };

    // "since|until|newest|incremental|id,id": plain text, the engine only stores it.
    static std::string format_cursor(const Window& w) {
        std::string ids;
        for (const auto& id : w.seen_ids) ids += (ids.empty() ? "" : ",") + id;
        return fmt::format("{}|{}|{}|{}|{}", static_cast<int64_t>(std::floor(w.since)),
                           w.until ? fmt::format("{}", static_cast<int64_t>(std::ceil(*w.until))) : std::string(),
                           w.newest_local.value_or(""), w.incremental ? 1 : 0, ids);
    }
    static std::optional<Window> parse_cursor(std::string_view c) {
        std::vector<std::string_view> parts;
        for (size_t start = 0;;) {
            auto bar = c.find('|', start);
            parts.push_back(c.substr(start, bar == std::string_view::npos ? std::string_view::npos : bar - start));
            if (bar == std::string_view::npos) break;
            start = bar + 1;
        }
        if (parts.size() != 5) return std::nullopt;
        Window w;
        int64_t v = 0;
        if (std::from_chars(parts[0].data(), parts[0].data() + parts[0].size(), v).ec != std::errc()) return {};
        w.since = static_cast<double>(v);
        if (!parts[1].empty()) {
            if (std::from_chars(parts[1].data(), parts[1].data() + parts[1].size(), v).ec != std::errc()) return {};
            w.until = static_cast<double>(v);
        }
        if (!parts[2].empty()) w.newest_local = std::string(parts[2]);
        w.incremental = parts[3] == "1";
        for (size_t start = 0; start < parts[4].size();) {
            auto comma = parts[4].find(',', start);
            if (comma == std::string_view::npos) comma = parts[4].size();
            w.seen_ids.emplace_back(parts[4].substr(start, comma - start));
            start = comma + 1;
        }
        return w;
    }

    static std::optional<std::string> file_extension(std::span<const uint8_t> bytes) {
        auto name = [](formats::Sniffed s) -> std::optional<std::string> {
            switch (s) {
                case formats::Sniffed::fit: return "fit";
                case formats::Sniffed::gpx: return "gpx";
                case formats::Sniffed::tcx: return "tcx";
                default: return std::nullopt;
            }
        };
        auto kind = formats::sniff(bytes);
        if (kind != formats::Sniffed::gzip) return name(kind);
        auto inner = formats::gunzip(bytes, k_max_gunzip);
        if (!inner.error.empty()) return std::nullopt;
        auto n = name(formats::sniff(inner.payload));
        if (!n) return std::nullopt;
        return *n + ".gz";
    }

    static std::string make_boundary() {
        std::array<uint8_t, 12> r{};
        random_bytes(r);
        std::string out = "fitbridge-";
        for (auto b : r) out += fmt::format("{:02x}", b);
        return out;
    }

    // Lists one request's worth of activities in [oldest, newest] (local
    // date-times; empty newest = now), descending as the API returns them.
    Task<Page> fetch_page(const std::string& oldest, const std::string& newest, int limit,
                          net::Priority priority = net::Priority::live) {
        std::string query = "oldest=" + url_encode(oldest);
        if (!newest.empty()) query += "&newest=" + url_encode(newest);
        if (limit > 0) query += fmt::format("&limit={}", limit);
        // Only what listing reads: a full activity has ~180 properties.
        query += "&fields=" + std::string(k_list_fields);
        auto r = co_await call("GET", fmt::format("/api/v1/athlete/{}/activities", url_encode(m_o.athlete_id)), query,
                               {}, "activity list", {}, priority);
        if (!r) co_return r.error();
        auto doc = json::parse(r->body);
        if (!doc || !doc->IsArray())
            co_return Error::transient("intervals_icu.bad_answer",
                                       fmt::format("Intervals.icu answered the activity list with something that is "
                                                   "not a JSON array: {}",
                                                   body_message(r->body)));
        Page page;
        for (const auto& a : doc->GetArray()) {
            if (!a.IsObject()) continue;
            ++page.rows;
            auto id = json::get_string(a, "id");
            if (!id || id->empty()) continue;
            auto local = json::get_string(a, "start_date_local");
            if (local) {
                if (!page.oldest_local || *local < *page.oldest_local) {
                    page.oldest_local = *local;
                    page.oldest_ids.clear();
                }
                if (*local == *page.oldest_local) page.oldest_ids.push_back(*id);
            }
            RemoteActivity item;
            item.remote_id = *id;
            item.origin = fmt::format("{}/activities/{}", m_o.base_url, *id);
            item.name = json::get_string(a, "name").value_or("");
            if (auto utc = json::get_string(a, "start_date")) item.start_time = parse_iso(*utc);
            item.elapsed_s = json::get_number(a, "elapsed_time");
            item.distance_m = json::get_number(a, "distance");
            if (auto type = json::get_string(a, "type")) item.sport_family = sport_family_for_type(*type);
            if (json::get_string(a, "source").value_or("") == "STRAVA") {
                item.unavailable_reason = std::string(k_stub_reason);
                if (item.name.empty()) item.name = fmt::format("Strava activity {}", local.value_or(*id));
            }
            if (auto ext = json::get_string(a, "external_id")) page.external_ids.emplace_back(*id, *ext);
            page.items.push_back(std::move(item));
        }
        co_return page;
    }

    std::optional<CredentialSource> credential_source() const override {
        if (m_o.api_key_file) return CredentialSource{"api_key", "api_key_file"};
        if (m_o.token_file) return CredentialSource{"token", "token_file"};
        return CredentialSource{m_stored_kind, "stored"};
    }

    // How to give a stored-credentials account what it needs.
    std::string stored_hint(std::string_view again, std::string_view what) const {
        return fmt::format("{}POST {} to /v1/accounts/{}/credentials",
                           m_o.client_id ? fmt::format("run `fitbridge auth {}`{} or ", m_id, again) : "", what, m_id);
    }

    // The Authorization header's source: a file read per request, or the
    // credentials in the store (an OAuth token source that refreshes when it
    // can and gives up after a second 401).
    std::unique_ptr<net::TokenSource> make_token_source(const config::AccountConfig& account, const Context& context) {
        if (m_o.api_key_file)
            return std::make_unique<FileSecretSource>("api_key_file", *m_o.api_key_file, true, m_config);
        if (m_o.token_file) return std::make_unique<FileSecretSource>("token_file", *m_o.token_file, false, m_config);
        if (context.tokens == nullptr)
            return std::make_unique<MissingSource>(Error::auth(
                "intervals_icu.no_store", fmt::format("account {}: stored credentials need the state store", m_id)));
        auto loaded = context.tokens->load(m_id);
        if (!loaded) return std::make_unique<MissingSource>(loaded.error());
        if (!*loaded)
            return std::make_unique<MissingSource>(
                Error::auth("intervals_icu.no_credentials",
                            fmt::format("account {} has no credentials yet: {}", m_id, stored_hint("", "them"))));
        m_stored_kind = (*loaded)->kind;
        if (m_stored_kind == "api_key") return net::make_api_key_source((*loaded)->access_token);
        // A bearer token. Intervals.icu issues no refresh token (§4.1), but
        // one that comes with a refresh token and expiry is refreshed.
        auto endpoints = endpoints_of(account, m_o, m_config);
        return std::make_unique<net::OAuth2TokenSource>(*m_http, *context.tokens, m_id,
                                                        endpoints ? *endpoints : net::OAuthEndpoints{}, m_clock);
    }

    // One API call; any non-2xx answer becomes an Error naming `what`.
    Task<net::HttpResponse> call(std::string method, std::string path, std::string query, net::Headers headers,
                                 std::string what, std::string body = {},
                                 net::Priority priority = net::Priority::live) {
        net::HttpRequest req;
        req.priority = priority;
        req.method = std::move(method);
        req.url = m_o.base_url + path + (query.empty() ? "" : "?" + query);
        req.headers = std::move(headers);
        // No Accept header: the file endpoint answers octet-stream, and a
        // Spring server may refuse (406) an Accept it cannot produce.
        req.body = std::move(body);
        auto r = co_await net::send_authorized(*m_http, *m_tokens, std::move(req), m_clock, net::Final401::response);
        if (!r) co_return r.error();
        if (auto e = status_error(*r, what)) co_return *e;
        co_return std::move(*r);
    }

    // Intervals.icu's answers as errors: net::classify_status gives the class
    // (and the 429 wait); the platform's specifics get their own reasons
    // (§4.4): 403 is an auth problem here (an API key sent as a Bearer token
    // gets "Access denied"), 422 on an upload is a rejected file.
    std::optional<Error> status_error(const net::HttpResponse& r, std::string_view what) const {
        const int s = r.status;
        if (s >= 200 && s < 300) return std::nullopt;
        if (s >= 300 && s < 400)
            return Error::permanent(
                "intervals_icu.redirect",
                fmt::format("Intervals.icu answered the {} with an unfollowed redirect ({})", what, s));
        auto base = net::classify_status(r, what, m_clock);
        if (!base) return std::nullopt;
        Error e = std::move(*base);
        const std::string msg = body_message(r.body);
        if (s == 401) {
            e.code = "intervals_icu.unauthorized";
            e.message = fmt::format("Intervals.icu rejected the credentials for the {} (401 {}); check {}", what, msg,
                                    m_o.api_key_file ? std::string("the key in api_key_file")
                                    : m_o.token_file ? std::string("the token in token_file")
                                                     : "the stored credentials: " + stored_hint(" again", "new ones"));
        } else if (s == 403) {
            e.code = "intervals_icu.forbidden";
            e.cls = ErrorClass::auth;
            e.message = m_o.token_file
                            ? fmt::format(
                                  "Intervals.icu denied the {} (403 {}): a personal API key must be configured with "
                                  "api_key_file (sent as Basic API_KEY:<key>); token_file is only for OAuth tokens",
                                  what, msg)
                        : m_o.stored && m_stored_kind != "api_key"
                            ? fmt::format(
                                  "Intervals.icu denied the {} (403 {}): the stored token is not an OAuth token it "
                                  "accepts (a personal API key is stored with kind api_key)",
                                  what, msg)
                            : fmt::format("Intervals.icu denied the {} (403 {}): the key has no access to athlete {}",
                                          what, msg, m_o.athlete_id);
        } else if (s == 429) {
            e.code = "intervals_icu.rate_limited";
            e.message = fmt::format("Intervals.icu rate limit hit during the {} (429)", what);
        } else if (e.cls == ErrorClass::transient) {
            e.code = "intervals_icu.unavailable";
            e.message = fmt::format("Intervals.icu failed the {} ({} {})", what, s, msg);
        } else if (s == 422 && what == "upload") {
            e.code = "intervals_icu.rejected";
            e.message = fmt::format("Intervals.icu rejected the file: {}", msg);
        } else if (s == 404) {
            e.code = "intervals_icu.not_found";
            e.message = fmt::format("Intervals.icu has no such thing for the {} (404 {})", what, msg);
        } else {
            e.code = "intervals_icu.rejected";
            e.message = fmt::format("Intervals.icu rejected the {} ({} {})", what, s, msg);
        }
        return e;
    }

    boost::asio::awaitable<void> apply_gear_map(const std::string& remote_id, const UploadRequest& request) {
        if (m_o.gear_map.empty() || request.summary == nullptr) co_return;
        const std::string family = request.summary->sport_family.value_or("other");
        for (const auto& [local, gear] : m_o.gear_map) {
            if (local != family && local != "*") continue;
            ActivityUpdate u;
            u.gear_id = gear;
            auto r = co_await update_activity(remote_id, u);
            // The upload itself succeeded; a failed gear update must not make
            // the engine upload again, so it is only logged.
            if (!r) log::warn("account {}: setting gear {} on {} failed: {}", m_id, gear, remote_id, r.error().message);
            co_return;
        }
    }

    void load_watermark() {
        if (m_watermark_path.empty()) return;
        auto text = read_file(m_watermark_path);
        if (!text) return;
        try {
            m_watermark = std::stod(*text);
        } catch (const std::exception&) {
            log::warn("account {}: ignoring unreadable {}", m_id, m_watermark_path.string());
        }
    }

    void store_watermark(double t) {
        if (m_watermark && *m_watermark >= t) return;
        m_watermark = t;
        if (m_watermark_path.empty()) return;
        std::error_code ec;
        fs::create_directories(m_watermark_path.parent_path(), ec);
        if (auto r = write_file_atomic(m_watermark_path, fmt::format("{}\n", static_cast<int64_t>(t))); !r)
            log::warn("account {}: cannot save the listing position: {}", m_id, r.error().message);
    }

    std::string m_id;
    Options m_o;
    std::shared_ptr<net::HttpClient> m_http;
    const Clock& m_clock;
    config::Config m_empty_config;
    const config::Config& m_config;
    fs::path m_watermark_path;
    // Newest start seen by completed incremental listings, and by the one in
    // progress (its pages arrive as separate list() calls).
    std::optional<double> m_watermark;
    std::optional<double> m_listing_max;
    std::unique_ptr<net::TokenSource> m_tokens;
    std::string m_stored_kind = "none";  // the stored credentials' kind, "none" before any
};

Result<void> validate(const config::AccountConfig& account) {
    auto o = parse_options(account);
    if (!o) return o.error();
    return {};
}

Result<void> accept_credentials(const config::AccountConfig& account, std::string_view kind) {
    auto o = parse_options(account);
    if (!o) return o.error();
    if (!o->stored)
        return Error::permanent(
            "intervals_icu.credentials_in_file",
            fmt::format("account {} reads its {} from {}: write it there, or replace that option with "
                        "`credentials: stored` to keep credentials in the state store",
                        account.id, o->api_key_file ? "API key" : "token",
                        o->api_key_file ? "api_key_file" : "token_file"));
    if (kind != "api_key" && kind != "token" && kind != "oauth2")
        return Error::permanent(
            "intervals_icu.credential_kind",
            fmt::format("Intervals.icu takes an api_key or a token (OAuth bearer), not '{}'", kind));
    return {};
}

Result<net::OAuthEndpoints> oauth(const config::AccountConfig& account, const config::Config& config) {
    auto o = parse_options(account);
    if (!o) return o.error();
    return endpoints_of(account, *o, config);
}

// The platform's client (Factory::make_http, shared by every Intervals.icu
// account since the limit is per IP; built by a provider itself when the
// daemon gives none): the real client, paced to ~10 requests/s (§4.4) and retrying
// transient failures. Retrying an upload is safe: the platform de-duplicates
// by a hash of the file. Pacing uses real time whatever clock the context
// has, because the server's limit is in real time.
class OwnHttpClient final : public net::HttpClient {
    // Requests are counted under this platform in GET /metrics.
    static net::ClientOptions client_options() {
        net::ClientOptions o;
        o.platform = "intervals_icu";
        return o;
    }

public:
    explicit OwnHttpClient(boost::asio::any_io_executor executor)
        : m_base(net::make_http_client(std::move(executor), client_options())),
          m_limiter(net::RateLimitConfig{k_requests_per_second, k_requests_per_second, 0.5}, system_clock()),
          m_retrying(*m_base, system_clock(), net::RetryPolicy{}, net::timer_sleep(), net::random_jitter(),
                     &m_limiter) {}
    boost::asio::awaitable<Result<net::HttpResponse>> send(net::HttpRequest request) override {
        return m_retrying.send(std::move(request));
    }

private:
    static constexpr double k_requests_per_second = 10;
    std::unique_ptr<net::HttpClient> m_base;
    net::RateLimiter m_limiter;
    net::RetryingClient m_retrying;
};

std::shared_ptr<net::HttpClient> make_http(boost::asio::any_io_executor executor) {
    return std::make_shared<OwnHttpClient>(std::move(executor));
}

Result<std::unique_ptr<Provider>> create(const config::AccountConfig& account, const Context& context) {
    auto o = parse_options(account);
    if (!o) return o.error();
    Context own = context;
    if (!own.http) own.http = std::make_shared<OwnHttpClient>(context.executor);
    return std::unique_ptr<Provider>(std::make_unique<Impl>(account, std::move(*o), own));
}

}  // namespace

std::optional<std::string> sport_family_for_type(std::string_view type) { return formats::family_for_text(type); }

Factory factory() {
    return Factory{.name = k_provider,
                   .description = "Intervals.icu (API key or OAuth): list, download, upload, rename, gear",
                   .capabilities = k_caps,
                   .validate = &validate,
                   .create = &create,
                   .accept_credentials = &accept_credentials,
                   .oauth = &oauth,
                   .make_http = &make_http};
}

}  // namespace fitbridge::providers::intervals_icu
