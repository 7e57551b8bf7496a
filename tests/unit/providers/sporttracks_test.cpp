// provider: sporttracks against its fake (tests/fakes/run sporttracks): the
// wire format (string numbers, short offsets, 0-based pages and `next`
// links, fileUpload, create from a summary), the TCX built from sample
// arrays decoded by FitBridge's own decoder, a rename that PUTs the whole
// workout back, and the OAuth endpoints.

#include "providers/sporttracks/sporttracks.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include "core/time.hpp"
#include "formats/decode.hpp"
#include "json/json.hpp"
#include "net/oauth.hpp"
#include "provider_test_util.hpp"
#include "providers/kit/mapping.hpp"
#include "support/fake_server.hpp"
#include "support/memory_tokens.hpp"
#include "support/synth.hpp"

namespace fitbridge::providers::sporttracks {
namespace {

using Options = std::map<std::string, std::string>;
using fitbridge::test::FakeServer;

constexpr double k_start = 1736496000;  // 2025-01-10T08:00:00Z
constexpr std::string_view k_no_samples =
    "the workout has no recorded samples (entered by hand): SportTracks serves no file for it";

config::AccountConfig account(Options options) {
    config::AccountConfig a;
    a.id = "st";
    a.provider = "sporttracks";
    a.options = std::move(options);
    return a;
}

TEST(SportTracksOptions, OAuthAtTheBaseUrlAndOneWayToAuthenticate) {
    test::TempDir dir;
    test::write_text(dir / "secret", "st-secret\n");
    auto a = account({{"client_id", "my-app"}, {"client_secret_file", (dir / "secret").string()}});
    ASSERT_TRUE(factory().validate(a));
    auto e = factory().oauth(a, config::Config{});
    ASSERT_TRUE(e) << e.error().message;
    EXPECT_EQ(e->authorize_url, "https://api.sporttracks.mobi/oauth2/authorize");
    EXPECT_EQ(e->token_url, "https://api.sporttracks.mobi/oauth2/token");
    EXPECT_EQ(e->client_id, "my-app");
    EXPECT_EQ(e->client_secret, "st-secret");
    // SportTracks refuses an authorization without a state: the URL carries one.
    const auto url = net::authorization_url(*e, "s-123", "challenge");
    EXPECT_NE(url.find("state=s-123"), std::string::npos) << url;
    EXPECT_TRUE(url.starts_with("https://api.sporttracks.mobi/oauth2/authorize?")) << url;

    auto none = factory().validate(account({}));
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().message,
              "token_file: required (a file holding an OAuth token), or client_id + client_secret_file for fitbridge "
              "auth, or credentials: stored");
    EXPECT_TRUE(factory().accept_credentials(account({{"credentials", "stored"}}), "oauth2"));
    EXPECT_FALSE(factory().accept_credentials(account({{"credentials", "stored"}}), "api_key"));
}

class SportTracksFake : public ::testing::Test {
protected:
    SportTracksFake() : m_fake("sporttracks") {}
    std::unique_ptr<Provider> make(Options extra = {}) {
        test::write_text(m_dir / "token", "test-oauth-token\n");
        Options o{{"base_url", m_fake.base()}, {"token_file", (m_dir / "token").string()}};
        for (auto& [k, v] : extra) o[k] = v;
        if (o["token_file"].empty()) o.erase("token_file");  // another way to authenticate
        m_http = factory().make_http(m_io.get_executor());
        Context ctx{.executor = m_io.get_executor(),
                    .state_dir = m_dir.path(),
                    .config = &m_config,
                    .http = m_http,
                    .tokens = &m_tokens};
        auto p = factory().create(account(o), ctx);
        if (!p) throw std::runtime_error(p.error().message);
        return std::move(*p);
    }
    template <typename T>
    Result<T> run(Task<T> task) {
        return test::run(m_io, std::move(task));
    }
    std::string seed(const std::string& spec) {
        auto ids = json::parse(m_fake.control("POST", "/_fake/activities", spec).body);
        return (*ids)[0].GetString();
    }
    // (path, query, body) of the fake's log entries for `method`.
    std::vector<std::tuple<std::string, std::string, std::string>> sent(const std::string& method) {
        std::vector<std::tuple<std::string, std::string, std::string>> out;
        auto log = m_fake.get_json("/_fake/requests");
        for (const auto& r : log.GetArray())
            if (r["method"].GetString() == method)
                out.emplace_back(r["path"].GetString(), r["query"].GetString(),
                                 r["body"].IsString() ? r["body"].GetString() : "");
        return out;
    }
    rapidjson::Document stored(const std::string& id) {
        auto all = m_fake.get_json("/_fake/activities");
        rapidjson::Document out;
        for (const auto& w : all.GetArray())
            if (std::string(w["_id"].GetString()) == id) out.CopyFrom(w, out.GetAllocator());
        return out;
    }
    void TearDown() override { EXPECT_EQ(m_fake.violations().Size(), 0u); }

    FakeServer m_fake;
    test::TempDir m_dir;
    boost::asio::io_context m_io;
    config::Config m_config;
    fitbridge::test::MemoryTokenStore m_tokens;
    std::shared_ptr<net::HttpClient> m_http;
};

TEST_F(SportTracksFake, AnExpiredAccessTokenIsRefreshedAndTheNewRefreshTokenKept) {
    seed(fmt::format(R"({{"start": {}, "name": "Ride"}})", k_start));
    auto granted = json::parse(m_fake.control("POST", "/_fake/grant").body);
    ASSERT_TRUE(granted);
    const std::string access = (*granted)["access_token"].GetString();
    const std::string refresh = (*granted)["refresh_token"].GetString();
    // Two hours later: the access token is past its expiry.
    m_tokens.saved["st"] = net::Credentials{
        "oauth2", access, refresh,
        std::chrono::time_point_cast<SysTime::duration>(std::chrono::system_clock::now() - std::chrono::minutes(1)),
        ""};
    test::write_text(m_dir / "secret", "test-client-secret\n");
    auto p = make(
        {{"client_id", "fitbridge-test"}, {"client_secret_file", (m_dir / "secret").string()}, {"token_file", ""}});
    auto page = run(p->list(ListQuery{.since = k_start - 60, .until = k_start + 60}));
    ASSERT_TRUE(page) << page.error().message;
    EXPECT_EQ(page->items.size(), 1u);
    const auto tokens = sent("POST");
    ASSERT_EQ(tokens.size(), 1u);
    EXPECT_EQ(std::get<0>(tokens[0]), "/oauth2/token");
    EXPECT_NE(std::get<2>(tokens[0]).find("grant_type=refresh_token"), std::string::npos) << std::get<2>(tokens[0]);
    EXPECT_NE(std::get<2>(tokens[0]).find("refresh_token=" + refresh), std::string::npos);
    // SportTracks sent a new refresh token (the old one is dead): it is kept.
    const auto& kept = m_tokens.saved["st"];
    EXPECT_NE(kept.access_token, access);
    EXPECT_NE(kept.refresh_token, refresh);
    EXPECT_TRUE(kept.refresh_token.starts_with("refresh-")) << kept.refresh_token;
    ASSERT_TRUE(kept.expires_at);
    const auto left =
        std::chrono::duration_cast<std::chrono::seconds>(*kept.expires_at - std::chrono::system_clock::now());
    EXPECT_GT(left.count(), 7000);  // two hours
    EXPECT_LE(left.count(), 7200);
}

TEST_F(SportTracksFake, ListsStringNumbersShortOffsetsAndFollowsNextLinks) {
    const auto manual = seed(fmt::format(R"({{"start": {}, "type": "Running", "name": "Treadmill", "duration": 1800,
                                              "distance": 5000}})",
                                         k_start));
    const auto ride = seed(fmt::format(R"({{"start": {}, "name": "Ride", "samples": true}})", k_start + 86400));
    const auto later = seed(fmt::format(R"({{"start": {}, "name": "Later", "samples": true}})", k_start + 2 * 86400));
    auto p = make({{"page_size", "2"}});
    std::vector<RemoteActivity> items;
    std::optional<std::string> cursor;
    do {
        auto page = run(p->list(ListQuery{.since = k_start - 3600, .until = k_start + 3 * 86400, .cursor = cursor}));
        ASSERT_TRUE(page) << page.error().message;
        for (auto& i : page->items) items.push_back(i);
        cursor = page->next_cursor;
    } while (cursor);
    ASSERT_EQ(items.size(), 3u);
    // Newest first, as SportTracks lists.
    EXPECT_EQ(items[0].remote_id, later);
    EXPECT_EQ(items[1].remote_id, ride);
    EXPECT_EQ(items[2].remote_id, manual);
    const auto& m = items[2];
    EXPECT_EQ(m.name, "Treadmill");
    EXPECT_EQ(m.start_time, k_start);  // "2025-01-10T03:00:00-05"
    EXPECT_EQ(m.elapsed_s, 1800.0);
    EXPECT_EQ(m.distance_m, 5000.0);
    EXPECT_EQ(m.sport_family, "run");
    EXPECT_EQ(m.origin, "https://api.sporttracks.mobi/api/v2/fitnessActivities/" + manual);
    EXPECT_EQ(m.unavailable_reason, k_no_samples);  // kept as metadata
    EXPECT_FALSE(items[0].unavailable_reason);
    EXPECT_EQ(items[1].sport_family, "ride");

    std::vector<std::string> lists;
    for (const auto& [path, query, body] : sent("GET"))
        if (path == "/api/v2/fitnessActivities") lists.push_back(query);
    ASSERT_EQ(lists.size(), 2u);
    EXPECT_EQ(lists[0],
              "pageSize=2&page=0&noEarlierThan=2025-01-10T07%3A00%3A00Z&noLaterThan=2025-01-13T08%3A00%3A00Z");
    // The second page is the answer's `next` link.
    EXPECT_EQ(lists[1],
              "pageSize=2&page=1&noEarlierThan=2025-01-10T07%3A00%3A00Z&noLaterThan=2025-01-13T08%3A00%3A00Z");
}

TEST_F(SportTracksFake, TheTcxBuiltFromSamplesDecodesToTheWorkoutsDistanceAndDuration) {
    const auto id = seed(fmt::format(R"({{"start": {}, "type": "Running", "duration": 1740, "distance": 6123.4,
                                          "samples": true, "points": 30}})",
                                     k_start));
    auto p = make();
    auto page = run(p->list(ListQuery{.since = k_start - 60, .until = k_start + 60}));
    ASSERT_TRUE(page) << page.error().message;
    ASSERT_EQ(page->items.size(), 1u);
    for (int fresh = 0; fresh < 2; ++fresh) {  // built while listing, then from the details again
        auto tcx = run(p->download(page->items[0]));
        ASSERT_TRUE(tcx) << tcx.error().message;
        const auto s = formats::decode(test::bytes_of(*tcx));
        ASSERT_TRUE(s.ok) << s.error;
        EXPECT_TRUE(s.is_activity);
        EXPECT_EQ(s.format, formats::Format::tcx);
        EXPECT_EQ(s.start_time, k_start);
        EXPECT_EQ(s.total_distance, 6123.4);
        EXPECT_EQ(s.total_timer_time, 1740.0);
        EXPECT_EQ(s.total_elapsed_time, 1740.0);  // the last sample's offset
        EXPECT_EQ(s.records, 30);
        EXPECT_EQ(s.records_with_position, 30);
        EXPECT_EQ(s.sport_family, "run");
        EXPECT_TRUE(s.has_hr);
        EXPECT_TRUE(s.has_power);
        EXPECT_EQ(s.first_lat, 45.0);
        EXPECT_EQ(s.last_lat, 45.0145);
        EXPECT_EQ(s.rec_max_hr, 149.0);
    }
    size_t details = 0;
    for (const auto& [path, query, body] : sent("GET")) details += path == "/api/v2/fitnessActivities/" + id;
    EXPECT_EQ(details, 2u);  // one while listing, one for the second download

    rapidjson::Document bare;
    bare.Parse(R"({"start_time": "2025-01-10T03:00:00-05", "duration": "60", "heartrate": []})");
    EXPECT_EQ(workout_tcx(bare), "");
    bare.Parse(R"({"duration": "60", "heartrate": [0, "120"]})");
    EXPECT_EQ(workout_tcx(bare), "");
}

TEST_F(SportTracksFake, ARenameGetsTheWorkoutAndPutsEverythingBack) {
    const auto id =
        seed(fmt::format(R"({{"start": {}, "name": "Morning", "notes": "Tempo 3x10", "samples": true}})", k_start));
    const auto before = stored(id);
    auto p = make();
    ASSERT_TRUE(run(p->update_name(id, "Hill repeats")));
    const auto puts = sent("PUT");
    ASSERT_EQ(puts.size(), 1u);
    EXPECT_EQ(std::get<0>(puts[0]), "/api/v2/fitnessActivities/" + id);
    const auto after = stored(id);
    EXPECT_STREQ(after["name"].GetString(), "Hill repeats");
    EXPECT_EQ(after["_updates"].GetInt(), 1);
    // Every other field is what it was: samples, laps, notes, equipment, ...
    size_t compared = 0;
    for (const auto& m : before.GetObject()) {
        const std::string key = m.name.GetString();
        if (key == "name" || key.starts_with("_")) continue;
        ASSERT_TRUE(after.HasMember(m.name)) << key << " was lost";
        EXPECT_TRUE(after[m.name] == m.value) << key << " changed";
        ++compared;
    }
    EXPECT_EQ(compared, 19u);
    for (const auto& m : after.GetObject()) EXPECT_TRUE(before.HasMember(m.name) || m.name == "_updates");
}

TEST_F(SportTracksFake, UploadsFitAsBase64AndXmlAsTextAndRecognisesWhatIsThere) {
    auto p = make();
    const auto fit = test::load_corpus("fit/garmin-fenix2-run.fit");
    auto up = run(p->upload(UploadRequest{test::bytes_of(fit.bytes), &fit.summary, "Long run", "fb-1"}));
    ASSERT_TRUE(up) << up.error().message;
    EXPECT_FALSE(up->duplicate);
    EXPECT_EQ(up->remote_id, "100001");  // from ".../fitnessActivity/100001"
    const auto gpx = fitbridge::test::synth_gpx(k_start, 30);
    const auto gpx_summary = formats::decode(test::bytes_of(gpx));
    auto second = run(p->upload(UploadRequest{test::bytes_of(gpx), &gpx_summary, "", "fb-2"}));
    ASSERT_TRUE(second) << second.error().message;
    EXPECT_EQ(second->remote_id, "100002");
    const auto posts = sent("POST");
    ASSERT_EQ(posts.size(), 2u);
    EXPECT_EQ(std::get<0>(posts[0]), "/api/v2/fileUpload");
    auto body = json::parse(std::get<2>(posts[0]));
    ASSERT_TRUE(body);
    EXPECT_EQ(kit::string_at(*body, "format"), "FIT");
    EXPECT_EQ(kit::string_at(*body, "data"), net::base64(fit.bytes));
    EXPECT_EQ(kit::string_at(*body, "name"), "Long run");
    auto xml = json::parse(std::get<2>(posts[1]));
    EXPECT_EQ(kit::string_at(*xml, "format"), "GPX");
    EXPECT_EQ(kit::string_at(*xml, "data"), gpx);
    EXPECT_EQ(body->MemberCount(), 3u);
    EXPECT_EQ(xml->MemberCount(), 2u);  // no name: none sent
    // Uploaded again: found by start and sport, nothing sent.
    auto again = run(p->upload(UploadRequest{test::bytes_of(fit.bytes), &fit.summary, "Long run", "fb-1"}));
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_TRUE(again->duplicate);
    EXPECT_EQ(again->remote_id, "100001");
    EXPECT_EQ(sent("POST").size(), 2u);
}

TEST_F(SportTracksFake, AWorkoutKnownOnlyByItsMetadataIsCreatedFromTheSummary) {
    auto p = make();
    EXPECT_TRUE(p->capabilities() & k_create_metadata);
    formats::Summary summary;
    summary.format = formats::Format::unknown;
    summary.start_time = k_start;
    summary.sport_family = "swim";
    summary.total_elapsed_time = 2400;
    summary.total_distance = 2000;
    auto up = run(p->upload(UploadRequest{{}, &summary, "Pool", "fb-3"}));
    ASSERT_TRUE(up) << up.error().message;
    EXPECT_EQ(up->remote_id, "100001");
    const auto posts = sent("POST");
    ASSERT_EQ(posts.size(), 1u);
    EXPECT_EQ(std::get<0>(posts[0]), "/api/v2/fitnessActivities");
    EXPECT_EQ(std::get<2>(posts[0]),
              R"({"name":"Pool","type":"Swimming","start_time":"2025-01-10T08:00:00Z","duration":"2400",)"
              R"("total_distance":"2000"})");
    const auto w = stored("100001");
    EXPECT_STREQ(w["type"].GetString(), "Swimming");
}

}  // namespace
}  // namespace fitbridge::providers::sporttracks
