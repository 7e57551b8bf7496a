// End to end: a Zwift-style folder with 300 corpus-derived rides over two
// years, delivered by the real daemon to the Intervals.icu fake server over
// loopback HTTP: exactly once, through a 429 storm and an outage, across a
// restart, with renames at the name authority propagating.

#include <gtest/gtest.h>

#include <strings.h>

#include <optional>
#include <regex>
#include <utility>

#include "core/time.hpp"
#include "support/daemon.hpp"
#include "support/fake_server.hpp"
#include "support/synth.hpp"

namespace fitbridge::test {
namespace {

namespace fs = std::filesystem;

// The corpus GPX with every timestamp moved by `shift` seconds.
std::string shifted_gpx(const std::string& text, double shift) {
    static const std::regex k_time("<time>([^<]+)</time>");
    std::string out;
    auto begin = std::sregex_iterator(text.begin(), text.end(), k_time);
    size_t last = 0;
    for (auto it = begin; it != std::sregex_iterator(); ++it) {
        out += text.substr(last, static_cast<size_t>(it->position()) - last);
        auto t = parse_iso8601((*it)[1].str());
        out += "<time>" + format_iso8601(t.value_or(0) + shift) + "</time>";
        last = static_cast<size_t>(it->position() + it->length());
    }
    return out + text.substr(last);
}

TEST(IntervalsE2E, ZwiftFolderBackfillsIntoIntervalsExactlyOnce) {
    TempDir dir("icu-e2e");
    FakeServer fake("intervals");
    write_text(dir / "icu.key", "test-api-key\n");

    std::ifstream in(fs::path(FITBRIDGE_SOURCE_DIR) / "tests/data/gpx/fittrackee-e2e.gpx");
    std::string corpus((std::istreambuf_iterator<char>(in)), {});
    constexpr int k_rides = 300;
    for (int i = 0; i < k_rides; ++i) {
        // One ride every ~2.4 days from 2018-03-13: two years.
        char name[32];
        std::snprintf(name, sizeof name, "ride-%03d.gpx", i);
        write_text(dir / "staging" / name, shifted_gpx(corpus, i * 207360.0));
    }
    fs::create_directories(dir / "zwift");
    for (const auto& e : fs::directory_iterator(dir / "staging"))
        fs::rename(e.path(), dir / "zwift" / e.path().filename());

    // A storm of 429s and then a 30-second outage while the backfill runs.
    ASSERT_EQ(fake.control("POST", "/_fake/faults",
                           R"({"method": "POST", "path": "/api/v1/athlete/", "count": 25, "status": 429,
                               "headers": [["Retry-After", "1"]], "body": "{\"status\":429,\"error\":\"Too Many Requests\"}"})")
                  .status,
              200);

    Daemon d(dir, R"(api:
  listen: 127.0.0.1:{PORT}
sync:
  name_authority: zwift
accounts:
  - id: zwift
    provider: folder
    path: {DIR}/zwift
    settle_time: "0"
    poll_interval: 10s
  - id: icu
    provider: intervals_icu
    base_url: )" + fake.base() +
                      R"(
    api_key_file: {DIR}/icu.key
routes:
  - id: zwift-to-icu
    from: [zwift]
    to: [icu]
    since: 2018-01-01
)");
    ASSERT_TRUE(d.start()) << d.log();
    // The outage starts as soon as the storm is spent, with most rides still to go.
    const std::string k_uploads = "/api/v1/athlete/[^/]+/activities";
    ASSERT_TRUE(Daemon::eventually([&] { return fake.count("POST", k_uploads, 429) == 25; }, std::chrono::seconds(60)))
        << d.log();
    ASSERT_EQ(fake.control("POST", "/_fake/outage", R"({"seconds": 30, "mode": "503"})").status, 200);
    // Watched at the fake, which costs the daemon nothing (a dry-run plan over
    // 300 activities every 100 ms would compete with the deliveries it waits for).
    auto uploaded = [&] {
        return fake.get_json("/_fake/activities").Size() == static_cast<rapidjson::SizeType>(k_rides);
    };
    ASSERT_TRUE(Daemon::eventually(uploaded, std::chrono::seconds(240)))
        << fake.get_json("/_fake/activities").Size() << " on the fake\n"
        << d.log_excerpt(3000);
    auto delivered = [&] {
        auto p = d.call("POST", "/v1/plan", "{}").json();
        return p.IsObject() && p["totals"]["already_delivered"].GetInt() == k_rides;
    };
    ASSERT_TRUE(Daemon::eventually(delivered, std::chrono::seconds(30)))
        << d.call("POST", "/v1/plan", "{}").body.substr(0, 300);

    auto on_icu = fake.get_json("/_fake/activities");
    ASSERT_EQ(on_icu.Size(), static_cast<rapidjson::SizeType>(k_rides));
    // The outage was felt, and every upload the platform accepted created an
    // activity: none was sent twice (a 200 is Intervals.icu's duplicate answer).
    EXPECT_GT(fake.count("POST", k_uploads, 503), 0);
    EXPECT_EQ(fake.count("POST", k_uploads, 201), k_rides);
    EXPECT_EQ(fake.count("POST", k_uploads, 200), 0);
    EXPECT_EQ(d.call("GET", "/v1/activities?state=duplicate").json()["activities"].Size(), 0u);

    // A second run and a restart deliver nothing.
    ASSERT_TRUE(d.call("POST", "/v1/accounts/zwift/sync").status == 202);
    std::this_thread::sleep_for(std::chrono::seconds(2));
    ASSERT_EQ(d.stop(), 0);
    ASSERT_TRUE(d.start()) << d.log();
    std::this_thread::sleep_for(std::chrono::seconds(3));
    EXPECT_EQ(fake.get_json("/_fake/activities").Size(), static_cast<rapidjson::SizeType>(k_rides));

    // Renaming a ride at the name authority (the folder) renames it on Intervals.icu.
    fs::rename(dir / "zwift" / "ride-007.gpx", dir / "zwift" / "Alpe du Zwift.gpx");
    ASSERT_TRUE(Daemon::eventually([&] {
        auto all = fake.get_json("/_fake/activities");  // outlives the loop
        for (const auto& a : all.GetArray())
            if (a["name"].IsString() && std::string(a["name"].GetString()) == "Alpe du Zwift") return true;
        return false;
    })) << d.log();
    EXPECT_EQ(fake.count("PUT", "/api/v1/activity/[^/]+"), 1);
    EXPECT_EQ(d.stop(), 0);
}

// A header of one request in the fake's log.
std::string header_in(const rapidjson::Value& request, const std::string& name) {
    for (const auto& h : request["headers"].GetArray())
        if (strcasecmp(h[0].GetString(), name.c_str()) == 0) return h[1].GetString();
    return {};
}

// A browser in a few lines: GET a URL on 127.0.0.1 and return the status and
// the Location header, if any.
std::pair<int, std::string> browse(const std::string& url) {
    static const std::regex k_url(R"(http://127\.0\.0\.1:(\d+)(/.*))");
    std::smatch m;
    if (!std::regex_match(url, m, k_url)) return {0, ""};
    RawConn c(std::stoi(m[1].str()));
    c.send("GET " + m[2].str() + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    auto r = c.read_response();
    const std::string text = r.value_or("");
    std::string location;
    if (auto p = text.find("\r\nLocation: "); p != std::string::npos) {
        p += 12;
        location = text.substr(p, text.find("\r\n", p) - p);
    }
    return {status_of(r), location};
}

const rapidjson::Value* account_in(const rapidjson::Document& accounts, const std::string& id) {
    for (const auto& a : accounts["accounts"].GetArray())
        if (id == a["id"].GetString()) return &a;
    return nullptr;
}

TEST(IntervalsE2E, AuthCommandRunsTheOAuthFlowAndTheDaemonUsesTheToken) {
    TempDir dir("icu-auth");
    FakeServer fake("intervals");
    write_text(dir / "client-secret", "test-client-secret\n");
    fs::create_directories(dir / "inbox");
    Daemon d(dir, R"(api:
  listen: 127.0.0.1:{PORT}
accounts:
  - id: inbox
    provider: folder
    path: {DIR}/inbox
    settle_time: "0"
  - id: icu
    provider: intervals_icu
    base_url: )" + fake.base() +
                      R"(
    client_id: fitbridge-test
    client_secret_file: {DIR}/client-secret
routes:
  - id: inbox-to-icu
    from: [inbox]
    to: [icu]
)");
    ASSERT_TRUE(d.start()) << d.log();

    // Before authorisation the ride waits, and the account says why.
    fs::copy_file(fs::path(FITBRIDGE_SOURCE_DIR) / "tests/data/gpx/fittrackee-e2e.gpx", dir / "inbox" / "ride.gpx");
    auto icu_state = [&](const std::string& want) {
        auto acc = d.call("GET", "/v1/accounts").json();
        const auto* a = account_in(acc, "icu");
        return a != nullptr && want == (*a)["state"].GetString();
    };
    ASSERT_TRUE(Daemon::eventually([&] { return icu_state("needs_reauth"); })) << d.log();
    {
        auto acc = d.call("GET", "/v1/accounts").json();
        const auto& c = (*account_in(acc, "icu"))["credentials"];
        EXPECT_STREQ(c["kind"].GetString(), "none");
        EXPECT_STREQ(c["origin"].GetString(), "stored");
        EXPECT_TRUE(c["needs_reauth"].GetBool());
    }
    EXPECT_EQ(fake.count("POST", "/api/v1/athlete/[^/]+/activities"), 0);

    // fitbridge auth prints the authorize URL and waits for the redirect.
    Process auth({FITBRIDGE_BINARY, "auth", "--timeout", "30", "icu"}, d.env(), dir / "auth.log");
    std::string url;
    ASSERT_TRUE(Daemon::eventually(
        [&] {
            static const std::regex k_line(R"(\n  (http://\S+/oauth/authorize\?\S+)\n)");
            std::smatch m;
            auto out = auth.output();
            if (!std::regex_search(out, m, k_line)) return false;
            url = m[1].str();
            return true;
        },
        std::chrono::seconds(10)))
        << auth.output();
    EXPECT_NE(url.find("client_id=fitbridge-test"), std::string::npos) << url;
    EXPECT_NE(url.find("code_challenge_method=S256"), std::string::npos) << url;
    EXPECT_NE(url.find("scope=ACTIVITY%3AWRITE"), std::string::npos) << url;

    // The user approves: the platform redirects the browser to the loopback listener.
    auto [status, location] = browse(url);
    ASSERT_EQ(status, 302);
    ASSERT_TRUE(location.starts_with("http://127.0.0.1:")) << location;
    EXPECT_NE(location.find("/callback?"), std::string::npos) << location;
    EXPECT_EQ(browse(location).first, 200);
    ASSERT_EQ(auth.wait(std::chrono::seconds(20)), 0) << auth.output();
    EXPECT_NE(auth.output().find("Account icu is authorised (scope ACTIVITY:WRITE)"), std::string::npos)
        << auth.output();

    // The code went to the token endpoint with the app's secret and the PKCE verifier.
    auto log = fake.requests_with_bodies();
    std::string exchange;
    for (const auto& r : log.GetArray())
        if (std::string(r["path"].GetString()) == "/api/oauth/token") exchange = r["body"].GetString();
    EXPECT_NE(exchange.find("client_secret=test-client-secret"), std::string::npos) << exchange;
    EXPECT_NE(exchange.find("code_verifier="), std::string::npos) << exchange;

    // The waiting ride goes out with the new bearer token, and the account is healthy.
    ASSERT_TRUE(Daemon::eventually([&] { return fake.count("POST", "/api/v1/athlete/[^/]+/activities", 201) == 1; }))
        << d.log();
    log = fake.requests_with_bodies();
    EXPECT_EQ(header_in(log[log.Size() - 1], "Authorization"), "Bearer oauth-token-1");
    ASSERT_TRUE(Daemon::eventually([&] { return icu_state("ok"); })) << d.log();
    auto body = d.call("GET", "/v1/accounts").body;
    EXPECT_EQ(body.find("oauth-token-1"), std::string::npos) << "the token must never be shown";
    auto acc = d.call("GET", "/v1/accounts").json();
    const auto& c = (*account_in(acc, "icu"))["credentials"];
    EXPECT_STREQ(c["kind"].GetString(), "oauth2");
    EXPECT_STREQ(c["scope"].GetString(), "ACTIVITY:WRITE");
    EXPECT_TRUE(c["expires_at"].IsNull());
    EXPECT_FALSE(c["refreshable"].GetBool());
    EXPECT_FALSE(c["needs_reauth"].GetBool());

    // The tokens live in the state store: a restart keeps using them.
    ASSERT_EQ(d.stop(), 0);
    ASSERT_TRUE(d.start()) << d.log();
    ASSERT_EQ(d.call("POST", "/v1/accounts/inbox/sync").status, 202);
    std::this_thread::sleep_for(std::chrono::seconds(1));
    EXPECT_TRUE(icu_state("ok"));
    EXPECT_EQ(d.stop(), 0);
}

TEST(IntervalsE2E, CredentialsEndpointTakesWhatFitsAndPausesPollingUntilFixed) {
    TempDir dir("icu-creds");
    FakeServer fake("intervals");
    write_text(dir / "icu.key", "test-api-key\n");
    fs::create_directories(dir / "inbox");
    Daemon d(dir, R"(api:
  listen: 127.0.0.1:{PORT}
accounts:
  - id: inbox
    provider: folder
    path: {DIR}/inbox
    settle_time: "0"
  - id: icu
    provider: intervals_icu
    base_url: )" + fake.base() +
                      R"(
    credentials: stored
    poll_interval: 10s
  - id: keyed
    provider: intervals_icu
    base_url: )" + fake.base() +
                      R"(
    api_key_file: {DIR}/icu.key
  - id: archive
    provider: archive
    root: {DIR}/archive
routes:
  - id: icu-to-archive
    from: [icu]
    to: [archive]
)");
    ASSERT_TRUE(d.start()) << d.log();
    auto post = [&](const std::string& account, const std::string& body) {
        return d.call("POST", "/v1/accounts/" + account + "/credentials", body);
    };
    auto error_of = [](const ApiAnswer& a) {
        auto j = a.json();
        return std::to_string(a.status) + " " + j["error"]["code"].GetString() + ": " +
               j["error"]["message"].GetString();
    };
    EXPECT_EQ(error_of(post("icu", "{not json")).substr(0, 13), "400 bad_json:");
    EXPECT_EQ(error_of(post("icu", R"([1])")), "400 bad_request: expected a JSON object");
    EXPECT_EQ(error_of(post("icu", R"({"kind": "password"})")),
              "400 bad_request: kind: required, one of api_key, token, oauth2, mfa_code");
    EXPECT_EQ(error_of(post("icu", R"({"kind": "api_key"})")), "400 bad_request: api_key: required with kind api_key");
    EXPECT_EQ(error_of(post("icu", R"({"kind": "api_key", "api_key": 7})")),
              "400 bad_request: api_key: expected a string");
    EXPECT_EQ(error_of(post("icu", R"({"kind": "token", "access_token": "t", "secret": "x"})")),
              "400 bad_request: unknown field 'secret' (kind, api_key, access_token, refresh_token, expires_at, "
              "expires_in, scope, code)");
    EXPECT_EQ(error_of(post("icu", R"({"kind": "token", "access_token": "t", "expires_at": "soon"})")),
              "400 bad_request: expires_at: expected a time like 2026-12-01T12:00:00Z");
    EXPECT_EQ(error_of(post("nope", R"({"kind": "api_key", "api_key": "k"})")),
              "404 unknown_account: no account 'nope'");
    EXPECT_EQ(error_of(post("inbox", R"({"kind": "api_key", "api_key": "k"})")),
              "409 no_credentials: account 'inbox' (folder) takes no credentials");
    EXPECT_EQ(error_of(post("keyed", R"({"kind": "api_key", "api_key": "k"})")),
              "409 credentials_in_file: account keyed reads its API key from api_key_file: write it there, or "
              "replace that option with `credentials: stored` to keep credentials in the state store");

    // A wrong key: the listing is refused, the account needs re-authorisation,
    // and periodic polls stop asking.
    auto ok = post("icu", R"({"kind": "api_key", "api_key": "wrong"})");
    ASSERT_EQ(ok.status, 200) << ok.body;
    EXPECT_STREQ(ok.json()["credentials"]["kind"].GetString(), "api_key");
    const std::string k_list = "/api/v1/athlete/[^/]+/activities";
    auto icu = [&] {
        auto acc = d.call("GET", "/v1/accounts").json();
        rapidjson::Document copy;
        copy.CopyFrom(*account_in(acc, "icu"), copy.GetAllocator());
        return copy;
    };
    ASSERT_TRUE(Daemon::eventually([&] { return std::string(icu()["state"].GetString()) == "needs_reauth"; }))
        << d.log();
    EXPECT_NE(std::string(icu()["last_error"].GetString()).find("401"), std::string::npos);
    const int refused = fake.count("GET", k_list);
    EXPECT_GE(refused, 1);
    std::this_thread::sleep_for(std::chrono::seconds(12));  // past one poll interval (10 s ± 10%)
    EXPECT_EQ(fake.count("GET", k_list), refused);

    // The right key: polling resumes at once and the account is healthy.
    fake.control("POST", "/_fake/activities", R"({"start_date": "2025-01-10T08:00:00Z", "type": "Ride"})");
    ASSERT_EQ(post("icu", R"({"kind": "api_key", "api_key": "test-api-key"})").status, 200);
    ASSERT_TRUE(Daemon::eventually([&] { return std::string(icu()["state"].GetString()) == "ok"; })) << d.log();
    // The restarted account polls at once, well inside the 10 s interval
    // (the state turns ok before that first poll is answered).
    EXPECT_TRUE(Daemon::eventually([&] { return fake.count("GET", k_list, 200) > 0; }, std::chrono::seconds(5)))
        << d.log();
    EXPECT_EQ(d.call("GET", "/v1/accounts").body.find("test-api-key"), std::string::npos);

    // fitbridge auth explains what it cannot do, with the config exit code.
    auto [folder_code, folder_out] = d.cli({"auth", "inbox"}, "auth1.log");
    EXPECT_EQ(folder_code, 78);
    EXPECT_NE(folder_out.find("account 'inbox' (folder) has no OAuth flow"), std::string::npos) << folder_out;
    auto [personal_code, personal_out] = d.cli({"auth", "icu"}, "auth2.log");
    EXPECT_EQ(personal_code, 78);
    EXPECT_NE(personal_out.find("account icu has no client_id"), std::string::npos) << personal_out;
    EXPECT_EQ(d.stop(), 0);
}

}  // namespace
}  // namespace fitbridge::test
