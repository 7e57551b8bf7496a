#include "providers/trainitall/trainitall.hpp"

#include <cmath>
#include <cstdlib>
#include <set>

#include <fmt/format.h>

#include "core/time.hpp"
#include "formats/gzip.hpp"
#include "json/json.hpp"
#include "net/url.hpp"
#include "providers/kit/factory.hpp"
#include "providers/kit/files.hpp"
#include "providers/kit/listing.hpp"
#include "providers/kit/mapping.hpp"
#include "providers/kit/platform.hpp"
#include "providers/kit/upload.hpp"

namespace fitbridge::providers::trainitall {

using net::url_encode;

namespace {

constexpr uint32_t k_caps = k_list_window | k_download | k_upload | k_create_metadata;
constexpr std::string_view k_api = "/api/external/v1";

constexpr OptionSpec k_options[] = {
    integer_option("page_size", "100", 1, 100, "activities per list request (per_page)", "a number"),
    integer_option("overlap_days", "3", 0, 365, "trailing days re-listed by incremental polls",
                   "a whole number of days"),
};

constexpr kit::SportName k_sports[] = {
    {"RUN", "run"}, {"RIDE", "ride"}, {"SWIM", "swim"}, {"WALK", "walk"},         {"HIKE", "hike"},
    {"ROW", "row"}, {"SKI", "ski"},   {"YOGA", "yoga"}, {"STRENGTH", "strength"}, {"OTHER", "other"},
};

const kit::Platform k_platform{
    .name = "trainitall",
    .title = "Train it All",
    .base_url = "https://trainitall.com",
    // Tokens are always the OAuth client's (refreshing needs its client_id);
    // they may come from fitbridge auth or POST /v1/accounts/ID/credentials.
    .credential_modes = kit::k_oauth_app,
    .stored_kinds = "oauth2",
    .stored_kinds_help = "OAuth tokens (kind oauth2)",
    .authorize_path = "/oauth/authorize",
    .token_path = "/api/oauth/token",
    .oauth_scope = "profile:read activities:read activities:write",
    .public_client = true,
    .token_basic_auth = true,
    // A resent FIT upload is recognised (SHA-256), a resent JSON create is
    // not: a lost answer is settled by find_existing instead.
    .retry_writes = false,
};

// A page of the list: the activities, their externalIds, and whether the
// platform has more (and the oldest start, which ends a window's walk).
struct Page {
    std::vector<RemoteActivity> items;
    std::vector<std::pair<std::string, std::string>> external_ids;  // remote id -> externalId
    bool has_next = false;
    std::optional<double> oldest;
};

class Impl final : public Provider {
public:
    Impl(kit::Settings settings, const Context& context)
        : m_client(k_platform, std::move(settings), context),
          m_watermark(context.cursors, m_client.account_id()),
          m_page_size(static_cast<int>(m_client.options().integer("page_size"))) {
        m_client.set_status_hook([](const net::HttpResponse& r, std::string_view what, const std::string& msg) {
            return documented_error(r, what, msg);
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
        if (item.unavailable_reason) co_return Error::permanent("trainitall.unavailable", *item.unavailable_reason);
        kit::Call call{.path = fmt::format("{}/activities/{}/fit", k_api, url_encode(item.remote_id)),
                       .what = fmt::format("FIT download of activity {}", item.remote_id),
                       .priority = item.backfill ? net::Priority::backfill : net::Priority::live};
        auto r = co_await kit::fetch_file(m_client, std::move(call), "activity " + item.remote_id);
        if (!r && r.error().code == "trainitall.not_found") {
            // Activities entered by hand or created from JSON have no FIT:
            // the next listing offers them as unavailable.
            m_no_file.insert(item.remote_id);
            co_return Error::permanent("trainitall.unavailable", no_fit(item.remote_id));
        }
        co_return r;
    }

    Task<UploadResult> upload(const UploadRequest& request) override {
        if (request.bytes.empty()) co_return co_await create(request);
        auto ext = kit::file_extension(request.bytes);
        if (!ext)
            co_return Error::permanent("trainitall.bad_file",
                                       "cannot upload to Train it All: the file is not FIT, TCX or GPX");
        // Train it All imports FIT files only; any other original becomes an
        // activity from its summary, as for an activity without a file.
        if (*ext != "fit" && *ext != "fit.gz") co_return co_await create(request);
        std::vector<uint8_t> inflated;
        std::span<const uint8_t> fit = request.bytes;
        if (*ext == "fit.gz") {
            auto g = formats::gunzip(request.bytes, kit::k_max_unpacked);
            if (!g.error.empty())
                co_return Error::permanent("trainitall.bad_file", "cannot unpack the gzipped FIT file: " + g.error);
            inflated = std::move(g.payload);
            fit = inflated;
        }
        kit::Call call{.method = "POST", .path = fmt::format("{}/fit-files", k_api), .what = "upload"};
        const std::string file_name =
            (request.external_id.empty() ? std::string("activity") : request.external_id) + ".fit";
        kit::set_multipart(call, {}, net::MultipartFile{"file", file_name, "application/octet-stream"}, fit);
        auto r = co_await m_client.send(std::move(call));
        if (!r) co_return r.error();
        auto doc = json::parse(r->body);
        if (r->status < 200 || r->status >= 300) {
            // "already exists" (the SHA-256 is known): the activity is there.
            const std::string text = kit::body_message(r->body);
            if (doc && doc->IsObject() && text.find("already exists") != std::string::npos)
                for (const char* path : {"details.existingActivityId", "details.activityId", "id"})
                    if (auto id = kit::id_at(*doc, path); id && !id->empty())
                        co_return UploadResult{.remote_id = *id, .duplicate = true};
            co_return m_client.status_error(*r, "upload");
        }
        auto id = doc && doc->IsObject() ? kit::id_at(*doc, "id") : std::nullopt;
        if (!id || id->empty())
            co_return Error::transient("trainitall.upload_unconfirmed",
                                       fmt::format("Train it All answered the upload without the activity's id: {}",
                                                   kit::body_message(r->body)));
        const auto* dup = kit::json_at(*doc, "duplicate");
        co_return UploadResult{.remote_id = *id, .duplicate = dup != nullptr && dup->IsBool() && dup->GetBool()};
    }

    Task<std::optional<std::string>> find_existing(const UploadRequest& request) override {
        if (request.summary == nullptr || !request.summary->start_time) co_return std::optional<std::string>{};
        const double tolerance = kit::match_tolerance(&m_client.config());
        const double start = *request.summary->start_time;
        std::vector<RemoteActivity> near;
        for (int page = 1;; ++page) {
            auto p = co_await fetch_page(page, net::Priority::live);
            if (!p) co_return p.error();
            if (!request.external_id.empty())
                for (const auto& [id, ext] : p->external_ids)
                    if (ext == request.external_id) co_return std::optional<std::string>(id);
            for (auto& item : p->items)
                if (item.start_time && std::abs(*item.start_time - start) <= tolerance) near.push_back(std::move(item));
            // Newest first: a page reaching before the window ends the walk.
            if (!p->has_next || (p->oldest && *p->oldest < start - tolerance)) break;
        }
        co_return kit::pick_by_start(request, near, tolerance);
    }

private:
    static std::string no_fit(const std::string& id) {
        return fmt::format("Train it All has no FIT file for activity {}", id);
    }

    // Train it All's error body {error, errorCode, hint, details}: the error
    // and the hint make the line (the kit words the class and the call).
    static std::optional<Error> documented_error(const net::HttpResponse& r, std::string_view what,
                                                 const std::string& msg) {
        if (r.status != 400 && r.status != 409 && r.status != 413) return std::nullopt;
        auto doc = json::parse(r.body);
        if (!doc || !doc->IsObject()) return std::nullopt;
        std::string line = msg;
        if (auto code = kit::string_at(*doc, "errorCode")) line += fmt::format(" [{}]", *code);
        if (auto hint = kit::string_at(*doc, "hint"); hint && !hint->empty()) line += " " + *hint;
        if (const auto* missing = kit::json_at(*doc, "details.missingFields");
            missing != nullptr && missing->IsArray() && !missing->Empty()) {
            std::string names;
            for (const auto& m : missing->GetArray())
                if (m.IsString()) names += (names.empty() ? "" : ", ") + std::string(m.GetString());
            line += " (missing: " + names + ")";
        }
        return Error::permanent("trainitall.rejected",
                                fmt::format("Train it All rejected the {} ({} {})", what, r.status, line));
    }

    // A JSON create from the summary, after making sure it is not there yet
    // (a create is not de-duplicated by the platform).
    Task<UploadResult> create(const UploadRequest& request) {
        if (request.summary == nullptr || !request.summary->start_time)
            co_return Error::permanent("trainitall.no_summary",
                                       "cannot create the activity on Train it All: its start time is unknown");
        auto existing = co_await find_existing(request);
        if (!existing) co_return existing.error();
        if (*existing) co_return UploadResult{.remote_id = **existing, .duplicate = true};
        kit::Call call{.method = "POST", .path = fmt::format("{}/activities", k_api), .what = "activity create"};
        call.headers.emplace_back("Content-Type", "application/json");
        call.body = create_body(request.name, *request.summary, request.external_id);
        auto doc = co_await m_client.call_json(std::move(call));
        if (!doc) co_return doc.error();
        auto id = kit::id_at(*doc, "id");
        if (!id || id->empty())
            co_return Error::transient("trainitall.upload_unconfirmed",
                                       "Train it All answered the activity create without the activity's id");
        co_return UploadResult{.remote_id = *id};
    }

    // One page of a window. The list has no date filter: pages run newest
    // first and the walk ends at the first page reaching before the window.
    Task<kit::WindowPage> fetch_window(kit::WindowCursor w, net::Priority priority) {
        const int page = w.position.empty() ? 1 : std::max(1, std::atoi(w.position.c_str()));
        auto p = co_await fetch_page(page, priority);
        if (!p) co_return p.error();
        kit::WindowPage out{.items = std::move(p->items)};
        if (p->has_next && !(p->oldest && *p->oldest < w.since)) out.next_position = std::to_string(page + 1);
        co_return out;
    }

    Task<Page> fetch_page(int page, net::Priority priority) {
        kit::Call call{.path = fmt::format("{}/activities", k_api),
                       .query = fmt::format("page={}&per_page={}", page, m_page_size),
                       .what = "activity list",
                       .priority = priority};
        auto doc = co_await m_client.call_json(std::move(call));
        if (!doc) co_return doc.error();
        const auto* items = kit::json_at(*doc, "items");
        if (items == nullptr || !items->IsArray())
            co_return Error::transient("trainitall.bad_answer",
                                       "Train it All answered the activity list without items");
        Page out;
        const auto* more = kit::json_at(*doc, "pagination.hasNextPage");
        out.has_next = more != nullptr && more->IsBool() && more->GetBool();
        for (const auto& a : items->GetArray()) {
            if (!a.IsObject()) continue;
            auto id = kit::id_at(a, "id");
            if (!id || id->empty()) continue;
            RemoteActivity item{.remote_id = *id, .name = kit::string_at(a, "title").value_or("")};
            item.origin = fmt::format("{}/activities/{}", m_client.settings().base_url, *id);
            if (const auto* start = kit::json_at(a, "startedAt")) item.start_time = kit::time_of(*start);
            item.elapsed_s = kit::number_at(a, "durationSec");
            item.distance_m = kit::number_at(a, "distanceM");
            if (auto type = kit::string_at(a, "type")) item.sport_family = sport_family_for(*type);
            if (m_no_file.contains(*id)) item.unavailable_reason = no_fit(*id);
            if (auto ext = kit::string_at(a, "externalId"); ext && !ext->empty())
                out.external_ids.emplace_back(*id, *ext);
            if (item.start_time && (!out.oldest || *item.start_time < *out.oldest)) out.oldest = item.start_time;
            out.items.push_back(std::move(item));
        }
        co_return out;
    }

    kit::PlatformClient m_client;
    kit::Watermark m_watermark;
    int m_page_size;
    std::set<std::string> m_no_file;  // activities whose FIT download answered 404
};

}  // namespace

std::optional<std::string> sport_family_for(std::string_view type) { return kit::family_of(k_sports, type); }

std::string create_body(const std::string& name, const formats::Summary& s, const std::string& external_id) {
    json::Builder b;
    b.w.StartObject();
    if (!name.empty()) {
        b.key("title");
        b.string(name);
    }
    b.key("type");
    b.string(kit::platform_sport(k_sports, s.sport_family.value_or("other")).value_or("OTHER"));
    b.key("startedAt");
    b.string(format_iso8601(s.start_time.value_or(0)));
    if (const auto d = s.total_elapsed_time ? s.total_elapsed_time : s.total_timer_time) {
        b.key("durationMin");
        b.number(std::round(*d / 60.0 * 100) / 100);
    }
    if (s.total_distance) {
        b.key("distanceKm");
        b.number(std::round(*s.total_distance) / 1000);
    }
    for (const auto& [key, value] :
         {std::pair{"avgHr", s.avg_hr}, std::pair{"maxHr", s.max_hr}, std::pair{"avgPower", s.avg_power}})
        if (value) {
            b.key(key);
            b.number(std::round(*value));
        }
    if (!external_id.empty()) {
        b.key("externalId");
        b.string(external_id);
    }
    b.w.EndObject();
    return b.str();
}

Factory factory() {
    return kit::make_factory<k_platform, k_options, Impl>(
        "Train it All (OAuth2 + PKCE, rotating refresh tokens): list, download FIT, upload FIT, create from a "
        "summary",
        k_caps);
}

}  // namespace fitbridge::providers::trainitall
