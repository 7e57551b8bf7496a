// End to end with the Strava fake: the real daemon backfills 200 Strava
// activities into an archive as files rebuilt from their streams, and
// delivers a 300-ride Zwift folder to Strava through a daily quota that runs
// out half way, pausing until the window ends and then finishing exactly once.

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <regex>

#include "core/time.hpp"
#include "formats/decode.hpp"
#include "support/daemon.hpp"
#include "support/fake_server.hpp"
#include "support/process.hpp"
#include "support/raw_http.hpp"

namespace fitbridge::test {
namespace {

namespace fs = std::filesystem;

double now_s() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }

// The corpus GPX with every timestamp moved by `shift` seconds.
std::string shifted_gpx(const std::string& text, double shift) {
    static const std::regex k_time("<time>([^<]+)</time>");
    std::string out;
    size_t last = 0;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), k_time); it != std::sregex_iterator(); ++it) {
        out += text.substr(last, static_cast<size_t>(it->position()) - last);
        out += "<time>" + format_iso8601(parse_iso8601((*it)[1].str()).value_or(0) + shift) + "</time>";
        last = static_cast<size_t>(it->position() + it->length());
    }
    return out + text.substr(last);
}

const rapidjson::Value* account_in(const rapidjson::Document& accounts, const std::string& id) {
    for (const auto& a : accounts["accounts"].GetArray())
        if (id == a["id"].GetString()) return &a;
    return nullptr;
}

// Hands the fake's ready grant to the daemon, as `fitbridge auth` would.
void give_tokens(Daemon& d) {
    const auto r = d.call("POST", "/v1/accounts/strava/credentials",
                          fmt::format(R"({{"kind": "oauth2", "access_token": "test-oauth-token",
                                           "refresh_token": "test-refresh-token", "expires_at": {}}})",
                                      static_cast<int64_t>(now_s()) + 5 * 3600));
    ASSERT_EQ(r.status, 200) << r.body;
}

TEST(StravaE2E, TwoHundredActivitiesAreRebuiltFromStreamsIntoTheArchive) {
    TempDir dir("strava-archive");
    FakeServer fake("strava");
    write_text(dir / "strava-secret", "test-client-secret\n");
    // Enough reads for 200 streams and laps in one window (the default 100 per 15
    // minutes would stretch this over an hour; the README has that figure).
    ASSERT_EQ(fake.control("POST", "/_fake/config", R"({"limits": {"overall": [2000, 20000], "read": [1000, 10000]}})")
                  .status,
              200);
    constexpr int k_count = 200;
    std::string specs = "[";
    for (int i = 0; i < k_count; ++i) {
        const bool ride = i % 3 != 0;
        // Every fourth activity has three laps: 600 s, 600 s and the rest.
        const int elapsed = 1800 + (i % 7) * 600;
        const std::string laps = i % 4 == 0 ? fmt::format(R"(, "laps": [600, 600, {}])", elapsed - 1200) : "";
        specs += fmt::format(R"({}{{"start": {}, "sport_type": "{}", "name": "Activity {}", "elapsed_time": {},
                                 "distance": {}{}}})",
                             i ? "," : "", 1704110400 + i * 86400, ride ? "Ride" : "Run", i, elapsed,
                             ride ? 20000.0 + i * 37.5 : 6000.0 + i * 11.25, laps);
    }
    specs += fmt::format(R"(, {{"start": {}, "sport_type": "WeightTraining", "name": "Gym", "manual": true}}])",
                         1704110400 + 43200);
    ASSERT_EQ(fake.control("POST", "/_fake/activities", specs).status, 200);

    Daemon d(dir, R"(api:
  listen: 127.0.0.1:{PORT}
accounts:
  - id: strava
    provider: strava
    base_url: )" + fake.base() +
                      R"(
    client_id: "12345"
    client_secret_file: {DIR}/strava-secret
  - id: archive
    provider: archive
    root: {DIR}/archive
routes:
  - id: strava-to-archive
    from: [strava]
    to: [archive]
    since: 2024-01-01
)");
    ASSERT_TRUE(d.start()) << d.log();
    // The route's own history job starts before the tokens come and fails on
    // them; storing the tokens runs it again, as after `fitbridge auth`.
    give_tokens(d);

    auto archived = [&] {
        std::vector<fs::path> files;
        std::error_code ec;
        for (auto it = fs::recursive_directory_iterator(dir / "archive", ec); it != fs::recursive_directory_iterator();
             ++it)
            if (it->is_regular_file() && it->path().extension() == ".tcx") files.push_back(it->path());
        return files;
    };
    ASSERT_TRUE(Daemon::eventually([&] { return archived().size() == static_cast<size_t>(k_count); },
                                   std::chrono::seconds(240)))
        << archived().size() << " archived\n"
        << d.log_excerpt(3000);

    // Each file decodes with FitBridge's own decoder to the listing's start,
    // distance and elapsed time (within 1 %).
    std::map<int64_t, std::pair<double, double>> listed;  // start -> distance, elapsed
    auto acts = fake.get_json("/_fake/activities");
    for (const auto& a : acts.GetArray())
        listed[static_cast<int64_t>(*parse_iso8601(a["start_date"].GetString()))] = {a["distance"].GetDouble(),
                                                                                     a["elapsed_time"].GetDouble()};
    for (const auto& f : archived()) {
        std::ifstream in(f, std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(in)), {});
        auto s = formats::decode({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
        ASSERT_TRUE(s.ok && s.start_time) << f << ": " << s.error;
        auto it = listed.find(static_cast<int64_t>(*s.start_time));
        ASSERT_NE(it, listed.end()) << f;
        EXPECT_NEAR(s.total_distance.value_or(0), it->second.first, it->second.first * 0.01) << f;
        EXPECT_NEAR(s.total_elapsed_time.value_or(0), it->second.second, it->second.second * 0.01) << f;
        EXPECT_GT(s.records_with_position, 0) << f;
        EXPECT_EQ(s.laps, (static_cast<int64_t>(*s.start_time) - 1704110400) / 86400 % 4 == 0 ? 3 : 1) << f;
    }
    // The manual activity is kept from its listing, and unavailable for the
    // archive with the reason.
    auto skipped = d.call("GET", "/v1/activities?state=skipped").json();
    ASSERT_TRUE(skipped.IsObject() && skipped["activities"].Size() == 1u)
        << d.call("GET", "/v1/activities?state=skipped").body;
    const auto manual = d.call("GET", "/v1/activities/" + std::to_string(skipped["activities"][0]["id"].GetInt64()));
    EXPECT_EQ(manual.json()["name"].GetString(), std::string("Gym"));
    EXPECT_NE(manual.body.find("a manual activity: Strava has no recorded samples to build a file from"),
              std::string::npos)
        << manual.body;
    auto accounts = d.call("GET", "/v1/accounts").json();
    const auto* strava = account_in(accounts, "strava");
    ASSERT_NE(strava, nullptr);
    // The budget as the headers said it, per window.
    ASSERT_TRUE(strava->HasMember("budget")) << d.call("GET", "/v1/accounts").body.substr(0, 2000);
    EXPECT_EQ((*strava)["budget"]["read_15min"]["limit"].GetInt(), 1000);
    EXPECT_EQ((*strava)["budget"]["daily"]["limit"].GetInt(), 20000);
    EXPECT_GE((*strava)["budget"]["read_daily"]["used"].GetInt(), k_count);
    // One each: none failed and was fetched again.
    EXPECT_EQ(fake.count("GET", "/api/v3/activities/[0-9]+/streams"), k_count);
    EXPECT_EQ(fake.count("GET", "/api/v3/activities/[0-9]+/laps"), k_count);
    EXPECT_EQ(fake.violations().Size(), 0u);
    EXPECT_EQ(d.stop(), 0);
}

TEST(StravaE2E, AZwiftFolderGoesToStravaThroughTheDailyWindowExactlyOnce) {
    TempDir dir("strava-e2e");
    FakeServer fake("strava");
    write_text(dir / "strava-secret", "test-client-secret\n");
    // Each ride costs two requests (the upload and one status poll): a daily
    // window of 400 runs out after 200 of the 300 rides.
    ASSERT_EQ(fake.control("POST", "/_fake/config",
                           R"({"limits": {"overall": [10000, 400], "read": [10000, 10000]},
                               "processing_polls": 0, "processing_s": 0})")
                  .status,
              200);
    std::ifstream in(fs::path(FITBRIDGE_SOURCE_DIR) / "tests/data/gpx/fittrackee-e2e.gpx");
    std::string corpus((std::istreambuf_iterator<char>(in)), {});
    constexpr int k_rides = 300;
    for (int i = 0; i < k_rides; ++i) {
        char name[32];
        std::snprintf(name, sizeof name, "ride-%03d.gpx", i);
        write_text(dir / "staging" / name, shifted_gpx(corpus, i * 207360.0));
    }
    fs::create_directories(dir / "zwift");
    for (const auto& e : fs::directory_iterator(dir / "staging"))
        fs::rename(e.path(), dir / "zwift" / e.path().filename());

    // Two uploads in flight (the default): the count of what is in flight
    // keeps the daemon from sending the 401st request.
    Daemon d(dir, R"(api:
  listen: 127.0.0.1:{PORT}
accounts:
  - id: zwift
    provider: folder
    path: {DIR}/zwift
    settle_time: "0"
    poll_interval: 10s
  - id: strava
    provider: strava
    base_url: )" + fake.base() +
                      R"(
    client_id: "12345"
    client_secret_file: {DIR}/strava-secret
routes:
  - id: zwift-to-strava
    from: [zwift]
    to: [strava]
    since: 2018-01-01
)");
    ASSERT_TRUE(d.start()) << d.log();
    give_tokens(d);
    auto on_strava = [&] { return static_cast<int>(fake.get_json("/_fake/activities").Size()); };
    auto day_used = [&] { return fake.get_json("/_fake/quota")["overall"][1].GetInt(); };
    // The window runs out: the daemon stops before it is spent, and pauses
    // the account until UTC midnight (kept in the state database).
    ASSERT_TRUE(Daemon::eventually([&] { return day_used() == 400; }, std::chrono::seconds(240)))
        << day_used() << " used\n"
        << d.log_excerpt(3000);
    std::this_thread::sleep_for(std::chrono::seconds(3));
    EXPECT_EQ(day_used(), 400);
    // 200 rides, or 201 when the last request of the day was an upload whose
    // status poll must wait for tomorrow (it is polled then, not sent again).
    EXPECT_GE(on_strava(), 200);
    EXPECT_LE(on_strava(), 201);
    EXPECT_EQ(fake.count("POST", "/api/v3/uploads", 429), 0);
    EXPECT_EQ(fake.count("GET", "/api/v3/uploads/[0-9]+", 429), 0);
    auto status = d.call("GET", "/v1/status").json();
    const double midnight = std::floor(now_s() / 86400) * 86400 + 86400;
    double blocked = 0;
    for (const auto& a : status["accounts"].GetArray())
        if (std::string(a["id"].GetString()) == "strava" && a["blocked_until"].IsNumber())
            blocked = a["blocked_until"].GetDouble();
    EXPECT_NEAR(blocked, midnight, 5.0) << d.call("GET", "/v1/status").body;
    auto accounts = d.call("GET", "/v1/accounts").json();
    const auto* strava = account_in(accounts, "strava");
    ASSERT_NE(strava, nullptr);
    EXPECT_EQ((*strava)["budget"]["daily"]["used"].GetInt(), 400);
    EXPECT_EQ((*strava)["budget"]["daily"]["limit"].GetInt(), 400);
    EXPECT_EQ((*strava)["budget"]["daily"]["resets_at"].GetString(), format_iso8601(midnight));

    // The pause outlives a restart: nothing is sent while it lasts.
    ASSERT_EQ(d.stop(), 0);
    ASSERT_TRUE(d.start()) << d.log();
    std::this_thread::sleep_for(std::chrono::seconds(5));
    EXPECT_EQ(day_used(), 400);

    // The night passes: the fake's windows and the daemon's wall clock
    // (FITBRIDGE_CLOCK_OFFSET) both move to the next day, and nothing else
    // is touched.
    ASSERT_EQ(d.stop(), 0);
    ASSERT_EQ(fake.control("POST", "/_fake/clock", R"({"advance_s": 86400})").status, 200);
    d.extra_env["FITBRIDGE_CLOCK_OFFSET"] = "86400";
    ASSERT_TRUE(d.start()) << d.log();
    ASSERT_TRUE(Daemon::eventually([&] { return on_strava() == k_rides; }, std::chrono::seconds(240)))
        << on_strava() << " on Strava\n"
        << d.log_excerpt(3000);
    auto delivered = [&] {
        auto p = d.call("POST", "/v1/plan", "{}").json();
        return p.IsObject() && p["totals"]["already_delivered"].GetInt() == k_rides;
    };
    ASSERT_TRUE(Daemon::eventually(delivered, std::chrono::seconds(30)))
        << d.call("POST", "/v1/plan", "{}").body.substr(0, 300);
    // Every ride went up once: 300 uploads, each its own activity, and the
    // second day spent only what the last 100 needed.
    EXPECT_EQ(fake.count("POST", "/api/v3/uploads", 201), k_rides);
    EXPECT_EQ(fake.count("POST", "/api/v3/uploads", 429), 0);
    EXPECT_EQ(day_used(), 2 * k_rides - 400);
    EXPECT_EQ(d.call("GET", "/v1/activities?state=duplicate").json()["activities"].Size(), 0u);
    EXPECT_EQ(fake.violations().Size(), 0u);
    EXPECT_EQ(d.stop(), 0);
}

// GETs a loopback URL as a browser would: the status and the Location header.
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

TEST(StravaE2E, AuthAsksForTheFourScopesAndSaysWhichOneWasNotGranted) {
    TempDir dir("strava-auth");
    FakeServer fake("strava");
    write_text(dir / "strava-secret", "test-client-secret\n");
    // The user unticks "View data about your private profile" (profile:read_all).
    ASSERT_EQ(
        fake.control("POST", "/_fake/config", R"({"grant_scope": "read,activity:read_all,activity:write"})").status,
        200);
    Daemon d(dir, R"(api:
  listen: 127.0.0.1:{PORT}
accounts:
  - id: strava
    provider: strava
    base_url: )" + fake.base() +
                      R"(
    client_id: "12345"
    client_secret_file: {DIR}/strava-secret
)");
    ASSERT_TRUE(d.start()) << d.log();
    Process auth({FITBRIDGE_BINARY, "auth", "--timeout", "30", "strava"}, d.env(), dir / "auth.log");
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
    EXPECT_NE(url.find("client_id=12345"), std::string::npos) << url;
    EXPECT_NE(url.find("scope=read%2Cactivity%3Aread_all%2Cactivity%3Awrite%2Cprofile%3Aread_all"), std::string::npos)
        << url;
    auto [status, location] = browse(url);
    ASSERT_EQ(status, 302);
    EXPECT_NE(location.find("scope=read%2Cactivity%3Aread_all%2Cactivity%3Awrite"), std::string::npos) << location;
    EXPECT_EQ(browse(location).first, 200);
    EXPECT_EQ(auth.wait(std::chrono::seconds(20)), 1) << auth.output();
    EXPECT_NE(auth.output().find("fitbridge auth: warning: scope profile:read_all (reading bikes and shoes for gear) "
                                 "was not granted; run `fitbridge auth strava` again and leave it ticked"),
              std::string::npos)
        << auth.output();
    // The tokens were stored anyway (uploads work without the profile), with
    // Strava's expiry and refresh token, exchanged at /oauth/token.
    EXPECT_EQ(fake.count("POST", "/oauth/token", 200), 1);
    auto acc = d.call("GET", "/v1/accounts").json();
    const auto& c = (*account_in(acc, "strava"))["credentials"];
    EXPECT_STREQ(c["kind"].GetString(), "oauth2");
    EXPECT_STREQ(c["scope"].GetString(), "read,activity:read_all,activity:write");
    EXPECT_TRUE(c["refreshable"].GetBool());
    EXPECT_FALSE(c["expires_at"].IsNull());
    EXPECT_EQ(d.stop(), 0);
}

}  // namespace
}  // namespace fitbridge::test
