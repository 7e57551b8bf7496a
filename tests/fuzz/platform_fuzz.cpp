// libFuzzer target for each platform's reading of its answers: a provider
// built through its real factory talks to an in-process net::HttpClient that
// answers every request with the next answer taken from the input, while the
// target drives list() (following the cursor), download(), upload() (a small
// FIT from tests/data), find_existing() and list_gear() on a fresh
// io_context. Whatever comes back, each call must finish with a Result: a
// value that keeps its promise, or an Error with a code and a message.
//
// Input: one byte that picks the platform (its value modulo the number of
// rows of k_platforms), then answers separated by "\n=====\n". An answer is an HTTP-like head,
// the status and then "name: value" header lines, an empty line, then the
// body ("200\ncontent-type: application/json\n\n[...]"). An answer without a
// status, and every request after the last answer, fails as a lost
// connection would.
//
// A new platform adds a row to k_platforms below.

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <cctype>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "formats/decode.hpp"
#include "formats/gzip.hpp"
#include "net/http_client.hpp"
#include "net/oauth.hpp"
#include "providers/intervals_icu/intervals_icu.hpp"
#include "providers/provider.hpp"
#include "providers/rest/rest.hpp"
#include "providers/sporttracks/sporttracks.hpp"
#include "providers/strava/strava.hpp"
#include "providers/trainitall/trainitall.hpp"

namespace {

namespace providers = fitbridge::providers;
namespace net = fitbridge::net;
using fitbridge::Error;
using fitbridge::Result;

constexpr std::string_view k_separator = "\n=====\n";
// Requests one input may be answered; listing follows at most this many pages.
constexpr int k_max_pages = 4;
constexpr size_t k_max_downloads = 3;

void check(bool ok) {
    if (!ok) __builtin_trap();
}

void check_error(const Error& e) { check(!e.code.empty() && !e.message.empty()); }

// Answers requests in order from the fuzz input.
class ScriptedClient final : public net::HttpClient {
public:
    explicit ScriptedClient(std::string_view script) : m_rest(script) {}

    boost::asio::awaitable<Result<net::HttpResponse>> send(net::HttpRequest request) override {
        check(request.url.starts_with("https://") || request.url.starts_with("http://"));
        if (m_exhausted) co_return Error::transient("net.reset", "connection closed before a response");
        const auto end = m_rest.find(k_separator);
        const std::string_view answer = m_rest.substr(0, end);
        if (end == std::string_view::npos) {
            m_exhausted = true;
            m_rest = {};
        } else {
            m_rest.remove_prefix(end + k_separator.size());
        }
        auto r = parse(answer);
        if (!r) co_return Error::transient("net.reset", "connection closed before a response");
        r->final_url = request.url;
        co_return std::move(*r);
    }

private:
    static std::optional<net::HttpResponse> parse(std::string_view answer) {
        net::HttpResponse r;
        size_t i = 0;
        while (i < answer.size() && i < 3 && std::isdigit(static_cast<unsigned char>(answer[i])))
            r.status = r.status * 10 + (answer[i++] - '0');
        if (i == 0) return std::nullopt;
        std::string_view rest = answer.substr(i);
        // Header lines up to an empty line; a head without one is all body.
        const auto blank = rest.find("\n\n");
        std::string_view head = blank == std::string_view::npos ? std::string_view() : rest.substr(0, blank);
        r.body = std::string(blank == std::string_view::npos ? rest : rest.substr(blank + 2));
        while (!head.empty()) {
            const auto nl = head.find('\n');
            const std::string_view line = head.substr(0, nl);
            head = nl == std::string_view::npos ? std::string_view() : head.substr(nl + 1);
            const auto colon = line.find(':');
            if (colon == std::string_view::npos) continue;
            std::string name(line.substr(0, colon));
            for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            std::string_view value = line.substr(colon + 1);
            while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
            r.headers.emplace_back(std::move(name), std::string(value));
        }
        return r;
    }

    std::string_view m_rest;
    bool m_exhausted = false;
};

// Credentials kept in memory: the account's stored key or OAuth tokens
// (valid for a day, so a refresh comes only after a 401 in the script).
class MemoryTokenStore final : public net::TokenStore {
public:
    explicit MemoryTokenStore(std::string kind) : m_kind(std::move(kind)) {}
    Result<std::optional<net::Credentials>> load(const std::string&) override {
        net::Credentials c{.kind = m_kind, .access_token = "fuzz-key"};
        if (m_kind == "oauth2") {
            c.refresh_token = "fuzz-refresh";
            c.expires_at = fitbridge::SysTime(std::chrono::seconds(1738368000 + 86400));
        }
        return std::optional<net::Credentials>(std::move(c));
    }
    Result<void> save(const std::string&, const net::Credentials&) override { return {}; }

private:
    std::string m_kind;
};

struct PlatformRow {
    providers::Factory (*factory)();
    const char* provider;
    const char* credential_kind;  // what the token store holds for the account
    std::map<std::string, std::string> options;
    std::map<std::string, std::vector<std::string>> lists;
};

const PlatformRow k_platforms[] = {
    {&providers::intervals_icu::factory,
     "intervals_icu",
     "api_key",
     {{"credentials", "stored"}, {"page_size", "3"}},
     {{"gear_map", {"ride:b1234", "run:s99"}}}},
    {&providers::rest::factory,
     "rest",
     "api_key",
     {{"base_url", "https://api.example.com"},
      {"credentials", "stored"},
      {"list.page_size", "3"},
      {"file.path", "/activities/{id}/file"},
      {"gear.path", "/gear"}},
     {}},
    {&providers::sporttracks::factory, "sporttracks", "oauth2", {{"credentials", "stored"}, {"page_size", "3"}}, {}},
    {&providers::trainitall::factory, "trainitall", "oauth2", {{"client_id", "fitbridge"}, {"page_size", "3"}}, {}},
    {&providers::strava::factory,
     "strava",
     "oauth2",
     {{"credentials", "stored"}, {"page_size", "3"}},
     {{"gear_map", {"ride:b1234", "run:g99"}}}},
    // Not here yet: SweatStack gathers concurrent uploads for 250 ms of real
    // time before sending them as one request, which would leave this target
    // at a few runs a second.
};

// The file uploads send: a small activity of the fixture set.
const std::string& upload_file() {
    static const std::string bytes = [] {
        std::ifstream in(std::string(FITBRIDGE_SOURCE_DIR) + "/tests/data/fit/garmin-fenix5-run.fit", std::ios::binary);
        std::string b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (b.empty()) __builtin_trap();  // the fixture is missing: the target cannot run
        return b;
    }();
    return bytes;
}

std::span<const uint8_t> bytes_of(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

bool is_activity(std::string_view bytes) {
    namespace formats = fitbridge::formats;
    auto kind = formats::sniff(bytes_of(bytes));
    if (kind == formats::Sniffed::gzip) {
        auto inner = formats::gunzip(bytes_of(bytes), 512ull << 20);
        if (!inner.error.empty()) return false;
        kind = formats::sniff(inner.payload);
    }
    return kind == formats::Sniffed::fit || kind == formats::Sniffed::gpx || kind == formats::Sniffed::tcx;
}

// Runs one provider call to its end on `io`; a call that leaves the
// io_context without finishing is a hang.
template <typename T>
Result<T> run(boost::asio::io_context& io, providers::Task<T> task) {
    std::optional<Result<T>> out;
    auto wrapper = [&]() -> boost::asio::awaitable<void> { out.emplace(co_await std::move(task)); };
    bool done = false;
    boost::asio::co_spawn(io, wrapper(), [&](std::exception_ptr e) {
        check(!e);  // providers report failures as Results, never by throwing
        done = true;
    });
    io.restart();
    io.run();
    check(done && out.has_value());
    if (!*out) check_error(out->error());
    return std::move(*out);
}

void drive(const PlatformRow& row, std::string_view script) {
    boost::asio::io_context io;
    fitbridge::ManualClock clock{fitbridge::SysTime(std::chrono::seconds(1738368000))};  // 2025-02-01
    MemoryTokenStore tokens(row.credential_kind);
    auto http = std::make_shared<ScriptedClient>(script);
    // Upload polls wait no real time: a fuzz run must not sleep.
    auto instant = [](std::chrono::milliseconds) -> boost::asio::awaitable<void> { co_return; };
    providers::Context context{
        .executor = io.get_executor(), .clock = &clock, .http = http, .tokens = &tokens, .sleep = instant};
    fitbridge::config::AccountConfig account{
        .id = "fuzz", .provider = row.provider, .options = row.options, .list_options = row.lists};
    auto made = row.factory().create(account, context);
    check(static_cast<bool>(made));
    auto& p = **made;
    const uint32_t caps = p.capabilities();

    std::vector<providers::RemoteActivity> listed;
    if (caps & (providers::k_list_window | providers::k_list_cursor)) {
        providers::ListQuery q{.since = 1735689600.0, .until = 1738368000.0};  // January 2025
        for (int page = 0; page < k_max_pages; ++page) {
            auto r = run(io, p.list(q));
            if (!r) break;
            for (auto& item : r->items) {
                check(!item.remote_id.empty());
                if (item.start_time) check(std::isfinite(*item.start_time));
                listed.push_back(std::move(item));
            }
            if (!r->next_cursor) break;
            q.cursor = r->next_cursor;
        }
        // An incremental poll (from the watermark the window may have moved).
        (void)run(io, p.list(providers::ListQuery{}));
    }
    if (caps & providers::k_download) {
        listed.resize(std::min(listed.size(), k_max_downloads));
        listed.push_back(providers::RemoteActivity{.remote_id = "i123"});
        for (const auto& item : listed)
            if (auto r = run(io, p.download(item))) check(is_activity(*r));
    }
    if (caps & providers::k_upload) {
        const auto& file = upload_file();
        static const fitbridge::formats::Summary summary = fitbridge::formats::decode(bytes_of(upload_file()));
        const providers::UploadRequest request{bytes_of(file), &summary, "Morning run", "fb-0123456789abcdef"};
        if (auto r = run(io, p.upload(request))) check(!r->remote_id.empty());
        if (auto r = run(io, p.find_existing(request)); r && *r) check(!(*r)->empty());
    }
    if (caps & providers::k_list_gear)
        if (auto r = run(io, p.list_gear()))
            for (const auto& g : *r) check(!g.id.empty());
    p.shutdown();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    // One platform per input, so each execution costs one platform's calls.
    if (size == 0) return 0;
    const auto& row = k_platforms[data[0] % std::size(k_platforms)];
    drive(row, std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
    return 0;
}
