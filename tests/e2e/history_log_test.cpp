// End to end, with the Intervals.icu fake: a new route archives the source's
// history without `fitbridge backfill`; and the log a person reads under
// systemd: one line per ingest, delivery, skip, failure and job, journald
// priorities, and no secret in any line.

#include <gtest/gtest.h>

#include <regex>

#include "core/time.hpp"
#include "support/daemon.hpp"
#include "support/fake_server.hpp"
#include "support/synth.hpp"

namespace fitbridge::test {
namespace {

namespace fs = std::filesystem;

std::string base64(const std::string& in) {
    static constexpr char k_abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    for (size_t i = 0; i < in.size(); i += 3) {
        uint32_t v = static_cast<uint8_t>(in[i]) << 16;
        if (i + 1 < in.size()) v |= static_cast<uint8_t>(in[i + 1]) << 8;
        if (i + 2 < in.size()) v |= static_cast<uint8_t>(in[i + 2]);
        out += k_abc[(v >> 18) & 63];
        out += k_abc[(v >> 12) & 63];
        out += i + 1 < in.size() ? k_abc[(v >> 6) & 63] : '=';
        out += i + 2 < in.size() ? k_abc[v & 63] : '=';
    }
    return out;
}

// One ride on the fake, with its file.
std::string seed_ride(const FakeServer& fake, double start, const std::string& name) {
    const auto body = R"({"start_date": ")" + format_iso8601(start) + R"(", "type": "Ride", "name": ")" + name +
                      R"(", "file_b64": ")" + base64(synth_gpx(start, 60, 45.0, 7.0, name)) + R"("})";
    auto r = fake.control("POST", "/_fake/activities", body);
    return std::to_string(r.status) + " " + r.body;
}

size_t files_under(const fs::path& dir) {
    size_t n = 0;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec); it != fs::recursive_directory_iterator(); ++it)
        if (it->is_regular_file() && it->path().filename().string()[0] != '.') ++n;
    return n;
}

std::vector<std::string> backfill_jobs(const Daemon& d) {
    std::vector<std::string> out;
    auto jobs = d.call("GET", "/v1/jobs").json();
    if (!jobs.IsObject() || !jobs.HasMember("jobs")) return out;
    for (const auto& j : jobs["jobs"].GetArray()) {
        if (std::string(j["kind"].GetString()) != "backfill") continue;
        out.push_back(std::string(j["route"].IsString() ? j["route"].GetString() : "-") + " " +
                      (j["account"].IsString() ? j["account"].GetString() : "-") + " " + j["state"].GetString());
    }
    return out;
}

TEST(HistoryE2E, ANewRouteArchivesTheSourcesHistoryWithoutABackfillCommand) {
    TempDir dir("history-e2e");
    FakeServer fake("intervals");
    write_text(dir / "icu.key", "test-api-key\n");
    // Years back: far outside the trailing window a poll lists.
    for (int year : {2004, 2011, 2019})
        ASSERT_EQ(
            seed_ride(fake, *parse_iso8601(std::to_string(year) + "-06-01T07:00:00Z"), "Ride " + std::to_string(year))
                .substr(0, 3),
            "200");

    Daemon d(dir, R"(api:
  listen: 127.0.0.1:{PORT}
accounts:
  - id: icu
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
    since: 2000-01-01
)");
    ASSERT_TRUE(d.start()) << d.log();
    ASSERT_TRUE(Daemon::eventually([&] { return files_under(dir / "archive") == 3; }, std::chrono::seconds(60)))
        << d.log();
    ASSERT_TRUE(Daemon::eventually([&] {
        auto jobs = backfill_jobs(d);
        return jobs.size() == 1 && jobs[0] == "icu-to-archive icu done";
    })) << d.call("GET", "/v1/jobs").body;
    EXPECT_NE(d.log().find("backfill icu-to-archive from icu: job 1 for 2000-01-01T00:00:00Z .. "), std::string::npos)
        << d.log();
    EXPECT_NE(d.log().find("backfill job 1: listed 3, new 3, skipped 0, failed 0 in "), std::string::npos) << d.log();

    // A restart starts no second job for the same window.
    EXPECT_EQ(d.stop(), 0);
    ASSERT_TRUE(d.start()) << d.log();
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    EXPECT_EQ(backfill_jobs(d), std::vector<std::string>{"icu-to-archive icu done"});
    EXPECT_EQ(files_under(dir / "archive"), 3u);
    EXPECT_EQ(d.stop(), 0);
}

TEST(LogE2E, OneLinePerIngestDeliveryFailureAndJobWithPrioritiesAndNoSecret) {
    TempDir dir("log-e2e");
    FakeServer fake("intervals");
    const std::string k_key = "key-5e3f9a0c71d2";
    const std::string k_token = "oauth-8b1d44e07a9c";
    const std::string k_refresh = "refresh-c0ffee1234ab";
    ASSERT_EQ(fake.control("POST", "/_fake/config", R"({"api_key": ")" + k_key + R"(", "token": ")" + k_token + R"("})")
                  .status,
              200);
    write_text(dir / "icu.key", k_key + "\n");
    const double ride_at = *parse_iso8601("2024-10-14T05:04:00Z");
    ASSERT_EQ(seed_ride(fake, *parse_iso8601("2024-10-10T06:30:00Z"), "Tempo").substr(0, 3), "200");
    fs::create_directories(dir / "inbox");

    Daemon d(dir, R"(api:
  listen: 127.0.0.1:{PORT}
accounts:
  - id: inbox
    provider: folder
    path: {DIR}/inbox
    settle_time: "0"
    poll_interval: 1h
  - id: icu
    provider: intervals_icu
    base_url: )" + fake.base() +
                      R"(
    api_key_file: {DIR}/icu.key
    poll_interval: 1h
  - id: up
    provider: intervals_icu
    base_url: )" + fake.base() +
                      R"(
    credentials: stored
  - id: archive
    provider: archive
    root: {DIR}/archive
routes:
  - id: rides
    from: [inbox, icu]
    to: [archive]
    since: 2024-10-01
  - id: upload
    from: [inbox]
    to: [up]
    since: 2024-10-12
)");
    d.extra_env["JOURNAL_STREAM"] = "8:4242";
    // A ride, an old ride the upload route does not want, and a broken file.
    write_text(dir / "inbox" / "morning.gpx", synth_gpx(ride_at, 60, 45.0, 7.0, "Morning Ride"));
    write_text(dir / "inbox" / "old.gpx", synth_gpx(*parse_iso8601("2024-10-05T17:00:00Z"), 60, 46.0, 8.0, "Old"));
    fs::copy_file(fs::path(FITBRIDGE_SOURCE_DIR) / "tests/data/bad/bitflip-fenix2-run.fit",
                  dir / "inbox" / "broken.fit");
    ASSERT_TRUE(d.start()) << d.log();
    auto creds = d.call("POST", "/v1/accounts/up/credentials",
                        R"({"kind": "oauth2", "access_token": ")" + k_token + R"(", "refresh_token": ")" + k_refresh +
                            R"(", "expires_in": 86400})");
    ASSERT_EQ(creds.status, 200) << creds.body;
    ASSERT_TRUE(Daemon::eventually([&] { return files_under(dir / "archive") == 3; }, std::chrono::seconds(60)))
        << d.log();
    ASSERT_TRUE(Daemon::eventually([&] {
        return std::regex_search(d.log(), std::regex(R"(deliver activity \d -> up: new)"));
    })) << d.log();
    // A sync asked for by a person: everything listed is known already.
    auto sync = d.call("POST", "/v1/accounts/inbox/sync");
    ASSERT_EQ(sync.status / 100, 2) << sync.body;
    ASSERT_TRUE(Daemon::eventually([&] { return d.log().find("sync job ") != std::string::npos; })) << d.log();
    EXPECT_EQ(d.stop(), 0);
    const auto log = d.log();

    // Each line carries a journald priority and no timestamp of its own.
    std::istringstream lines(log);
    const std::regex k_line(R"(<[3467]>[^<\d].*)");
    for (std::string line; std::getline(lines, line);) EXPECT_TRUE(std::regex_match(line, k_line)) << line;
    // No secret, token or credentials header in any line.
    for (const auto& secret : {k_key, k_token, k_refresh, d.token()}) {
        ASSERT_FALSE(secret.empty());
        EXPECT_EQ(log.find(secret), std::string::npos) << secret << " in\n" << log;
    }
    EXPECT_FALSE(std::regex_search(log, std::regex(R"(Authorization"?\s*[:=]\s*\S)", std::regex::icase))) << log;
    EXPECT_FALSE(std::regex_search(log, std::regex(R"((Bearer|Basic) [A-Za-z0-9+/=_-]{4})"))) << log;

    auto has = [&](const std::string& pattern) { return std::regex_search(log, std::regex(pattern)); };
    // Activity ids depend on which source came first; every other field is exact.
    EXPECT_TRUE(has(R"(\n<6>ingest icu: 2024-10-10T06:30Z ride 0\.8 km "Tempo" -> activity \d \(new\)\n)")) << log;
    EXPECT_TRUE(has(R"(\n<6>ingest inbox: 2024-10-14T05:04Z ride 0\.8 km "morning" -> activity \d \(new\)\n)")) << log;
    EXPECT_TRUE(has(R"(\n<4>fail inbox item 865bbeff81b706ce311de510a121a872eeb1ed1ab6d077c5fb5ca861589af9e8: )"
                    R"(decode_failed: FIT CRC mismatch at offset 121837 \(stored 0xCF14, computed 0x92EC\)\n)"))
        << log;
    EXPECT_TRUE(has(R"(\n<6>deliver activity \d -> archive: new 2024/2024-10-14T0504_ride_morning\.gpx\n)")) << log;
    EXPECT_TRUE(has(R"(\n<6>deliver activity \d -> archive: new 2024/2024-10-10T0630_ride_tempo\.gpx\n)")) << log;
    EXPECT_TRUE(has(R"(\n<6>deliver activity \d -> up: new i\d+\n)")) << log;
    EXPECT_TRUE(has(R"(\n<6>deliver activity \d -> up: skipped before_route_since\n)")) << log;
    // The first polls (a file may still be settling at the first).
    EXPECT_TRUE(has(R"(\n<6>sync inbox: listed [1-3], new [0-2], skipped 0, failed [01] in \d+\.\d s\n)")) << log;
    EXPECT_TRUE(has(R"(\n<6>sync job 2 inbox: listed 3, new 0, skipped 0, failed 0 in \d+\.\d s\n)")) << log;
    EXPECT_TRUE(has(R"(\n<6>backfill rides from icu: job 1 for 2024-10-01T00:00:00Z \.\. )")) << log;
    EXPECT_TRUE(has(R"(\n<6>backfill rides from inbox: not needed, every poll lists the whole folder\n)")) << log;
    EXPECT_TRUE(has(R"(\n<6>backfill job 1: listed 1, new 1, skipped 0, failed 0 in \d+\.\d s\n)")) << log;
}

}  // namespace
}  // namespace fitbridge::test
