#include "providers/igpsport/igpsport.hpp"

#include <fmt/format.h>

#include "json/json.hpp"
#include "net/url.hpp"
#include "providers/kit/factory.hpp"
#include "providers/kit/handed_file.hpp"
#include "providers/kit/listing.hpp"
#include "providers/kit/mapping.hpp"
#include "providers/kit/password_login.hpp"
#include "providers/kit/platform.hpp"

namespace fitbridge::providers::igpsport {

namespace {

constexpr uint32_t k_caps = k_list_window | k_download;
constexpr std::string_view k_api = "/web-gateway/web-analyze/activity";
constexpr double k_hour = 3600;
// A local day starts at most 14 h before its UTC day (UTC+14) and ends at
// most 12 h after it (UTC-12).
constexpr double k_day_before = 14 * k_hour;
constexpr double k_day_after = 36 * k_hour;

constexpr OptionSpec k_options[] = {
    integer_option("page_size", "20", 1, 100, "rides per list request", "a number"),
    integer_option("overlap_days", "7", 1, 365, "trailing days re-listed by incremental polls",
                   "a whole number of days"),
};

Task<net::Credentials> login(net::HttpClient& http, const kit::LoginRequest& req, const Clock& clock);

const kit::Platform k_platform{
    .name = "igpsport",
    .title = "iGPSport",
    .base_url = "https://prod.en.igpsport.com/service",
    .credential_modes = kit::k_login,
    .login = &login,
    .unofficial = true,
};

// The message of an answer whose `code` is not 0, or nullopt for a success.
std::optional<std::string> refusal(const rapidjson::Value& answer) {
    auto code = kit::number_at(answer, "code");
    if (code && *code == 0) return std::nullopt;
    auto message = kit::string_at(answer, "message").value_or("no reason given");
    return code ? fmt::format("{} (code {})", message, static_cast<int64_t>(*code)) : message;
}

Task<net::Credentials> login(net::HttpClient& http, const kit::LoginRequest& req, const Clock& clock) {
    json::Builder b;
    b.w.StartObject();
    b.field("username", req.username);
    b.field("password", req.password);
    b.field("appId", "igpsport-web");
    b.w.EndObject();
    kit::PasswordLogin l{.url = req.auth_url + "/auth/account/login",
                         .body = b.str(),
                         .token_path = "data.access_token",
                         .lifetime = std::chrono::hours(24 * 7),
                         .refusal = &refusal,
                         .priority = req.priority};
    co_return co_await kit::password_login(http, k_platform, l, clock);
}

class Impl final : public Provider {
public:
    Impl(kit::Settings settings, const Context& context)
        : m_client(k_platform, std::move(settings), context),
          m_watermark(context.cursors, m_client.account_id(), "day"),
          m_page_size(m_client.options().integer("page_size")) {}

    std::string_view account_id() const override { return m_client.account_id(); }
    uint32_t capabilities() const override { return k_caps; }
    std::string_view platform_name() const override { return k_platform.title; }
    std::optional<CredentialSource> credential_source() const override { return m_client.credential_source(); }

    Task<ListPage> list(const ListQuery& query) override {
        const double overlap = static_cast<double>(m_client.options().integer("overlap_days")) * 86400.0;
        const auto priority = query.backfill ? net::Priority::backfill : net::Priority::live;
        // Until a listing has gone all the way through once, an incremental
        // listing starts at the beginning of time: the first route gets the
        // whole history (Intervals.icu has no iGPSport connection at all).
        const double now = m_watermark.value() ? m_client.now() : overlap;
        co_return co_await kit::list_window(
            query, m_watermark, now, overlap, k_platform.name,
            [this, priority](const kit::WindowCursor& w) { return fetch_window(w, priority); });
    }

    Task<std::string> download(const RemoteActivity& item) override {
        const auto priority = item.backfill ? net::Priority::backfill : net::Priority::live;
        const std::string what = "ride " + item.remote_id;
        auto doc = co_await call(fmt::format("{}/queryActivityDetail/{}", k_api, net::url_encode(item.remote_id)), "",
                                 "detail of " + what, priority);
        if (!doc) co_return doc.error();
        auto url = kit::string_at(*doc, "data.fitUrl");
        if (!url || url->empty())
            co_return Error::permanent("igpsport.unavailable", fmt::format("iGPSport has no FIT file for {}", what));
        auto file = co_await kit::fetch_handed(m_client, *url, "the FIT file of " + what, priority);
        if (!file) co_return file.error();
        co_return kit::activity_or_unavailable(k_platform, std::move(*file), what);
    }

    Task<std::optional<std::string>> find_existing(const UploadRequest&) override {
        co_return unsupported_error("finding uploaded activities");
    }

private:
    // A GET whose answer is {code, message, data}: code != 0 is an error
    // carrying the message (auth for 401/403, transient for 5xx and 429).
    Task<rapidjson::Document> call(std::string path, std::string query, std::string what, net::Priority priority) {
        kit::Call c{.path = std::move(path), .query = std::move(query), .what = what, .priority = priority};
        auto doc = co_await m_client.call_json(std::move(c));
        if (!doc) co_return doc.error();
        if (!doc->IsObject() || !kit::number_at(*doc, "code"))
            co_return Error::permanent("igpsport.bad_answer",
                                       fmt::format("iGPSport answered the {} without its {{code, message, data}} "
                                                   "envelope (the API may have changed)",
                                                   what));
        auto why = refusal(*doc);
        if (!why) co_return std::move(*doc);
        const auto code = static_cast<int64_t>(*kit::number_at(*doc, "code"));
        const std::string line = fmt::format("iGPSport refused the {}: {}", what, *why);
        if (code == 401 || code == 403) co_return Error::auth("igpsport.unauthorized", line);
        if (code == 429 || (code >= 500 && code < 600)) co_return Error::transient("igpsport.unavailable_api", line);
        co_return Error::permanent("igpsport.refused", line);
    }

    // One page of a window, newest first: rides whose day can overlap the
    // window; the walk ends at the last page or at a page reaching before it.
    Task<kit::WindowPage> fetch_window(kit::WindowCursor w, net::Priority priority) {
        const int64_t page = w.position.empty() ? 1 : std::max<int64_t>(1, std::atoll(w.position.c_str()));
        auto doc = co_await call(std::string(k_api) + "/queryMyActivity",
                                 fmt::format("pageNo={}&pageSize={}&reqType=0&sort=1", page, m_page_size),
                                 "activity list", priority);
        if (!doc) co_return doc.error();
        const auto* rows = kit::json_at(*doc, "data.rows");
        if (rows == nullptr || !rows->IsArray())
            co_return Error::permanent("igpsport.bad_answer",
                                       "iGPSport answered the activity list without data.rows (the API may have "
                                       "changed)");
        kit::WindowPage out;
        std::optional<double> oldest;
        for (const auto& r : rows->GetArray()) {
            auto id = r.IsObject() ? kit::id_at(r, "rideId") : std::nullopt;
            if (!id || id->empty()) continue;
            auto day = day_of(kit::string_at(r, "startTime").value_or(""));
            if (day) {
                oldest = std::min(oldest.value_or(*day), *day);
                if (*day + k_day_after <= w.since || (w.until && *day - k_day_before >= *w.until)) continue;
                if (w.incremental) m_watermark.see(*day);
            }
            RemoteActivity item{.remote_id = *id, .name = kit::string_at(r, "title").value_or("")};
            item.origin = fmt::format("{}{}/queryActivityDetail/{}", m_client.settings().base_url, k_api, *id);
            item.distance_m = kit::number_at(r, "rideDistance");
            out.items.push_back(std::move(item));
        }
        const auto total = static_cast<int64_t>(kit::number_at(*doc, "data.totalPage").value_or(0));
        if (!rows->Empty() && page < total && !(oldest && *oldest + k_day_after <= w.since))
            out.next_position = std::to_string(page + 1);
        co_return out;
    }

    kit::PlatformClient m_client;
    kit::Watermark m_watermark;
    int64_t m_page_size;
};

}  // namespace

std::optional<double> day_of(std::string_view date) {
    if (date.size() != 10 || date[4] != '.' || date[7] != '.') return std::nullopt;
    std::string iso(date);
    iso[4] = iso[7] = '-';
    return kit::parse_time(iso);
}

Factory factory() {
    return kit::make_factory<k_platform, k_options, Impl>(
        "iGPSport cloud (unofficial: the web app's login and activity list): list, download FIT", k_caps);
}

}  // namespace fitbridge::providers::igpsport
