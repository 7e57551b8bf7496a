#include "providers/mywhoosh/mywhoosh.hpp"

#include <array>
#include <map>

#include <fmt/format.h>

#include "core/hash.hpp"
#include "json/json.hpp"
#include "providers/kit/factory.hpp"
#include "providers/kit/handed_file.hpp"
#include "providers/kit/listing.hpp"
#include "providers/kit/mapping.hpp"
#include "providers/kit/password_login.hpp"
#include "providers/kit/platform.hpp"

namespace fitbridge::providers::mywhoosh {

namespace {

constexpr uint32_t k_caps = k_list_window | k_download;
constexpr std::string_view k_list = "/v2/rider/profile/activities";
constexpr std::string_view k_file_link = "/v2/rider/profile/download-activity-file";

constexpr OptionSpec k_options[] = {
    integer_option("page_size", "20", 1, 100, "activities per list request", "a number"),
    integer_option("overlap_days", "3", 0, 365, "trailing days re-listed by incremental polls",
                   "a whole number of days"),
};

// "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" of 32 hex digits.
std::string uuid_of(std::string_view hex) {
    return fmt::format("{}-{}-{}-{}-{}", hex.substr(0, 8), hex.substr(8, 4), hex.substr(12, 4), hex.substr(16, 4),
                       hex.substr(20, 12));
}

std::string random_uuid() {
    std::array<uint8_t, 16> b{};
    random_bytes(b);
    std::string hex;
    for (auto c : b) hex += fmt::format("{:02x}", c);
    return uuid_of(hex);
}

Task<net::Credentials> login(net::HttpClient& http, const kit::LoginRequest& req, const Clock& clock);

const kit::Platform k_platform{
    .name = "mywhoosh",
    .title = "MyWhoosh",
    .base_url = "https://service14.mywhoosh.com",
    .auth_url = "https://services.mywhoosh.com",
    .credential_modes = kit::k_login | kit::k_stored,
    .only_one_help = "username + password_file, or a session token stored with POST /v1/accounts/ID/credentials",
    .stored_kinds = "token",
    .stored_kinds_help = "a MyWhoosh session token (kind token)",
    .login = &login,
    .unofficial = true,
};

// The apps' login: Action 1001 with a correlation id per request and a device
// id that stays the same for the account (one device, not a new one per login).
Task<net::Credentials> login(net::HttpClient& http, const kit::LoginRequest& req, const Clock& clock) {
    json::Builder b;
    b.w.StartObject();
    b.field("Username", req.username);
    b.field("Password", req.password);
    b.field("Platform", "Android");
    b.field("Action", 1001);
    b.field("CorrelationId", random_uuid());
    b.field("DeviceId", uuid_of(sha256_hex("fitbridge-device:" + req.username)));
    b.field("Authorization", "");
    b.w.EndObject();
    kit::PasswordLogin l{.url = req.auth_url + "/http-service/api/login",
                         .body = b.str(),
                         .token_path = "AccessToken",
                         .refresh_path = "RefreshToken",
                         .priority = req.priority};
    l.refusal = [](const rapidjson::Value& answer) -> std::optional<std::string> {
        const auto* ok = kit::json_at(answer, "Success");
        if (ok == nullptr || !ok->IsBool() || ok->GetBool()) return std::nullopt;
        return kit::string_at(answer, "Message").value_or("no reason given");
    };
    co_return co_await kit::password_login(http, k_platform, l, clock);
}

// One page of the list: its activities, the page count and the oldest start.
struct Page {
    std::vector<RemoteActivity> items;
    int64_t total_pages = 0;
    std::optional<double> oldest;
};

class Impl final : public Provider {
public:
    Impl(kit::Settings settings, const Context& context)
        : m_client(k_platform, std::move(settings), context),
          m_watermark(context.cursors, m_client.account_id()),
          m_page_size(m_client.options().integer("page_size")) {}

    std::string_view account_id() const override { return m_client.account_id(); }
    uint32_t capabilities() const override { return k_caps; }
    std::string_view platform_name() const override { return k_platform.title; }
    std::optional<CredentialSource> credential_source() const override { return m_client.credential_source(); }

    Task<ListPage> list(const ListQuery& query) override {
        const double overlap = static_cast<double>(m_client.options().integer("overlap_days")) * 86400.0;
        // Until a listing has gone all the way through once, an incremental
        // listing starts at the beginning of time: the first route gets the
        // whole history (what Intervals.icu's own connection never fetches).
        const double now = m_watermark.value() ? m_client.now() : overlap;
        const auto priority = query.backfill ? net::Priority::backfill : net::Priority::live;
        co_return co_await kit::list_window(
            query, m_watermark, now, overlap, k_platform.name,
            [this, priority](const kit::WindowCursor& w) { return fetch_window(w, priority); });
    }

    Task<std::string> download(const RemoteActivity& item) override {
        const auto priority = item.backfill ? net::Priority::backfill : net::Priority::live;
        const std::string what = "activity " + item.remote_id;
        std::string url;
        if (auto listed = m_links.find(item.remote_id); listed != m_links.end()) {
            url = listed->second;
        } else {
            auto file = m_files.find(item.remote_id);
            if (file == m_files.end())
                co_return Error::transient("mywhoosh.not_listed",
                                           fmt::format("MyWhoosh listed no file for {} in this run; it is fetched "
                                                       "when it is listed again",
                                                       what));
            auto link = co_await file_link(file->second, what, priority);
            if (!link) co_return link.error();
            url = std::move(*link);
        }
        auto file = co_await kit::fetch_handed(m_client, url, "the file of " + what, priority);
        if (!file) co_return file.error();
        co_return kit::activity_or_unavailable(k_platform, std::move(*file), what);
    }

    Task<std::optional<std::string>> find_existing(const UploadRequest&) override {
        co_return unsupported_error("finding uploaded activities");
    }

private:
    // The pre-signed link of an activity's file.
    Task<std::string> file_link(const std::string& file_id, const std::string& what, net::Priority priority) {
        kit::Call call{.method = "POST",
                       .path = std::string(k_file_link),
                       .body = fmt::format(R"({{"fileId":{}}})", json::quote(file_id)),
                       .what = "file link of " + what,
                       .priority = priority};
        call.headers.emplace_back("Content-Type", "application/json");
        auto doc = co_await m_client.call_json(std::move(call));
        if (!doc) co_return doc.error();
        const auto* failed = kit::json_at(*doc, "error");
        if (failed != nullptr && failed->IsBool() && failed->GetBool())
            co_return Error::permanent("mywhoosh.refused",
                                       fmt::format("MyWhoosh refused the file of {}: {}", what,
                                                   kit::string_at(*doc, "message").value_or("no reason given")));
        auto url = kit::string_at(*doc, "data");
        if (!url || url->empty())
            co_return Error::permanent("mywhoosh.bad_answer",
                                       fmt::format("MyWhoosh answered the file link of {} without a link", what));
        co_return std::move(*url);
    }

    // One page of a window, newest first: the walk ends at the last page or
    // at the first page reaching before the window.
    Task<kit::WindowPage> fetch_window(kit::WindowCursor w, net::Priority priority) {
        const int64_t page = w.position.empty() ? 1 : std::max<int64_t>(1, std::atoll(w.position.c_str()));
        auto p = co_await fetch_page(page, priority);
        if (!p) co_return p.error();
        kit::WindowPage out;
        if (!p->items.empty() && page < p->total_pages && !(p->oldest && *p->oldest < w.since))
            out.next_position = std::to_string(page + 1);
        out.items = std::move(p->items);
        co_return out;
    }

    Task<Page> fetch_page(int64_t page, net::Priority priority) {
        kit::Call call{
            .method = "POST",
            .path = std::string(k_list),
            .body = fmt::format(R"({{"type":"","page":{},"limit":{},"sortDate":"DESC"}})", page, m_page_size),
            .what = "activity list",
            .priority = priority};
        call.headers.emplace_back("Content-Type", "application/json");
        auto doc = co_await m_client.call_json(std::move(call));
        if (!doc) co_return doc.error();
        const auto* rows = kit::json_at(*doc, "data.results");
        if (rows == nullptr || !rows->IsArray())
            co_return Error::permanent("mywhoosh.bad_answer",
                                       "MyWhoosh answered the activity list without data.results (the API may have "
                                       "changed)");
        Page out;
        out.total_pages = static_cast<int64_t>(kit::number_at(*doc, "data.totalPages").value_or(0));
        for (const auto& a : rows->GetArray()) {
            if (!a.IsObject()) continue;
            auto id = kit::id_at(a, "id");
            if (!id || id->empty()) continue;
            RemoteActivity item{.remote_id = *id, .name = kit::string_at(a, "title").value_or("")};
            item.origin = fmt::format("{}{} #{}", m_client.settings().base_url, k_list, *id);
            if (const auto* date = kit::json_at(a, "date")) item.start_time = kit::time_of(*date);
            if (!item.start_time)
                if (auto text = kit::string_at(a, "startDatetime")) item.start_time = kit::parse_time(*text);
            if (auto d = kit::string_at(a, "rideDuration")) item.elapsed_s = kit::parse_duration(*d);
            if (auto km = kit::number_at(a, "distance")) item.distance_m = kit::to_meters(*km, kit::DistanceUnit::km);
            item.sport_family = "ride";
            for (const char* key : {"downloadUrl", "fileUrl"})
                if (auto link = kit::string_at(a, key); link && !link->empty()) m_links[*id] = *link;
            if (auto file = kit::id_at(a, "activityFileId"); file && !file->empty()) m_files[*id] = *file;
            if (!m_links.contains(*id) && !m_files.contains(*id))
                item.unavailable_reason = fmt::format("MyWhoosh lists activity {} without a file", *id);
            if (item.start_time && (!out.oldest || *item.start_time < *out.oldest)) out.oldest = item.start_time;
            out.items.push_back(std::move(item));
        }
        co_return out;
    }

    kit::PlatformClient m_client;
    kit::Watermark m_watermark;
    int64_t m_page_size;
    std::map<std::string, std::string> m_links;  // activity id -> a file link the listing gave
    std::map<std::string, std::string> m_files;  // activity id -> activityFileId
};

}  // namespace

Factory factory() {
    return kit::make_factory<k_platform, k_options, Impl>(
        "MyWhoosh cloud (unofficial: the apps' login and activity list): list, download FIT; the whole history on "
        "the first listing",
        k_caps);
}

}  // namespace fitbridge::providers::mywhoosh
