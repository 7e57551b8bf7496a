#include "providers/intervals_icu/intervals_icu.hpp"

#include <fmt/format.h>

#include "json/json.hpp"
#include "net/url.hpp"
#include "providers/kit/factory.hpp"
#include "providers/kit/files.hpp"
#include "providers/kit/listing.hpp"
#include "providers/kit/mapping.hpp"
#include "providers/kit/platform.hpp"
#include "providers/kit/upload.hpp"

namespace fitbridge::providers::intervals_icu {

using net::url_encode;

namespace {

constexpr uint32_t k_caps = k_list_window | k_download | k_upload | k_update_name | k_update_description |
                            k_update_sport | k_update_gear | k_list_gear;
// The API takes the athlete's *local* dates; UTC offsets span -12 h..+14 h,
// so windows are widened by this much and filtered on the UTC start_date.
constexpr double k_tz_slack_s = 14 * 3600;
// find_existing: the window listed around an upload's start, and how close a
// listed start must be to count as the same activity.
constexpr double k_find_window_s = 300;
constexpr double k_same_start_s = 60;
constexpr std::string_view k_list_fields =
    "id,name,start_date,start_date_local,type,elapsed_time,distance,source,external_id";
constexpr std::string_view k_stub_reason = "Strava-sourced activity: Intervals.icu does not provide it through its API";

constexpr OptionSpec k_options[] = {
    text_option("athlete_id", "0", "the athlete (0: the key's owner)",
                "must not be empty (0 means the key's own athlete)"),
    integer_option("overlap_days", "3", 0, 365, "trailing days re-listed by incremental polls",
                   "a whole number of days"),
    integer_option("page_size", "200", 1, 1000, "activities per list request", "a number"),
    kit::k_gear_map_option,
};

// Intervals.icu activity types for FitBridge's families (update_sport).
constexpr kit::SportName k_sports[] = {
    {"Ride", "ride"}, {"Run", "run"},     {"Swim", "swim"},     {"Walk", "walk"},
    {"Hike", "hike"}, {"Rowing", "row"},  {"NordicSki", "ski"}, {"WeightTraining", "strength"},
    {"Yoga", "yoga"}, {"Other", "other"},
};

std::string api_key_header(std::string_view key) { return "Basic " + net::base64("API_KEY:" + std::string(key)); }

const kit::Platform k_platform{
    .name = "intervals_icu",
    .title = "Intervals.icu",
    .base_url = "https://intervals.icu",
    .credential_modes = kit::k_api_key_file | kit::k_token_file | kit::k_stored | kit::k_oauth_app,
    .api_key_help = "a file holding the API key from intervals.icu/settings",
    .only_one_help =
        "an API key uses Basic auth, an OAuth token Bearer; stored credentials come from fitbridge auth "
        "or the API",
    .stored_kinds = "api_key,token,oauth2",
    .stored_kinds_help = "an api_key or a token (OAuth bearer)",
    .authorize_path = "/oauth/authorize",
    .token_path = "/api/oauth/token",
    .oauth_scope = "ACTIVITY:WRITE",
    .api_key_authorization = &api_key_header,
    // About 10 requests/s per IP (§4.4). Retrying an upload is safe: the
    // platform de-duplicates by a hash of the file.
    .requests_per_second = 10,
    .burst = 10,
};

struct Page {
    std::vector<RemoteActivity> items;
    std::vector<std::pair<std::string, std::string>> external_ids;  // remote id -> external_id
    std::optional<std::string> oldest_local;                        // start_date_local of the oldest row returned
    std::vector<std::string> oldest_ids;                            // ids of the rows with that start
    size_t rows = 0;
};

class Impl final : public IntervalsIcuProvider {
public:
    Impl(kit::Settings settings, const Context& context)
        : m_client(k_platform, std::move(settings), context),
          m_watermark(context.cursors, m_client.account_id(), "watermark",
                      context.state_dir.empty()
                          ? std::filesystem::path()
                          : context.state_dir / "intervals_icu" / (m_client.account_id() + ".watermark")),
          m_athlete(url_encode(m_client.options().text("athlete_id"))),
          m_page_size(static_cast<int>(m_client.options().integer("page_size"))) {
        m_client.set_status_hook([this](const net::HttpResponse& r, std::string_view what, const std::string& msg) {
            return forbidden(r, what, msg);
        });
    }

    std::string_view account_id() const override { return m_client.account_id(); }
    uint32_t capabilities() const override { return k_caps; }
    std::string_view platform_name() const override { return k_platform.title; }
    std::optional<CredentialSource> credential_source() const override { return m_client.credential_source(); }

    Task<ListPage> list(const ListQuery& query) override {
        const double overlap = static_cast<double>(m_client.options().integer("overlap_days")) * 86400.0;
        const auto priority = query.backfill ? net::Priority::backfill : net::Priority::live;
        co_return co_await kit::list_window(
            query, m_watermark, m_client.now(), overlap, k_platform.name,
            [this, priority](const kit::WindowCursor& w) { return fetch_window(w, priority); });
    }

    Task<std::string> download(const RemoteActivity& item) override {
        if (item.unavailable_reason) co_return Error::permanent("intervals_icu.unavailable", *item.unavailable_reason);
        kit::Call call{.path = fmt::format("/api/v1/activity/{}/file", url_encode(item.remote_id)),
                       .what = fmt::format("download of activity {}", item.remote_id),
                       .priority = item.backfill ? net::Priority::backfill : net::Priority::live};
        // No Accept header: the file endpoint answers octet-stream, and a
        // Spring server may refuse (406) an Accept it cannot produce.
        co_return co_await kit::fetch_file(m_client, std::move(call), "activity " + item.remote_id);
    }

    Task<UploadResult> upload(const UploadRequest& request) override {
        auto ext = kit::file_extension(request.bytes);
        if (!ext)
            co_return Error::permanent("intervals_icu.bad_file",
                                       "cannot upload to Intervals.icu: the file is not FIT, TCX or GPX");
        // name/external_id are query parameters in the API (spec uploadActivity).
        kit::Call call{.method = "POST", .path = fmt::format("/api/v1/athlete/{}/activities", m_athlete)};
        call.what = "upload";
        if (!request.name.empty()) call.query += "name=" + url_encode(request.name);
        if (!request.external_id.empty())
            call.query +=
                (call.query.empty() ? "" : "&") + std::string("external_id=") + url_encode(request.external_id);
        const std::string file_name =
            fmt::format("{}.{}", request.external_id.empty() ? std::string("activity") : request.external_id, *ext);
        kit::set_multipart(call, {}, net::MultipartFile{"file", file_name, "application/octet-stream"}, request.bytes);
        auto r = co_await m_client.call(std::move(call));
        if (!r) co_return r.error();
        UploadResult out;
        // 201: at least one activity created; 200: every activity in the file
        // was a duplicate (the API de-duplicates by a hash of the file).
        out.duplicate = r->status == 200;
        if (auto doc = json::parse(r->body); doc && doc->IsObject())
            out.remote_id = kit::string_at(*doc, "id").value_or(kit::string_at(*doc, "activities.0.id").value_or(""));
        if (out.remote_id.empty()) {
            // No id in the answer: read the activity back by its start/external id.
            auto found = co_await find_existing(request);
            if (!found) co_return found.error();
            if (!*found)
                co_return Error::transient("intervals_icu.upload_unconfirmed",
                                           "Intervals.icu accepted the upload but the activity is not listed yet");
            out.remote_id = **found;
        }
        if (!out.duplicate) co_await kit::apply_gear_map(*this, m_client.options(), out.remote_id, request);
        co_return out;
    }

    Task<std::optional<std::string>> find_existing(const UploadRequest& request) override {
        if (request.summary == nullptr || !request.summary->start_time) co_return std::optional<std::string>{};
        const double start = *request.summary->start_time;
        auto page = co_await fetch_page(kit::local_seconds(start - k_find_window_s - k_tz_slack_s),
                                        kit::local_seconds(start + k_find_window_s + k_tz_slack_s), 0);
        if (!page) co_return page.error();
        if (!request.external_id.empty())
            for (const auto& [id, ext] : page->external_ids)
                if (ext == request.external_id) co_return std::optional<std::string>(id);
        co_return kit::pick_by_start(request, page->items, k_same_start_s);
    }

    Task<void> update_name(const std::string& id, const std::string& name) override {
        const ActivityUpdate u{.name = name};  // (not a temporary inside co_await: GCC 12)
        co_return co_await update_activity(id, u);
    }
    Task<void> update_description(const std::string& id, const std::string& text) override {
        const ActivityUpdate u{.description = text};  // (not a temporary inside co_await: GCC 12)
        co_return co_await update_activity(id, u);
    }
    Task<void> update_sport(const std::string& id, const std::string& family) override {
        auto type = kit::platform_sport(k_sports, family);
        if (!type)
            co_return Error::permanent("intervals_icu.sport",
                                       fmt::format("Intervals.icu has no activity type for sport '{}'", family));
        const ActivityUpdate u{.type = *type};
        co_return co_await update_activity(id, u);
    }
    Task<void> update_gear(const std::string& id, const std::string& gear_id) override {
        const ActivityUpdate u{.gear_id = gear_id};  // (not a temporary inside co_await: GCC 12)
        co_return co_await update_activity(id, u);
    }

    Task<void> update_activity(const std::string& remote_id, const ActivityUpdate& update) override {
        if (!update.name && !update.description && !update.type && !update.gear_id) co_return Result<void>{};
        json::Builder b;
        b.w.StartObject();
        for (const auto& [key, v] : {std::pair{"name", &update.name}, std::pair{"description", &update.description},
                                     std::pair{"type", &update.type}}) {
            if (!*v) continue;
            b.key(key);
            b.string(**v);
        }
        if (update.gear_id) {
            b.key("gear");
            b.w.StartObject();
            b.field("id", *update.gear_id);
            b.w.EndObject();
        }
        b.w.EndObject();
        kit::Call call{.method = "PUT", .path = fmt::format("/api/v1/activity/{}", url_encode(remote_id))};
        call.headers.emplace_back("Content-Type", "application/json");
        call.body = b.str();
        call.what = fmt::format("update of activity {}", remote_id);
        auto r = co_await m_client.call(std::move(call));
        if (!r) co_return r.error();
        co_return Result<void>{};
    }

    Task<std::vector<Gear>> list_gear() override {
        kit::Call call{.path = fmt::format("/api/v1/athlete/{}/gear", m_athlete), .what = "gear list"};
        auto r = co_await m_client.call(std::move(call));
        if (!r) co_return r.error();
        auto doc = json::parse(r->body);
        if (!doc || !doc->IsArray())
            co_return Error::transient("intervals_icu.bad_answer",
                                       "Intervals.icu answered the gear list with something that is not a JSON array");
        std::vector<Gear> out;
        for (const auto& g : doc->GetArray()) {
            if (!g.IsObject()) continue;
            Gear x{json::get_string(g, "id").value_or(""), json::get_string(g, "name").value_or(""),
                   json::get_string(g, "type").value_or(""), json::get_string(g, "retired").has_value()};
            if (!x.id.empty()) out.push_back(std::move(x));
        }
        co_return out;
    }

private:
    // Intervals.icu's 403 is an auth problem (an API key sent as a Bearer
    // token gets "Access denied"); the message says which one (§4.4).
    std::optional<Error> forbidden(const net::HttpResponse& r, std::string_view what, const std::string& msg) const {
        if (r.status != 403) return std::nullopt;
        const auto mode = m_client.settings().mode;
        const std::string why =
            mode == kit::k_token_file
                ? "a personal API key must be configured with api_key_file (sent as Basic API_KEY:<key>); token_file "
                  "is only for OAuth tokens"
            : (mode == kit::k_stored || mode == kit::k_oauth_app) && m_client.stored_kind() != "api_key"
                ? "the stored token is not an OAuth token it accepts (a personal API key is stored with kind api_key)"
                : fmt::format("the key has no access to athlete {}", m_client.options().text("athlete_id"));
        return Error::auth("intervals_icu.forbidden",
                           fmt::format("Intervals.icu denied the {} (403 {}): {}", what, msg, why));
    }

    // One page of a window. No page parameter: the next page is the same
    // window with `newest` moved down to the oldest start seen. That second
    // is listed again, so its ids ride along to be skipped; if a whole page
    // shares it, step one second past it so listing moves.
    Task<kit::WindowPage> fetch_window(kit::WindowCursor w, net::Priority priority) {
        const std::string newest = !w.position.empty() ? w.position
                                   : w.until           ? kit::local_seconds(*w.until + k_tz_slack_s)
                                                       : std::string();
        auto page = co_await fetch_page(kit::local_seconds(w.since - k_tz_slack_s), newest, m_page_size, priority);
        if (!page) co_return page.error();
        kit::WindowPage out{.items = std::move(page->items)};
        if (page->rows >= static_cast<size_t>(m_page_size) && page->oldest_local) {
            out.next_position = *page->oldest_local;
            out.boundary_ids = std::move(page->oldest_ids);
            if (*out.next_position == newest) {
                out.next_position = kit::local_seconds(kit::parse_time(newest).value_or(0) - 1);
                out.boundary_ids.clear();
            }
        }
        co_return out;
    }

    // Lists one request's worth of activities in [oldest, newest] (local
    // date-times; empty newest = now), descending as the API returns them.
    Task<Page> fetch_page(const std::string& oldest, const std::string& newest, int limit,
                          net::Priority priority = net::Priority::live) {
        kit::Call call{.path = fmt::format("/api/v1/athlete/{}/activities", m_athlete),
                       .query = "oldest=" + url_encode(oldest)};
        if (!newest.empty()) call.query += "&newest=" + url_encode(newest);
        if (limit > 0) call.query += fmt::format("&limit={}", limit);
        // Only what listing reads: a full activity has ~180 properties.
        call.query += "&fields=" + std::string(k_list_fields);
        call.what = "activity list";
        call.priority = priority;
        auto r = co_await m_client.call(std::move(call));
        if (!r) co_return r.error();
        auto doc = json::parse(r->body);
        if (!doc || !doc->IsArray())
            co_return Error::transient("intervals_icu.bad_answer",
                                       fmt::format("Intervals.icu answered the activity list with something that is "
                                                   "not a JSON array: {}",
                                                   kit::body_message(r->body)));
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
            RemoteActivity item{.remote_id = *id, .name = json::get_string(a, "name").value_or("")};
            item.origin = fmt::format("{}/activities/{}", m_client.settings().base_url, *id);
            if (auto utc = json::get_string(a, "start_date")) item.start_time = kit::parse_time(*utc);
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

    kit::PlatformClient m_client;
    kit::Watermark m_watermark;
    std::string m_athlete;  // url-encoded
    int m_page_size;
};

}  // namespace

std::optional<std::string> sport_family_for_type(std::string_view type) { return kit::family_of(k_sports, type); }

Factory factory() {
    return kit::make_factory<k_platform, k_options, Impl>(
        "Intervals.icu (API key or OAuth): list, download, upload, rename, gear", k_caps);
}

}  // namespace fitbridge::providers::intervals_icu
