// The provider conformance suite: every platform runs the same tests against
// its fake (tests/fakes) through the real, shared HTTP client its factory
// makes (paced, retrying), via a small adapter. A new platform adds one
// Adapter and one line to the INSTANTIATE list at the end.

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <set>

#include "formats/decode.hpp"
#include "net/oauth.hpp"
#include "provider_test_util.hpp"
#include "providers/provider.hpp"
#include "store/cursors.hpp"
#include "support/fake_server.hpp"
#include "support/memory_tokens.hpp"

namespace fitbridge::providers {
namespace {

namespace fs = std::filesystem;
using fitbridge::test::FakeServer;

struct Adapter {
    std::string name;      // test-name suffix
    std::string provider;  // the factory
    std::string fake;      // tests/fakes/run <fake>
    std::string title;     // how the platform's errors name it
    // Account options for the fake at `base` with listing pages of `page_size`
    // (secret files written under `dir`); `stored` uses credentials: stored.
    std::map<std::string, std::string> (*options)(const std::string& base, const fs::path& dir, int page_size,
                                                  bool stored);
    // Puts one activity on the fake (UTC start, FitBridge family, optional
    // original file); returns its remote id.
    std::string (*seed)(const FakeServer& fake, double start, std::string_view family, const std::string& file);
    std::string list_path;    // path prefix of the list call, for faults
    std::string upload_path;  // path prefix of the upload call
    // A bearer token the fake accepts, stored as credentials kind "oauth2".
    std::string stored_token;
    bool refreshes_tokens;     // the platform issues refresh tokens
    bool pages = true;         // the list call pages (else one answer holds the window)
    bool serves_files = true;  // originals can be downloaded
    // The platform has no originals and builds a file from what it has
    // (Strava's streams): it decodes with the listed start and elapsed time.
    bool rebuilds_files = false;
    // For platforms whose every account lives on stored OAuth tokens: puts
    // tokens the fake accepts (with a refresh token) in the store.
    void (*grant)(const FakeServer& fake, fitbridge::test::MemoryTokenStore& store) = nullptr;
    std::string list_method = "GET";  // the list call's method (MyWhoosh lists with POST)
};

std::string b64(const std::string& s) { return net::base64(s); }

// ---- Intervals.icu -----------------------------------------------------------

std::map<std::string, std::string> intervals_options(const std::string& base, const fs::path& dir, int page_size,
                                                     bool stored) {
    test::write_text(dir / "key", "test-api-key\n");
    std::map<std::string, std::string> o{{"base_url", base}, {"page_size", std::to_string(page_size)}};
    if (stored)
        o["credentials"] = "stored";
    else
        o["api_key_file"] = (dir / "key").string();
    return o;
}

std::string intervals_seed(const FakeServer& fake, double start, std::string_view family, const std::string& file) {
    static const std::map<std::string_view, std::string_view> k_types{
        {"ride", "Ride"}, {"run", "Run"}, {"walk", "Walk"}};
    std::string spec = fmt::format(R"({{"start": {}, "type": "{}", "name": "seeded")", start, k_types.at(family));
    if (!file.empty()) spec += fmt::format(R"(, "file_b64": "{}")", b64(file));
    auto ids = json::parse(fake.control("POST", "/_fake/activities", spec + "}").body);
    return (*ids)[0].GetString();
}

const Adapter k_intervals{.name = "intervals_icu",
                          .provider = "intervals_icu",
                          .fake = "intervals",
                          .title = "Intervals.icu",
                          .options = &intervals_options,
                          .seed = &intervals_seed,
                          .list_path = "/api/v1/athlete/0/activities",
                          .upload_path = "/api/v1/athlete/0/activities",
                          .stored_token = "test-oauth-token",
                          .refreshes_tokens = false};

// ---- provider: rest (the "Becoming a provider" contract) ---------------------

std::map<std::string, std::string> rest_credentials(const std::string& base, const fs::path& dir, bool stored) {
    test::write_text(dir / "key", "test-api-key\n");
    std::map<std::string, std::string> o{{"base_url", base}};
    if (stored)
        o["credentials"] = "stored";
    else
        o["api_key_file"] = (dir / "key").string();
    return o;
}

// The contract's example API: two lines of config.
std::map<std::string, std::string> rest_example_options(const std::string& base, const fs::path& dir, int,
                                                        bool stored) {
    return rest_credentials(base, dir, stored);
}

// The same contract under other names, ISO times, km, nesting, paging, files.
std::map<std::string, std::string> rest_custom_options(const std::string& base, const fs::path& dir, int page_size,
                                                       bool stored) {
    auto o = rest_credentials(base, dir, stored);
    const auto mapping = test::rest_custom_mapping(page_size);
    o.insert(mapping.begin(), mapping.end());
    return o;
}

std::string rest_seed(const FakeServer& fake, double start, std::string_view family, const std::string& file) {
    std::string spec = fmt::format(R"({{"start": {}, "type": "{}", "name": "seeded")", start, family);
    if (!file.empty()) spec += fmt::format(R"(, "file_b64": "{}")", b64(file));
    auto ids = json::parse(fake.control("POST", "/_fake/activities", spec + "}").body);
    return (*ids)[0].GetString();
}

const Adapter k_rest_example{.name = "rest_example",
                             .provider = "rest",
                             .fake = "rest",
                             .title = "The REST platform",
                             .options = &rest_example_options,
                             .seed = &rest_seed,
                             .list_path = "/activities",
                             .upload_path = "/activities",
                             .stored_token = "test-oauth-token",
                             .refreshes_tokens = false,
                             .pages = false,
                             .serves_files = false};

const Adapter k_rest_custom{.name = "rest_custom",
                            .provider = "rest",
                            .fake = "rest_custom",
                            .title = "The REST platform",
                            .options = &rest_custom_options,
                            .seed = &rest_seed,
                            .list_path = "/api/v2/workouts",
                            .upload_path = "/api/v2/uploads",
                            .stored_token = "test-oauth-token",
                            .refreshes_tokens = false};

// ---- Strava ------------------------------------------------------------------

std::map<std::string, std::string> strava_options(const std::string& base, const fs::path& dir, int page_size, bool) {
    test::write_text(dir / "secret", "test-client-secret\n");
    return {{"base_url", base},
            {"page_size", std::to_string(page_size)},
            {"client_id", "12345"},
            {"client_secret_file", (dir / "secret").string()}};
}

std::string strava_seed(const FakeServer& fake, double start, std::string_view family, const std::string& file) {
    static const std::map<std::string_view, std::string_view> k_types{
        {"ride", "Ride"}, {"run", "Run"}, {"walk", "Walk"}};
    std::string spec = fmt::format(R"({{"start": {}, "sport_type": "{}", "name": "seeded")", start, k_types.at(family));
    if (!file.empty()) spec += fmt::format(R"(, "file_b64": "{}")", b64(file));
    auto ids = json::parse(fake.control("POST", "/_fake/activities", spec + "}").body);
    return (*ids)[0].GetString();
}

void strava_grant(const FakeServer&, fitbridge::test::MemoryTokenStore& store) {
    store.saved["acc"] = net::Credentials{"oauth2", "test-oauth-token", "test-refresh-token",
                                          SystemClock().now() + std::chrono::hours(5), ""};
}

const Adapter k_strava{.name = "strava",
                       .provider = "strava",
                       .fake = "strava",
                       .title = "Strava",
                       .options = &strava_options,
                       .seed = &strava_seed,
                       .list_path = "/api/v3/athlete/activities",
                       .upload_path = "/api/v3/uploads",
                       .stored_token = "test-oauth-token",
                       .refreshes_tokens = true,
                       .serves_files = false,
                       .rebuilds_files = true,
                       .grant = &strava_grant};

// ---- SweatStack ----------------------------------------------------------------

std::map<std::string, std::string> sweatstack_options(const std::string& base, const fs::path& dir, int page_size,
                                                      bool stored) {
    test::write_text(dir / "token", "test-api-key\n");
    std::map<std::string, std::string> o{{"base_url", base}, {"page_size", std::to_string(page_size)}};
    if (stored)
        o["credentials"] = "stored";
    else
        o["token_file"] = (dir / "token").string();
    return o;
}

std::string sweatstack_seed(const FakeServer& fake, double start, std::string_view family, const std::string& file) {
    std::string spec = fmt::format(R"({{"start": {}, "type": "{}")", start, family);
    if (!file.empty()) spec += fmt::format(R"(, "file_b64": "{}")", b64(file));
    auto ids = json::parse(fake.control("POST", "/_fake/activities", spec + "}").body);
    return (*ids)[0].GetString();
}

const Adapter k_sweatstack{.name = "sweatstack",
                           .provider = "sweatstack",
                           .fake = "sweatstack",
                           .title = "SweatStack",
                           .options = &sweatstack_options,
                           .seed = &sweatstack_seed,
                           .list_path = "/api/v1/activities/",
                           .upload_path = "/api/v1/activities/upload",
                           .stored_token = "test-oauth-token",
                           .refreshes_tokens = false};

// ---- Train it All --------------------------------------------------------------

// Every Train it All account keeps OAuth tokens in the store, with its client_id.
std::map<std::string, std::string> trainitall_options(const std::string& base, const fs::path&, int page_size, bool) {
    return {{"base_url", base}, {"page_size", std::to_string(std::min(page_size, 100))}, {"client_id", "fitbridge"}};
}

std::string trainitall_seed(const FakeServer& fake, double start, std::string_view family, const std::string& file) {
    std::string spec = fmt::format(R"({{"start": {}, "type": "{}")", start, family);
    if (!file.empty()) spec += fmt::format(R"(, "file_b64": "{}")", b64(file));
    auto ids = json::parse(fake.control("POST", "/_fake/activities", spec + "}").body);
    return (*ids)[0].GetString();
}

void trainitall_grant(const FakeServer& fake, fitbridge::test::MemoryTokenStore& store) {
    auto doc = json::parse(fake.control("POST", "/_fake/grant", "{}").body);
    store.saved["acc"] =
        net::Credentials{"oauth2", (*doc)["access_token"].GetString(), (*doc)["refresh_token"].GetString(),
                         SystemClock().now() + std::chrono::hours(1), ""};
}

const Adapter k_trainitall{.name = "trainitall",
                           .provider = "trainitall",
                           .fake = "trainitall",
                           .title = "Train it All",
                           .options = &trainitall_options,
                           .seed = &trainitall_seed,
                           .list_path = "/api/external/v1/activities",
                           .upload_path = "/api/external/v1/fit-files",
                           .stored_token = "",
                           .refreshes_tokens = true,
                           .grant = &trainitall_grant};

// ---- SportTracks ---------------------------------------------------------------

std::map<std::string, std::string> sporttracks_options(const std::string& base, const fs::path& dir, int page_size,
                                                       bool stored) {
    test::write_text(dir / "token", "test-oauth-token\n");
    std::map<std::string, std::string> o{{"base_url", base}, {"page_size", std::to_string(page_size)}};
    if (stored)
        o["credentials"] = "stored";
    else
        o["token_file"] = (dir / "token").string();
    return o;
}

// SportTracks serves no original: a seeded workout has no samples (metadata only).
std::string sporttracks_seed(const FakeServer& fake, double start, std::string_view family, const std::string&) {
    static const std::map<std::string_view, std::string_view> k_types{
        {"ride", "Cycling"}, {"run", "Running"}, {"walk", "Walking"}};
    auto ids =
        json::parse(fake.control("POST", "/_fake/activities",
                                 fmt::format(R"({{"start": {}, "type": "{}", "name": "seeded", "offset_hours": -5}})",
                                             start, k_types.at(family)))
                        .body);
    return (*ids)[0].GetString();
}

const Adapter k_sporttracks{.name = "sporttracks",
                            .provider = "sporttracks",
                            .fake = "sporttracks",
                            .title = "SportTracks",
                            .options = &sporttracks_options,
                            .seed = &sporttracks_seed,
                            .list_path = "/api/v2/fitnessActivities",
                            .upload_path = "/api/v2/fileUpload",
                            .stored_token = "test-oauth-token",
                            .refreshes_tokens = false,
                            .serves_files = false};

// ---- MyWhoosh and iGPSport (sources only, logins with a password) --------------

std::map<std::string, std::string> login_options(const std::string& base, const fs::path& dir, int page_size,
                                                 const std::string& password) {
    test::write_text(dir / "pw", password + "\n");
    return {{"base_url", base},
            {"username", "rider@example.com"},
            {"password_file", (dir / "pw").string()},
            {"page_size", std::to_string(std::min(page_size, 100))}};
}

std::map<std::string, std::string> mywhoosh_options(const std::string& base, const fs::path& dir, int page_size, bool) {
    auto o = login_options(base, dir, page_size, "whoosh-pass");
    o["auth_url"] = base;
    return o;
}

std::map<std::string, std::string> igpsport_options(const std::string& base, const fs::path& dir, int page_size, bool) {
    return login_options(base, dir, page_size, "igs-pass");
}

std::string login_seed(const FakeServer& fake, double start, std::string_view, const std::string& file) {
    std::string spec = fmt::format(R"({{"start": {})", start);
    if (!file.empty()) spec += fmt::format(R"(, "file_b64": "{}")", b64(file));
    auto ids = json::parse(fake.control("POST", "/_fake/activities", spec + "}").body);
    return (*ids)[0].GetString();
}

// ---- Zwift (cloud, source only) -------------------------------------------------

std::map<std::string, std::string> zwift_options(const std::string& base, const fs::path& dir, int page_size, bool) {
    test::write_text(dir / "zwift-password", "zwift-password\n");
    return {{"base_url", base},
            {"auth_url", base},
            {"files_url", base + "/files/{bucket}/{key}"},
            {"page_size", std::to_string(std::min(page_size, 100))},
            {"username", "rider@example.com"},
            {"password_file", (dir / "zwift-password").string()}};
}

std::string zwift_seed(const FakeServer& fake, double start, std::string_view family, const std::string& file) {
    std::string spec = fmt::format(R"({{"start": {}, "sport": "{}")", start, family);
    if (!file.empty()) spec += fmt::format(R"(, "file_b64": "{}")", b64(file));
    auto ids = json::parse(fake.control("POST", "/_fake/activities", spec + "}").body);
    return (*ids)[0].GetString();
}

// ---- Garmin Connect ------------------------------------------------------------

// One fake plays the API, the DI token endpoint and the sign-in; no pacing in tests.
std::map<std::string, std::string> garmin_options(const std::string& base, const fs::path&, int page_size, bool) {
    return {{"base_url", base},
            {"auth_url", base},
            {"sso_url", base},
            {"credentials", "stored"},
            {"min_request_interval_ms", "0"},
            {"page_size", std::to_string(page_size)}};
}

std::string garmin_seed(const FakeServer& fake, double start, std::string_view family, const std::string& file) {
    std::string spec = fmt::format(R"({{"start": {}, "type": "{}", "name": "seeded")", start, family);
    if (!file.empty()) spec += fmt::format(R"(, "file_b64": "{}")", b64(file));
    auto ids = json::parse(fake.control("POST", "/_fake/activities", spec + "}").body);
    return (*ids)[0].GetString();
}

const Adapter k_mywhoosh{.name = "mywhoosh",
                         .provider = "mywhoosh",
                         .fake = "mywhoosh",
                         .title = "MyWhoosh",
                         .options = &mywhoosh_options,
                         .seed = &login_seed,
                         .list_path = "/v2/rider/profile/activities",
                         .upload_path = "",
                         .stored_token = "",
                         .refreshes_tokens = true,  // a refused session means logging in again
                         .list_method = "POST"};

const Adapter k_igpsport{.name = "igpsport",
                         .provider = "igpsport",
                         .fake = "igpsport",
                         .title = "iGPSport",
                         .options = &igpsport_options,
                         .seed = &login_seed,
                         .list_path = "/web-gateway/web-analyze/activity/queryMyActivity",
                         .upload_path = "",
                         .stored_token = "",
                         .refreshes_tokens = true};
const Adapter k_zwift{.name = "zwift",
                      .provider = "zwift",
                      .fake = "zwift",
                      .title = "Zwift",
                      .options = &zwift_options,
                      .seed = &zwift_seed,
                      .list_path = "/api/profiles/5120001/activities",
                      .upload_path = "",
                      .stored_token = "",
                      .refreshes_tokens = true};

// ---- TrainingPeaks personal route (source only) ----------------------------------

std::map<std::string, std::string> trainingpeaks_options(const std::string& base, const fs::path& dir, int, bool) {
    test::write_text(dir / "tp-cookie", "Production_tpAuth=tp-cookie-value-123\n");
    return {{"base_url", base}, {"cookie_file", (dir / "tp-cookie").string()}};
}

// Workouts shown in UTC (the athlete's zone is the fake's choice; 0 here).
std::string trainingpeaks_seed(const FakeServer& fake, double start, std::string_view family, const std::string& file) {
    fake.control("POST", "/_fake/config", R"({"tz_offset_minutes": 0})");
    std::string spec = fmt::format(R"({{"start": {}, "sport": "{}")", start, family);
    if (!file.empty()) spec += fmt::format(R"(, "file_b64": "{}")", b64(file));
    auto ids = json::parse(fake.control("POST", "/_fake/activities", spec + "}").body);
    return (*ids)[0].GetString();
}

// The suite's window (2025-01-10 .. 2025-01-16) is one date window, padded by a day.
const Adapter k_trainingpeaks{.name = "trainingpeaks",
                              .provider = "trainingpeaks",
                              .fake = "trainingpeaks",
                              .title = "TrainingPeaks",
                              .options = &trainingpeaks_options,
                              .seed = &trainingpeaks_seed,
                              .list_path = "/fitness/v6/athletes/3141592/workouts/2025-01-09/2025-01-16",
                              .upload_path = "",
                              .stored_token = "",
                              .refreshes_tokens = true,
                              .pages = false};
// DI tokens as a user hands them over (a JWT access token and a refresh token).
void garmin_grant(const FakeServer& fake, fitbridge::test::MemoryTokenStore& store) {
    auto doc = json::parse(fake.control("POST", "/_fake/grant", "{}").body);
    store.saved["acc"] = net::Credentials{"oauth2", (*doc)["access_token"].GetString(),
                                          (*doc)["refresh_token"].GetString(), std::nullopt, ""};
}

const Adapter k_garmin{.name = "garmin_connect",
                       .provider = "garmin_connect",
                       .fake = "garmin",
                       .title = "Garmin Connect",
                       .options = &garmin_options,
                       .seed = &garmin_seed,
                       .list_path = "/activitylist-service/activities/search/activities",
                       .upload_path = "/upload-service/upload",
                       .stored_token = "",
                       .refreshes_tokens = true,
                       .grant = &garmin_grant};

// ---- the suite ---------------------------------------------------------------

class Conformance : public ::testing::TestWithParam<Adapter> {
protected:
    static void TearDownTestSuite() { s_fakes.clear(); }
    void SetUp() override {
        auto& slot = s_fakes[GetParam().fake];
        if (!slot) slot = std::make_unique<FakeServer>(GetParam().fake);
        m_fake = slot.get();
        m_fake->reset();
        m_http = find_factory(GetParam().provider)->make_http(m_io.get_executor());
    }
    void TearDown() override {
        // Every request the provider sent is one the platform documents.
        EXPECT_EQ(m_fake->violations().Size(), 0u) << m_fake->control("GET", "/_fake/violations").body;
    }

    const Adapter& a() const { return GetParam(); }
    const FakeServer& fake() const { return *m_fake; }

    std::unique_ptr<Provider> make(int page_size = 100, bool stored = false) {
        config::AccountConfig account;
        account.id = "acc";
        account.provider = a().provider;
        account.options = a().options(m_fake->base(), m_dir.path(), page_size, stored);
        if (a().grant != nullptr && !m_tokens.saved.contains("acc")) a().grant(*m_fake, m_tokens);
        Context ctx{.executor = m_io.get_executor(),
                    .clock = &m_clock,
                    .state_dir = m_dir.path(),
                    .config = &m_config,
                    .http = m_http,
                    .tokens = &m_tokens,
                    .cursors = &m_cursors};
        auto p = find_factory(a().provider)->create(account, ctx);
        if (!p) throw std::runtime_error(p.error().message);
        return std::move(*p);
    }

    // On m_io, whose executor the shared client's sockets use.
    template <typename T>
    Result<T> run(Task<T> task) {
        return test::run(m_io, std::move(task));
    }

    std::vector<RemoteActivity> list_all(Provider& p, ListQuery q) {
        return test::list_all(p, std::move(q), [&](Task<ListPage> t) { return run(std::move(t)); });
    }
    static std::multiset<std::string> ids_of(const std::vector<RemoteActivity>& items) {
        std::multiset<std::string> out;
        for (const auto& i : items) out.insert(i.remote_id);
        return out;
    }
    // Requests to exactly `path` (a platform may also GET details below it).
    size_t requests_to(const std::string& path, const std::string& method = "GET") {
        size_t n = 0;
        auto log = m_fake->requests();
        // (the list call by its own method, unless another is asked for)
        const std::string want = path == a().list_path && method == "GET" ? a().list_method : method;
        for (const auto& r : log.GetArray())
            if (r["path"].GetString() == path && r["method"].GetString() == want) ++n;
        return n;
    }

    using File = test::CorpusFile;
    static File corpus(const std::string& rel) { return test::load_corpus(rel); }
    static UploadRequest request(const File& f, std::string external_id) {
        return UploadRequest{test::bytes_of(f.bytes), &f.summary, "Conformance", std::move(external_id)};
    }

    static constexpr double k_since = 1736467200;  // 2025-01-10T00:00:00Z
    static constexpr double k_until = 1736985600;  // 2025-01-16T00:00:00Z
    static inline std::map<std::string, std::unique_ptr<FakeServer>> s_fakes;
    FakeServer* m_fake = nullptr;
    test::TempDir m_dir;
    boost::asio::io_context m_io;
    SystemClock m_clock;
    config::Config m_config;
    fitbridge::test::MemoryTokenStore m_tokens;
    store::MemoryCursorStore m_cursors;
    std::shared_ptr<net::HttpClient> m_http;
};

TEST_P(Conformance, ListsTheWindowEdgesAndEveryPageOnce) {
    std::set<std::string> inside;
    a().seed(fake(), k_since - 1, "ride", "");
    inside.insert(a().seed(fake(), k_since, "ride", ""));
    for (int i = 1; i <= 6; ++i) inside.insert(a().seed(fake(), k_since + i * 36000, i % 2 ? "run" : "ride", ""));
    inside.insert(a().seed(fake(), k_until - 1, "walk", ""));
    a().seed(fake(), k_until, "ride", "");
    auto p = make(3);
    auto listed = list_all(*p, ListQuery{.since = k_since, .until = k_until});
    auto ids = ids_of(listed);
    if (!listed.empty() && !listed[0].start_time) {
        // A listing by day (iGPSport): every ride inside, and only the two
        // just outside besides (their days overlap the window's edges).
        for (const auto& id : inside) EXPECT_TRUE(ids.contains(id)) << id;
        EXPECT_EQ(ids.size(), inside.size() + 2);
        return;
    }
    EXPECT_EQ(ids, std::multiset<std::string>(inside.begin(), inside.end()));
    for (const auto& item : listed) {
        ASSERT_TRUE(item.start_time);
        EXPECT_GE(*item.start_time, k_since);
        EXPECT_LT(*item.start_time, k_until);
    }
    if (a().pages) {
        EXPECT_GE(requests_to(a().list_path), 3u);  // more than one page
    }
}

TEST_P(Conformance, IncrementalListingResumesAfterARestart) {
    const double now = std::chrono::duration<double>(m_clock.now().time_since_epoch()).count();
    const auto first = a().seed(fake(), now - 7200, "ride", "");
    auto p = make();
    EXPECT_EQ(ids_of(list_all(*p, {})), std::multiset<std::string>{first});
    EXPECT_GT(m_cursors.size(), 0u);  // the position is in the cursor store, not in a side file
    const auto second = a().seed(fake(), now - 3600, "run", "");
    auto restarted = make();  // the position comes from the cursor store
    auto again = ids_of(list_all(*restarted, {}));
    EXPECT_TRUE(again.contains(second));
}

TEST_P(Conformance, DownloadsTheOriginal) {
    const auto fit = corpus("fit/garmin-fr55-coretemp-walk.fit");
    const auto id = a().seed(fake(), *fit.summary.start_time, "walk", fit.bytes);
    auto p = make();
    auto listed = list_all(*p, ListQuery{.since = *fit.summary.start_time - 60, .until = *fit.summary.start_time + 60});
    ASSERT_EQ(ids_of(listed), std::multiset<std::string>{id});
    auto bytes = run(p->download(listed[0]));
    if (a().rebuilds_files) {
        ASSERT_TRUE(bytes) << bytes.error().message;
        auto built = formats::decode(test::bytes_of(*bytes));
        ASSERT_TRUE(built.ok) << built.error;
        EXPECT_EQ(built.start_time, listed[0].start_time);
        ASSERT_TRUE(built.total_elapsed_time && listed[0].elapsed_s);
        EXPECT_NEAR(*built.total_elapsed_time, *listed[0].elapsed_s, *listed[0].elapsed_s * 0.01);
        return;
    }
    if (!a().serves_files) {
        // Listed with its metadata, and said to be unavailable.
        EXPECT_TRUE(listed[0].start_time);
        EXPECT_TRUE(listed[0].unavailable_reason);
        ASSERT_FALSE(bytes);
        EXPECT_EQ(bytes.error().cls, ErrorClass::permanent);
        return;
    }
    EXPECT_FALSE(listed[0].unavailable_reason);
    ASSERT_TRUE(bytes) << bytes.error().message;
    EXPECT_EQ(*bytes, fit.bytes);
}

TEST_P(Conformance, UploadsOnceAndRecognisesTheDuplicate) {
    const auto fit = corpus("fit/garmin-fenix2-run.fit");
    auto p = make();
    if (!(p->capabilities() & k_upload)) GTEST_SKIP() << "a source only: no uploads";
    auto first = run(p->upload(request(fit, "fitbridge-conf-1")));
    ASSERT_TRUE(first) << first.error().message;
    EXPECT_FALSE(first->duplicate);
    EXPECT_FALSE(first->remote_id.empty());
    auto again = run(p->upload(request(fit, "fitbridge-conf-1")));
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_TRUE(again->duplicate || again->remote_id == first->remote_id);
    EXPECT_EQ(again->remote_id, first->remote_id);
    const double start = *fit.summary.start_time;
    EXPECT_EQ(ids_of(list_all(*p, ListQuery{.since = start - 60, .until = start + 60})),
              std::multiset<std::string>{first->remote_id});
}

TEST_P(Conformance, FindsAnUploadAfterACrashBeforeItWasRecorded) {
    const auto fit = corpus("fit/garmin-fenix2-run.fit");
    auto p = make();
    if (!(p->capabilities() & k_upload)) GTEST_SKIP() << "a source only: no uploads";
    auto up = run(p->upload(request(fit, "fitbridge-conf-2")));
    ASSERT_TRUE(up) << up.error().message;
    p.reset();  // the daemon dies before writing the delivery's result
    auto restarted = make();
    auto found = run(restarted->find_existing(request(fit, "fitbridge-conf-2")));
    ASSERT_TRUE(found) << found.error().message;
    EXPECT_EQ(*found, up->remote_id);
    // Not something that is not there.
    auto other = corpus("fit/garmin-fr55-coretemp-walk.fit");
    auto none = run(restarted->find_existing(request(other, "fitbridge-conf-3")));
    ASSERT_TRUE(none) << none.error().message;
    EXPECT_FALSE(*none);
}

TEST_P(Conformance, AnUploadWhoseAnswerIsLostIsNeitherLostNorDoubled) {
    const auto fit = corpus("fit/garmin-fenix2-run.fit");
    fake().fault(fmt::format(R"({{"path": "{}", "method": "POST", "lost": true}})", a().upload_path));
    auto p = make();
    if (!(p->capabilities() & k_upload)) GTEST_SKIP() << "a source only: no uploads";
    auto up = run(p->upload(request(fit, "fitbridge-conf-4")));
    auto found = run(p->find_existing(request(fit, "fitbridge-conf-4")));
    ASSERT_TRUE(found) << found.error().message;
    ASSERT_TRUE(*found);
    if (up) {
        EXPECT_EQ(up->remote_id, **found);
    }
    const double start = *fit.summary.start_time;
    EXPECT_EQ(ids_of(list_all(*p, ListQuery{.since = start - 60, .until = start + 60})),
              std::multiset<std::string>{**found});
}

TEST_P(Conformance, AnActivityKnownOnlyByItsMetadataIsCreatedOnceFromItsSummary) {
    auto p = make();
    if (!(p->capabilities() & k_create_metadata)) GTEST_SKIP() << "creates nothing from a summary alone";
    formats::Summary summary;  // what the engine keeps of a listing without a file
    summary.format = formats::Format::unknown;
    summary.start_time = k_since + 7200;
    summary.sport_family = "run";
    summary.total_elapsed_time = 1800;
    summary.total_distance = 5000;
    const UploadRequest req{{}, &summary, "Metadata only", "fitbridge-conf-5"};
    auto up = run(p->upload(req));
    ASSERT_TRUE(up) << up.error().message;
    EXPECT_FALSE(up->duplicate);
    auto listed = list_all(*p, ListQuery{.since = k_since, .until = k_until});
    ASSERT_EQ(ids_of(listed), std::multiset<std::string>{up->remote_id});
    EXPECT_EQ(listed[0].name, "Metadata only");
    EXPECT_EQ(listed[0].start_time, k_since + 7200);
    EXPECT_EQ(listed[0].sport_family, "run");
    EXPECT_EQ(listed[0].elapsed_s, 1800.0);
    ASSERT_TRUE(listed[0].distance_m);
    EXPECT_NEAR(*listed[0].distance_m, 5000, 1);
    auto again = run(p->upload(req));
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(again->remote_id, up->remote_id);
    EXPECT_EQ(ids_of(list_all(*p, ListQuery{.since = k_since, .until = k_until})),
              std::multiset<std::string>{up->remote_id});
}

TEST_P(Conformance, A401IsRefreshedOnceOrFinal) {
    if (a().grant != nullptr)
        a().grant(fake(), m_tokens);  // with a refresh token
    else
        m_tokens.saved["acc"] = net::Credentials{"oauth2", a().stored_token, "", std::nullopt, ""};
    a().seed(fake(), k_since + 60, "ride", "");
    fake().fault(fmt::format(R"({{"path": "{}", "status": 401, "count": 1,
        "body": "{{\"status\":401,\"error\":\"Unauthorized\"}}"}})",
                             a().list_path));
    auto p = make(100, true);
    auto r = run(p->list(ListQuery{.since = k_since, .until = k_until}));
    if (a().refreshes_tokens) {
        ASSERT_TRUE(r) << r.error().message;
        EXPECT_EQ(requests_to(a().list_path), 2u);
    } else {
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().cls, ErrorClass::auth);
        EXPECT_TRUE(r.error().message.starts_with(a().title)) << r.error().message;
        EXPECT_EQ(requests_to(a().list_path), 1u);  // nothing to refresh: no resend
    }
}

TEST_P(Conformance, WaitsOutAShort429AndReportsALongOne) {
    a().seed(fake(), k_since + 60, "ride", "");
    fake().fault(fmt::format(R"({{"path": "{}", "status": 429, "headers": [["Retry-After", "1"]]}})", a().list_path));
    auto p = make();
    auto waited = run(p->list(ListQuery{.since = k_since, .until = k_until}));
    ASSERT_TRUE(waited) << waited.error().message;
    EXPECT_EQ(waited->items.size(), 1u);
    EXPECT_EQ(requests_to(a().list_path), 2u);

    fake().fault(
        fmt::format(R"({{"path": "{}", "status": 429, "headers": [["Retry-After", "3600"]]}})", a().list_path));
    auto limited = run(p->list(ListQuery{.since = k_since, .until = k_until}));
    ASSERT_FALSE(limited);
    EXPECT_EQ(limited.error().cls, ErrorClass::rate_limited);
    EXPECT_EQ(limited.error().retry_after, std::chrono::seconds(3600));
}

TEST_P(Conformance, Retries5xxAndLostAnswersOfReads) {
    const auto id = a().seed(fake(), k_since + 60, "ride", "");
    fake().fault(fmt::format(R"([{{"path": "{0}", "status": 503, "count": 2}}, {{"path": "{0}", "close": true}},
                                 {{"path": "{0}", "lost": true}}])",
                             a().list_path));
    auto p = make();
    auto r = run(p->list(ListQuery{.since = k_since, .until = k_until}));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(ids_of(r->items), std::multiset<std::string>{id});
    EXPECT_EQ(requests_to(a().list_path), 5u);
}

TEST_P(Conformance, MalformedJsonAndHtmlPagesAreClearErrors) {
    auto p = make();
    fake().fault(fmt::format(R"({{"path": "{}", "status": 200, "body": "{{\"items\": [{{\"id\""}})", a().list_path));
    auto bad = run(p->list(ListQuery{.since = k_since, .until = k_until}));
    ASSERT_FALSE(bad);
    EXPECT_TRUE(bad.error().message.starts_with(a().title)) << bad.error().message;
    EXPECT_NE(bad.error().message.find("JSON"), std::string::npos) << bad.error().message;

    fake().fault(fmt::format(
        R"({{"path": "{}", "status": 400, "headers": [["Content-Type", "text/html"]],
             "body": "<!DOCTYPE html><html><head><title>400 Bad Request</title></head><body>nginx</body></html>"}})",
        a().list_path));
    auto html = run(p->list(ListQuery{.since = k_since, .until = k_until}));
    ASSERT_FALSE(html);
    EXPECT_EQ(html.error().cls, ErrorClass::permanent);
    EXPECT_NE(html.error().message.find("an HTML page titled \"400 Bad Request\""), std::string::npos)
        << html.error().message;
    EXPECT_EQ(html.error().message.find("<html"), std::string::npos) << html.error().message;
}

TEST_P(Conformance, NothingIsLostAcrossFaultsWhilePaging) {
    std::set<std::string> seeded;
    for (int i = 0; i < 7; ++i) seeded.insert(a().seed(fake(), k_since + 3600 * (i + 1), "ride", ""));
    fake().fault(fmt::format(R"([{{"path": "{0}", "status": 502, "count": 1}}, {{"path": "{0}", "close": true}}])",
                             a().list_path));
    auto p = make(2);
    auto listed = list_all(*p, ListQuery{.since = k_since, .until = k_until});
    EXPECT_EQ(ids_of(listed), std::multiset<std::string>(seeded.begin(), seeded.end()));
}

// ---- Ride with GPS -------------------------------------------------------------

// The app's key always; the user's auth token from a file, or an OAuth token stored.
std::map<std::string, std::string> ridewithgps_options(const std::string& base, const fs::path& dir, int page_size,
                                                       bool stored) {
    test::write_text(dir / "key", "test-api-key\n");
    test::write_text(dir / "token", "test-auth-token\n");
    std::map<std::string, std::string> o{{"base_url", base},
                                         {"api_key_file", (dir / "key").string()},
                                         {"page_size", std::to_string(std::clamp(page_size, 20, 200))}};
    if (stored)
        o["credentials"] = "stored";
    else
        o["auth_token_file"] = (dir / "token").string();
    return o;
}

std::string ridewithgps_seed(const FakeServer& fake, double start, std::string_view family, const std::string&) {
    auto ids = json::parse(fake.control("POST", "/_fake/activities",
                                        fmt::format(R"({{"start": {}, "activity_type": "{}"}})", start, family))
                               .body);
    return (*ids)[0].GetString();
}

// page_size is 20..200 on Ride with GPS: these windows fit one page (paging
// is tested in ridewithgps_test.cpp). Trips are served as a TCX export made
// from the trip, not as the uploaded file.
const Adapter k_ridewithgps{.name = "ridewithgps",
                            .provider = "ridewithgps",
                            .fake = "ridewithgps",
                            .title = "Ride with GPS",
                            .options = &ridewithgps_options,
                            .seed = &ridewithgps_seed,
                            .list_path = "/api/v1/trips.json",
                            .upload_path = "/trips.json",
                            .stored_token = "test-oauth-token",
                            .refreshes_tokens = false,
                            .pages = false,
                            .rebuilds_files = true};

INSTANTIATE_TEST_SUITE_P(Platforms, Conformance,
                         ::testing::Values(k_intervals, k_rest_example, k_rest_custom, k_strava, k_sweatstack,
                                           k_trainitall, k_sporttracks, k_mywhoosh, k_igpsport, k_zwift,
                                           k_trainingpeaks, k_garmin, k_ridewithgps),
                         [](const ::testing::TestParamInfo<Adapter>& p) { return p.param.name; });

}  // namespace
}  // namespace fitbridge::providers
