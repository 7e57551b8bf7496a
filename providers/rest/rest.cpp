#include "providers/rest/rest.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>

#include "json/json.hpp"
#include "net/url.hpp"
#include "providers/kit/factory.hpp"
#include "providers/kit/files.hpp"
#include "providers/kit/listing.hpp"
#include "providers/kit/mapping.hpp"
#include "providers/kit/platform.hpp"
#include "providers/kit/upload.hpp"

namespace fitbridge::providers::rest {

using net::url_encode;

namespace {

// k_create_metadata only with `create.body: json` (a multipart create needs a file).
constexpr uint32_t k_caps = k_list_window | k_download | k_upload | k_create_metadata | k_update_name |
                            k_update_description | k_update_sport | k_update_gear | k_list_gear;
constexpr std::string_view k_no_file = "the platform serves no original file";

std::string one_of(std::string_view value, std::initializer_list<std::string_view> words) {
    std::string list;
    for (auto w : words) {
        if (value == w) return {};
        list += (list.empty() ? "" : " or ") + std::string(w);
    }
    return fmt::format("expected {}, got '{}'", list, value);
}
std::string check_path(std::string_view v) {
    return v.empty() || v.starts_with('/') ? "" : fmt::format("expected a path starting with /, got '{}'", v);
}
// Paths of one activity: the id goes where {id} is.
std::string check_id_path(std::string_view v) {
    if (auto e = check_path(v); !e.empty()) return e;
    return v.empty() || v.find("{id}") != std::string_view::npos
               ? ""
               : fmt::format("'{}' has no {{id}} (where the activity's id goes)", v);
}
std::string check_time(std::string_view v) { return one_of(v, {"epoch", "iso8601"}); }
std::string check_unit(std::string_view v) { return one_of(v, {"m", "km", "mi"}); }
std::string check_update_method(std::string_view v) { return one_of(v, {"PATCH", "PUT", "POST"}); }
std::string check_create_method(std::string_view v) { return one_of(v, {"POST", "PUT"}); }
std::string check_body(std::string_view v) { return one_of(v, {"json", "multipart"}); }

constexpr OptionSpec path(std::string_view name, std::string_view def, std::string_view help,
                          std::string (*check)(std::string_view), bool required = true) {
    return {.name = name,
            .default_value = def,
            .help = help,
            .empty_error = required ? "must not be empty" : "",
            .check = check};
}
constexpr OptionSpec word(std::string_view name, std::string_view def, std::string_view help,
                          std::string (*check)(std::string_view)) {
    return {.name = name, .default_value = def, .help = help, .empty_error = "must not be empty", .check = check};
}

// Every default is the contract's example API.
constexpr OptionSpec k_options[] = {
    path("list.path", "/activities", "the activity list (GET)", &check_path),
    text_option("list.after", "after", "query parameter of the window's start", "must not be empty"),
    text_option("list.before", "before", "query parameter of the window's end", "must not be empty"),
    word("list.time", "epoch", "times in queries and fields: epoch (seconds) or iso8601", &check_time),
    {.name = "list.page", .help = "the page number parameter (empty: no paging)"},
    {.name = "list.per_page", .help = "the page size parameter (empty: none sent)"},
    integer_option("list.page_size", "50", 1, 1000, "activities per page; a shorter page is the last"),
    integer_option("list.first_page", "1", 0, 1, "the number of the first page"),
    {.name = "list.items", .help = "dotted path to the array in the list answer (empty: the answer is the array)"},
    path("get.path", "/activities/{id}", "one activity's details (GET)", &check_id_path),
    path("file.path", "", "the original file, e.g. /activities/{id}/file (empty: none)", &check_id_path, false),
    word("update.method", "PATCH", "the method of updates: PATCH, PUT or POST", &check_update_method),
    path("update.path", "/activities/{id}", "where updates go", &check_id_path),
    word("create.method", "POST", "the method of creating an activity: POST or PUT", &check_create_method),
    path("create.path", "/activities", "where new activities go", &check_path),
    word("create.body", "json", "json (from the summary) or multipart (the original file, part \"file\")", &check_body),
    path("gear.path", "", "the gear list, e.g. /gear (empty: no gear)", &check_path, false),
    text_option("gear_update.field", "gear_id", "the field of an update that sets the gear", "must not be empty"),
    text_option("fields.id", "id", "the activity's id (also read from a create's answer)", "must not be empty"),
    text_option("fields.name", "name", "the activity's name", "must not be empty"),
    text_option("fields.sport", "type", "the sport (run, ride, swim, walk, hike, ...; empty: none)"),
    text_option("fields.start", "start_time", "the start time", "must not be empty"),
    text_option("fields.duration", "duration_seconds", "the duration in seconds (empty: none)"),
    text_option("fields.distance", "distance_miles", "the distance (empty: none)"),
    word("fields.distance_unit", "mi", "the distance's unit: m, km or mi", &check_unit),
    text_option("fields.description", "description", "the description (empty: none)"),
    text_option("fields.gear", "gear_id", "the gear id (empty: none)"),
    integer_option("overlap_days", "3", 0, 365, "trailing days re-listed by incremental polls",
                   "a whole number of days"),
};

// The contract's sport words are FitBridge's family names.
constexpr kit::SportName k_sports[] = {
    {"run", "run"}, {"ride", "ride"}, {"swim", "swim"},         {"walk", "walk"}, {"hike", "hike"},
    {"row", "row"}, {"ski", "ski"},   {"strength", "strength"}, {"yoga", "yoga"}, {"other", "other"},
};

const kit::Platform k_platform{
    .name = "rest",
    .title = "The REST platform",
    .credential_modes = kit::k_api_key_file | kit::k_token_file | kit::k_stored | kit::k_oauth_app,
    .api_key_help = "a file holding the personal API key from the platform's account settings",
    .only_one_help = "an API key, a token, stored credentials or an OAuth app",
    .oauth_in_options = true,
    // Unknown platforms: polite pacing, and a create whose answer was lost
    // is never sent again (the contract promises no de-duplication).
    .requests_per_second = 5,
    .burst = 5,
    .retry_writes = false,
};

struct Rows {
    std::vector<RemoteActivity> items;
    size_t rows = 0;  // entries of the answer's array, usable or not
};

class Impl final : public Provider {
public:
    Impl(kit::Settings settings, const Context& context)
        : m_client(k_platform, std::move(settings), context),
          m_watermark(context.cursors, m_client.account_id()),
          m_tolerance(kit::match_tolerance(context.config)) {}

    std::string_view account_id() const override { return m_client.account_id(); }
    uint32_t capabilities() const override {
        return opt("create.body") == "json" ? k_caps : k_caps & ~uint32_t{k_create_metadata};
    }
    std::string_view platform_name() const override { return k_platform.title; }
    std::optional<CredentialSource> credential_source() const override { return m_client.credential_source(); }

    Task<ListPage> list(const ListQuery& query) override {
        const double overlap = static_cast<double>(m_client.options().integer("overlap_days")) * 86400.0;
        const auto priority = query.backfill ? net::Priority::backfill : net::Priority::live;
        kit::FetchWindow fetch = [this, priority](const kit::WindowCursor& w) { return fetch_window(w, priority); };
        co_return co_await kit::list_window(query, m_watermark, m_client.now(), overlap, k_platform.name,
                                            std::move(fetch));
    }

    Task<std::string> download(const RemoteActivity& item) override {
        if (opt("file.path").empty()) co_return Error::permanent(m_client.code("unavailable"), std::string(k_no_file));
        kit::Call call{.path = path_of("file.path", item.remote_id),
                       .what = fmt::format("download of activity {}", item.remote_id),
                       .priority = item.backfill ? net::Priority::backfill : net::Priority::live};
        co_return co_await kit::fetch_file(m_client, std::move(call), "activity " + item.remote_id);
    }

    // The contract promises no de-duplication: an activity already there
    // (by start and sport) is a duplicate, and nothing is sent.
    Task<UploadResult> upload(const UploadRequest& request) override {
        auto existing = co_await find_existing(request);
        if (!existing) co_return existing.error();
        if (*existing) co_return UploadResult{.remote_id = **existing, .duplicate = true};
        kit::Call call{.method = opt("create.method"), .path = opt("create.path"), .what = "upload"};
        if (opt("create.body") == "multipart") {
            auto ext = kit::file_extension(request.bytes);
            if (!ext)
                co_return Error::permanent(m_client.code("bad_file"),
                                           "cannot upload to the REST platform: the file is not FIT, TCX or GPX");
            std::vector<net::MultipartField> fields;
            if (!request.name.empty()) fields.push_back({opt("fields.name"), request.name});
            kit::set_multipart(call, fields, net::MultipartFile{"file", "activity." + *ext, "application/octet-stream"},
                               request.bytes);
        } else {
            if (request.summary == nullptr || !request.summary->start_time)
                co_return Error::permanent(m_client.code("no_summary"),
                                           "cannot create the activity: its start time is unknown");
            call.headers.emplace_back("Content-Type", "application/json");
            call.body = create_body(request.name, *request.summary);
        }
        auto doc = co_await m_client.call_json(std::move(call));
        if (!doc) co_return doc.error();
        auto id = kit::id_at(*doc, opt("fields.id"));
        // Created or not, find_existing settles it when the engine retries.
        if (!id || id->empty())
            co_return Error::transient(m_client.code("upload_unconfirmed"),
                                       fmt::format("{} answered the upload without the new activity's id ('{}')",
                                                   k_platform.title, opt("fields.id")));
        co_return UploadResult{.remote_id = *id};
    }

    Task<std::optional<std::string>> find_existing(const UploadRequest& request) override {
        kit::ListWindow list = [this](double since, double until) { return list_range(since, until); };
        co_return co_await kit::find_by_start(request, std::move(list), m_tolerance);
    }

    Task<void> update_name(const std::string& id, const std::string& name) override {
        co_return co_await update_field(id, "fields.name", name);
    }
    Task<void> update_description(const std::string& id, const std::string& text) override {
        co_return co_await update_field(id, "fields.description", text);
    }
    Task<void> update_sport(const std::string& id, const std::string& family) override {
        const auto sport = kit::platform_sport(k_sports, family).value_or(family);
        co_return co_await update_field(id, "fields.sport", sport);
    }
    Task<void> update_gear(const std::string& id, const std::string& gear_id) override {
        co_return co_await update_field(id, "gear_update.field", gear_id);
    }

    // Gear rows are {"id", "name"} as in the contract.
    Task<std::vector<Gear>> list_gear() override {
        if (opt("gear.path").empty())
            co_return Error::permanent(m_client.code("no_gear"),
                                       fmt::format("account {} lists no gear (gear.path is empty)", account_id()));
        kit::Call call{.path = opt("gear.path"), .what = "gear list"};  // (not a temporary inside co_await: GCC 12)
        auto doc = co_await m_client.call_json(std::move(call));
        if (!doc) co_return doc.error();
        if (!doc->IsArray()) co_return bad_answer("gear list", "a JSON array");
        std::vector<Gear> out;
        for (const auto& g : doc->GetArray()) {
            auto id = g.IsObject() ? kit::id_at(g, "id") : std::nullopt;
            if (id && !id->empty()) out.push_back(Gear{*id, kit::string_at(g, "name").value_or("")});
        }
        co_return out;
    }

private:
    std::string opt(std::string_view name) const { return m_client.options().text(name); }
    int64_t integer(std::string_view name) const { return m_client.options().integer(name); }
    std::string path_of(std::string_view option, const std::string& id) const {
        auto p = opt(option);
        if (auto at = p.find("{id}"); at != std::string::npos) p.replace(at, 4, url_encode(id));
        return p;
    }
    bool iso() const { return opt("list.time") == "iso8601"; }
    kit::DistanceUnit unit() const {
        const auto u = opt("fields.distance_unit");
        return u == "m" ? kit::DistanceUnit::m : u == "km" ? kit::DistanceUnit::km : kit::DistanceUnit::mi;
    }
    Error bad_answer(std::string_view what, std::string_view expected) const {
        return Error::transient(m_client.code("bad_answer"),
                                fmt::format("{} answered the {} without {}", k_platform.title, what, expected));
    }

    Task<kit::WindowPage> fetch_window(kit::WindowCursor w, net::Priority priority) {
        const bool paged = !opt("list.page").empty();
        int64_t page = integer("list.first_page");
        if (!w.position.empty() &&
            std::from_chars(w.position.data(), w.position.data() + w.position.size(), page).ec != std::errc())
            co_return Error::permanent(m_client.code("bad_cursor"), "not a page number: " + w.position);
        auto rows = co_await fetch_list(w.since, w.until, page, priority);
        if (!rows) co_return rows.error();
        kit::WindowPage out{.items = std::move(rows->items)};
        if (paged && rows->rows >= static_cast<size_t>(integer("list.page_size")))
            out.next_position = std::to_string(page + 1);
        co_return out;
    }

    // Every page of [since, until) (find_existing).
    Task<std::vector<RemoteActivity>> list_range(double since, double until) {
        std::vector<RemoteActivity> all;
        for (int64_t page = integer("list.first_page");; ++page) {
            auto rows = co_await fetch_list(since, until, page, net::Priority::live);
            if (!rows) co_return rows.error();
            for (auto& i : rows->items) all.push_back(std::move(i));
            if (opt("list.page").empty() || rows->rows < static_cast<size_t>(integer("list.page_size"))) break;
        }
        co_return all;
    }

    Task<Rows> fetch_list(double since, std::optional<double> until, int64_t page, net::Priority priority) {
        kit::Call call{.path = opt("list.path"), .what = "activity list", .priority = priority};
        call.query = url_encode(opt("list.after")) + "=" + url_encode(time_text(since));
        if (until) call.query += "&" + url_encode(opt("list.before")) + "=" + url_encode(time_text(*until));
        if (!opt("list.page").empty()) call.query += fmt::format("&{}={}", url_encode(opt("list.page")), page);
        if (!opt("list.per_page").empty())
            call.query += fmt::format("&{}={}", url_encode(opt("list.per_page")), integer("list.page_size"));
        auto doc = co_await m_client.call_json(std::move(call));
        if (!doc) co_return doc.error();
        const auto items = opt("list.items");
        const auto* array = kit::json_at(*doc, items);
        if (array == nullptr || !array->IsArray())
            co_return bad_answer("activity list", items.empty() ? "a JSON array" : "an array at '" + items + "'");
        Rows out;
        for (const auto& a : array->GetArray()) {
            ++out.rows;
            auto item = activity_of(a);
            if (!item) continue;
            if (!item->start_time) {
                auto full = co_await details(item->remote_id, priority);
                if (!full) co_return full.error();
                item = std::move(*full);
            }
            out.items.push_back(std::move(*item));
        }
        co_return out;
    }

    // A list row that names only an id gets its metadata from get.path.
    Task<RemoteActivity> details(const std::string& id, net::Priority priority) {
        kit::Call call{
            .path = path_of("get.path", id), .what = fmt::format("details of activity {}", id), .priority = priority};
        auto doc = co_await m_client.call_json(std::move(call));
        if (!doc) co_return doc.error();
        auto item = activity_of(*doc);
        if (!item || !item->start_time)
            co_return bad_answer(fmt::format("details of activity {}", id), "its id and start time");
        co_return std::move(*item);
    }

    std::optional<RemoteActivity> activity_of(const rapidjson::Value& a) const {
        if (!a.IsObject()) return std::nullopt;
        auto id = kit::id_at(a, opt("fields.id"));
        if (!id || id->empty()) return std::nullopt;
        RemoteActivity item{.remote_id = *id, .name = kit::string_at(a, opt("fields.name")).value_or("")};
        item.origin = m_client.settings().base_url + path_of("get.path", *id);
        if (const auto* t = field(a, "fields.start")) item.start_time = kit::time_of(*t);
        if (const auto* d = field(a, "fields.duration"))
            item.elapsed_s = d->IsNumber()   ? std::optional(d->GetDouble())
                             : d->IsString() ? kit::parse_duration(d->GetString())
                                             : std::nullopt;
        if (const auto* d = field(a, "fields.distance"); d && d->IsNumber())
            item.distance_m = kit::to_meters(d->GetDouble(), unit());
        if (const auto* s = field(a, "fields.sport"); s && s->IsString())
            item.sport_family = kit::family_of(k_sports, s->GetString());
        if (opt("file.path").empty()) item.unavailable_reason = std::string(k_no_file);
        return item;
    }
    const rapidjson::Value* field(const rapidjson::Value& a, std::string_view option) const {
        const auto name = opt(option);
        return name.empty() ? nullptr : kit::json_at(a, name);
    }

    std::string time_text(double t) const {
        return iso() ? kit::local_seconds(t) + "Z" : fmt::format("{}", static_cast<int64_t>(std::floor(t)));
    }

    // The create body of the contract: name, sport word, start, duration and
    // distance under the account's field names (empty names left out).
    std::string create_body(const std::string& name, const formats::Summary& s) const {
        json::Builder b;
        b.w.StartObject();
        auto key = [&](std::string_view option) {
            const auto n = opt(option);
            if (!n.empty()) b.key(n);
            return !n.empty();
        };
        if (key("fields.name")) b.string(name);
        if (s.sport_family && key("fields.sport"))
            b.string(kit::platform_sport(k_sports, *s.sport_family).value_or(*s.sport_family));
        if (key("fields.start")) {
            if (iso())
                b.string(time_text(*s.start_time));
            else
                b.number(std::floor(*s.start_time));
        }
        if (const auto d = s.total_elapsed_time ? s.total_elapsed_time : s.total_timer_time;
            d && key("fields.duration"))
            b.number(std::round(*d));
        if (s.total_distance && key("fields.distance"))
            b.number(std::round(*s.total_distance / kit::to_meters(1, unit()) * 1000) / 1000);
        b.w.EndObject();
        return b.str();
    }

    Task<void> update_field(const std::string& id, std::string_view option, const std::string& value) {
        const auto name = opt(option);
        if (name.empty())
            co_return Error::permanent(
                m_client.code("unmapped"),
                fmt::format("account {} maps no field for this ({} is empty)", account_id(), option));
        json::Builder b;
        b.w.StartObject();
        b.key(name);
        b.string(value);
        b.w.EndObject();
        kit::Call call{.method = opt("update.method"), .path = path_of("update.path", id), .body = b.str()};
        call.headers.emplace_back("Content-Type", "application/json");
        call.what = fmt::format("update of activity {}", id);
        auto r = co_await m_client.call(std::move(call));
        if (!r) co_return r.error();
        co_return Result<void>{};
    }

    kit::PlatformClient m_client;
    kit::Watermark m_watermark;
    double m_tolerance;
};

}  // namespace

Factory factory() {
    return kit::make_factory<k_platform, k_options, Impl>(
        "a platform following the \"Becoming a provider\" contract, mapped by options: list, download, upload, "
        "rename, gear",
        k_caps);
}

}  // namespace fitbridge::providers::rest
