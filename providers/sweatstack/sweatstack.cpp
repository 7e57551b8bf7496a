#include "providers/sweatstack/sweatstack.hpp"

#include <set>

#include <fmt/format.h>

#include "formats/gzip.hpp"
#include "json/json.hpp"
#include "net/url.hpp"
#include "providers/kit/factory.hpp"
#include "providers/kit/files.hpp"
#include "providers/kit/listing.hpp"
#include "providers/kit/mapping.hpp"
#include "providers/kit/platform.hpp"
#include "providers/kit/upload.hpp"

namespace fitbridge::providers::sweatstack {

using net::url_encode;

namespace {

constexpr uint32_t k_caps = k_list_window | k_download | k_upload;
// The list filters by UTC date (`start`/`end` are dates): windows are widened
// by a day on each side and filtered on the exact start.
constexpr double k_day_s = 86400;
constexpr size_t k_max_files = 10;  // files per upload request (the upload schema's maxItems)
// How long an upload waits for others to share its request.
constexpr std::chrono::milliseconds k_gather{250};

constexpr OptionSpec k_options[] = {
    integer_option("page_size", "50", 1, 500, "activities per list request", "a number"),
    integer_option("overlap_days", "3", 0, 365, "trailing days re-listed by incremental polls",
                   "a whole number of days"),
};

// The first segment of SweatStack's OpenSportTaxonomy names.
constexpr kit::SportName k_sports[] = {
    {"cycling", "ride"},
    {"running", "run"},
    {"swimming", "swim"},
    {"walking", "walk"},
    {"hiking", "hike"},
    {"rowing", "row"},
    {"cross_country_skiing", "ski"},
    {"generic", "other"},
};

const kit::Platform k_platform{
    .name = "sweatstack",
    .title = "SweatStack",
    .base_url = "https://app.sweatstack.no",
    .credential_modes = kit::k_token_file | kit::k_stored | kit::k_oauth_app,
    .only_one_help = "a token or API key in token_file, or stored credentials from fitbridge auth or the API",
    .stored_kinds = "api_key,token,oauth2",
    .stored_kinds_help = "an api_key or a token",
    .authorize_path = "/oauth/authorize",
    .token_path = "/api/v1/oauth/token",
    .oauth_scope = "data:read data:write offline_access",
    .refreshed_token_header = "refreshed-token",
    // SweatStack's own client never resends a POST: a lost upload answer is
    // settled by find_existing, not by a second copy.
    .retry_writes = false,
};

std::string date_of(double unix_seconds) { return kit::local_seconds(unix_seconds).substr(0, 10); }

class Impl final : public Provider {
public:
    Impl(kit::Settings settings, const Context& context)
        : m_client(k_platform, std::move(settings), context),
          m_watermark(context.cursors, m_client.account_id()),
          m_page_size(static_cast<int>(m_client.options().integer("page_size"))),
          m_batcher(k_max_files, k_gather,
                    [this](const std::vector<kit::BatchItem>& items) { return send_batch(items); }),
          m_poller(k_platform, kit::PollPolicy{.max_polls = 10}, kit::poll_sleep(context)) {}

    std::string_view account_id() const override { return m_client.account_id(); }
    uint32_t capabilities() const override { return k_caps; }
    std::string_view platform_name() const override { return k_platform.title; }
    std::optional<CredentialSource> credential_source() const override { return m_client.credential_source(); }

    Task<ListPage> list(const ListQuery& query) override {
        const double overlap = static_cast<double>(m_client.options().integer("overlap_days")) * k_day_s;
        const auto priority = query.backfill ? net::Priority::backfill : net::Priority::live;
        co_return co_await kit::list_window(
            query, m_watermark, m_client.now(), overlap, k_platform.name,
            [this, priority](const kit::WindowCursor& w) { return fetch_window(w, priority); });
    }

    Task<std::string> download(const RemoteActivity& item) override {
        if (item.unavailable_reason) co_return Error::permanent("sweatstack.unavailable", *item.unavailable_reason);
        kit::Call call{.path = fmt::format("/api/v1/activities/{}/download", url_encode(item.remote_id)),
                       .what = fmt::format("download of activity {}", item.remote_id),
                       .priority = item.backfill ? net::Priority::backfill : net::Priority::live};
        auto r = co_await kit::fetch_file(m_client, std::move(call), "activity " + item.remote_id);
        if (!r && r.error().code == "sweatstack.not_found") {
            // Activities synced from elsewhere or made from CSV have no
            // original: the next listing offers them as unavailable.
            const std::string reason =
                fmt::format("SweatStack serves no original file for activity {}", item.remote_id);
            m_no_file.insert(item.remote_id);
            co_return Error::permanent("sweatstack.unavailable", reason);
        }
        co_return r;
    }

    Task<UploadResult> upload(const UploadRequest& request) override {
        auto ext = kit::file_extension(request.bytes);
        if (!ext)
            co_return Error::permanent("sweatstack.bad_file",
                                       "cannot upload to SweatStack: the file is not FIT, TCX or GPX");
        if (*ext != "fit" && *ext != "fit.gz")
            co_return Error::permanent(
                "sweatstack.unsupported_format",
                fmt::format("SweatStack takes FIT files only and this activity's original is {}; FitBridge converts "
                            "nothing, so it is not sent",
                            ext->starts_with("gpx") ? "a GPX file" : "a TCX file"));
        auto existing = co_await find_existing(request);
        if (!existing) co_return existing.error();
        if (*existing) co_return UploadResult{.remote_id = **existing, .duplicate = true};
        std::vector<uint8_t> inflated;
        std::span<const uint8_t> fit = request.bytes;
        if (*ext == "fit.gz") {
            auto g = formats::gunzip(request.bytes, kit::k_max_unpacked);
            if (!g.error.empty())
                co_return Error::permanent("sweatstack.bad_file", "cannot unpack the gzipped FIT file: " + g.error);
            inflated = std::move(g.payload);
            fit = inflated;
        }
        const std::string key = request.external_id.empty() ? request.name : request.external_id;
        const std::string file_name =
            (request.external_id.empty() ? std::string("activity") : request.external_id) + ".fit";
        // (named, not temporaries inside co_await: GCC 12)
        kit::UploadPoller::Start start = [this, fit, file_name]() -> Task<std::string> {
            kit::BatchItem item{fit, file_name};
            co_return co_await m_batcher.submit(std::move(item));
        };
        kit::UploadPoller::Check check = [this](const std::string& id) { return source_status(id); };
        co_return co_await m_poller.upload(key, std::move(start), std::move(check));
    }

    Task<std::optional<std::string>> find_existing(const UploadRequest& request) override {
        kit::ListWindow list = [this](double since, double until) { return list_all(since, until); };
        co_return co_await kit::find_by_start(request, std::move(list), kit::match_tolerance(&m_client.config()));
    }

private:
    // One upload request for up to 10 files: one source id per file, in order.
    Task<std::vector<Result<std::string>>> send_batch(std::vector<kit::BatchItem> items) {
        kit::Call call{.method = "POST", .path = "/api/v1/activities/upload", .what = "upload"};
        kit::set_multipart_files(call, {}, "files", items);
        auto doc = co_await m_client.call_json(std::move(call));
        if (!doc) co_return doc.error();
        const auto* sources = kit::json_at(*doc, "sources");
        if (sources == nullptr || !sources->IsArray())
            co_return Error::transient("sweatstack.bad_answer", "SweatStack answered the upload without its sources");
        std::vector<Result<std::string>> out;
        for (const auto& s : sources->GetArray()) {
            auto id = kit::id_at(s, "id");
            if (id && !id->empty())
                out.emplace_back(*id);
            else
                out.emplace_back(Error::transient("sweatstack.bad_answer", "an upload source without an id"));
        }
        co_return out;
    }

    // One look at an upload source: processing, processed (the activity) or failed.
    Task<kit::UploadStatus> source_status(const std::string& source_id) {
        kit::Call call{.path = fmt::format("/api/v1/sources/{}", url_encode(source_id)),
                       .what = fmt::format("status of upload {}", source_id)};
        auto doc = co_await m_client.call_json(std::move(call));
        if (!doc) co_return doc.error();
        const std::string status = kit::string_at(*doc, "status").value_or("");
        kit::UploadStatus out;
        if (status == "processed") {
            auto id = kit::id_at(*doc, "activity_ids.0");
            if (!id || id->empty()) {
                out.state = kit::UploadStatus::failed;
                out.error = Error::permanent("sweatstack.rejected",
                                             fmt::format("SweatStack processed upload {} into no activity", source_id));
                co_return out;
            }
            out.state = kit::UploadStatus::done;
            out.remote_id = *id;
        } else if (status == "failed") {
            out.state = kit::UploadStatus::failed;
            const auto message = kit::string_at(*doc, "error.message")
                                     .value_or(kit::string_at(*doc, "error.code").value_or("no reason given"));
            out.error = Error::permanent("sweatstack.rejected", "SweatStack could not process the file: " + message);
        } else if (status != "processing") {
            co_return Error::transient(
                "sweatstack.bad_answer",
                fmt::format("SweatStack answered the status of upload {} with status '{}'", source_id, status));
        }
        co_return out;
    }

    // One page of a window, newest first; the position is the offset.
    Task<kit::WindowPage> fetch_window(kit::WindowCursor w, net::Priority priority) {
        auto rows = co_await fetch_page(w.since, w.until, w.position, priority);
        if (!rows) co_return rows.error();
        kit::WindowPage out;
        out.next_position = kit::next_position(kit::Paging::offset, w.position, rows->second, m_page_size);
        out.items = std::move(rows->first);
        co_return out;
    }

    // Every activity starting in [since, until) (find_existing).
    Task<std::vector<RemoteActivity>> list_all(double since, double until) {
        std::vector<RemoteActivity> all;
        std::string position;
        for (;;) {
            auto rows = co_await fetch_page(since, until, position, net::Priority::live);
            if (!rows) co_return rows.error();
            for (auto& item : rows->first)
                if (item.start_time && *item.start_time >= since && *item.start_time < until)
                    all.push_back(std::move(item));
            auto next = kit::next_position(kit::Paging::offset, position, rows->second, m_page_size);
            if (!next) co_return all;
            position = *next;
        }
    }

    // One list request: the activities and the number of rows the page held.
    Task<std::pair<std::vector<RemoteActivity>, size_t>> fetch_page(double since, std::optional<double> until,
                                                                    const std::string& position,
                                                                    net::Priority priority) {
        kit::Call call{.path = "/api/v1/activities/", .query = "start=" + date_of(since - k_day_s)};
        if (until) call.query += "&end=" + date_of(*until + k_day_s);
        call.query += "&" + kit::page_query(kit::Paging::offset, position, m_page_size);
        call.what = "activity list";
        call.priority = priority;
        auto doc = co_await m_client.call_json(std::move(call));
        if (!doc) co_return doc.error();
        if (!doc->IsArray())
            co_return Error::transient("sweatstack.bad_answer",
                                       "SweatStack answered the activity list with something that is not a JSON array");
        std::pair<std::vector<RemoteActivity>, size_t> out{{}, doc->Size()};
        for (const auto& a : doc->GetArray()) {
            if (!a.IsObject()) continue;
            auto id = kit::id_at(a, "id");
            if (!id || id->empty()) continue;
            RemoteActivity item{.remote_id = *id};
            item.origin = fmt::format("{}/activities/{}", m_client.settings().base_url, *id);
            if (const auto* start = kit::json_at(a, "start")) item.start_time = kit::time_of(*start);
            if (auto d = kit::string_at(a, "duration")) item.elapsed_s = kit::parse_duration(*d);
            if (!item.elapsed_s && item.start_time)
                if (const auto* end = kit::json_at(a, "end"))
                    if (auto e = kit::time_of(*end)) item.elapsed_s = *e - *item.start_time;
            item.distance_m = kit::number_at(a, "distance");
            if (!item.distance_m) item.distance_m = kit::number_at(a, "summary.distance.sum");
            if (auto sport = kit::string_at(a, "sport")) item.sport_family = sport_family_for(*sport);
            if (m_no_file.contains(*id))
                item.unavailable_reason = fmt::format("SweatStack serves no original file for activity {}", *id);
            out.first.push_back(std::move(item));
        }
        co_return out;
    }

    kit::PlatformClient m_client;
    kit::Watermark m_watermark;
    int m_page_size;
    kit::UploadBatcher m_batcher;
    kit::UploadPoller m_poller;
    std::set<std::string> m_no_file;  // activities whose download answered 404
};

}  // namespace

std::optional<std::string> sport_family_for(std::string_view sport) {
    const auto first = sport.substr(0, sport.find('.'));
    return kit::family_of(k_sports, first);
}

Factory factory() {
    return kit::make_factory<k_platform, k_options, Impl>(
        "SweatStack (API key, token or OAuth + PKCE): list, download, upload FIT (batched, processed asynchronously)",
        k_caps);
}

}  // namespace fitbridge::providers::sweatstack
