#include "providers/ridewithgps/ridewithgps.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

#include <fmt/format.h>

#include "core/log.hpp"
#include "json/json.hpp"
#include "net/oauth.hpp"
#include "net/url.hpp"
#include "providers/kit/factory.hpp"
#include "providers/kit/files.hpp"
#include "providers/kit/listing.hpp"
#include "providers/kit/mapping.hpp"
#include "providers/kit/platform.hpp"
#include "providers/kit/upload.hpp"

namespace fitbridge::providers::ridewithgps {

using net::url_encode;

namespace {

constexpr uint32_t k_caps = k_list_window | k_download | k_upload | k_update_name | k_update_gear | k_list_gear;

constexpr OptionSpec k_options[] = {
    integer_option("page_size", "200", 20, 200, "trips per list request (page_size)", "a number"),
    integer_option("overlap_days", "3", 0, 365, "trailing days re-listed by incremental polls",
                   "a whole number of days"),
    kit::k_gear_map_option,
};

// The first segment of activity_type ("cycling:gravel") names the family.
constexpr kit::SportName k_sports[] = {
    {"cycling", "ride"},  {"running", "run"}, {"walking", "walk"}, {"hiking", "hike"},
    {"swimming", "swim"}, {"rowing", "row"},  {"skiing", "ski"},   {"other", "other"},
};

// auth_token_file: "Basic base64(api_key:auth_token)" (§3.1).
std::string basic_authorization(std::string_view token, std::string_view key) {
    return "Basic " + net::base64(fmt::format("{}:{}", key, token));
}

const kit::Platform k_platform{
    .name = "ridewithgps",
    .title = "Ride with GPS",
    .base_url = "https://ridewithgps.com",
    .credential_modes = kit::k_token_file | kit::k_stored | kit::k_oauth_app,
    .only_one_help = "an auth token uses Basic auth with the API key, OAuth tokens Bearer",
    .stored_kinds = "token,oauth2",
    .stored_kinds_help = "an OAuth token (kind oauth2 or token)",
    .authorize_path = "/oauth/authorize",
    .token_path = "/oauth/token.json",
    .oauth_scope = "user",
    .token_file_option = "auth_token_file",
    .token_file_help = "the user's auth token",
    .key_option = "api_key_file",
    .key_option_help = "a file holding the API key of your Ride with GPS API client",
    .key_header = "x-rwgps-api-key",
    .token_file_authorization = &basic_authorization,
    // No published limit; the client libraries keep to 10 requests/s (§3.4).
    .requests_per_second = 10,
    .burst = 10,
    // The legacy create is not de-duplicated: a lost answer is settled by
    // listing (find_existing), never by sending the file again.
    .retry_writes = false,
    // The export, create, update and gear calls are the legacy API taken
    // from open-source clients (§3.3), not the documented v1 API.
    .unofficial = true,
};

struct Page {
    std::vector<RemoteActivity> items;
    std::optional<std::string> next;      // meta.pagination.next_page_url
    std::optional<double> oldest_update;  // the page's oldest updated_at
};

class Impl final : public Provider {
public:
    Impl(kit::Settings settings, const Context& context)
        : m_client(k_platform, std::move(settings), context),
          m_watermark(context.cursors, m_client.account_id()),
          m_page_size(static_cast<int>(m_client.options().integer("page_size"))),
          m_poller(k_platform, kit::PollPolicy{.max_polls = 10}, kit::poll_sleep(context)) {
        m_poller.persist(context.cursors, m_client.account_id());
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

    // The legacy TCX export with the recorded history (§3.3); the kit
    // checks it is an activity file (an HTML page is an error on this trip).
    Task<std::string> download(const RemoteActivity& item) override {
        kit::Call call{.path = fmt::format("/trips/{}.tcx", url_encode(item.remote_id)),
                       .query = "sub_format=history",
                       .what = fmt::format("TCX export of trip {}", item.remote_id),
                       .priority = item.backfill ? net::Priority::backfill : net::Priority::live};
        co_return co_await kit::fetch_file(m_client, std::move(call), "trip " + item.remote_id);
    }

    Task<UploadResult> upload(const UploadRequest& request) override {
        auto ext = kit::file_extension(request.bytes);
        if (!ext)
            co_return Error::permanent("ridewithgps.bad_file",
                                       "cannot upload to Ride with GPS: the file is not FIT, TCX or GPX");
        // Ride with GPS does not recognise a second copy: look first.
        auto existing = co_await find_existing(request);
        if (!existing) co_return existing.error();
        if (*existing) co_return UploadResult{.remote_id = **existing, .duplicate = true};
        const std::string key = request.external_id.empty() ? request.name : request.external_id;
        kit::UploadPoller::Start start = [this, &request, &ext]() { return create(request, *ext); };
        kit::UploadPoller::Check check = [this, &request](const std::string& id) { return processed(request, id); };
        auto done = co_await m_poller.upload(key, std::move(start), std::move(check));
        if (!done || done->duplicate) co_return done;
        // Name and gear with the legacy update. The trip exists: a failed
        // update must not make the engine upload again (name sync retries).
        const std::optional<std::string> name =
            request.name.empty() ? std::nullopt : std::optional<std::string>(request.name);
        const auto gear = request.summary
                              ? kit::gear_for(m_client.options(), request.summary->sport_family.value_or(""))
                              : std::nullopt;
        if (name || gear)
            if (auto r = co_await update(done->remote_id, name, gear); !r)
                log::warn("account {}: naming trip {} failed: {}", account_id(), done->remote_id, r.error().message);
        co_return done;
    }

    Task<std::optional<std::string>> find_existing(const UploadRequest& request) override {
        kit::ListWindow list = [this](double since, double until) { return list_all(since, until); };
        co_return co_await kit::find_by_start(request, std::move(list), kit::match_tolerance(&m_client.config()));
    }

    Task<void> update_name(const std::string& id, const std::string& name) override {
        const std::optional<std::string> n = name, g;  // (not temporaries inside co_await: GCC 12)
        co_return co_await update(id, n, g);
    }
    Task<void> update_gear(const std::string& id, const std::string& gear_id) override {
        const std::optional<std::string> n, g = gear_id;
        co_return co_await update(id, n, g);
    }

    // The user object of the legacy API carries the gear (§3.3).
    Task<std::vector<Gear>> list_gear() override {
        kit::Call call{.path = "/users/current.json", .what = "gear list"};
        auto doc = co_await m_client.call_json(std::move(call));
        if (!doc) co_return doc.error();
        const auto* gear = kit::json_at(*doc, "user.gear");
        if (gear == nullptr || !gear->IsArray())
            co_return Error::transient("ridewithgps.bad_answer",
                                       "Ride with GPS answered the gear list without user.gear");
        std::vector<Gear> out;
        for (const auto& g : gear->GetArray()) {
            if (!g.IsObject()) continue;
            auto id = kit::id_at(g, "id");
            if (!id || id->empty()) continue;
            auto name = kit::string_at(g, "name");
            if (!name || name->empty()) name = kit::string_at(g, "nickname");
            out.push_back(Gear{.id = *id, .name = name.value_or(""), .type = "Bike"});
        }
        co_return out;
    }

private:
    Task<void> update(const std::string& id, const std::optional<std::string>& name,
                      const std::optional<std::string>& gear) {
        kit::Call call{.method = "PUT", .path = fmt::format("/trips/{}.json", url_encode(id))};
        call.headers.emplace_back("Content-Type", "application/json");
        call.body = update_body(name, gear);
        call.what = fmt::format("update of trip {}", id);
        auto r = co_await m_client.call(std::move(call));
        if (!r) co_return r.error();
        co_return Result<void>{};
    }

    // The legacy create (§3.3): `{"success": 1, "trip": {"id"}}` when the
    // trip was made at once, else `{"success": 1, "task_id"}` while it is
    // processed (our reading of the legacy answers: the task cannot be
    // asked about, so processed() looks for the trip in the v1 list).
    Task<std::string> create(const UploadRequest& request, const std::string& ext) {
        kit::Call call{.method = "POST", .path = "/trips.json", .what = "upload"};
        const std::string file_name =
            fmt::format("{}.{}", request.external_id.empty() ? std::string("activity") : request.external_id, ext);
        std::vector<net::MultipartField> fields;
        if (!request.name.empty()) fields.push_back({"trip[name]", request.name});
        kit::set_multipart(call, fields, net::MultipartFile{"data_file", file_name, "application/octet-stream"},
                           request.bytes);
        auto r = co_await m_client.call(std::move(call));
        if (!r) co_return r.error();
        auto doc = json::parse(r->body);
        if (!doc || !doc->IsObject())
            co_return Error::transient("ridewithgps.upload_unconfirmed",
                                       fmt::format("Ride with GPS answered the upload with something that is not "
                                                   "JSON: {}",
                                                   kit::body_message(r->body)));
        if (auto id = kit::id_at(*doc, "trip.id"); id && !id->empty()) co_return "trip:" + *id;
        const auto* ok = kit::json_at(*doc, "success");
        const bool accepted =
            ok != nullptr && ((ok->IsNumber() && ok->GetDouble() == 1) || (ok->IsBool() && ok->GetBool()));
        if (!accepted)
            co_return Error::permanent("ridewithgps.rejected", fmt::format("Ride with GPS did not accept the file: {}",
                                                                           kit::body_message(r->body)));
        co_return "start:" + request.external_id;
    }

    Task<kit::UploadStatus> processed(const UploadRequest& request, const std::string& upload_id) {
        if (upload_id.starts_with("trip:"))
            co_return kit::UploadStatus{.state = kit::UploadStatus::done, .remote_id = upload_id.substr(5)};
        auto found = co_await find_existing(request);
        if (!found) co_return found.error();
        if (!*found) co_return kit::UploadStatus{};
        co_return kit::UploadStatus{.state = kit::UploadStatus::done, .remote_id = **found};
    }

    // The trips whose departure falls in [since, until).
    Task<std::vector<RemoteActivity>> list_all(double since, double until) {
        std::vector<RemoteActivity> out;
        std::string position;
        for (;;) {
            auto p = co_await fetch_page(position, net::Priority::live);
            if (!p) co_return p.error();
            for (auto& item : p->items)
                if (item.start_time && *item.start_time >= since && *item.start_time < until)
                    out.push_back(std::move(item));
            if (!p->next || (p->oldest_update && *p->oldest_update < since)) break;
            position = *p->next;
        }
        co_return out;
    }

    // One page of a window. The list runs by updated_at, newest first, with
    // no date filter; a trip is updated at or after it departed, so once a
    // page reaches updates older than the window no later page has a trip
    // departing in it.
    Task<kit::WindowPage> fetch_window(kit::WindowCursor w, net::Priority priority) {
        auto p = co_await fetch_page(w.position, priority);
        if (!p) co_return p.error();
        kit::WindowPage out{.items = std::move(p->items)};
        if (p->next && !(p->oldest_update && *p->oldest_update < w.since)) out.next_position = *p->next;
        co_return out;
    }

    Task<Page> fetch_page(const std::string& position, net::Priority priority) {
        kit::Call call{.what = "trip list", .priority = priority};
        if (position.empty()) {
            call.path = "/api/v1/trips.json";
            call.query = fmt::format("page=1&page_size={}", m_page_size);
        } else if (position.starts_with(m_client.settings().base_url + "/")) {
            call.path = position;  // next_page_url, on the account's host only
        } else {
            co_return Error::permanent("ridewithgps.bad_answer",
                                       fmt::format("Ride with GPS named a next page on another host: {}", position));
        }
        auto doc = co_await m_client.call_json(std::move(call));
        if (!doc) co_return doc.error();
        const auto* trips = kit::json_at(*doc, "trips");
        if (trips == nullptr || !trips->IsArray())
            co_return Error::transient("ridewithgps.bad_answer", "Ride with GPS answered the trip list without trips");
        Page out;
        if (auto next = kit::string_at(*doc, "meta.pagination.next_page_url"); next && !next->empty()) out.next = *next;
        const std::string& base = m_client.settings().base_url;
        for (const auto& t : trips->GetArray()) {
            if (!t.IsObject()) continue;
            auto id = kit::id_at(t, "id");
            if (!id || id->empty()) continue;
            RemoteActivity item{.remote_id = *id, .name = kit::string_at(t, "name").value_or("")};
            item.origin = fmt::format("{}/trips/{}", base, *id);
            if (const auto* departed = kit::json_at(t, "departed_at")) item.start_time = kit::time_of(*departed);
            item.elapsed_s = kit::number_at(t, "duration");
            item.distance_m = kit::number_at(t, "distance");
            if (auto type = kit::string_at(t, "activity_type")) item.sport_family = sport_family_for(*type);
            if (const auto* updated = kit::json_at(t, "updated_at"))
                if (auto u = kit::time_of(*updated); u && (!out.oldest_update || *u < *out.oldest_update))
                    out.oldest_update = u;
            item.backfill = priority == net::Priority::backfill;
            out.items.push_back(std::move(item));
        }
        co_return out;
    }

    kit::PlatformClient m_client;
    kit::Watermark m_watermark;
    int m_page_size;
    kit::UploadPoller m_poller;
};

}  // namespace

std::optional<std::string> sport_family_for(std::string_view activity_type) {
    const auto family = kit::family_of(k_sports, activity_type.substr(0, activity_type.find(':')));
    return family ? family : std::optional<std::string>("other");
}

std::string update_body(const std::optional<std::string>& name, const std::optional<std::string>& gear_id) {
    json::Builder b;
    b.w.StartObject();
    b.key("trip");
    b.w.StartObject();
    if (name) b.field("name", *name);
    if (gear_id) {
        b.key("gear_id");
        const bool digits =
            !gear_id->empty() && gear_id->size() < 16 &&
            std::all_of(gear_id->begin(), gear_id->end(), [](unsigned char c) { return std::isdigit(c); });
        if (digits)
            b.w.Int64(std::stoll(*gear_id));
        else
            b.string(*gear_id);
    }
    b.w.EndObject();
    b.w.EndObject();
    return b.str();
}

Factory factory() {
    return kit::make_factory<k_platform, k_options, Impl>(
        "Ride with GPS (API key + auth token or OAuth): list trips, download TCX, upload, rename, gear", k_caps);
}

}  // namespace fitbridge::providers::ridewithgps
