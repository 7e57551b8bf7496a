// The Ride with GPS provider against the Ride with GPS fake (tests/fakes/run
// ridewithgps) over loopback HTTP: options, the API key on every call with
// Basic api_key:auth_token or an OAuth bearer, the v1 trip list walked by
// next_page_url in updated_at order and filtered by departure, the TCX
// export, legacy creates waited for through the list then named and geared,
// duplicates found by start time, the legacy update and gear, and errors.

#include "providers/ridewithgps/ridewithgps.hpp"

#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <map>

#include "formats/decode.hpp"
#include "json/json.hpp"
#include "net/oauth.hpp"
#include "provider_test_util.hpp"
#include "store/cursors.hpp"
#include "support/fake_server.hpp"
#include "support/memory_tokens.hpp"

namespace fitbridge::providers::ridewithgps {
namespace {

using Options = std::map<std::string, std::string>;
using fitbridge::test::FakeServer;

config::AccountConfig account(Options options) {
    config::AccountConfig a;
    a.id = "rwgps";
    a.provider = "ridewithgps";
    a.options = std::move(options);
    return a;
}

std::string error_of(Options options) {
    auto r = factory().validate(account(std::move(options)));
    return r ? "ok" : r.error().message;
}

TEST(RideWithGpsOptions, AnApiKeyAndAnAuthTokenOrOAuth) {
    EXPECT_EQ(error_of({{"api_key_file", "k"}, {"auth_token_file", "t"}}), "ok");
    EXPECT_EQ(error_of({{"api_key_file", "k"}, {"credentials", "stored"}}), "ok");
    EXPECT_EQ(error_of({{"auth_token_file", "t"}}),
              "api_key_file: required (a file holding the API key of your Ride with GPS API client)");
    EXPECT_EQ(error_of({{"api_key_file", "k"}}),
              "auth_token_file: required (a file holding the user's auth token), or client_id + client_secret_file "
              "for fitbridge auth, or credentials: stored");
    EXPECT_EQ(error_of({{"api_key_file", "k"}, {"auth_token_file", "t"}, {"credentials", "stored"}}),
              "auth_token_file, credentials/client_id: set only one (an auth token uses Basic auth with the API key, "
              "OAuth tokens Bearer)");
    EXPECT_EQ(error_of({{"api_key_file", "k"}, {"token_file", "t"}}), "unknown option 'token_file'");
    EXPECT_EQ(error_of({{"api_key_file", "k"}, {"auth_token_file", "t"}, {"page_size", "10"}}),
              "page_size: expected a number 20..200, got '10'");
    test::TempDir dir;
    test::write_text(dir / "secret", "app-secret\n");
    auto e = factory().oauth(
        account({{"api_key_file", "k"}, {"client_id", "app"}, {"client_secret_file", (dir / "secret").string()}}),
        config::Config{});
    ASSERT_TRUE(e) << e.error().message;
    EXPECT_EQ(e->authorize_url, "https://ridewithgps.com/oauth/authorize");
    EXPECT_EQ(e->token_url, "https://ridewithgps.com/oauth/token.json");
    EXPECT_EQ(e->client_secret, "app-secret");
    EXPECT_TRUE(factory().accept_credentials(account({{"api_key_file", "k"}, {"credentials", "stored"}}), "oauth2"));
    EXPECT_EQ(factory()
                  .accept_credentials(account({{"api_key_file", "k"}, {"credentials", "stored"}}), "api_key")
                  .error()
                  .message,
              "Ride with GPS takes an OAuth token (kind oauth2 or token), not 'api_key'");
}

TEST(RideWithGpsOptions, SportsAndTheUpdateBody) {
    EXPECT_EQ(sport_family_for("cycling:gravel"), "ride");
    EXPECT_EQ(sport_family_for("cycling"), "ride");
    EXPECT_EQ(sport_family_for("running:trail"), "run");
    EXPECT_EQ(sport_family_for("walking"), "walk");
    EXPECT_EQ(sport_family_for("snowshoeing"), "other");
    EXPECT_EQ(update_body("Alpe", "275581"), R"({"trip":{"name":"Alpe","gear_id":275581}})");
    EXPECT_EQ(update_body(std::nullopt, "b12"), R"({"trip":{"gear_id":"b12"}})");
    EXPECT_EQ(update_body("Only a name", std::nullopt), R"({"trip":{"name":"Only a name"}})");
}

// A header of one logged request.
std::string header_in(const rapidjson::Value& request, const std::string& name) {
    for (const auto& h : request["headers"].GetArray())
        if (strcasecmp(h[0].GetString(), name.c_str()) == 0) return h[1].GetString();
    return {};
}

class RideWithGpsFake : public ::testing::Test {
protected:
    static void SetUpTestSuite() { s_fake = std::make_unique<FakeServer>("ridewithgps"); }
    static void TearDownTestSuite() { s_fake.reset(); }
    void SetUp() override { fake().reset(); }
    void TearDown() override { EXPECT_EQ(fake().violations().Size(), 0u); }
    static const FakeServer& fake() { return *s_fake; }

    std::unique_ptr<Provider> make(Options extra = {}, std::string token = "test-auth-token",
                                   std::string key = "test-api-key") {
        test::write_text(m_dir / "key", key + "\n");
        test::write_text(m_dir / "token", token + "\n");
        Options o{{"base_url", fake().base()},
                  {"api_key_file", (m_dir / "key").string()},
                  {"auth_token_file", (m_dir / "token").string()}};
        for (auto& [k, v] : extra) {
            if (v.empty())
                o.erase(k);
            else
                o[k] = v;
        }
        if (!m_http) m_http = factory().make_http(m_io.get_executor());
        Context ctx{.executor = m_io.get_executor(),
                    .state_dir = m_dir.path(),
                    .config = &m_config,
                    .http = m_http,
                    .tokens = &m_tokens,
                    .cursors = &m_cursors};
        auto p = factory().create(account(o), ctx);
        if (!p) throw std::runtime_error(p.error().message);
        return std::move(*p);
    }
    template <typename T>
    Result<T> run(Task<T> task) {
        return test::run(m_io, std::move(task));
    }
    std::vector<RemoteActivity> list(Provider& p, ListQuery q) {
        return test::list_all(p, q, [&](Task<ListPage> t) { return run(std::move(t)); });
    }
    std::vector<std::string> ids(const std::string& spec) { return fake().seed_activities(spec); }
    static std::vector<std::string> calls() { return fake().request_lines(); }
    static UploadRequest request(const test::CorpusFile& f, std::string external_id) {
        return UploadRequest{test::bytes_of(f.bytes), &f.summary, "Morning", std::move(external_id)};
    }

    static inline std::unique_ptr<FakeServer> s_fake;
    test::TempDir m_dir;
    boost::asio::io_context m_io;
    config::Config m_config;
    fitbridge::test::MemoryTokenStore m_tokens;
    store::MemoryCursorStore m_cursors;
    std::shared_ptr<net::HttpClient> m_http;
};

constexpr double k_jan1 = 1735718400;  // 2025-01-01T08:00:00Z
constexpr double k_day = 86400;

TEST_F(RideWithGpsFake, ListsByUpdateFollowingNextPageUrlAndEndsBeforeTheWindow) {
    // 45 trips a day apart, each updated an hour after it departed, and one
    // from 2024 renamed on 2025-03-01 (first in the list, outside the window).
    std::string spec = "[";
    for (int i = 0; i < 45; ++i)
        spec += fmt::format(R"({{"start": {}, "name": "day {}", "activity_type": "{}", "duration": 3723,
                                "distance": 40123.5}},)",
                            k_jan1 + i * k_day, i, i % 2 ? "running:trail" : "cycling:gravel");
    spec += R"({"start": 1717228800, "name": "renamed", "updated": 1740816000}])";
    const auto seeded = ids(spec);
    auto p = make({{"page_size", "20"}});
    // [2025-01-20, 2025-01-25): days 19..23.
    auto all = list(*p, ListQuery{.since = k_jan1 + 19 * k_day - 3600, .until = k_jan1 + 24 * k_day - 3600});
    ASSERT_EQ(all.size(), 5u);
    EXPECT_EQ(all[0].remote_id, seeded[23]);
    EXPECT_EQ(all[4].remote_id, seeded[19]);
    const auto& ride = all[4];
    EXPECT_EQ(ride.name, "day 19");
    EXPECT_EQ(ride.start_time, k_jan1 + 19 * k_day);  // departed_at "2025-01-20T09:00:00+01:00"
    EXPECT_EQ(ride.elapsed_s, 3723.0);
    EXPECT_EQ(ride.distance_m, 40123.5);
    EXPECT_EQ(ride.sport_family, "run");
    EXPECT_EQ(all[3].sport_family, "ride");
    EXPECT_EQ(ride.origin, fake().base() + "/trips/" + seeded[19]);
    // The second page reaches updates before the window: no third page.
    EXPECT_EQ(calls(), (std::vector<std::string>{"GET /api/v1/trips.json?page=1&page_size=20",
                                                 "GET /api/v1/trips.json?page=2&page_size=20"}));
    const auto log = fake().requests();
    for (const auto& r : log.GetArray()) {
        EXPECT_EQ(header_in(r, "x-rwgps-api-key"), "test-api-key");
        EXPECT_EQ(header_in(r, "Authorization"), "Basic " + net::base64("test-api-key:test-auth-token"));
    }
}

TEST_F(RideWithGpsFake, OAuthTokensAreBearerTokensBesideTheKey) {
    ids(R"({"start": 1736496000})");
    auto doc = json::parse(fake().control("POST", "/_fake/grant", "{}").body);
    const std::string token = (*doc)["access_token"].GetString();
    m_tokens.saved["rwgps"] = net::Credentials{"oauth2", token, "", std::nullopt, ""};
    auto p = make({{"auth_token_file", ""}, {"credentials", "stored"}});
    auto all = list(*p, ListQuery{.since = 1736496000 - 60, .until = 1736496000 + 60});
    ASSERT_EQ(all.size(), 1u);
    const auto log = fake().requests();
    ASSERT_EQ(log.Size(), 1u);
    EXPECT_EQ(header_in(log[0], "Authorization"), "Bearer " + token);
    EXPECT_EQ(header_in(log[0], "x-rwgps-api-key"), "test-api-key");
    EXPECT_EQ(p->credential_source()->origin, "stored");
}

TEST_F(RideWithGpsFake, ABadTokenOrKeyNeedsReauthentication) {
    for (const auto& [token, key] : {std::pair{"wrong-token", "test-api-key"}, std::pair{"test-auth-token", "nope"}}) {
        auto p = make({}, token, key);
        auto r = run(p->list(ListQuery{.since = 1736496000, .until = 1736496060}));
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().cls, ErrorClass::auth);
        EXPECT_EQ(r.error().code, "ridewithgps.unauthorized");
        EXPECT_EQ(r.error().message,
                  "Ride with GPS rejected the credentials for the trip list (401 Failed to authenticate the user); "
                  "check the token in auth_token_file and the key in api_key_file");
    }
}

TEST_F(RideWithGpsFake, DownloadsTheTcxExportOrSaysWhyNot) {
    const auto seeded = ids(R"([{"start": 1736496000, "duration": 3723, "distance": 40123.5},
                                {"start": 1736582400, "export": "html"}, {"start": 1736668800, "export": "missing"}])");
    auto p = make();
    auto all = list(*p, ListQuery{.since = 1736496000 - 60, .until = 1736668800 + 60});
    ASSERT_EQ(all.size(), 3u);
    ASSERT_EQ(all[2].remote_id, seeded[0]);
    auto tcx = run(p->download(all[2]));
    ASSERT_TRUE(tcx) << tcx.error().message;
    const auto s = formats::decode(test::bytes_of(*tcx));
    EXPECT_EQ(s.start_time, 1736496000.0);
    EXPECT_EQ(s.total_distance, 40123.5);
    EXPECT_EQ(s.total_elapsed_time, 3723.0);
    EXPECT_EQ(s.sport_family, "ride");
    EXPECT_EQ(calls().back(), "GET /trips/" + seeded[0] + ".tcx?sub_format=history");

    auto html = run(p->download(all[1]));
    ASSERT_FALSE(html);
    EXPECT_EQ(html.error().cls, ErrorClass::permanent);
    EXPECT_EQ(html.error().code, "ridewithgps.not_a_file");
    EXPECT_TRUE(
        html.error().message.starts_with("Ride with GPS sent 115 bytes of text/html starting \"<!DOCTYPE html>"))
        << html.error().message;
    EXPECT_TRUE(html.error().message.ends_with("for trip " + seeded[1] + ", not a FIT, TCX or GPX file"))
        << html.error().message;
    auto missing = run(p->download(all[0]));
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, "ridewithgps.not_found");
    EXPECT_EQ(missing.error().message,
              "Ride with GPS has no such thing for the TCX export of trip " + seeded[2] + " (404 Record not found)");
}

TEST_F(RideWithGpsFake, UploadsWaitsForProcessingThenNamesAndGears) {
    fake().control("POST", "/_fake/config", R"({"processing_lists": 1})");
    const auto fit = test::load_corpus("fit/garmin-fenix2-run.fit");
    auto p = make({{"gear_map", "*:275582"}});
    auto up = run(p->upload(request(fit, "fb-1")));
    ASSERT_TRUE(up) << up.error().message;
    EXPECT_FALSE(up->duplicate);
    auto trips = fake().get_json("/_fake/activities");
    ASSERT_EQ(trips.Size(), 1u);
    EXPECT_EQ(up->remote_id, std::to_string(trips[0]["id"].GetInt()));
    EXPECT_EQ(std::string(trips[0]["name"].GetString()), "Morning");
    EXPECT_EQ(trips[0]["gear"]["id"].GetInt(), 275582);
    EXPECT_EQ(std::string(trips[0]["file_format"].GetString()), "fit");
    EXPECT_EQ(std::string(trips[0]["activity_type"].GetString()), "running");
    EXPECT_EQ(calls(), (std::vector<std::string>{
                           "GET /api/v1/trips.json?page=1&page_size=200",  // find_existing first
                           "POST /trips.json",
                           "GET /api/v1/trips.json?page=1&page_size=200",  // still processing
                           "GET /api/v1/trips.json?page=1&page_size=200",  // there
                           "PUT /trips/" + up->remote_id + ".json",
                       }));
    auto log = fake().requests_with_bodies();
    EXPECT_EQ(std::string(log[4]["body"].GetString()), R"({"trip":{"name":"Morning","gear_id":275582}})");
    const std::string upload_body = fitbridge::test::decode_base64(log[1]["body_b64"].GetString());
    EXPECT_NE(upload_body.find("name=\"data_file\"; filename=\"fb-1.fit\""), std::string::npos);
    EXPECT_NE(upload_body.find("name=\"trip[name]\"\r\n\r\nMorning\r\n"), std::string::npos);

    // The same ride again: found by its start, not sent.
    auto again = run(p->upload(request(fit, "fb-1")));
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_TRUE(again->duplicate);
    EXPECT_EQ(again->remote_id, up->remote_id);
    EXPECT_EQ(fake().count("POST", "/trips.json"), 1);
}

TEST_F(RideWithGpsFake, ATripMadeAtOnceNeedsNoWaiting) {
    fake().control("POST", "/_fake/config", R"({"create_answer": "trip"})");
    const auto gpx = test::load_corpus("gpx/fittrackee-e2e.gpx");
    auto p = make();
    auto up = run(p->upload(request(gpx, "fb-2")));
    ASSERT_TRUE(up) << up.error().message;
    EXPECT_EQ(calls(), (std::vector<std::string>{"GET /api/v1/trips.json?page=1&page_size=200", "POST /trips.json",
                                                 "PUT /trips/" + up->remote_id + ".json"}));
    EXPECT_EQ(std::string(fake().get_json("/_fake/activities")[0]["file_format"].GetString()), "gpx");
}

TEST_F(RideWithGpsFake, RefusedFilesAndUpdatesCarryRideWithGpsMessage) {
    const auto fit = test::load_corpus("fit/garmin-fenix2-run.fit");
    fake().fault(R"({"method": "POST", "path": "/trips.json", "status": 422,
                     "body": "{\"error\":\"We could not process your file\"}"})");
    auto p = make();
    auto r = run(p->upload(request(fit, "fb-3")));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().cls, ErrorClass::permanent);
    EXPECT_EQ(r.error().code, "ridewithgps.rejected");
    EXPECT_EQ(r.error().message, "Ride with GPS rejected the file: We could not process your file");

    const auto seeded = ids(R"({"start": 1736496000})");
    auto bad_gear = run(p->update_gear(seeded[0], "999"));
    ASSERT_FALSE(bad_gear);
    EXPECT_EQ(bad_gear.error().message,
              "Ride with GPS rejected the update of trip " + seeded[0] + " (422 Gear not found)");
    auto gone = run(p->update_name("77777", "x"));
    ASSERT_FALSE(gone);
    EXPECT_EQ(gone.error().code, "ridewithgps.not_found");
}

TEST_F(RideWithGpsFake, RenamesSetsGearAndListsIt) {
    const auto seeded = ids(R"({"start": 1736496000, "name": "Lunch"})");
    auto p = make();
    ASSERT_TRUE(run(p->update_name(seeded[0], "Col du Zwift")));
    ASSERT_TRUE(run(p->update_gear(seeded[0], "275581")));
    auto trip = fake().get_json("/_fake/activities");
    EXPECT_EQ(std::string(trip[0]["name"].GetString()), "Col du Zwift");
    EXPECT_EQ(trip[0]["gear"]["id"].GetInt(), 275581);
    auto log = fake().requests_with_bodies();
    ASSERT_EQ(log.Size(), 2u);
    EXPECT_EQ(std::string(log[0]["method"].GetString()), "PUT");
    EXPECT_EQ(std::string(log[0]["body"].GetString()), R"({"trip":{"name":"Col du Zwift"}})");
    EXPECT_EQ(std::string(log[1]["body"].GetString()), R"({"trip":{"gear_id":275581}})");
    auto gear = run(p->list_gear());
    ASSERT_TRUE(gear) << gear.error().message;
    ASSERT_EQ(gear->size(), 2u);
    EXPECT_EQ((*gear)[0].id, "275581");
    EXPECT_EQ((*gear)[0].name, "Gravel bike");
    EXPECT_EQ((*gear)[1].id, "275582");
    EXPECT_EQ(calls().back(), "GET /users/current.json");
}

TEST_F(RideWithGpsFake, RateLimitsAreWaitedOutAndHtmlIsAClearError) {
    ids(R"({"start": 1736496000})");
    fake().fault(R"({"path": "/api/v1/trips.json", "status": 429, "headers": [["Retry-After", "1"]],
                     "body": "{\"error\":\"Too many requests\"}"})");
    auto p = make();
    auto all = list(*p, ListQuery{.since = 1736496000 - 60, .until = 1736496000 + 60});
    EXPECT_EQ(all.size(), 1u);
    EXPECT_EQ(fake().count("GET", "/api/v1/trips.json", 429), 1);
    EXPECT_EQ(fake().count("GET", "/api/v1/trips.json", 200), 1);

    fake().fault(R"({"path": "/api/v1/trips.json", "status": 200,
                     "body": "<html><head><title>Down for maintenance</title></head></html>"})");
    auto html = run(p->list(ListQuery{.since = 1736496000 - 60, .until = 1736496000 + 60}));
    ASSERT_FALSE(html);
    EXPECT_EQ(html.error().cls, ErrorClass::transient);
    EXPECT_EQ(html.error().message,
              "Ride with GPS answered the trip list with something that is not JSON: an HTML "
              "page titled \"Down for maintenance\"");
}

}  // namespace
}  // namespace fitbridge::providers::ridewithgps
