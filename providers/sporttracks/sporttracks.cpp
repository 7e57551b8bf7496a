#include "providers/sporttracks/sporttracks.hpp"

#include <fmt/format.h>

#include <cmath>
#include <map>

#include "core/time.hpp"
#include "formats/gzip.hpp"
#include "json/json.hpp"
#include "net/oauth.hpp"
#include "net/url.hpp"
#include "providers/kit/factory.hpp"
#include "providers/kit/files.hpp"
#include "providers/kit/listing.hpp"
#include "providers/kit/mapping.hpp"
#include "providers/kit/platform.hpp"
#include "providers/kit/track.hpp"
#include "providers/kit/upload.hpp"

namespace fitbridge::providers::sporttracks {

using net::url_encode;

namespace {

constexpr uint32_t k_caps = k_list_window | k_download | k_upload | k_create_metadata | k_update_name;
constexpr std::string_view k_workouts = "/api/v2/fitnessActivities";
constexpr std::string_view k_no_samples =
    "the workout has no recorded samples (entered by hand): SportTracks serves no file for it";

constexpr OptionSpec k_options[] = {
    integer_option("page_size", "100", 1, 1000, "workouts per list request", "a number"),
    integer_option("overlap_days", "3", 0, 365, "trailing days re-listed by incremental polls",
                   "a whole number of days"),
};

constexpr kit::SportName k_sports[] = {
    {"Running", "run"}, {"Cycling", "ride"}, {"Swimming", "swim"}, {"Walking", "walk"},
    {"Hiking", "hike"}, {"Rowing", "row"},   {"Skiing", "ski"},    {"Strength Training", "strength"},
    {"Yoga", "yoga"},   {"Other", "other"},
};

const kit::Platform k_platform{
    .name = "sporttracks",
    .title = "SportTracks",
    .base_url = "https://api.sporttracks.mobi",
    .credential_modes = kit::k_oauth_app | kit::k_stored | kit::k_token_file,
    .only_one_help = "an OAuth app (fitbridge auth), stored OAuth2 tokens or a token file",
    .stored_kinds = "oauth2,token",
    .stored_kinds_help = "OAuth2 tokens (kind oauth2) or a bearer token",
    .authorize_path = "/oauth2/authorize",
    .token_path = "/oauth2/token",
    // Nothing is published about limits: polite pacing. A file import whose
    // answer was lost is not sent again (no de-duplication): find_existing decides.
    .requests_per_second = 5,
    .burst = 5,
    .retry_writes = false,
};

// The id of a workout URI ".../fitnessActivities/123" (or "fitnessActivity/123").
std::string id_of(std::string_view uri) {
    while (!uri.empty() && uri.back() == '/') uri.remove_suffix(1);
    const auto slash = uri.rfind('/');
    return std::string(slash == std::string_view::npos ? uri : uri.substr(slash + 1));
}

}  // namespace

std::string workout_tcx(const rapidjson::Value& w) {
    const auto* start_value = w.IsObject() ? kit::json_at(w, "start_time") : nullptr;
    const auto start = start_value ? kit::time_of(*start_value) : std::nullopt;
    if (!start) return {};
    std::map<double, kit::TrackPoint> points;
    // Arrays of [offset, value, offset, value, ...]; values are numbers, numeric strings or [lat, lon].
    auto read = [&](const char* key, auto set) {
        const auto* a = kit::json_at(w, key);
        if (a == nullptr || !a->IsArray()) return;
        for (rapidjson::SizeType i = 0; i + 1 < a->Size(); i += 2) {
            const auto t = kit::number_at((*a)[i], "");
            if (t && *t >= 0) set(points[*t], (*a)[i + 1]);
        }
    };
    auto number_into = [](std::optional<double> kit::TrackPoint::*field) {
        return [field](kit::TrackPoint& p, const rapidjson::Value& v) { p.*field = kit::number_at(v, ""); };
    };
    read("location", [](kit::TrackPoint& p, const rapidjson::Value& v) {
        if (!v.IsArray() || v.Size() != 2) return;
        p.lat = kit::number_at(v[0], "");
        p.lon = kit::number_at(v[1], "");
    });
    read("elevation", number_into(&kit::TrackPoint::altitude_m));
    read("heartrate", number_into(&kit::TrackPoint::heart_rate));
    read("cadence", number_into(&kit::TrackPoint::cadence));
    read("power", number_into(&kit::TrackPoint::watts));
    read("distance", number_into(&kit::TrackPoint::distance_m));
    kit::Track track{.start = *start,
                     .family = kit::family_of(k_sports, kit::string_at(w, "type").value_or("")),
                     .distance_m = kit::number_at(w, "total_distance"),
                     .moving_s = kit::number_at(w, "duration")};
    for (auto& [t, p] : points) {
        p.offset_s = t;
        track.points.push_back(p);
    }
    auto tcx = kit::write_tcx(track);  // fails only without samples
    return tcx ? std::move(*tcx) : std::string{};
}

namespace {

class Impl final : public Provider {
public:
    Impl(kit::Settings settings, const Context& context)
        : m_client(k_platform, std::move(settings), context),
          m_watermark(context.cursors, m_client.account_id()),
          m_tolerance(kit::match_tolerance(context.config)),
          m_page_size(m_client.options().integer("page_size")) {}

    std::string_view account_id() const override { return m_client.account_id(); }
    uint32_t capabilities() const override { return k_caps; }
    std::string_view platform_name() const override { return k_platform.title; }
    std::optional<CredentialSource> credential_source() const override { return m_client.credential_source(); }

    Task<ListPage> list(const ListQuery& query) override {
        const double overlap = static_cast<double>(m_client.options().integer("overlap_days")) * 86400.0;
        const auto priority = query.backfill ? net::Priority::backfill : net::Priority::live;
        kit::FetchWindow fetch = [this, priority](const kit::WindowCursor& w) {
            return fetch_page(w.since, w.until, w.position, true, priority);
        };
        co_return co_await kit::list_window(query, m_watermark, m_client.now(), overlap, k_platform.name,
                                            std::move(fetch));
    }

    // The TCX the listing built, else built now from the workout's details.
    Task<std::string> download(const RemoteActivity& item) override {
        if (auto it = m_built.find(item.remote_id); it != m_built.end()) {
            auto tcx = std::move(it->second);
            m_built.erase(it);
            co_return tcx;
        }
        auto doc = co_await details(item.remote_id, item.backfill ? net::Priority::backfill : net::Priority::live);
        if (!doc) co_return doc.error();
        auto tcx = workout_tcx(*doc);
        if (tcx.empty()) co_return Error::permanent(m_client.code("unavailable"), std::string(k_no_samples));
        co_return tcx;
    }

    // SportTracks does not de-duplicate: a workout already there (by start and
    // sport) is a duplicate, and nothing is sent.
    Task<UploadResult> upload(const UploadRequest& request) override {
        auto existing = co_await find_existing(request);
        if (!existing) co_return existing.error();
        if (*existing) co_return UploadResult{.remote_id = **existing, .duplicate = true};
        kit::Call call{.method = "POST", .what = "upload"};
        call.headers.emplace_back("Content-Type", "application/json");
        const char* uris = "uris.0";
        if (request.bytes.empty()) {
            if (request.summary == nullptr || !request.summary->start_time)
                co_return Error::permanent(m_client.code("no_summary"),
                                           "cannot create the workout: its start time is unknown");
            call.path = k_workouts;
            call.body = workout_body(request.name, *request.summary);
        } else {
            auto file = file_body(request);
            if (!file) co_return file.error();
            call.path = "/api/v2/fileUpload";
            call.body = std::move(*file);
            uris = "fitnessActivities.uris.0";
        }
        auto doc = co_await m_client.call_json(std::move(call));
        if (!doc) co_return doc.error();
        auto uri = kit::string_at(*doc, uris);
        // Created or not, find_existing settles it when the engine retries.
        if (!uri || id_of(*uri).empty())
            co_return Error::transient(m_client.code("upload_unconfirmed"),
                                       "SportTracks answered the upload without the new workout's URI");
        co_return UploadResult{.remote_id = id_of(*uri)};
    }

    Task<std::optional<std::string>> find_existing(const UploadRequest& request) override {
        kit::ListWindow list = [this](double since, double until) { return list_range(since, until); };
        co_return co_await kit::find_by_start(request, std::move(list), m_tolerance);
    }

    // A PUT replaces the whole workout: the name changes, everything else
    // goes back as the GET gave it.
    Task<void> update_name(const std::string& id, const std::string& name) override {
        auto doc = co_await details(id, net::Priority::live);
        if (!doc) co_return doc.error();
        auto& a = doc->GetAllocator();
        doc->RemoveMember("name");
        doc->AddMember("name", rapidjson::Value(name.c_str(), static_cast<rapidjson::SizeType>(name.size()), a), a);
        json::Builder b;
        doc->Accept(b.w);
        kit::Call call{.method = "PUT", .path = workout_path(id), .body = b.str()};
        call.headers.emplace_back("Content-Type", "application/json");
        call.what = fmt::format("update of workout {}", id);
        auto r = co_await m_client.call(std::move(call));
        if (!r) co_return r.error();
        co_return Result<void>{};
    }

private:
    // Every page of [since, until], without details (find_existing).
    Task<std::vector<RemoteActivity>> list_range(double since, double until) {
        std::vector<RemoteActivity> all;
        std::string position;
        do {
            auto page = co_await fetch_page(since, until, position, false, net::Priority::live);
            if (!page) co_return page.error();
            for (auto& i : page->items) all.push_back(std::move(i));
            position = page->next_position.value_or("");
        } while (!position.empty());
        co_return all;
    }

    static std::string workout_path(const std::string& id) { return fmt::format("{}/{}", k_workouts, url_encode(id)); }

    Task<rapidjson::Document> details(const std::string& id, net::Priority priority) {
        kit::Call call{
            .path = workout_path(id), .what = fmt::format("details of workout {}", id), .priority = priority};
        auto doc = co_await m_client.call_json(std::move(call));
        if (!doc) co_return doc.error();
        if (!doc->IsObject())
            co_return Error::transient(
                m_client.code("bad_answer"),
                fmt::format("SportTracks answered the details of workout {} without an object", id));
        co_return std::move(*doc);
    }

    // One page of [since, until]: the first from the window, later ones from
    // the previous answer's `next` link. With details, each workout's samples
    // are fetched: a TCX is built (kept for download) or the workout is
    // metadata only.
    Task<kit::WindowPage> fetch_page(double since, std::optional<double> until, std::string position, bool with_details,
                                     net::Priority priority) {
        kit::Call call{.path = position, .what = "workout list", .priority = priority};
        if (position.empty()) {
            call.path = k_workouts;
            call.query = fmt::format("pageSize={}&page=0&noEarlierThan={}", m_page_size,
                                     url_encode(format_iso8601(std::floor(since))));
            if (until) call.query += "&noLaterThan=" + url_encode(format_iso8601(std::ceil(*until)));
        }
        auto doc = co_await m_client.call_json(std::move(call));
        if (!doc) co_return doc.error();
        const auto* items = kit::json_at(*doc, "items");
        if (items == nullptr || !items->IsArray())
            co_return Error::transient(m_client.code("bad_answer"),
                                       "SportTracks answered the workout list without an items array");
        kit::WindowPage out;
        for (const auto& w : items->GetArray()) {
            auto item = item_of(w);
            if (!item) continue;
            if (with_details) {
                auto full = co_await details(item->remote_id, priority);
                if (!full) co_return full.error();
                auto tcx = workout_tcx(*full);
                if (tcx.empty()) {
                    item->unavailable_reason = std::string(k_no_samples);
                } else {
                    if (m_built.size() >= 1000) m_built.clear();  // never downloaded (another walk took them)
                    m_built[item->remote_id] = std::move(tcx);
                }
            }
            out.items.push_back(std::move(*item));
        }
        if (auto next = kit::string_at(*doc, "next"); next && !next->empty()) out.next_position = *next;
        co_return out;
    }

    std::optional<RemoteActivity> item_of(const rapidjson::Value& w) const {
        if (!w.IsObject()) return std::nullopt;
        const auto uri = kit::string_at(w, "uri");
        const auto start = kit::string_at(w, "start_time");
        if (!uri || id_of(*uri).empty() || !start) return std::nullopt;
        RemoteActivity item{.remote_id = id_of(*uri), .name = kit::string_at(w, "name").value_or("")};
        item.start_time = kit::parse_time(*start);
        if (!item.start_time) return std::nullopt;
        item.elapsed_s = kit::number_at(w, "duration");
        item.distance_m = kit::number_at(w, "total_distance");
        if (auto type = kit::string_at(w, "type")) item.sport_family = kit::family_of(k_sports, *type);
        item.origin = *uri;
        return item;
    }

    std::string workout_body(const std::string& name, const formats::Summary& s) const {
        json::Builder b;
        b.w.StartObject();
        b.key("name");
        b.string(name);
        b.key("type");
        b.string(s.sport_family ? kit::platform_sport(k_sports, *s.sport_family).value_or("Other") : "Other");
        b.key("start_time");
        b.string(format_iso8601(std::floor(*s.start_time)));
        // Numbers as SportTracks writes them: strings.
        if (const auto d = s.total_elapsed_time ? s.total_elapsed_time : s.total_timer_time) {
            b.key("duration");
            b.string(fmt::format("{}", std::round(*d)));
        }
        if (s.total_distance) {
            b.key("total_distance");
            b.string(fmt::format("{}", std::round(*s.total_distance * 10) / 10));
        }
        b.w.EndObject();
        return b.str();
    }

    // {"format", "data", "name"}: FIT base64, TCX/GPX as text, gzip opened first.
    Result<std::string> file_body(const UploadRequest& request) const {
        auto ext = kit::file_extension(request.bytes);
        if (!ext)
            return Error::permanent(m_client.code("bad_file"),
                                    "cannot upload to SportTracks: the file is not FIT, TCX or GPX");
        std::span<const uint8_t> payload = request.bytes;
        formats::Gunzipped unzipped;
        if (ext->ends_with(".gz")) {
            unzipped = formats::gunzip(request.bytes, kit::k_max_unpacked);
            if (!unzipped.error.empty())
                return Error::permanent(m_client.code("bad_file"), "cannot upload to SportTracks: " + unzipped.error);
            payload = unzipped.payload;
            ext->resize(ext->size() - 3);
        }
        const std::string_view text(reinterpret_cast<const char*>(payload.data()), payload.size());
        std::string format = *ext;
        for (auto& c : format) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        json::Builder b;
        b.w.StartObject();
        b.key("format");
        b.string(format);
        b.key("data");
        b.string(format == "FIT" ? net::base64(text) : std::string(text));
        if (!request.name.empty()) {
            b.key("name");
            b.string(request.name);
        }
        b.w.EndObject();
        return b.str();
    }

    kit::PlatformClient m_client;
    kit::Watermark m_watermark;
    double m_tolerance;
    int64_t m_page_size;
    std::map<std::string, std::string> m_built;  // TCX built while listing, by workout id
};

}  // namespace

Factory factory() {
    return kit::make_factory<k_platform, k_options, Impl>(
        "SportTracks: workouts (a TCX from their samples), file import, create from metadata, rename", k_caps);
}

}  // namespace fitbridge::providers::sporttracks
