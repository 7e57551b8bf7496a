#include "providers/strava/strava.hpp"

#include <cmath>

#include <fmt/format.h>

#include "json/json.hpp"
#include "net/url.hpp"
#include "providers/kit/factory.hpp"
#include "providers/kit/files.hpp"
#include "providers/kit/listing.hpp"
#include "providers/kit/mapping.hpp"
#include "providers/kit/platform.hpp"
#include "providers/kit/track.hpp"
#include "providers/kit/upload.hpp"

namespace fitbridge::providers::strava {

using net::url_encode;

namespace {

constexpr uint32_t k_caps = k_list_window | k_download | k_upload | k_update_name | k_update_description |
                            k_update_sport | k_update_gear | k_list_gear;
constexpr std::string_view k_api = "/api/v3";
constexpr std::string_view k_stream_keys = "time,latlng,altitude,heartrate,cadence,watts,distance,temp";

constexpr OptionSpec k_options[] = {
    integer_option("page_size", "200", 1, 200, "activities per list request (per_page, at most 200)", "a number"),
    integer_option("overlap_days", "3", 0, 365, "trailing days re-listed by incremental polls",
                   "a whole number of days"),
    kit::k_gear_map_option,
    OptionSpec{.name = "laps",
               .type = OptionType::boolean,
               .default_value = "true",
               .help = "fetch each activity's laps for the rebuilt file (one more read per activity)"},
};

// Strava's sport types for FitBridge's families; the first row of a family is
// what update_sport sends.
constexpr kit::SportName k_sports[] = {
    {"Ride", "ride"},
    {"Run", "run"},
    {"Swim", "swim"},
    {"Walk", "walk"},
    {"Hike", "hike"},
    {"Rowing", "row"},
    {"NordicSki", "ski"},
    {"WeightTraining", "strength"},
    {"Yoga", "yoga"},
    {"Workout", "other"},
    {"VirtualRide", "ride"},
    {"MountainBikeRide", "ride"},
    {"GravelRide", "ride"},
    {"EBikeRide", "ride"},
    {"EMountainBikeRide", "ride"},
    {"Velomobile", "ride"},
    {"Handcycle", "ride"},
    {"VirtualRun", "run"},
    {"TrailRun", "run"},
    {"VirtualRow", "row"},
    {"AlpineSki", "ski"},
    {"BackcountrySki", "ski"},
    {"Snowboard", "ski"},
    {"RollerSki", "ski"},
    {"OpenWaterSwim", "swim"},
};

constexpr kit::ScopeNeed k_scope_needs[] = {
    {"activity:read_all", "listing activities, private ones included"},
    {"activity:write", "uploads and updates of names, sport and gear"},
    {"profile:read_all", "reading bikes and shoes for gear"},
};

const kit::Platform k_platform{
    .name = "strava",
    .title = "Strava",
    .base_url = "https://www.strava.com",
    .credential_modes = kit::k_stored | kit::k_oauth_app,
    .only_one_help = "an API application (client_id) or tokens stored through the API",
    .stored_kinds = "oauth2",
    .stored_kinds_help = "oauth2 tokens (access_token, refresh_token, expires_at)",
    .authorize_path = "/oauth/authorize",
    .token_path = "/oauth/token",
    .oauth_scope = "read,activity:read_all,activity:write,profile:read_all",
    // No steady rate: the quota headers of every answer pace the shared
    // client (15-minute and daily windows, reads counted apart). A repeated
    // upload is recognised ("duplicate of activity N"), so one whose answer
    // was lost may be sent again.
    .requests_per_second = 0,
    .retry_writes = true,
    .scope_needs = k_scope_needs,
};

// Sub-sports of indoor recordings: uploaded with trainer=1.
bool indoor(const formats::Summary* s) {
    if (s == nullptr || !s->sub_sport) return false;
    const auto& v = *s->sub_sport;
    return v == "virtual_activity" || v == "indoor_cycling" || v == "treadmill" || v == "indoor_running" ||
           v == "indoor_rowing" || v == "indoor_walking" || v == "spin";
}

struct Page {
    std::vector<RemoteActivity> items;
    std::vector<std::pair<std::string, std::string>> external_ids;  // remote id -> external_id
    size_t rows = 0;
};

// One stream's numbers (latlng gives two arrays).
void read_stream(const rapidjson::Value& data, std::vector<double>& out) {
    if (!data.IsArray()) return;
    out.reserve(data.Size());
    for (const auto& v : data.GetArray()) out.push_back(v.IsNumber() ? v.GetDouble() : std::nan(""));
}

class Impl final : public Provider {
public:
    Impl(kit::Settings settings, const Context& context)
        : m_client(k_platform, std::move(settings), context),
          m_watermark(context.cursors, m_client.account_id()),
          m_page_size(static_cast<int>(m_client.options().integer("page_size"))),
          m_poller(k_platform, {}, kit::poll_sleep(context)) {
        m_poller.persist(context.cursors, m_client.account_id());
        m_client.set_status_hook([this](const net::HttpResponse& r, std::string_view what, const std::string&) {
            return status_error(r, what);
        });
    }

    std::string_view account_id() const override { return m_client.account_id(); }
    uint32_t capabilities() const override { return k_caps; }
    std::string_view platform_name() const override { return k_platform.title; }
    std::optional<CredentialSource> credential_source() const override { return m_client.credential_source(); }
    std::vector<BudgetWindow> budget() const override { return m_client.budget(); }

    Task<ListPage> list(const ListQuery& query) override {
        const double overlap = static_cast<double>(m_client.options().integer("overlap_days")) * 86400.0;
        const auto priority = query.backfill ? net::Priority::backfill : net::Priority::live;
        kit::FetchWindow fetch = [this, priority](const kit::WindowCursor& w) { return fetch_window(w, priority); };
        co_return co_await kit::list_window(query, m_watermark, m_client.now(), overlap, k_platform.name, fetch);
    }

    // Strava serves no original: the file is rebuilt from the streams, with
    // the listing's start, sport, distance and elapsed time.
    Task<std::string> download(const RemoteActivity& item) override {
        if (item.unavailable_reason) co_return Error::permanent("strava.unavailable", *item.unavailable_reason);
        kit::Call call{.path = fmt::format("{}/activities/{}/streams", k_api, url_encode(item.remote_id)),
                       .query = fmt::format("keys={}&key_by_type=true", k_stream_keys),
                       .what = fmt::format("streams of activity {}", item.remote_id),
                       .priority = item.backfill ? net::Priority::backfill : net::Priority::live};
        auto r = co_await m_client.send(std::move(call));
        if (!r) co_return r.error();
        if (r->status == 404)
            co_return Error::permanent(
                "strava.unavailable",
                fmt::format("activity {} has no streams on Strava (nothing was recorded)", item.remote_id));
        if (r->status < 200 || r->status >= 300)
            co_return m_client.status_error(*r, fmt::format("streams of activity {}", item.remote_id));
        auto doc = json::parse(r->body);
        if (!doc || !(doc->IsObject() || doc->IsArray()))
            co_return Error::transient("strava.bad_answer",
                                       fmt::format("Strava answered the streams of activity {} with something that is "
                                                   "not JSON: {}",
                                                   item.remote_id, kit::body_message(r->body)));
        kit::Streams s;
        auto take = [&](std::string_view type, const rapidjson::Value& stream) {
            if (!stream.IsObject() || !stream.HasMember("data")) return;
            const auto& data = stream["data"];
            if (type == "time") read_stream(data, s.time_s);
            if (type == "altitude") read_stream(data, s.altitude_m);
            if (type == "distance") read_stream(data, s.distance_m);
            if (type == "heartrate") read_stream(data, s.heart_rate);
            if (type == "cadence") read_stream(data, s.cadence);
            if (type == "watts") read_stream(data, s.watts);
            if (type == "latlng" && data.IsArray())
                for (const auto& p : data.GetArray()) {
                    const bool pair = p.IsArray() && p.Size() == 2 && p[0].IsNumber() && p[1].IsNumber();
                    s.lat.push_back(pair ? p[0].GetDouble() : std::nan(""));
                    s.lon.push_back(pair ? p[1].GetDouble() : std::nan(""));
                }
        };
        if (doc->IsObject()) {
            // Const iterators: clang 14 finds a mutable member iterator's != ambiguous.
            const rapidjson::Value& obj = *doc;
            for (auto m = obj.MemberBegin(); m != obj.MemberEnd(); ++m) take(m->name.GetString(), m->value);
        } else {
            // Without key_by_type Strava answers a list of {type, data}.
            for (const auto& st : doc->GetArray())
                if (st.IsObject()) take(json::get_string(st, "type").value_or(""), st);
        }
        if (s.time_s.empty())
            co_return Error::permanent(
                "strava.unavailable",
                fmt::format("activity {} has no time stream on Strava (nothing was recorded)", item.remote_id));
        if (!item.start_time)
            co_return Error::transient("strava.no_start", fmt::format("activity {} was listed without a start "
                                                                      "time",
                                                                      item.remote_id));
        std::vector<kit::TrackLap> laps;
        if (m_client.options().boolean("laps")) {
            auto l = co_await laps_of(item, s.time_s);
            if (!l) co_return l.error();
            laps = std::move(*l);
        }
        kit::Track track{.start = *item.start_time,
                         .family = item.sport_family,
                         .distance_m = item.distance_m,
                         .elapsed_s = item.elapsed_s,
                         .notes = fmt::format("{} (Strava activity {})", item.name, item.remote_id),
                         .laps = std::move(laps),
                         .points = kit::points_of(s)};
        auto tcx = kit::write_tcx(track);
        if (!tcx)
            co_return Error::permanent("strava.unavailable", fmt::format("activity {}: cannot build a file from its "
                                                                         "streams: {}",
                                                                         item.remote_id, tcx.error().message));
        co_return std::move(*tcx);
    }

    Task<UploadResult> upload(const UploadRequest& request) override {
        auto ext = kit::file_extension(request.bytes);
        if (!ext)
            co_return Error::permanent("strava.bad_file", "cannot upload to Strava: the file is not FIT, TCX or GPX");
        const std::string data_type = *ext;
        kit::UploadPoller::Start start = [this, &request, data_type]() -> Task<std::string> {
            std::vector<net::MultipartField> fields{{"data_type", data_type}};
            if (!request.name.empty()) fields.push_back({"name", request.name});
            if (!request.external_id.empty()) fields.push_back({"external_id", request.external_id});
            if (indoor(request.summary)) fields.push_back({"trainer", "1"});
            kit::Call call{.method = "POST", .path = std::string(k_api) + "/uploads", .what = "upload"};
            const std::string file_name = fmt::format(
                "{}.{}", request.external_id.empty() ? std::string("activity") : request.external_id, data_type);
            kit::set_multipart(call, fields, net::MultipartFile{"file", file_name, "application/octet-stream"},
                               request.bytes);
            auto doc = co_await m_client.call_json(std::move(call));
            if (!doc) co_return doc.error();
            auto id = kit::id_at(*doc, "id_str");
            if (!id) id = kit::id_at(*doc, "id");
            if (!id || id->empty())
                co_return Error::transient("strava.bad_answer", "Strava answered the upload without an upload id");
            co_return *id;
        };
        kit::UploadPoller::Check check = [this](const std::string& upload_id) { return upload_status(upload_id); };
        const std::string key = request.external_id.empty() ? std::string("-") : request.external_id;
        auto out = co_await m_poller.upload(key, start, check);
        if (!out) co_return out.error();
        if (!out->duplicate) co_await kit::apply_gear_map(*this, m_client.options(), out->remote_id, request);
        co_return std::move(*out);
    }

    // By external_id first (FitBridge's key travels with every upload), then
    // by start time and sport, from one listing around the start.
    Task<std::optional<std::string>> find_existing(const UploadRequest& request) override {
        if (request.summary == nullptr || !request.summary->start_time) co_return std::optional<std::string>{};
        const double start = *request.summary->start_time;
        const double tolerance = kit::match_tolerance(&m_client.config());
        auto page = co_await fetch_page(start - tolerance, start + tolerance + 1, 1, 200, net::Priority::live);
        if (!page) co_return page.error();
        if (!request.external_id.empty())
            for (const auto& [id, ext] : page->external_ids)
                if (ext == request.external_id || ext.starts_with(request.external_id + "."))
                    co_return std::optional<std::string>(id);
        co_return kit::pick_by_start(request, page->items, tolerance);
    }

    Task<void> update_name(const std::string& id, const std::string& name) override {
        co_return co_await update(id, "name", name);
    }
    Task<void> update_description(const std::string& id, const std::string& text) override {
        co_return co_await update(id, "description", text);
    }
    Task<void> update_sport(const std::string& id, const std::string& family) override {
        auto type = kit::platform_sport(k_sports, family);
        if (!type)
            co_return Error::permanent("strava.sport", fmt::format("Strava has no sport type for sport '{}'", family));
        co_return co_await update(id, "sport_type", *type);
    }
    Task<void> update_gear(const std::string& id, const std::string& gear_id) override {
        co_return co_await update(id, "gear_id", gear_id);
    }

    // Bikes and shoes come with the detailed athlete, which Strava gives only
    // to a token with profile:read_all.
    Task<std::vector<Gear>> list_gear() override {
        // (Not a temporary inside co_await: GCC 12 destroys it twice.)
        kit::Call call{.path = std::string(k_api) + "/athlete", .what = "athlete"};
        auto doc = co_await m_client.call_json(std::move(call));
        if (!doc) co_return doc.error();
        if (!doc->IsObject() || (!doc->HasMember("bikes") && !doc->HasMember("shoes")))
            co_return Error::permanent(
                "strava.scope",
                fmt::format("Strava listed no bikes or shoes: the authorisation lacks profile:read_all; "
                            "run `fitbridge auth {}` again and leave it ticked",
                            m_client.account_id()));
        std::vector<Gear> out;
        for (const auto& [key, type] : {std::pair{"bikes", "Bike"}, std::pair{"shoes", "Shoes"}}) {
            if (!doc->HasMember(key) || !(*doc)[key].IsArray()) continue;
            for (const auto& g : (*doc)[key].GetArray()) {
                if (!g.IsObject()) continue;
                Gear x{kit::id_at(g, "id").value_or(""), json::get_string(g, "name").value_or(""), type,
                       json::get_bool(g, "retired").value_or(false)};
                if (!x.id.empty()) out.push_back(std::move(x));
            }
        }
        co_return out;
    }

private:
    // The activity's laps, placed by their index into the time stream (else
    // by their start date). None when Strava keeps none for it (404, or an
    // empty list): the file then has one lap over the whole activity.
    Task<std::vector<kit::TrackLap>> laps_of(const RemoteActivity& item, const std::vector<double>& time_s) {
        kit::Call call{.path = fmt::format("{}/activities/{}/laps", k_api, url_encode(item.remote_id)),
                       .what = fmt::format("laps of activity {}", item.remote_id),
                       .priority = item.backfill ? net::Priority::backfill : net::Priority::live};
        auto r = co_await m_client.send(std::move(call));
        if (!r) co_return r.error();
        if (r->status == 404) co_return std::vector<kit::TrackLap>{};
        if (r->status < 200 || r->status >= 300)
            co_return m_client.status_error(*r, fmt::format("laps of activity {}", item.remote_id));
        auto doc = json::parse(r->body);
        if (!doc || !doc->IsArray())
            co_return Error::transient("strava.bad_answer",
                                       fmt::format("Strava answered the laps of activity {} with something that is "
                                                   "not a JSON array: {}",
                                                   item.remote_id, kit::body_message(r->body)));
        std::vector<kit::TrackLap> laps;
        for (const auto& l : doc->GetArray()) {
            if (!l.IsObject()) continue;
            const auto elapsed = json::get_number(l, "elapsed_time");
            if (!elapsed || *elapsed <= 0) continue;
            kit::TrackLap lap{.elapsed_s = *elapsed, .distance_m = json::get_number(l, "distance")};
            const auto index = json::get_number(l, "start_index");
            if (index && *index >= 0 && *index < static_cast<double>(time_s.size()))
                lap.start_offset_s = time_s[static_cast<size_t>(*index)];
            else if (const auto* start = kit::json_at(l, "start_date"); start != nullptr && item.start_time)
                if (auto t = kit::time_of(*start)) lap.start_offset_s = *t - *item.start_time;
            laps.push_back(lap);
        }
        co_return laps;
    }

    // Strava's errors: Fault bodies made one line; the 403 of an application
    // in Single Player Mode explained.
    std::optional<Error> status_error(const net::HttpResponse& r, std::string_view what) const {
        const int s = r.status;
        if (s < 400 || s == 401 || s == 408 || s == 429 || s >= 500) return std::nullopt;
        const std::string line = fault_line(r.body);
        if (s == 403 && line.find("Limit of connected athletes exceeded") != std::string::npos)
            return Error::auth(
                "strava.athlete_limit",
                fmt::format("Strava denied the {} (403 {}): the API application is in Single Player Mode, where only "
                            "the athlete who created it can connect; every FitBridge user registers an application "
                            "of their own at strava.com/settings/api and configures its client_id",
                            what, line));
        if (s == 403)
            return Error::permanent("strava.forbidden", fmt::format("Strava denied the {} (403 {})", what, line));
        if (s == 404)
            return Error::permanent("strava.not_found",
                                    fmt::format("Strava has no such thing for the {} (404 {})", what, line));
        return Error::permanent("strava.rejected", fmt::format("Strava rejected the {} ({} {})", what, s, line));
    }

    // One look at an upload: error -> failed (or a duplicate), activity_id -> done.
    Task<kit::UploadStatus> upload_status(const std::string& upload_id) {
        kit::Call call{.path = fmt::format("{}/uploads/{}", k_api, url_encode(upload_id)), .what = "upload status"};
        auto doc = co_await m_client.call_json(std::move(call));
        if (!doc) co_return doc.error();
        kit::UploadStatus st;
        const auto error = doc->IsObject() ? json::get_string(*doc, "error") : std::nullopt;
        if (error && !error->empty()) {
            if (auto dup = duplicate_of(*error)) {
                st.state = kit::UploadStatus::done;
                st.remote_id = *dup;
                st.duplicate = true;
                co_return st;
            }
            st.state = kit::UploadStatus::failed;
            st.error = Error::permanent("strava.rejected", fmt::format("Strava rejected the file: {}", *error));
            co_return st;
        }
        if (auto id = kit::id_at(*doc, "activity_id"); id && !id->empty()) {
            st.state = kit::UploadStatus::done;
            st.remote_id = *id;
            co_return st;
        }
        const auto status = json::get_string(*doc, "status").value_or("");
        if (status.find("deleted") != std::string::npos) {
            st.state = kit::UploadStatus::failed;
            st.error = Error::permanent("strava.rejected", fmt::format("Strava: {}", status));
        }
        co_return st;
    }

    Task<void> update(const std::string& remote_id, const char* field, const std::string& value) {
        json::Builder b;
        b.w.StartObject();
        b.key(field);
        b.string(value);
        b.w.EndObject();
        kit::Call call{.method = "PUT", .path = fmt::format("{}/activities/{}", k_api, url_encode(remote_id))};
        call.headers.emplace_back("Content-Type", "application/json");
        call.body = b.str();
        call.what = fmt::format("update of activity {}", remote_id);
        auto r = co_await m_client.call(std::move(call));
        if (!r) co_return r.error();
        co_return Result<void>{};
    }

    // One page of a window: Strava's page/per_page under fixed after/before
    // bounds, until an empty page (a page may be short before the last).
    Task<kit::WindowPage> fetch_window(kit::WindowCursor w, net::Priority priority) {
        const int page_no = w.position.empty() ? 1 : std::atoi(w.position.c_str());
        auto page = co_await fetch_page(w.since, w.until, page_no, m_page_size, priority);
        if (!page) co_return page.error();
        kit::WindowPage out{.items = std::move(page->items)};
        if (page->rows > 0) out.next_position = std::to_string(page_no + 1);
        co_return out;
    }

    // Activities that started in [since, until) (Strava's after/before are
    // exclusive), page `page_no`.
    Task<Page> fetch_page(double since, std::optional<double> until, int page_no, int per_page,
                          net::Priority priority) {
        kit::Call call{.path = std::string(k_api) + "/athlete/activities"};
        call.query = fmt::format("after={}", static_cast<int64_t>(std::floor(since)) - 1);
        if (until) call.query += fmt::format("&before={}", static_cast<int64_t>(std::ceil(*until)));
        call.query += "&" + kit::page_query(kit::Paging::page1, std::to_string(page_no), per_page);
        call.what = "activity list";
        call.priority = priority;
        auto doc = co_await m_client.call_json(std::move(call));
        if (!doc) co_return doc.error();
        if (!doc->IsArray())
            co_return Error::transient("strava.bad_answer",
                                       "Strava answered the activity list with something that is not a JSON array");
        Page page;
        for (const auto& a : doc->GetArray()) {
            if (!a.IsObject()) continue;
            ++page.rows;
            auto id = kit::id_at(a, "id");
            if (!id || id->empty()) continue;
            const auto external = json::get_string(a, "external_id");
            if (external) page.external_ids.emplace_back(*id, *external);
            RemoteActivity item{.remote_id = *id, .name = json::get_string(a, "name").value_or("")};
            item.origin = fmt::format("{}/activities/{}", m_client.settings().base_url, *id);
            if (auto utc = json::get_string(a, "start_date")) item.start_time = kit::parse_time(*utc);
            item.elapsed_s = json::get_number(a, "elapsed_time");
            item.distance_m = json::get_number(a, "distance");
            auto type = json::get_string(a, "sport_type");
            if (!type) type = json::get_string(a, "type");
            if (type) item.sport_family = sport_family_for_type(*type);
            if (json::get_bool(a, "manual").value_or(false))
                item.unavailable_reason = "a manual activity: Strava has no recorded samples to build a file from";
            // FitBridge's own upload whose link the ledger does not hold (a
            // lost state directory, another instance): not imported back.
            if (external && external->starts_with(k_own_external_id))
                item.unavailable_reason =
                    fmt::format("uploaded by FitBridge (external_id {}): not imported back", *external);
            item.backfill = priority == net::Priority::backfill;
            page.items.push_back(std::move(item));
        }
        co_return page;
    }

    kit::PlatformClient m_client;
    kit::Watermark m_watermark;
    int m_page_size;
    kit::UploadPoller m_poller;
};

}  // namespace

std::optional<std::string> sport_family_for_type(std::string_view type) { return kit::family_of(k_sports, type); }

std::string fault_line(std::string_view body) {
    auto doc = json::parse(body);
    if (!doc || !doc->IsObject() || !doc->HasMember("errors") || !(*doc)["errors"].IsArray())
        return kit::body_message(body);
    std::string out = json::get_string(*doc, "message").value_or("");
    for (const auto& e : (*doc)["errors"].GetArray()) {
        if (!e.IsObject()) continue;
        std::string part;
        for (const char* key : {"resource", "field", "code"})
            if (auto v = json::get_string(e, key); v && !v->empty()) part += (part.empty() ? "" : " ") + *v;
        if (!part.empty()) out += (out.empty() ? "" : out.find(": ") == std::string::npos ? ": " : "; ") + part;
    }
    if (out.empty()) return kit::body_message(body);
    return out.size() > 300 ? out.substr(0, 300) : out;
}

std::optional<std::string> duplicate_of(std::string_view error) {
    constexpr std::string_view k_marker = "duplicate of";
    auto at = error.find(k_marker);
    if (at == std::string_view::npos) return std::nullopt;
    // The id is the first run of digits after the marker (an HTML link may come first).
    auto rest = error.substr(at + k_marker.size());
    auto first = rest.find_first_of("0123456789");
    if (first == std::string_view::npos) return std::nullopt;
    auto last = rest.find_first_not_of("0123456789", first);
    return std::string(rest.substr(first, last == std::string_view::npos ? std::string_view::npos : last - first));
}

Factory factory() {
    return kit::make_factory<k_platform, k_options, Impl>(
        "Strava (OAuth app): list with files rebuilt from streams, upload, rename, sport, gear", k_caps);
}

}  // namespace fitbridge::providers::strava
