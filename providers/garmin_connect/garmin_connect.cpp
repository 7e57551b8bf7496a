#include "providers/garmin_connect/garmin_connect.hpp"

#include <cctype>
#include <map>
#include <set>

#include <fmt/format.h>

#include "formats/gzip.hpp"
#include "json/json.hpp"
#include "net/url.hpp"
#include "providers/garmin_connect/auth.hpp"
#include "providers/kit/factory.hpp"
#include "providers/kit/files.hpp"
#include "providers/kit/listing.hpp"
#include "providers/kit/mapping.hpp"
#include "providers/kit/pacing.hpp"
#include "providers/kit/platform.hpp"
#include "providers/kit/upload.hpp"

namespace fitbridge::providers::garmin_connect {

using net::url_encode;

namespace {

constexpr uint32_t k_caps = k_list_window | k_download | k_upload | k_update_name | k_update_description |
                            k_update_sport | k_update_gear | k_list_gear;
// startDate/endDate are the activities' local dates: windows are widened by
// a day on each side and filtered on startTimeGMT.
constexpr double k_day_s = 86400;

constexpr OptionSpec k_options[] = {
    {.name = "sso_url",
     .type = OptionType::url,
     .default_value = "https://sso.garmin.com",
     .help = "where the daemon signs in (mobile JSON flow) with username + password_file"},
    integer_option("min_request_interval_ms", "1000", 0, 600000,
                   "milliseconds between two requests to one Garmin host (Garmin bans faster clients)", "a number"),
    integer_option("page_size", "100", 1, 1000, "activities per list request", "a number"),
    integer_option("overlap_days", "3", 0, 365, "trailing days re-listed by incremental polls",
                   "a whole number of days"),
};

// Garmin's activity type keys; the first row of a family is what update_sport sends.
constexpr kit::SportName k_sports[] = {
    {"cycling", "ride"},
    {"running", "run"},
    {"walking", "walk"},
    {"hiking", "hike"},
    {"lap_swimming", "swim"},
    {"rowing", "row"},
    {"cross_country_skiing_ws", "ski"},
    {"strength_training", "strength"},
    {"yoga", "yoga"},
    {"other", "other"},
    {"road_biking", "ride"},
    {"virtual_ride", "ride"},
    {"indoor_cycling", "ride"},
    {"mountain_biking", "ride"},
    {"gravel_cycling", "ride"},
    {"e_bike_fitness", "ride"},
    {"treadmill_running", "run"},
    {"trail_running", "run"},
    {"indoor_running", "run"},
    {"virtual_run", "run"},
    {"open_water_swimming", "swim"},
    {"swimming", "swim"},
    {"indoor_rowing", "row"},
    {"resort_skiing_snowboarding_ws", "ski"},
};

const kit::Platform k_platform{
    .name = "garmin_connect",
    .title = "Garmin Connect",
    .base_url = "https://connectapi.garmin.com",
    .auth_url = "https://diauth.garmin.com",
    .credential_modes = kit::k_stored | kit::k_login,
    .only_one_help =
        "DI tokens handed over (credentials: stored) or the account's own sign-in (username + "
        "password_file)",
    .stored_kinds = "oauth2,mfa_code",
    .stored_kinds_help = "DI oauth2 tokens (access_token, refresh_token) or, while a sign-in waits, an mfa_code",
    // A second copy of an upload is answered 409 "Duplicate activity" with
    // the activity's id, so one whose answer was lost may be sent again.
    .retry_writes = true,
    .unofficial = true,
};

Error bad_answer(std::string message) { return Error::transient("garmin_connect.bad_answer", std::move(message)); }

// Garmin's ids are numbers; JSON bodies carry them as numbers.
bool numeric(const std::string& id) {
    return !id.empty() && id.size() < 19 &&
           std::all_of(id.begin(), id.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

std::string date_of(double unix_seconds) { return kit::local_seconds(unix_seconds).substr(0, 10); }

// The reading of an upload answer (201, 202 or 409, all with detailedImportResult).
struct ImportResult {
    std::string remote_id;
    bool duplicate = false;
    std::string poll;  // "<YYYY-MM-DD>/<uuid>" of a 202
    std::optional<Error> error;
};

ImportResult read_import(const net::HttpResponse& r) {
    ImportResult out;
    auto doc = json::parse(r.body);
    const rapidjson::Value* result = doc && doc->IsObject() ? kit::json_at(*doc, "detailedImportResult") : nullptr;
    if (result == nullptr || !result->IsObject()) {
        out.error = r.status >= 500 ? Error::transient("garmin_connect.unavailable",
                                                       fmt::format("Garmin Connect failed the upload ({} {})", r.status,
                                                                   kit::body_message(r.body)))
                                    : bad_answer(fmt::format("Garmin Connect answered the upload ({}) with {}",
                                                             r.status, kit::body_message(r.body)));
        return out;
    }
    const auto message = kit::string_at(*result, "failures.0.messages.0.content").value_or("");
    if (r.status == 201) {
        if (auto id = kit::id_at(*result, "successes.0.internalId")) out.remote_id = *id;
    } else if (r.status == 202) {
        const auto uuid = kit::string_at(*result, "uploadUuid.uuid").value_or("");
        const auto created = kit::string_at(*result, "creationDate").value_or("");
        std::string compact;
        for (char c : uuid)
            if (c != '-') compact.push_back(c);
        if (!compact.empty() && created.size() >= 10) out.poll = created.substr(0, 10) + "/" + compact;
    } else if (r.status == 409 && message.find("Duplicate activity") != std::string::npos) {
        out.duplicate = true;
        out.remote_id = kit::id_at(*result, "failures.0.internalId").value_or("");
    } else {
        const std::string text = message.empty() ? kit::body_message(r.body) : message;
        const bool consent = text.find("consent") != std::string::npos;
        out.error = Error::permanent(consent ? "garmin_connect.upload_consent" : "garmin_connect.rejected",
                                     fmt::format("Garmin Connect refused the upload ({}): {}{}", r.status, text,
                                                 consent ? " (grant upload consent in Garmin Connect's privacy "
                                                           "settings, then sync again)"
                                                         : ""));
        return out;
    }
    if (out.remote_id.empty() && out.poll.empty())
        out.error = bad_answer(
            fmt::format("Garmin Connect answered the upload ({}) without an activity id: {}", r.status, message));
    return out;
}

// The shared client, paced per host as the account asks.
Context paced(const Context& context, const kit::Settings& s) {
    Context out = context;
    auto base = context.http ? context.http : kit::make_platform_http(k_platform, context.executor);
    out.http = std::make_shared<kit::HostPacer>(
        std::move(base), std::chrono::milliseconds(s.options.integer("min_request_interval_ms")));
    return out;
}

class Impl final : public Provider {
public:
    Impl(kit::Settings settings, const Context& context)
        : m_client(k_platform, settings, paced(context, settings)),
          m_watermark(context.cursors, m_client.account_id()),
          m_page_size(static_cast<int>(m_client.options().integer("page_size"))),
          m_poller(k_platform, kit::PollPolicy{.max_polls = 10}, kit::poll_sleep(context)) {
        m_poller.persist(context.cursors, m_client.account_id());
        AuthSettings auth{settings.account_id, settings.auth_url, settings.options.text("sso_url"), settings.username,
                          settings.secret_file};
        // The sign-in is never retried by the client (a 429 there must not be
        // asked again): a plain client, paced like the rest.
        net::ClientOptions plain;
        plain.platform = std::string(k_platform.name);
        auto sign_in = std::make_shared<kit::HostPacer>(
            std::shared_ptr<net::HttpClient>(net::make_http_client(context.executor, plain)),
            std::chrono::milliseconds(settings.options.integer("min_request_interval_ms")));
        m_client.set_token_source(make_token_source(std::move(auth), m_client.http(), std::move(sign_in),
                                                    context.tokens, context.cursors, m_client.clock(),
                                                    m_client.config()));
    }

    std::string_view account_id() const override { return m_client.account_id(); }
    uint32_t capabilities() const override { return k_caps; }
    std::string_view platform_name() const override { return k_platform.title; }
    std::optional<CredentialSource> credential_source() const override { return m_client.credential_source(); }

    Task<ListPage> list(const ListQuery& query) override {
        const double overlap = static_cast<double>(m_client.options().integer("overlap_days")) * k_day_s;
        const auto priority = query.backfill ? net::Priority::backfill : net::Priority::live;
        kit::FetchWindow fetch = [this, priority](const kit::WindowCursor& w) -> Task<kit::WindowPage> {
            auto rows = co_await fetch_page(w.since, w.until, w.position, m_page_size, priority);
            if (!rows) co_return rows.error();
            kit::WindowPage out;
            out.next_position = kit::next_position(kit::Paging::offset, w.position, rows->second, m_page_size);
            out.items = std::move(rows->first);
            co_return out;
        };
        co_return co_await kit::list_window(query, m_watermark, m_client.now(), overlap, k_platform.name, fetch);
    }

    // The original is a ZIP holding one FIT (or the TCX/GPX it was uploaded
    // as); 404 and 500 mean Garmin has none (manual activities).
    Task<std::string> download(const RemoteActivity& item) override {
        if (item.unavailable_reason) co_return Error::permanent("garmin_connect.unavailable", *item.unavailable_reason);
        kit::Call call{.path = "/download-service/files/activity/" + url_encode(item.remote_id),
                       .what = "original of activity " + item.remote_id,
                       .priority = item.backfill ? net::Priority::backfill : net::Priority::live};
        auto r = co_await m_client.send(std::move(call));
        // A 500 that stayed a 500 through the client's retries is Garmin's
        // NullPointerException for an activity without a file.
        if (!r && r.error().code == "http.500") {
            m_no_file.insert(item.remote_id);
            co_return Error::permanent("garmin_connect.unavailable",
                                       fmt::format("Garmin Connect serves no original file for activity {} ({})",
                                                   item.remote_id, r.error().message));
        }
        if (!r) co_return r.error();
        if (r->status == 404 || r->status == 500) {
            const std::string reason = fmt::format("Garmin Connect serves no original file for activity {} ({} {})",
                                                   item.remote_id, r->status, kit::body_message(r->body));
            m_no_file.insert(item.remote_id);
            co_return Error::permanent("garmin_connect.unavailable", reason);
        }
        if (r->status < 200 || r->status >= 300)
            co_return m_client.status_error(*r, "original of activity " + item.remote_id);
        co_return kit::accept_file(k_platform, std::move(r->body), r->header("content-type"),
                                   "activity " + item.remote_id);
    }

    Task<UploadResult> upload(const UploadRequest& request) override {
        auto ext = kit::file_extension(request.bytes);
        if (!ext)
            co_return Error::permanent("garmin_connect.bad_file",
                                       "cannot upload to Garmin Connect: the file is not FIT, TCX or GPX");
        std::vector<uint8_t> inflated;
        std::span<const uint8_t> bytes = request.bytes;
        std::string type = *ext;
        if (type.ends_with(".gz")) {  // Garmin takes plain files only
            auto g = formats::gunzip(request.bytes, kit::k_max_unpacked);
            if (!g.error.empty())
                co_return Error::permanent("garmin_connect.bad_file", "cannot unpack the gzipped file: " + g.error);
            inflated = std::move(g.payload);
            bytes = inflated;
            type = type.substr(0, type.size() - 3);
        }
        const std::string file_name =
            fmt::format("{}.{}", request.external_id.empty() ? std::string("activity") : request.external_id, type);
        kit::UploadPoller::Start start = [this, bytes, file_name]() -> Task<std::string> {
            kit::Call call{.method = "POST", .path = "/upload-service/upload", .what = "upload"};
            kit::set_multipart(call, {}, net::MultipartFile{"file", file_name, "application/octet-stream"}, bytes);
            auto r = co_await m_client.send(std::move(call));
            if (!r) co_return r.error();
            if (r->status == 401 || r->status == 429 || r->status == 408 || r->status >= 502)
                co_return m_client.status_error(*r, "upload");
            auto result = read_import(*r);
            if (result.error) co_return *result.error;
            if (!result.poll.empty()) co_return result.poll;
            co_return (result.duplicate ? "duplicate:" : "done:") + result.remote_id;
        };
        kit::UploadPoller::Check check = [this](const std::string& id) { return upload_status(id); };
        const std::string key = request.external_id.empty() ? file_name : request.external_id;
        co_return co_await m_poller.upload(key, std::move(start), std::move(check));
    }

    Task<std::optional<std::string>> find_existing(const UploadRequest& request) override {
        kit::ListWindow list = [this](double since, double until) -> Task<std::vector<RemoteActivity>> {
            std::vector<RemoteActivity> all;
            std::string position;
            for (;;) {
                auto rows = co_await fetch_page(since, until, position, m_page_size, net::Priority::live);
                if (!rows) co_return rows.error();
                for (auto& item : rows->first) all.push_back(std::move(item));
                auto next = kit::next_position(kit::Paging::offset, position, rows->second, m_page_size);
                if (!next) co_return all;
                position = *next;
            }
        };
        co_return co_await kit::find_by_start(request, std::move(list), kit::match_tolerance(&m_client.config()));
    }

    Task<void> update_name(const std::string& id, const std::string& name) override {
        co_return co_await update(id, [&](json::Builder& b) { b.field("activityName", name); });
    }
    Task<void> update_description(const std::string& id, const std::string& text) override {
        co_return co_await update(id, [&](json::Builder& b) { b.field("description", text); });
    }
    Task<void> update_sport(const std::string& id, const std::string& family) override {
        auto key = kit::platform_sport(k_sports, family);
        if (!key)
            co_return Error::permanent("garmin_connect.sport",
                                       fmt::format("Garmin Connect has no activity type for sport '{}'", family));
        co_return co_await update(id, [&](json::Builder& b) {
            b.key("activityTypeDTO");
            b.w.StartObject();
            b.field("typeKey", *key);
            b.w.EndObject();
        });
    }

    // Links the gear and unlinks what the activity had of the same type.
    Task<void> update_gear(const std::string& id, const std::string& gear_id) override {
        auto gear = co_await list_gear();
        if (!gear) co_return gear.error();
        std::string type;
        bool retired = false;
        for (const auto& g : *gear)
            if (g.id == gear_id) {
                type = g.type;
                retired = g.retired;
            }
        if (type.empty() || retired)
            co_return Error::permanent(
                "garmin_connect.gear",
                fmt::format("Garmin Connect has {} gear {} on this account", retired ? "retired the" : "no", gear_id));
        auto linked = co_await filter_gear("activityId=" + url_encode(id), "gear of activity " + id);
        if (!linked) co_return linked.error();
        bool there = false;
        for (const auto& g : *linked) {
            if (g.id == gear_id) {
                there = true;
            } else if (g.type == type || g.type.empty()) {
                auto r = co_await gear_link("unlink", g.id, id);
                if (!r) co_return r.error();
            }
        }
        if (there) co_return Result<void>{};
        co_return co_await gear_link("link", gear_id, id);
    }

    Task<std::vector<Gear>> list_gear() override {
        if (m_profile.empty()) {
            kit::Call call{.path = "/device-service/deviceservice/mylastused", .what = "last used device"};
            auto doc = co_await m_client.call_json(std::move(call));
            if (!doc) co_return doc.error();
            m_profile = kit::id_at(*doc, "userProfileNumber").value_or("");
            if (m_profile.empty())
                co_return bad_answer("Garmin Connect answered the last used device without a userProfileNumber");
        }
        co_return co_await filter_gear("userProfilePk=" + url_encode(m_profile), "gear list");
    }

private:
    Task<void> update(const std::string& id, std::function<void(json::Builder&)> fields) {
        json::Builder b;
        b.w.StartObject();
        b.key("activityId");
        if (numeric(id))
            b.w.Int64(std::stoll(id));
        else
            b.string(id);
        fields(b);
        b.w.EndObject();
        kit::Call call{.method = "PUT", .path = "/activity-service/activity/" + url_encode(id)};
        call.headers.emplace_back("Content-Type", "application/json");
        call.body = b.str();
        call.what = "update of activity " + id;
        auto r = co_await m_client.call(std::move(call));
        if (!r) co_return r.error();
        co_return Result<void>{};
    }

    Task<std::vector<Gear>> filter_gear(std::string query, std::string what) {
        kit::Call call{.path = "/gear-service/gear/filterGear", .query = std::move(query), .what = std::move(what)};
        auto doc = co_await m_client.call_json(std::move(call));
        if (!doc) co_return doc.error();
        if (!doc->IsArray()) co_return bad_answer("Garmin Connect answered the gear list with no JSON array");
        std::vector<Gear> out;
        for (const auto& g : doc->GetArray()) {
            auto uuid = kit::string_at(g, "uuid");
            if (!uuid || uuid->empty()) continue;
            Gear item{*uuid, kit::string_at(g, "displayName").value_or(""),
                      kit::string_at(g, "gearTypeName").value_or(""),
                      kit::string_at(g, "gearStatusName").value_or("active") == "retired"};
            if (item.name.empty()) item.name = kit::string_at(g, "customMakeModel").value_or(*uuid);
            out.push_back(std::move(item));
        }
        co_return out;
    }

    Task<void> gear_link(std::string_view verb, const std::string& gear, const std::string& id) {
        kit::Call call{
            .method = "PUT",
            .path = fmt::format("/gear-service/gear/{}/{}/activity/{}", verb, url_encode(gear), url_encode(id)),
            .what = fmt::format("{} of gear {} to activity {}", verb, gear, id)};
        auto r = co_await m_client.call(std::move(call));
        if (!r) co_return r.error();
        co_return Result<void>{};
    }

    // One look at an upload: "done:"/"duplicate:" were settled by the upload's
    // own answer; else the status endpoint (201 + Location when processed).
    Task<kit::UploadStatus> upload_status(const std::string& id) {
        kit::UploadStatus st;
        for (std::string_view prefix : {"done:", "duplicate:"})
            if (id.starts_with(prefix)) {
                st.state = kit::UploadStatus::done;
                st.remote_id = id.substr(prefix.size());
                st.duplicate = prefix == "duplicate:";
                co_return st;
            }
        kit::Call call{.path = "/activity-service/activity/status/" + id, .what = "status of upload " + id};
        auto r = co_await m_client.send(std::move(call));
        if (!r) co_return r.error();
        if (r->status == 202) co_return st;
        if (r->status != 200 && r->status != 201) co_return m_client.status_error(*r, "status of upload " + id);
        const auto location = r->header("location");
        const auto at = location.rfind('/');
        std::string found = at == std::string::npos ? std::string() : location.substr(at + 1);
        if (found.empty() || !numeric(found)) {
            auto result = read_import(*r);
            if (result.error) co_return *result.error;
            found = result.remote_id;
            st.duplicate = result.duplicate;
        }
        st.state = kit::UploadStatus::done;
        st.remote_id = found;
        co_return st;
    }

    // One list request: the activities in [since, until) and the rows the page held.
    Task<std::pair<std::vector<RemoteActivity>, size_t>> fetch_page(double since, std::optional<double> until,
                                                                    const std::string& position, int limit,
                                                                    net::Priority priority) {
        kit::Call call{.path = "/activitylist-service/activities/search/activities"};
        call.query = kit::page_query(kit::Paging::offset, position, limit, {.offset = "start"});
        call.query += "&startDate=" + date_of(since - k_day_s);
        if (until) call.query += "&endDate=" + date_of(*until + k_day_s);
        call.what = "activity list";
        call.priority = priority;
        auto doc = co_await m_client.call_json(std::move(call));
        if (!doc) co_return doc.error();
        if (!doc->IsArray())
            co_return bad_answer("Garmin Connect answered the activity list with something that is not a JSON array");
        std::pair<std::vector<RemoteActivity>, size_t> out{{}, doc->Size()};
        for (const auto& a : doc->GetArray()) {
            auto id = a.IsObject() ? kit::id_at(a, "activityId") : std::nullopt;
            if (!id || id->empty()) continue;
            RemoteActivity item{.remote_id = *id, .name = kit::string_at(a, "activityName").value_or("")};
            if (auto gmt = kit::string_at(a, "startTimeGMT")) item.start_time = kit::parse_time(*gmt);
            if (!item.start_time || *item.start_time < since || (until && *item.start_time >= *until)) continue;
            item.elapsed_s = kit::number_at(a, "elapsedDuration");
            if (!item.elapsed_s) item.elapsed_s = kit::number_at(a, "duration");
            item.distance_m = kit::number_at(a, "distance");
            if (auto key = kit::string_at(a, "activityType.typeKey")) item.sport_family = sport_family_for(*key);
            item.origin = fmt::format("{}/activity-service/activity/{}", m_client.settings().base_url, *id);
            if (auto device = kit::id_at(a, "deviceId")) {
                auto name = co_await device_name(*device);
                if (!name.empty()) item.origin += " (recorded by " + name + ")";
            }
            if (kit::json_at(a, "manualActivity") != nullptr && kit::json_at(a, "manualActivity")->IsTrue())
                item.unavailable_reason =
                    fmt::format("activity {} was entered by hand: Garmin Connect has no file", *id);
            else if (m_no_file.contains(*id))
                item.unavailable_reason = fmt::format("Garmin Connect serves no original file for activity {}", *id);
            item.backfill = priority == net::Priority::backfill;
            out.first.push_back(std::move(item));
        }
        co_return out;
    }

    // The product name of a device of the account, from its device list (read
    // once); empty when unknown. A failed read costs only the name.
    boost::asio::awaitable<std::string> device_name(const std::string& device) {
        if (!m_devices_read) {
            m_devices_read = true;
            kit::Call call{.path = "/device-service/deviceregistration/devices", .what = "device list"};
            auto doc = co_await m_client.call_json(std::move(call));
            if (doc && doc->IsArray())
                for (const auto& d : doc->GetArray()) {
                    auto did = d.IsObject() ? kit::id_at(d, "deviceId") : std::nullopt;
                    auto name = did ? kit::string_at(d, "productDisplayName") : std::nullopt;
                    if (!name && did) name = kit::string_at(d, "displayName");
                    if (did && name) m_devices[*did] = *name;
                }
        }
        auto it = m_devices.find(device);
        co_return it == m_devices.end() ? std::string() : it->second;
    }

    kit::PlatformClient m_client;
    kit::Watermark m_watermark;
    int m_page_size;
    kit::UploadPoller m_poller;
    std::string m_profile;  // userProfileNumber, for the gear list
    bool m_devices_read = false;
    std::map<std::string, std::string> m_devices;  // deviceId -> product name
    std::set<std::string> m_no_file;               // activities whose download answered 404/500
};

// Tokens (kind oauth2) for every account; a verification code (kind
// mfa_code) only for one that signs in by itself.
Result<void> accept(const config::AccountConfig& account, std::string_view kind) {
    auto s = kit::parse_settings(k_platform, account, k_options);
    if (!s) return s.error();
    if (kind == "oauth2") return {};
    if (kind == "mfa_code") {
        if (s->mode == kit::k_login) return {};
        return Error::permanent("garmin_connect.no_login",
                                fmt::format("account {} does not sign in by itself (no username/password_file), so "
                                            "no sign-in waits for a code; hand tokens over as kind oauth2",
                                            account.id));
    }
    return Error::permanent("garmin_connect.credential_kind",
                            fmt::format("{} takes {}, not '{}'", k_platform.title, k_platform.stored_kinds_help, kind));
}

}  // namespace

std::optional<std::string> sport_family_for(std::string_view type_key) { return kit::family_of(k_sports, type_key); }

Factory factory() {
    auto f = kit::make_factory<k_platform, k_options, Impl>(
        "Garmin Connect (unofficial; DI tokens handed over or its own sign-in): list, original ZIPs, upload, "
        "rename, sport, gear",
        k_caps);
    f.accept_credentials = &accept;
    return f;
}

}  // namespace fitbridge::providers::garmin_connect
