#include "providers/trainingpeaks/trainingpeaks.hpp"

#include <cctype>
#include <cstdlib>

#include <fmt/format.h>

#include "core/version.hpp"
#include "json/json.hpp"
#include "net/url.hpp"
#include "providers/kit/date_windows.hpp"
#include "providers/kit/factory.hpp"
#include "providers/kit/files.hpp"
#include "providers/kit/listing.hpp"
#include "providers/kit/mapping.hpp"
#include "providers/kit/platform.hpp"
#include "providers/kit/session.hpp"
#include "providers/kit/upload.hpp"

namespace fitbridge::providers::trainingpeaks {

namespace {

constexpr uint32_t k_personal_caps = k_list_window | k_download;
constexpr uint32_t k_partner_caps = k_upload;
constexpr double k_day_s = 86400;
constexpr std::string_view k_recopy =
    "copy the Production_tpAuth cookie again from a browser signed in to TrainingPeaks into cookie_file";

constexpr OptionSpec k_personal_options[] = {
    OptionSpec{.name = "cookie_file",
               .help = "the personal route (unofficial): a file holding the browser's Production_tpAuth cookie (its "
                       "value, or Production_tpAuth=<value>)",
               .empty_error = "must name a file"},
    integer_option("window_days", "90", 1, 90, "days per workout list request (TrainingPeaks takes at most 90)",
                   "a number of days"),
    integer_option("overlap_days", "3", 0, 365, "trailing days re-listed by incremental polls",
                   "a whole number of days"),
};
constexpr OptionSpec k_partner_options[] = {
    text_option("upload_client", "FitBridge", "the partner route's UploadClient", "must not be empty"),
};

const kit::Platform k_personal{
    .name = "trainingpeaks",
    .title = "TrainingPeaks",
    .base_url = "https://tpapi.trainingpeaks.com",
    .unofficial = true,
};

const kit::Platform k_partner{
    .name = "trainingpeaks",
    .title = "TrainingPeaks",
    .base_url = "https://api.trainingpeaks.com",
    .auth_url = "https://oauth.trainingpeaks.com",
    .credential_modes = kit::k_oauth_app,
    .stored_kinds = "oauth2",
    .stored_kinds_help = "OAuth tokens (kind oauth2)",
    .authorize_path = "/OAuth/Authorize",
    .token_path = "/oauth/token",
    .oauth_scope = "file:write workouts:read",
    // A second POST /v3/file is a second workout: a lost answer is settled by find_existing.
    .retry_writes = false,
    .unofficial = true,
};

// workoutTypeValueId: 1 swim, 2 bike, 3 run, 8 mountain bike, 9 strength,
// 11 XC ski, 12 rowing, 13 walk.
constexpr std::pair<int, std::string_view> k_types[] = {{1, "swim"},     {2, "ride"}, {3, "run"},  {8, "ride"},
                                                        {9, "strength"}, {11, "ski"}, {12, "row"}, {13, "walk"}};
// The partner upload's Type for a family.
constexpr kit::SportName k_upload_types[] = {{"bike", "ride"},  {"run", "run"},           {"swim", "swim"},
                                             {"walk", "walk"},  {"strength", "strength"}, {"rowing", "row"},
                                             {"xc-ski", "ski"}, {"other", "other"}};

Error invalid(std::string message) { return Error::permanent("config.invalid", std::move(message)); }

// Which route an account takes: its credential option decides.
Result<bool> is_partner(const config::AccountConfig& a) {
    const bool cookie = a.options.contains("cookie_file");
    const bool partner = a.options.contains("client_id") || a.options.contains("client_secret_file") ||
                         a.options.contains("credentials");
    if (cookie && partner)
        return invalid(
            "cookie_file, client_id: set only one (cookie_file for the personal route, client_id + "
            "client_secret_file for the partner API)");
    if (!cookie && !partner)
        return invalid(
            "cookie_file: required (a file holding the browser's Production_tpAuth cookie), or client_id + "
            "client_secret_file for the partner API (approved partners only)");
    return partner;
}

// ---- the personal route: a source ---------------------------------------------

class Personal final : public Provider {
public:
    Personal(kit::Settings settings, const Context& context)
        : m_client(k_personal, std::move(settings), context), m_watermark(context.cursors, m_client.account_id()) {
        kit::SessionSource::SignIn exchange = [this]() { return exchange_cookie(); };
        m_client.set_token_source(std::make_unique<kit::SessionSource>(
            kit::SessionSource::Options{.account = m_client.account_id(), .kind = "tp_cookie"}, std::move(exchange),
            nullptr, context.tokens, m_client.clock()));
        m_client.set_status_hook([](const net::HttpResponse& r, std::string_view what, const std::string&) {
            if (r.status != 401) return std::optional<Error>();
            return std::optional<Error>(Error::auth(
                "trainingpeaks.cookie_expired", fmt::format("TrainingPeaks refused the session for the {} (401 {}); {}",
                                                            what, message_of(r.body), k_recopy)));
        });
    }

    std::string_view account_id() const override { return m_client.account_id(); }
    uint32_t capabilities() const override { return k_personal_caps; }
    std::string_view platform_name() const override { return k_personal.title; }
    std::optional<CredentialSource> credential_source() const override {
        return CredentialSource{"cookie", "cookie_file"};
    }
    std::vector<IgnoredItem> ignored() const override { return m_ignored; }

    Task<ListPage> list(const ListQuery& query) override {
        const double overlap = static_cast<double>(m_client.options().integer("overlap_days")) * k_day_s;
        const auto priority = query.backfill ? net::Priority::backfill : net::Priority::live;
        if (!query.cursor) m_ignored.clear();
        co_return co_await kit::list_window(
            query, m_watermark, m_client.now(), overlap, k_personal.name,
            [this, priority](const kit::WindowCursor& w) { return fetch_window(w, priority); });
    }

    Task<std::string> download(const RemoteActivity& item) override {
        if (item.unavailable_reason) co_return Error::permanent("trainingpeaks.unavailable", *item.unavailable_reason);
        const auto priority = item.backfill ? net::Priority::backfill : net::Priority::live;
        auto user = co_await user_id(priority);
        if (!user) co_return user.error();
        const std::string base = fmt::format("/fitness/v6/athletes/{}/workouts/{}", url(*user), url(item.remote_id));
        kit::Call details{.path = base + "/details",
                          .what = fmt::format("details of workout {}", item.remote_id),
                          .priority = priority};
        auto doc = co_await m_client.call_json(std::move(details));
        if (!doc) co_return doc.error();
        const auto* files = doc->IsObject() ? kit::json_at(*doc, "attachmentFileInfos") : nullptr;
        std::optional<std::string> file_id;
        if (files != nullptr && files->IsArray())
            for (const auto& f : files->GetArray()) {
                auto id = kit::id_at(f, "fileId");
                const auto name = kit::string_at(f, "fileName").value_or("");
                if (!id || id->empty()) continue;
                if (!file_id) file_id = id;  // the first, unless a device file follows
                if (is_device_file(name)) {
                    file_id = id;
                    break;
                }
            }
        if (!file_id)
            co_return Error::permanent(
                "trainingpeaks.unavailable",
                fmt::format("TrainingPeaks keeps no device file for workout {}", item.remote_id));
        kit::Call raw{.path = fmt::format("{}/attachments/{}/raw", base, url(*file_id)),
                      .what = fmt::format("device file of workout {}", item.remote_id),
                      .priority = priority};
        co_return co_await kit::fetch_file(m_client, std::move(raw), "workout " + item.remote_id);
    }

    Task<std::optional<std::string>> find_existing(const UploadRequest&) override {
        co_return unsupported_error("finding an uploaded activity");
    }

private:
    static std::string url(std::string_view s) { return net::url_encode(s); }

    // TrainingPeaks' error body {"Message": "..."}, else the kit's reading.
    static std::string message_of(std::string_view body) {
        if (auto doc = json::parse(body); doc && doc->IsObject())
            if (auto m = kit::string_at(*doc, "Message"); m && !m->empty()) return *m;
        return kit::body_message(body);
    }

    static bool is_device_file(std::string_view name) {
        std::string lower(name);
        for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        for (std::string_view ext : {".fit", ".fit.gz", ".tcx", ".tcx.gz", ".gpx", ".gpx.gz", ".zip"})
            if (lower.ends_with(ext)) return true;
        return false;
    }

    // The cookie for a bearer token: the personal route's sign-in.
    Task<net::Credentials> exchange_cookie() {
        auto text = config::read_secret(m_client.options().text("cookie_file"), m_client.config());
        if (!text)
            co_return Error::auth("trainingpeaks.credentials", fmt::format("cookie_file: {}", text.error().message));
        const std::string cookie = cookie_value(*text);
        if (cookie.empty())
            co_return Error::auth("trainingpeaks.credentials",
                                  fmt::format("cookie_file holds no cookie; {}", k_recopy));
        kit::Call call{.path = "/users/v3/token", .what = "cookie exchange", .authorized = false};
        call.headers.emplace_back("Cookie", "Production_tpAuth=" + cookie);
        call.headers.emplace_back("Accept", "application/json");
        auto r = co_await m_client.send(std::move(call));
        if (!r) co_return r.error();
        if (r->status == 401 || r->status == 403)
            co_return Error::auth("trainingpeaks.cookie_expired",
                                  fmt::format("TrainingPeaks refused the Production_tpAuth cookie ({} {}); {}",
                                              r->status, message_of(r->body), k_recopy));
        if (r->status < 200 || r->status >= 300) co_return m_client.status_error(*r, "cookie exchange");
        auto doc = json::parse(r->body);
        net::Credentials c;
        if (doc && doc->IsObject()) c.access_token = kit::string_at(*doc, "token.access_token").value_or("");
        if (c.access_token.empty())
            co_return Error::transient("trainingpeaks.bad_answer",
                                       fmt::format("TrainingPeaks answered the cookie exchange without a token: {}",
                                                   kit::body_message(r->body)));
        if (auto in = kit::number_at(*doc, "token.expires_in"))
            c.expires_at = m_client.clock().now() + std::chrono::seconds(static_cast<int64_t>(*in));
        co_return c;
    }

    Task<std::string> user_id(net::Priority priority) {
        if (!m_user.empty()) co_return m_user;
        kit::Call call{.path = "/users/v3/user", .what = "user", .priority = priority};
        auto doc = co_await m_client.call_json(std::move(call));
        if (!doc) co_return doc.error();
        auto id = doc->IsObject() ? kit::id_at(*doc, "user.userId") : std::nullopt;
        if (!id || id->empty())
            co_return Error::transient("trainingpeaks.bad_answer", "TrainingPeaks answered the user without its id");
        m_user = *id;
        co_return m_user;
    }

    // One date window (at most window_days) per page, newest first; the
    // position is the window's index. Windows are padded by a day: the list
    // filters on the athlete's local dates.
    Task<kit::WindowPage> fetch_window(kit::WindowCursor w, net::Priority priority) {
        auto user = co_await user_id(priority);
        if (!user) co_return user.error();
        const auto windows = kit::date_windows(w.since, w.until.value_or(m_client.now() + k_day_s),
                                               static_cast<int>(m_client.options().integer("window_days")), 1);
        const size_t at = w.position.empty() ? 0 : static_cast<size_t>(std::atoll(w.position.c_str()));
        kit::WindowPage out;
        if (at >= windows.size()) co_return out;
        kit::Call call{.path = fmt::format("/fitness/v6/athletes/{}/workouts/{}/{}", url(*user), windows[at].first,
                                           windows[at].last),
                       .what = "workout list",
                       .priority = priority};
        auto doc = co_await m_client.call_json(std::move(call));
        if (!doc) co_return doc.error();
        if (!doc->IsArray())
            co_return Error::transient("trainingpeaks.bad_answer",
                                       "TrainingPeaks answered the workout list with something that is not a JSON "
                                       "array");
        for (const auto& a : doc->GetArray()) {
            if (!a.IsObject()) continue;
            auto id = kit::id_at(a, "workoutId");
            if (!id || id->empty()) continue;
            const auto* start = kit::json_at(a, "startTime");
            const auto hours = kit::number_at(a, "totalTime");
            if (start == nullptr || start->IsNull() || !hours) {
                m_ignored.push_back(IgnoredItem{.origin = fmt::format("TrainingPeaks workout {}", *id),
                                                .reason = "planned",
                                                .detail = "a planned workout without a completed activity"});
                continue;
            }
            // startTime is the athlete's local time without a zone; the file has the exact start.
            RemoteActivity item{.remote_id = *id, .name = kit::string_at(a, "title").value_or("")};
            item.start_time = kit::time_of(*start);
            item.elapsed_s = *hours * 3600;
            item.distance_m = kit::number_at(a, "distance");
            if (auto type = kit::number_at(a, "workoutTypeValueId"))
                item.sport_family = sport_family_for(static_cast<int>(*type));
            item.origin = fmt::format("TrainingPeaks workout {}", *id);
            out.items.push_back(std::move(item));
        }
        if (at + 1 < windows.size()) out.next_position = std::to_string(at + 1);
        co_return out;
    }

    kit::PlatformClient m_client;
    kit::Watermark m_watermark;
    std::string m_user;
    std::vector<IgnoredItem> m_ignored;
};

// ---- the partner API: a sink ----------------------------------------------------

class Partner final : public Provider {
public:
    Partner(kit::Settings settings, const Context& context)
        : m_client(k_partner, std::move(settings), context),
          m_poller(k_partner, kit::PollPolicy{.max_polls = 10}, kit::poll_sleep(context)) {
        m_poller.persist(context.cursors, m_client.account_id());
    }

    std::string_view account_id() const override { return m_client.account_id(); }
    uint32_t capabilities() const override { return k_partner_caps; }
    std::string_view platform_name() const override { return k_partner.title; }
    std::optional<CredentialSource> credential_source() const override { return m_client.credential_source(); }

    Task<UploadResult> upload(const UploadRequest& request) override {
        auto ext = kit::file_extension(request.bytes);
        if (!ext)
            co_return Error::permanent("trainingpeaks.bad_file",
                                       "cannot upload to TrainingPeaks: the file is not FIT, TCX or GPX");
        auto existing = co_await find_existing(request);
        if (!existing) co_return existing.error();
        if (*existing) co_return UploadResult{.remote_id = **existing, .duplicate = true};
        const std::string key = request.external_id.empty() ? request.name : request.external_id;
        kit::UploadPoller::Start start = [this, &request, ext = *ext]() { return send_file(request, ext); };
        kit::UploadPoller::Check check = [this](const std::string& id) { return status(id); };
        co_return co_await m_poller.upload(key, std::move(start), std::move(check));
    }

    Task<std::optional<std::string>> find_existing(const UploadRequest& request) override {
        kit::ListWindow list = [this](double since, double until) { return workouts(since, until); };
        co_return co_await kit::find_by_start(request, std::move(list), kit::match_tolerance(&m_client.config()));
    }

private:
    kit::Call call(std::string method, std::string path, std::string what) const {
        kit::Call c{.method = std::move(method), .path = std::move(path), .what = std::move(what)};
        // Every partner call names the application.
        c.headers.emplace_back("User-Agent", fmt::format("FitBridge/{}", version()));
        c.headers.emplace_back("Accept", "application/json");
        return c;
    }

    Task<std::string> send_file(const UploadRequest& request, const std::string& ext) {
        const std::string base_ext = ext.substr(0, ext.find('.'));  // gzipped data keeps the plain extension
        std::vector<std::pair<std::string, std::string>> fields{
            {"UploadClient", m_client.options().text("upload_client")},
            {"Filename", upload_filename(request.external_id.empty() ? "activity" : request.external_id, base_ext)}};
        if (!request.name.empty()) fields.emplace_back("Title", request.name);
        if (request.summary != nullptr) {
            if (request.summary->sport_family)
                if (auto t = kit::platform_sport(k_upload_types, *request.summary->sport_family))
                    fields.emplace_back("Type", *t);
            if (request.summary->start_time) {
                const auto local = kit::local_seconds(*request.summary->start_time);
                fields.emplace_back("WorkoutDay", local.substr(0, 10));
                fields.emplace_back("StartTime", local);
            }
        }
        auto c = call("POST", "/v3/file", "upload");
        c.headers.emplace_back("Content-Type", "application/json");
        c.body = kit::json_with_base64(fields, "Data", request.bytes);
        auto r = co_await m_client.call(std::move(c));
        if (!r) co_return r.error();
        std::string id;
        if (auto doc = json::parse(r->body); doc && doc->IsObject()) id = kit::id_at(*doc, "Id").value_or("");
        if (const auto location = r->header("location"); id.empty() && !location.empty())
            id = location.substr(location.rfind('/') + 1);
        if (id.empty())
            co_return Error::transient("trainingpeaks.upload_unconfirmed",
                                       "TrainingPeaks accepted the upload without saying where to follow it");
        co_return id;
    }

    Task<kit::UploadStatus> status(const std::string& id) {
        auto doc = co_await m_client.call_json(
            call("GET", fmt::format("/v3/status/{}", net::url_encode(id)), fmt::format("status of upload {}", id)));
        if (!doc) co_return doc.error();
        kit::UploadStatus out;
        const auto* done = doc->IsObject() ? kit::json_at(*doc, "Completed") : nullptr;
        const std::string state = doc->IsObject() ? kit::string_at(*doc, "Status").value_or("") : "";
        if (done != nullptr && done->IsBool() && done->GetBool()) {
            auto workout = kit::id_at(*doc, "WorkoutIds.0");
            out.state = workout ? kit::UploadStatus::done : kit::UploadStatus::failed;
            if (workout)
                out.remote_id = *workout;
            else
                out.error = Error::permanent("trainingpeaks.rejected",
                                             fmt::format("TrainingPeaks processed upload {} into no workout ({})", id,
                                                         state.empty() ? "no status" : state));
        } else if (state == "Failed" || state == "Error") {
            out.state = kit::UploadStatus::failed;
            out.error =
                Error::permanent("trainingpeaks.rejected", fmt::format("TrainingPeaks could not import upload {}", id));
        }
        co_return out;
    }

    // Workouts starting in [since, until), for find_existing.
    Task<std::vector<RemoteActivity>> workouts(double since, double until) {
        std::vector<RemoteActivity> all;
        for (const auto& w : kit::date_windows(since, until, 45, 1)) {
            auto doc = co_await m_client.call_json(
                call("GET", fmt::format("/v2/workouts/{}/{}", w.first, w.last), "workout list"));
            if (!doc) co_return doc.error();
            if (!doc->IsArray()) continue;
            for (const auto& a : doc->GetArray()) {
                auto id = a.IsObject() ? kit::id_at(a, "Id") : std::nullopt;
                if (!id) continue;
                RemoteActivity item{.remote_id = *id};
                if (const auto* s = kit::json_at(a, "StartTime")) item.start_time = kit::time_of(*s);
                if (item.start_time && *item.start_time >= since && *item.start_time < until)
                    all.push_back(std::move(item));
            }
        }
        co_return all;
    }

    kit::PlatformClient m_client;
    kit::UploadPoller m_poller;
};

std::vector<OptionSpec> all_options() {
    std::vector<OptionSpec> out(std::begin(k_personal_options), std::end(k_personal_options));
    for (const auto& o : kit::common_options(k_personal)) out.push_back(o);
    for (const auto& o : k_partner_options) out.push_back(o);
    for (const auto& o : kit::common_options(k_partner))
        if (o.name != "base_url") out.push_back(o);
    for (auto& o : out)
        if (o.name == "base_url")
            o.help =
                "the API (personal route https://tpapi.trainingpeaks.com, partner route "
                "https://api.trainingpeaks.com; a local fake in tests)";
    return out;
}

}  // namespace

std::string cookie_value(std::string_view text) {
    auto trim = [](std::string_view s) {
        while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
        while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
        return s;
    };
    text = trim(text);
    if (text.starts_with("Cookie:")) text = trim(text.substr(7));
    if (const auto at = text.find("Production_tpAuth="); at != std::string_view::npos) text = text.substr(at + 18);
    return std::string(trim(text.substr(0, text.find(';'))));
}

std::string upload_filename(std::string_view stem, std::string_view extension) {
    std::string out;
    for (char c : stem) {
        const bool reserved = std::isspace(static_cast<unsigned char>(c)) ||
                              std::string_view("/\\?%*:|\"<>.").find(c) != std::string_view::npos;
        out.push_back(reserved ? '-' : c);
    }
    if (out.empty()) out = "activity";
    return out + "." + std::string(extension);
}

std::optional<std::string> sport_family_for(int workout_type) {
    for (const auto& [id, family] : k_types)
        if (id == workout_type) return std::string(family);
    return "other";
}

Factory factory() {
    static const std::vector<OptionSpec> k_all = all_options();
    return Factory{
        .name = "trainingpeaks",
        .description =
            "TrainingPeaks: personal route (unofficial, cookie_file): list, download device files; partner "
            "API (client_id): upload",
        .capabilities = k_personal_caps | k_partner_caps,
        .validate = [](const config::AccountConfig& account) -> Result<void> {
            auto partner = is_partner(account);
            if (!partner) return partner.error();
            auto s = *partner ? kit::parse_settings(k_partner, account, k_partner_options)
                              : kit::parse_settings(k_personal, account, k_personal_options);
            if (!s) return s.error();
            return {};
        },
        .create = [](const config::AccountConfig& account,
                     const Context& context) -> Result<std::unique_ptr<Provider>> {
            auto partner = is_partner(account);
            if (!partner) return partner.error();
            if (*partner) {
                auto s = kit::parse_settings(k_partner, account, k_partner_options);
                if (!s) return s.error();
                return std::unique_ptr<Provider>(std::make_unique<Partner>(std::move(*s), context));
            }
            auto s = kit::parse_settings(k_personal, account, k_personal_options);
            if (!s) return s.error();
            return std::unique_ptr<Provider>(std::make_unique<Personal>(std::move(*s), context));
        },
        .accept_credentials = [](const config::AccountConfig& account, std::string_view kind) -> Result<void> {
            auto partner = is_partner(account);
            if (!partner) return partner.error();
            if (!*partner)
                return Error::permanent(
                    "trainingpeaks.credentials_in_file",
                    fmt::format("account {} reads its cookie from cookie_file: write it there", account.id));
            return kit::accept_credentials(k_partner, account, kind, k_partner_options);
        },
        .oauth = [](const config::AccountConfig& account, const config::Config& config) -> Result<net::OAuthEndpoints> {
            auto partner = is_partner(account);
            if (!partner) return partner.error();
            if (!*partner)
                return invalid(
                    fmt::format("account {} uses the personal route (cookie_file): there is no OAuth "
                                "flow; the partner API needs client_id + client_secret_file",
                                account.id));
            auto s = kit::parse_settings(k_partner, account, k_partner_options);
            if (!s) return s.error();
            return kit::oauth_endpoints(k_partner, *s, config);
        },
        .make_http =
            [](boost::asio::any_io_executor executor) {
                return kit::make_platform_http(k_partner, std::move(executor));
            },
        .options = k_all,
        .unofficial = true,
    };
}

}  // namespace fitbridge::providers::trainingpeaks
