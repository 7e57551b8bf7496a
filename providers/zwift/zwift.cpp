#include "providers/zwift/zwift.hpp"

#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>

#include "json/json.hpp"
#include "net/url.hpp"
#include "providers/kit/factory.hpp"
#include "providers/kit/files.hpp"
#include "providers/kit/listing.hpp"
#include "providers/kit/mapping.hpp"
#include "providers/kit/password_grant.hpp"
#include "providers/kit/platform.hpp"
#include "providers/kit/session.hpp"
#include "providers/kit/url_template.hpp"
#include "store/cursors.hpp"

namespace fitbridge::providers::zwift {

using net::url_encode;

namespace {

constexpr uint32_t k_caps = k_list_window | k_download;
constexpr double k_day_s = 86400;
constexpr std::string_view k_token_path = "/auth/realms/zwift/protocol/openid-connect/token";
// An activity still without an end date after this long was abandoned (the
// game crashed): it stops holding the incremental listing back.
constexpr double k_max_hold_s = 2 * k_day_s;

std::string check_files_url(std::string_view v) {
    if (!v.starts_with("https://") && !v.starts_with("http://"))
        return fmt::format("expected an http(s) URL, got '{}'", v);
    if (v.find("{key}") == std::string_view::npos) return "must contain {key} (the activity's fitFileKey)";
    return {};
}

constexpr OptionSpec k_options[] = {
    text_option("client_id", "Zwift_Game_Client", "the Keycloak client the password grant names", "must not be empty"),
    OptionSpec{.name = "files_url",
               .default_value = "https://{bucket}.s3.amazonaws.com/{key}",
               .help = "where FIT files are fetched ({bucket}, {key}: the activity's fitFileBucket and fitFileKey); "
                       "no Zwift token is sent there",
               .empty_error = "must not be empty",
               .check = &check_files_url},
    integer_option("page_size", "50", 1, 100, "activities per list request (limit)", "a number"),
    integer_option("overlap_days", "3", 0, 365, "trailing days re-listed by incremental polls",
                   "a whole number of days"),
};

constexpr kit::SportName k_sports[] = {{"CYCLING", "ride"}, {"RUNNING", "run"}, {"WALKING", "walk"}};

const kit::Platform k_platform{
    .name = "zwift",
    .title = "Zwift",
    .base_url = "https://us-or-rly101.zwift.com",
    .auth_url = "https://secure.zwift.com",
    .credential_modes = kit::k_login,
    .unofficial = true,
};

class Impl final : public Provider {
public:
    Impl(kit::Settings settings, const Context& context)
        : m_client(k_platform, std::move(settings), context),
          m_watermark(context.cursors, m_client.account_id()),
          m_cursors(context.cursors),
          m_page_size(static_cast<int>(m_client.options().integer("page_size"))),
          m_files_url(m_client.options().text("files_url")) {
        m_grant.token_url = m_client.settings().auth_url + std::string(k_token_path);
        m_grant.client_id = m_client.options().text("client_id");
        m_grant.title = "Zwift";
        m_grant.platform = "zwift";
        kit::SessionSource::SignIn sign_in = [this]() { return log_in(); };
        kit::SessionSource::Refresh refresh = [this](const net::Credentials& current) {
            return kit::refresh_grant(m_client.http(), m_grant, current, m_client.clock());
        };
        m_client.set_token_source(std::make_unique<kit::SessionSource>(
            kit::SessionSource::Options{.account = m_client.account_id(), .kind = "login"}, std::move(sign_in),
            std::move(refresh), context.tokens, m_client.clock()));
        if (m_cursors != nullptr)
            if (auto held = m_cursors->load(m_client.account_id(), "in_progress"); held && *held && !(*held)->empty())
                m_hold = std::atof((*held)->c_str());
    }

    std::string_view account_id() const override { return m_client.account_id(); }
    uint32_t capabilities() const override { return k_caps; }
    std::string_view platform_name() const override { return k_platform.title; }
    std::optional<CredentialSource> credential_source() const override { return m_client.credential_source(); }
    std::vector<IgnoredItem> ignored() const override { return m_ignored; }

    Task<ListPage> list(const ListQuery& query) override {
        const double now = m_client.now();
        double overlap = static_cast<double>(m_client.options().integer("overlap_days")) * k_day_s;
        // A ride in progress at the last listing is listed again until it has ended.
        if (m_hold && now - *m_hold < k_max_hold_s) overlap = std::max(overlap, now - *m_hold + 3600);
        if (!query.cursor) m_ignored.clear();
        m_finished = false;
        const auto priority = query.backfill ? net::Priority::backfill : net::Priority::live;
        auto page = co_await kit::list_window(
            query, m_watermark, now, overlap, k_platform.name,
            [this, priority](const kit::WindowCursor& w) { return fetch_window(w, priority); });
        if (page && m_finished) keep_hold(now);
        co_return page;
    }

    Task<std::string> download(const RemoteActivity& item) override {
        if (item.unavailable_reason) co_return Error::permanent("zwift.unavailable", *item.unavailable_reason);
        if (!item.origin.starts_with("https://") && !item.origin.starts_with("http://"))
            co_return Error::permanent("zwift.unavailable",
                                       fmt::format("no FIT file address for Zwift activity {}", item.remote_id));
        // The storage bucket is not Zwift's API: no token goes there.
        kit::Call call{.path = item.origin,
                       .what = fmt::format("FIT download of activity {}", item.remote_id),
                       .priority = item.backfill ? net::Priority::backfill : net::Priority::live,
                       .authorized = false};
        auto r = co_await kit::fetch_file(m_client, std::move(call), "activity " + item.remote_id);
        if (!r && (r.error().code == "zwift.not_found" || r.error().code == "zwift.forbidden"))
            co_return Error::permanent("zwift.unavailable",
                                       fmt::format("the storage bucket has no FIT file for Zwift activity {} ({})",
                                                   item.remote_id, r.error().message));
        co_return r;
    }

    Task<std::optional<std::string>> find_existing(const UploadRequest&) override {
        co_return unsupported_error("finding an uploaded activity");
    }

private:
    Task<net::Credentials> log_in() {
        auto password = config::read_secret(m_client.settings().secret_file, m_client.config());
        if (!password)
            co_return Error::auth("zwift.credentials", fmt::format("password_file: {}", password.error().message));
        auto r = co_await kit::password_grant(m_client.http(), m_grant, m_client.settings().username, *password,
                                              m_client.clock());
        if (!r && r.error().cls == ErrorClass::auth) {
            Error e = r.error();
            e.message += "; check username and the password in password_file";
            co_return e;
        }
        co_return r;
    }

    kit::Call api(std::string path, std::string what, net::Priority priority) const {
        kit::Call c{.path = std::move(path), .what = std::move(what), .priority = priority};
        // Some endpoints answer protobuf unless JSON is asked for.
        c.headers.emplace_back("Accept", "application/json");
        return c;
    }

    Task<std::string> profile_id(net::Priority priority) {
        if (!m_profile.empty()) co_return m_profile;
        auto doc = co_await m_client.call_json(api("/api/profiles/me", "profile", priority));
        if (!doc) co_return doc.error();
        auto id = doc->IsObject() ? kit::id_at(*doc, "id") : std::nullopt;
        if (!id || id->empty())
            co_return Error::transient("zwift.bad_answer", "Zwift answered the profile without the rider's id");
        m_profile = *id;
        co_return m_profile;
    }

    // One page, newest first (start=offset, limit); the walk ends with a short
    // page or one reaching before the window.
    Task<kit::WindowPage> fetch_window(kit::WindowCursor w, net::Priority priority) {
        auto profile = co_await profile_id(priority);
        if (!profile) co_return profile.error();
        const int64_t offset = w.position.empty() ? 0 : std::atoll(w.position.c_str());
        auto call = api(fmt::format("/api/profiles/{}/activities", url_encode(*profile)), "activity list", priority);
        call.query = fmt::format("start={}&limit={}", offset, m_page_size);
        auto doc = co_await m_client.call_json(std::move(call));
        if (!doc) co_return doc.error();
        if (!doc->IsArray())
            co_return Error::transient("zwift.bad_answer",
                                       "Zwift answered the activity list with something that is not a JSON array");
        kit::WindowPage out;
        std::optional<double> oldest;
        for (const auto& a : doc->GetArray()) {
            if (!a.IsObject()) continue;
            auto item = activity_of(a);
            if (!item) continue;
            if (item->start_time && (!oldest || *item->start_time < *oldest)) oldest = item->start_time;
            out.boundary_ids.push_back(item->remote_id);
            if (in_progress(a)) {
                m_ignored.push_back(IgnoredItem{
                    .origin = fmt::format("Zwift activity {}", item->remote_id),
                    .reason = "in_progress",
                    .detail = "Zwift is still recording it (no end date yet); it is fetched once it has ended"});
                if (item->start_time) m_in_progress.push_back(*item->start_time);
                continue;
            }
            out.items.push_back(std::move(*item));
        }
        if (doc->Size() >= static_cast<size_t>(m_page_size) && !(oldest && *oldest < w.since))
            out.next_position = std::to_string(offset + static_cast<int64_t>(doc->Size()));
        else
            out.boundary_ids.clear();
        m_finished = !out.next_position;
        m_incremental = w.incremental;
        co_return out;
    }

    static bool in_progress(const rapidjson::Value& a) {
        const auto* end = kit::json_at(a, "endDate");
        return end == nullptr || end->IsNull() || (end->IsString() && end->GetStringLength() == 0);
    }

    std::optional<RemoteActivity> activity_of(const rapidjson::Value& a) const {
        auto id = kit::id_at(a, "id_str");
        if (!id || id->empty()) id = kit::id_at(a, "id");
        if (!id || id->empty()) return std::nullopt;
        RemoteActivity item{.remote_id = *id, .name = kit::string_at(a, "name").value_or("")};
        if (const auto* start = kit::json_at(a, "startDate")) item.start_time = kit::time_of(*start);
        if (const auto* end = kit::json_at(a, "endDate"); end != nullptr && item.start_time)
            if (auto e = kit::time_of(*end)) item.elapsed_s = *e - *item.start_time;
        if (!item.elapsed_s)
            if (auto ms = kit::number_at(a, "movingTimeInMs")) item.elapsed_s = *ms / 1000;
        item.distance_m = kit::number_at(a, "distanceInMeters");
        if (auto sport = kit::string_at(a, "sport")) item.sport_family = sport_family_for(*sport);
        const auto bucket = kit::string_at(a, "fitFileBucket").value_or("");
        const auto key = kit::string_at(a, "fitFileKey").value_or("");
        if (key.empty()) {
            item.unavailable_reason = fmt::format("Zwift keeps no FIT file for activity {}", *id);
            return item;
        }
        auto url = kit::fill_url_template(m_files_url, {{"bucket", bucket}, {"key", key}}, "zwift.files_url");
        if (url)
            item.origin = *url;
        else
            item.unavailable_reason = fmt::format("Zwift activity {}: {}", *id, url.error().message);
        return item;
    }

    // After a complete listing: the oldest ride still in progress (recent
    // enough) holds the next listings back to it. An incremental listing
    // reached every held ride, so it replaces the hold; a window may not
    // have, so it only adds to it.
    void keep_hold(double now) {
        std::optional<double> hold = m_incremental ? std::nullopt : m_hold;
        // Rides seen since the last complete listing (another listing running
        // meanwhile only adds to them: the hold errs on reaching back further).
        for (double s : m_in_progress)
            if (now - s < k_max_hold_s && (!hold || s < *hold)) hold = s;
        m_in_progress.clear();
        if (hold == m_hold) return;
        m_hold = hold;
        if (m_cursors != nullptr)
            (void)m_cursors->save(m_client.account_id(), "in_progress",
                                  hold ? fmt::format("{}", static_cast<int64_t>(*hold)) : std::string());
    }

    kit::PlatformClient m_client;
    kit::Watermark m_watermark;
    store::CursorStore* m_cursors;
    int m_page_size;
    std::string m_files_url;
    kit::PasswordGrant m_grant;
    std::string m_profile;
    std::vector<IgnoredItem> m_ignored;
    std::vector<double> m_in_progress;  // starts of rides in progress seen since the last complete listing
    std::optional<double> m_hold;
    bool m_finished = false;
    bool m_incremental = false;
};

}  // namespace

std::optional<std::string> sport_family_for(std::string_view sport) { return kit::family_of(k_sports, sport); }

Factory factory() {
    return kit::make_factory<k_platform, k_options, Impl>(
        "Zwift cloud (unofficial: Keycloak login, activity list, FIT files from the storage bucket): list, download",
        k_caps);
}

}  // namespace fitbridge::providers::zwift
