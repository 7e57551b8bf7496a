// The Garmin Connect provider against the Garmin fake (tests/fakes/run garmin)
// over loopback HTTP: options, the list's local dates and offset paging,
// device names, ZIP originals (and each way one can be broken), uploads
// answered 201, 202 + polls, 409 duplicates and the EU consent refusal,
// renames, sport, gear, DI token renewal and the daemon's own sign-in with
// every way Garmin can stop it.

#include "providers/garmin_connect/garmin_connect.hpp"

#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <map>

#include "json/json.hpp"
#include "net/oauth.hpp"
#include "net/url.hpp"
#include "provider_test_util.hpp"
#include "providers/garmin_connect/auth.hpp"
#include "store/cursors.hpp"
#include "support/fake_server.hpp"
#include "support/memory_tokens.hpp"
#include "support/synth.hpp"

namespace fitbridge::providers::garmin_connect {
namespace {

using Options = std::map<std::string, std::string>;
using fitbridge::test::FakeServer;

constexpr double k_first = 1736496000;  // 2025-01-10T08:00:00Z

config::AccountConfig account(Options options) {
    config::AccountConfig a;
    a.id = "garmin";
    a.provider = "garmin_connect";
    a.options = std::move(options);
    return a;
}

std::string error_of(Options options) {
    auto r = factory().validate(account(std::move(options)));
    return r ? "ok" : r.error().message;
}

TEST(GarminConnectOptions, StoredTokensOrTheAccountsOwnSignIn) {
    EXPECT_EQ(error_of({{"credentials", "stored"}}), "ok");
    EXPECT_EQ(error_of({{"username", "me@example.com"}, {"password_file", "garmin-password"}}), "ok");
    EXPECT_EQ(error_of({}), "username: required, with password_file (the account's login), or credentials: stored");
    EXPECT_EQ(error_of({{"credentials", "stored"}, {"username", "me"}, {"password_file", "p"}}),
              "username/password_file, credentials: set only one (DI tokens handed over (credentials: stored) or the "
              "account's own sign-in (username + password_file))");
    EXPECT_EQ(error_of({{"credentials", "stored"}, {"min_request_interval_ms", "-1"}}),
              "min_request_interval_ms: expected a number 0..600000, got '-1'");
    EXPECT_EQ(error_of({{"credentials", "stored"}, {"sso_url", "ftp://x"}}).substr(0, 9), "sso_url: ");
    const auto f = factory();
    EXPECT_TRUE(f.unofficial);
    std::map<std::string, std::string> defaults;
    for (const auto& o : f.options) defaults[std::string(o.name)] = std::string(o.default_value);
    EXPECT_EQ(defaults["base_url"], "https://connectapi.garmin.com");
    EXPECT_EQ(defaults["auth_url"], "https://diauth.garmin.com");
    EXPECT_EQ(defaults["sso_url"], "https://sso.garmin.com");
    EXPECT_EQ(defaults["min_request_interval_ms"], "1000");
}

TEST(GarminConnectOptions, TakesTokensAndCodesOnlyForASignInOfItsOwn) {
    const auto f = factory();
    EXPECT_TRUE(f.accept_credentials(account({{"credentials", "stored"}}), "oauth2"));
    auto code = f.accept_credentials(account({{"credentials", "stored"}}), "mfa_code");
    ASSERT_FALSE(code);
    EXPECT_EQ(code.error().message,
              "account garmin does not sign in by itself (no username/password_file), so no sign-in waits for a code; "
              "hand tokens over as kind oauth2");
    const Options login{{"username", "me"}, {"password_file", "p"}};
    EXPECT_TRUE(f.accept_credentials(account(login), "mfa_code"));
    EXPECT_TRUE(f.accept_credentials(account(login), "oauth2"));
    auto key = f.accept_credentials(account(login), "api_key");
    ASSERT_FALSE(key);
    EXPECT_EQ(key.error().message,
              "Garmin Connect takes DI oauth2 tokens (access_token, refresh_token) or, while a sign-in waits, an "
              "mfa_code, not 'api_key'");
}

TEST(GarminConnectOptions, JwtClaimsAndSports) {
    // {"client_id":"GARMIN_CONNECT_MOBILE_ANDROID_DI","exp":1767225600}
    const std::string payload = R"({"client_id":"GARMIN_CONNECT_MOBILE_ANDROID_DI","exp":1767225600})";
    const std::string token = "eyJhbGciOiJSUzI1NiJ9." + net::base64url(payload) + ".c2ln";
    auto claims = jwt_claims(token);
    ASSERT_TRUE(claims);
    EXPECT_EQ(claims->client_id, "GARMIN_CONNECT_MOBILE_ANDROID_DI");
    EXPECT_EQ(claims->exp, 1767225600.0);
    EXPECT_FALSE(jwt_claims("not-a-jwt"));
    EXPECT_FALSE(jwt_claims("a.bm90IGpzb24.c"));  // "not json"
    EXPECT_EQ(sport_family_for("virtual_ride"), "ride");
    EXPECT_EQ(sport_family_for("treadmill_running"), "run");
    EXPECT_EQ(sport_family_for("lap_swimming"), "swim");
}

class GarminFake : public ::testing::Test {
protected:
    static void SetUpTestSuite() { s_fake = std::make_unique<FakeServer>("garmin"); }
    static void TearDownTestSuite() { s_fake.reset(); }
    void SetUp() override { fake().reset(); }
    void TearDown() override { EXPECT_EQ(fake().violations().Size(), 0u); }
    static const FakeServer& fake() { return *s_fake; }

    // Tokens as a user hands them over (lifetime in seconds).
    void grant(int lifetime_s = 3600) {
        auto doc = json::parse(
            fake().control("POST", "/_fake/grant", fmt::format(R"({{"lifetime_s": {}}})", lifetime_s)).body);
        m_tokens.saved["garmin"] = net::Credentials{"oauth2", (*doc)["access_token"].GetString(),
                                                    (*doc)["refresh_token"].GetString(), std::nullopt, ""};
    }

    std::unique_ptr<Provider> make(Options extra = {}, bool login = false) {
        Options o{{"base_url", fake().base()},
                  {"auth_url", fake().base()},
                  {"sso_url", fake().base()},
                  {"min_request_interval_ms", "0"}};
        if (login) {
            test::write_text(m_dir / "password", m_password + "\n");
            o["username"] = "rider@example.com";
            o["password_file"] = (m_dir / "password").string();
        } else {
            o["credentials"] = "stored";
        }
        for (auto& [k, v] : extra) o[k] = v;
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
        return test::list_all(p, std::move(q), [&](Task<ListPage> t) { return run(std::move(t)); });
    }
    std::vector<std::string> ids(const std::string& spec) { return fake().seed_activities(spec); }
    static std::vector<std::string> calls() { return fake().request_lines(); }
    int counter(const char* name) { return fake().get_json("/_fake/tokens")[name].GetInt(); }
    static UploadRequest request(const test::CorpusFile& f, std::string external_id) {
        return UploadRequest{test::bytes_of(f.bytes), &f.summary, "Morning", std::move(external_id)};
    }
    rapidjson::Document activity(const std::string& id) {
        auto all = fake().get_json("/_fake/activities");
        rapidjson::Document out;
        for (const auto& a : all.GetArray())
            if (a["id"].GetString() == id) out.CopyFrom(a, out.GetAllocator());
        return out;
    }

    static inline std::unique_ptr<FakeServer> s_fake;
    test::TempDir m_dir;
    boost::asio::io_context m_io;
    config::Config m_config;
    fitbridge::test::MemoryTokenStore m_tokens;
    store::MemoryCursorStore m_cursors;
    std::shared_ptr<net::HttpClient> m_http;
    std::string m_password = "correct horse";
};

TEST_F(GarminFake, ListsByLocalDatesWithOffsetPagingAndDeviceNames) {
    const auto seeded = ids(R"([{"start": 1736496000, "type": "ride", "name": "Lunch Ride", "duration": 3723,
        "distance": 40123.5, "device_id": 3442978015}, {"start": 1736582400, "type": "run"},
        {"start": 1736668800, "type": "walk"}, {"start": 1736755200, "type": "swim"},
        {"start": 1736841600, "type": "ride", "manual": true}, {"start": 1736985600, "type": "ride"}])");
    grant();
    auto p = make({{"page_size", "2"}});
    auto all = list(*p, ListQuery{.since = 1736467200, .until = 1736985600});  // [01-10, 01-16)
    ASSERT_EQ(all.size(), 5u);
    EXPECT_EQ(all[0].remote_id, seeded[4]);  // newest first; the one at `until` is not in the window
    const auto& ride = all[4];
    EXPECT_EQ(ride.remote_id, seeded[0]);
    EXPECT_EQ(ride.name, "Lunch Ride");
    EXPECT_EQ(ride.start_time, 1736496000.0);  // startTimeGMT, not the local time
    EXPECT_EQ(ride.elapsed_s, 3723.0);
    EXPECT_EQ(ride.distance_m, 40123.5);
    EXPECT_EQ(ride.sport_family, "ride");
    EXPECT_EQ(ride.origin, fake().base() + "/activity-service/activity/" + seeded[0] + " (recorded by Edge 530)");
    EXPECT_FALSE(ride.unavailable_reason);
    EXPECT_EQ(all[3].sport_family, "run");
    EXPECT_EQ(all[1].sport_family, "swim");
    EXPECT_EQ(all[0].unavailable_reason, "activity " + seeded[4] + " was entered by hand: Garmin Connect has no file");
    const std::string list = "GET /activitylist-service/activities/search/activities?";
    EXPECT_EQ(calls(), (std::vector<std::string>{
                           list + "start=0&limit=2&startDate=2025-01-09&endDate=2025-01-17",
                           list + "start=2&limit=2&startDate=2025-01-09&endDate=2025-01-17",
                           list + "start=4&limit=2&startDate=2025-01-09&endDate=2025-01-17",
                           "GET /device-service/deviceregistration/devices",
                           list + "start=6&limit=2&startDate=2025-01-09&endDate=2025-01-17",
                       }));
}

TEST_F(GarminFake, DownloadsTheOneFileInsideTheZip) {
    const auto fit = test::load_corpus("fit/garmin-fr55-coretemp-walk.fit");
    const std::string tcx = test::slurp(test::k_corpus / "tcx/multisport-2009-05-28.tcx.gz");
    const double start = *fit.summary.start_time;
    const auto seeded = ids(fmt::format(R"([{{"start": {}, "type": "walk", "file_b64": "{}"}},
                            {{"start": {}, "type": "run", "file_b64": "{}", "file_name": "upload.tcx.gz"}}])",
                                        start, net::base64(fit.bytes), start + 7200, net::base64(tcx)));
    grant();
    auto p = make();
    auto listed = list(*p, ListQuery{.since = start - 60, .until = start + 7300});
    ASSERT_EQ(listed.size(), 2u);
    auto bytes = run(p->download(listed[1]));
    ASSERT_TRUE(bytes) << bytes.error().message;
    EXPECT_EQ(*bytes, fit.bytes);
    auto other = run(p->download(listed[0]));
    ASSERT_TRUE(other) << other.error().message;
    EXPECT_EQ(*other, tcx);
    EXPECT_EQ(fake().count("GET", "/download-service/files/activity/" + seeded[0], 200), 1);
}

TEST_F(GarminFake, EachBrokenOriginalIsAnErrorOnThatActivityAlone) {
    const double start = k_first;
    std::string spec = "[";
    const char* modes[] = {"none", "two", "text", "truncated", "html", "404", "500", "zip"};
    for (int i = 0; i < 8; ++i) {
        const std::string mode = modes[i];
        const bool status = mode == "404" || mode == "500";
        spec += fmt::format(R"({}{{"start": {}, "type": "run", "file_b64": "{}", "download": {}}})", i ? "," : "",
                            start + i * 3600, net::base64(fitbridge::test::synth_fit(start + i * 3600, 60, 1)),
                            status ? mode : "\"" + mode + "\"");
    }
    const auto seeded = ids(spec + "]");
    grant();
    auto p = make();
    auto listed = list(*p, ListQuery{.since = start - 60, .until = start + 8 * 3600});
    ASSERT_EQ(listed.size(), 8u);
    std::map<std::string, Result<std::string>> got;
    for (const auto& item : listed) got.emplace(item.remote_id, run(p->download(item)));
    auto message = [&](int i) {
        const auto& r = got.at(seeded[i]);
        return r ? std::string("ok") : r.error().code + ": " + r.error().message;
    };
    const std::string what = "Garmin Connect sent ";
    EXPECT_EQ(message(0), "garmin_connect.bad_file: " + what + "an empty ZIP archive for activity " + seeded[0]);
    EXPECT_EQ(message(1), fmt::format("garmin_connect.bad_file: {}a ZIP archive for activity {} with several activity "
                                      "files ({}_ACTIVITY.fit, {}_2.fit); which one is the original is unclear",
                                      what, seeded[1], seeded[1], seeded[1]));
    EXPECT_EQ(message(2), fmt::format("garmin_connect.bad_file: {}a ZIP archive for activity {} holding no FIT, TCX "
                                      "or GPX file (only {}_ACTIVITY.txt)",
                                      what, seeded[2], seeded[2]));
    EXPECT_TRUE(message(3).starts_with("garmin_connect.bad_file: " + what +
                                       "a damaged or truncated ZIP archive for "
                                       "activity " +
                                       seeded[3]))
        << message(3);
    EXPECT_TRUE(message(4).starts_with("garmin_connect.not_a_file: " + what)) << message(4);
    EXPECT_NE(message(4).find("text/html"), std::string::npos) << message(4);
    EXPECT_EQ(message(5), fmt::format("garmin_connect.unavailable: Garmin Connect serves no original file for activity "
                                      "{} (404 Not Found)",
                                      seeded[5]));
    // 500 stays 500 through the client's retries.
    EXPECT_TRUE(
        message(6).starts_with(fmt::format("garmin_connect.unavailable: Garmin Connect serves no original file "
                                           "for activity {} (",
                                           seeded[6])))
        << message(6);
    EXPECT_NE(message(6).find("500 java.lang.NullPointerException"), std::string::npos) << message(6);
    EXPECT_EQ(message(7), "ok");
    for (int i = 0; i < 5; ++i) EXPECT_EQ(got.at(seeded[i]).error().cls, ErrorClass::permanent);
    // The ones Garmin has no file for are listed as such from then on (the
    // engine keeps them as metadata); the broken ones are fetched again.
    auto again = list(*p, ListQuery{.since = start - 60, .until = start + 8 * 3600});
    for (const auto& item : again) {
        const bool none = item.remote_id == seeded[5] || item.remote_id == seeded[6];
        EXPECT_EQ(item.unavailable_reason.has_value(), none) << item.remote_id;
    }
}

TEST_F(GarminFake, UploadsAnswered201And202And409) {
    const auto fit = test::load_corpus("fit/garmin-fenix2-run.fit");
    grant();
    auto p = make();
    auto up = run(p->upload(request(fit, "fb-1")));
    ASSERT_TRUE(up) << up.error().message;
    EXPECT_FALSE(up->duplicate);
    auto uploads = fake().get_json("/_fake/uploads");
    ASSERT_EQ(uploads.Size(), 1u);
    EXPECT_EQ(up->remote_id, uploads[0]["activity"].GetString());
    EXPECT_EQ(std::string(activity(up->remote_id)["type_key"].GetString()), "running");
    EXPECT_EQ(std::string(uploads[0]["file_name"].GetString()), "fb-1.fit");  // the multipart part `file`
    EXPECT_EQ(calls(), std::vector<std::string>{"POST /upload-service/upload"});

    // Already there (the watch uploaded it): 409, the existing activity.
    auto again = run(p->upload(request(fit, "fb-2")));
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_TRUE(again->duplicate);
    EXPECT_EQ(again->remote_id, up->remote_id);

    // Processed in the background: 202, then the status endpoint.
    fake().control("POST", "/_fake/config", R"({"upload_polls": 2})");
    const auto walk = test::load_corpus("fit/garmin-fr55-coretemp-walk.fit");
    auto later = run(p->upload(request(walk, "fb-3")));
    ASSERT_TRUE(later) << later.error().message;
    EXPECT_FALSE(later->duplicate);
    EXPECT_EQ(std::string(activity(later->remote_id)["type_key"].GetString()), "walking");
    auto lines = calls();
    ASSERT_EQ(lines.size(), 5u);
    EXPECT_EQ(lines[2], "POST /upload-service/upload");
    const auto uuid = std::string(fake().get_json("/_fake/uploads")[2]["uuid"].GetString());
    std::string compact;
    for (char c : uuid)
        if (c != '-') compact.push_back(c);
    EXPECT_TRUE(lines[3].starts_with("GET /activity-service/activity/status/20")) << lines[3];
    EXPECT_TRUE(lines[3].ends_with("/" + compact)) << lines[3];
    EXPECT_EQ(lines[4], lines[3]);
}

TEST_F(GarminFake, TheEuConsentRefusalIsRejectedWithGarminsText) {
    fake().control("POST", "/_fake/config", R"({"upload_consent": false})");
    const auto fit = test::load_corpus("fit/garmin-fenix2-run.fit");
    grant();
    auto p = make();
    auto r = run(p->upload(request(fit, "fb-eu")));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().cls, ErrorClass::permanent);
    EXPECT_EQ(r.error().code, "garmin_connect.upload_consent");
    EXPECT_EQ(r.error().message,
              "Garmin Connect refused the upload (409): The user is from EU location, but upload consent is not yet "
              "granted or revoked (grant upload consent in Garmin Connect's privacy settings, then sync again)");
    EXPECT_EQ(fake().count("POST", "/upload-service/upload"), 1);  // not sent again
}

TEST_F(GarminFake, FindsAnUploadByItsStart) {
    const auto fit = test::load_corpus("fit/garmin-fenix2-run.fit");
    const auto seeded = ids(fmt::format(R"({{"start": {}, "type": "run"}})", *fit.summary.start_time + 3));
    grant();
    auto p = make();
    auto found = run(p->find_existing(request(fit, "fb-x")));
    ASSERT_TRUE(found) << found.error().message;
    EXPECT_EQ(*found, seeded[0]);
}

TEST_F(GarminFake, RenamesDescribesRetypesAndLinksGear) {
    const auto seeded = ids(R"({"start": 1736496000, "type": "ride", "gear": ["bike-old", "shoes-1"]})");
    fake().control("POST", "/_fake/gear", R"([{"uuid": "bike-old", "name": "Old Bike", "type": "Bike"},
        {"uuid": "bike-new", "name": "Tarmac", "type": "Bike"}, {"uuid": "shoes-1", "name": "Pegasus", "type": "Shoes"},
        {"uuid": "bike-gone", "name": "Stolen", "type": "Bike", "retired": true}])");
    grant();
    auto p = make();
    const auto& id = seeded[0];
    ASSERT_TRUE(run(p->update_name(id, "Col du Galibier")));
    ASSERT_TRUE(run(p->update_description(id, "hot")));
    ASSERT_TRUE(run(p->update_sport(id, "run")));
    auto act = activity(id);
    EXPECT_EQ(std::string(act["name"].GetString()), "Col du Galibier");
    EXPECT_EQ(std::string(act["description"].GetString()), "hot");
    EXPECT_EQ(std::string(act["type_key"].GetString()), "running");
    auto log = fake().requests_with_bodies();
    EXPECT_EQ(std::string(log[0]["body"].GetString()),
              fmt::format(R"({{"activityId":{},"activityName":"Col du Galibier"}})", id));
    EXPECT_EQ(std::string(log[2]["body"].GetString()),
              fmt::format(R"({{"activityId":{},"activityTypeDTO":{{"typeKey":"running"}}}})", id));

    auto gear = run(p->list_gear());
    ASSERT_TRUE(gear) << gear.error().message;
    ASSERT_EQ(gear->size(), 4u);
    EXPECT_EQ((*gear)[1].id, "bike-new");
    EXPECT_EQ((*gear)[1].name, "Tarmac");
    EXPECT_EQ((*gear)[1].type, "Bike");
    EXPECT_TRUE((*gear)[3].retired);
    fake().control("DELETE", "/_fake/requests");
    ASSERT_TRUE(run(p->update_gear(id, "bike-new")));
    act = activity(id);
    ASSERT_EQ(act["gear"].Size(), 2u);
    EXPECT_EQ(std::string(act["gear"][0].GetString()), "shoes-1");  // the shoes stay; the old bike is unlinked
    EXPECT_EQ(std::string(act["gear"][1].GetString()), "bike-new");
    EXPECT_EQ(calls(), (std::vector<std::string>{
                           "GET /gear-service/gear/filterGear?userProfilePk=90123456",
                           "GET /gear-service/gear/filterGear?activityId=" + id,
                           "PUT /gear-service/gear/unlink/bike-old/activity/" + id,
                           "PUT /gear-service/gear/link/bike-new/activity/" + id,
                       }));
    auto gone = run(p->update_gear(id, "bike-gone"));
    ASSERT_FALSE(gone);
    EXPECT_EQ(gone.error().code, "garmin_connect.gear");
    EXPECT_EQ(gone.error().message, "Garmin Connect has retired the gear bike-gone on this account");
    EXPECT_EQ(activity(id)["gear"].Size(), 2u);  // nothing unlinked for it
}

TEST_F(GarminFake, RenewsWithTheTokensOwnClientFifteenMinutesBeforeItsExpiry) {
    ids(R"({"start": 1736496000, "type": "ride"})");
    fake().control("POST", "/_fake/config", R"({"rotate_refresh": false})");
    grant(600);  // expires in 10 minutes: renewed before the first request
    const auto old_refresh = m_tokens.saved["garmin"].refresh_token;
    auto p = make();
    auto r = run(p->list(ListQuery{.since = 1736467200, .until = 1736985600}));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(counter("refreshes"), 1);
    auto log = fake().requests_with_bodies();
    ASSERT_GE(log.Size(), 2u);
    EXPECT_STREQ(log[0]["path"].GetString(), "/di-oauth2-service/oauth/token");
    EXPECT_EQ(
        net::parse_query(log[0]["body"].GetString()),
        (std::vector<std::pair<std::string, std::string>>{{"grant_type", "refresh_token"},
                                                          {"client_id", "GARMIN_CONNECT_MOBILE_ANDROID_DI_2025Q2"},
                                                          {"refresh_token", old_refresh}}));
    // Garmin sent no new refresh token: the old one is kept.
    EXPECT_EQ(m_tokens.saved["garmin"].refresh_token, old_refresh);
    EXPECT_NE(m_tokens.saved["garmin"].access_token.find('.'), std::string::npos);
    ASSERT_TRUE(m_tokens.saved["garmin"].expires_at);
}

TEST_F(GarminFake, ATokenThatIsNotActiveIsRenewedOnceThenItIsAnAuthError) {
    ids(R"({"start": 1736496000, "type": "ride"})");
    grant();
    auto p = make();
    fake().control("POST", "/_fake/expire");
    auto r = run(p->list(ListQuery{.since = 1736467200, .until = 1736985600}));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(counter("refreshes"), 1);
    EXPECT_EQ(fake().count("GET", "/activitylist-service/.*", 401), 1);

    // Refused renewal: an auth error that says how to hand tokens over.
    fake().control("POST", "/_fake/expire");
    m_tokens.saved["garmin"].refresh_token = "di-refresh-unknown";
    auto q = make();
    auto refused = run(q->list(ListQuery{.since = 1736467200, .until = 1736985600}));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().cls, ErrorClass::auth);
    EXPECT_EQ(refused.error().code, "garmin_connect.refresh_refused");
    EXPECT_NE(refused.error().message.find("POST {\"kind\":\"oauth2\""), std::string::npos) << refused.error().message;
    // Not asked again for every request: nothing is sent until new tokens come.
    const size_t sent = fake().requests().Size();
    auto still = run(q->list(ListQuery{.since = 1736467200, .until = 1736985600}));
    ASSERT_FALSE(still);
    EXPECT_EQ(still.error().code, "garmin_connect.refresh_refused");
    EXPECT_EQ(fake().requests().Size(), sent);
    EXPECT_EQ(fake().count("POST", "/di-oauth2-service/oauth/token"), 2);
}

TEST_F(GarminFake, SignsInByItselfAndKeepsTheTokens) {
    ids(R"({"start": 1736496000, "type": "ride"})");
    // The newest DI client does not take tickets any more: the next one does.
    fake().control("POST", "/_fake/config", R"({"di_clients": ["GARMIN_CONNECT_MOBILE_ANDROID_DI_2024Q4"]})");
    auto p = make({}, true);
    auto r = run(p->list(ListQuery{.since = 1736467200, .until = 1736985600}));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->items.size(), 1u);
    auto lines = calls();
    ASSERT_EQ(lines.size(), 5u);
    EXPECT_EQ(lines[0], "GET /mobile/sso/en/sign-in?clientId=GCM_ANDROID_DARK");
    EXPECT_EQ(lines[1],
              "POST /mobile/api/login?clientId=GCM_ANDROID_DARK&locale=en-US&service=https%3A%2F%2Fmobile."
              "integration.garmin.com%2Fgcm%2Fandroid");
    EXPECT_EQ(lines[2], "POST /di-oauth2-service/oauth/token");
    EXPECT_EQ(lines[3], "POST /di-oauth2-service/oauth/token");
    EXPECT_EQ(counter("exchanges"), 1);
    ASSERT_TRUE(m_tokens.saved.contains("garmin"));
    EXPECT_EQ(m_tokens.saved["garmin"].kind, "oauth2");
    auto claims = jwt_claims(m_tokens.saved["garmin"].access_token);
    ASSERT_TRUE(claims);
    EXPECT_EQ(claims->client_id, "GARMIN_CONNECT_MOBILE_ANDROID_DI_2024Q4");
    // A restart uses the kept tokens: no second sign-in.
    auto again = make({}, true);
    ASSERT_TRUE(run(again->list(ListQuery{.since = 1736467200, .until = 1736985600})));
    EXPECT_EQ(counter("logins"), 1);
}

TEST_F(GarminFake, AnMfaCodePostedWhileTheSignInWaitsFinishesIt) {
    ids(R"({"start": 1736496000, "type": "ride"})");
    fake().control("POST", "/_fake/config", R"({"login": "mfa"})");
    auto p = make({}, true);
    const ListQuery window{.since = 1736467200, .until = 1736985600};
    auto r = run(p->list(window));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().cls, ErrorClass::auth);
    EXPECT_EQ(r.error().code, "garmin_connect.mfa_required");
    EXPECT_NE(r.error().message.find("the verification code it sent by email: POST "
                                     "{\"kind\":\"mfa_code\",\"code\":\"123456\"} to /v1/accounts/garmin/credentials"),
              std::string::npos)
        << r.error().message;
    // Not tried again by itself.
    ASSERT_FALSE(run(p->list(window)));
    EXPECT_EQ(counter("logins"), 1);
    // The code arrives (the engine stores it and starts the account again).
    m_tokens.saved["garmin"] = net::Credentials{"mfa_code", "123456", "", std::nullopt, ""};
    auto with_code = make({}, true);
    auto done = run(with_code->list(window));
    ASSERT_TRUE(done) << done.error().message;
    EXPECT_EQ(counter("mfa_checks"), 1);
    EXPECT_EQ(counter("logins"), 1);
    EXPECT_EQ(m_tokens.saved["garmin"].kind, "oauth2");
    auto log = fake().requests_with_bodies();
    bool verified = false;
    for (const auto& req : log.GetArray())
        if (std::string_view(req["path"].GetString()) == "/mobile/api/mfa/verifyCode") {
            auto body = json::parse(req["body"].GetString());
            EXPECT_STREQ((*body)["mfaVerificationCode"].GetString(), "123456");
            EXPECT_STREQ((*body)["mfaMethod"].GetString(), "email");
            verified = true;
        }
    EXPECT_TRUE(verified);
}

TEST_F(GarminFake, EveryStoppedSignInIsAReasonNotALoop) {
    const std::pair<const char*, const char*> cases[] = {
        {"captcha", "garmin_connect.captcha_required"},    {"429", "garmin_connect.login_rate_limited"},
        {"429_json", "garmin_connect.login_rate_limited"}, {"cloudflare", "garmin_connect.login_blocked"},
        {"changed", "garmin_connect.login_changed"},
    };
    const ListQuery window{.since = 1736467200, .until = 1736985600};
    for (const auto& [mode, code] : cases) {
        SCOPED_TRACE(mode);
        fake().reset();
        m_tokens.saved.clear();
        fake().control("POST", "/_fake/config", fmt::format(R"({{"login": "{}"}})", mode));
        auto p = make({}, true);
        auto r = run(p->list(window));
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().cls, ErrorClass::auth);
        EXPECT_EQ(r.error().code, code);
        EXPECT_NE(r.error().message.find("FitBridge does not try again by itself: hand DI tokens over instead"),
                  std::string::npos)
            << r.error().message;
        const size_t sent = fake().requests().Size();
        ASSERT_FALSE(run(p->list(window)));
        EXPECT_EQ(fake().requests().Size(), sent);  // nothing sent the second time
    }
    // A refused password is tried again once the file holds another one.
    fake().reset();
    m_tokens.saved.clear();
    m_password = "wrong";
    auto p = make({}, true);
    auto bad = run(p->list(window));
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, "garmin_connect.bad_password");
    ASSERT_FALSE(run(p->list(window)));
    EXPECT_EQ(counter("logins"), 1);
    test::write_text(m_dir / "password", "correct horse\n");
    auto good = run(p->list(window));
    ASSERT_TRUE(good) << good.error().message;
    EXPECT_EQ(counter("logins"), 2);
}

}  // namespace
}  // namespace fitbridge::providers::garmin_connect
