// End to end through the real binary: folder source -> archive sink, the
// sync API, restarts, and kill -9 at random moments during an import.

#include <gtest/gtest.h>

#include <random>
#include <set>

#include "core/hash.hpp"
#include "support/daemon.hpp"
#include "support/synth.hpp"

namespace fitbridge::test {
namespace {

namespace fs = std::filesystem;

// The fixture slice of the shared corpus shipped in tests/data (same names).
const fs::path k_data = fs::path(FITBRIDGE_SOURCE_DIR) / "tests/data";

constexpr const char* k_config = R"(api:
  listen: 127.0.0.1:{PORT}
accounts:
  - id: inbox
    provider: folder
    path: {DIR}/inbox
    settle_time: "0"
    poll_interval: 10s
  - id: archive
    provider: archive
    root: {DIR}/archive
routes:
  - id: inbox-to-archive
    from: [inbox]
    to: [archive]
)";

std::vector<fs::path> archive_files(const fs::path& root) {
    std::vector<fs::path> out;
    if (!fs::exists(root)) return out;
    for (const auto& e : fs::recursive_directory_iterator(root))
        if (e.is_regular_file()) out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

std::string file_sha(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::string s((std::istreambuf_iterator<char>(in)), {});
    return sha256_hex(s);
}

// Copies into the inbox atomically (write elsewhere, rename in), as a
// finished recording would appear.
void drop(const TempDir& dir, const fs::path& from, const std::string& as) {
    fs::create_directories(dir / "staging");
    fs::create_directories(dir / "inbox");
    fs::copy_file(from, dir / "staging" / as, fs::copy_options::overwrite_existing);
    fs::rename(dir / "staging" / as, dir / "inbox" / as);
}

// Counts every activity, following the API's next_cursor across pages.
int64_t count_activities(const Daemon& d) {
    int64_t n = 0;
    std::string cursor;
    for (;;) {
        auto r = d.call("GET", "/v1/activities?limit=500" + (cursor.empty() ? "" : "&cursor=" + cursor));
        if (r.status != 200) return -1;
        auto page = r.json();
        n += static_cast<int64_t>(page["activities"].Size());
        if (!page["next_cursor"].IsString()) return n;
        cursor = page["next_cursor"].GetString();
    }
}

TEST(SyncE2E, FolderToArchiveDeduplicatesAndExplainsEverything) {
    TempDir dir("sync-folder");
    drop(dir, k_data / "fit/garmin-fenix2-run.fit", "run.fit");
    drop(dir, k_data / "fit/garmin-fenix2-run.fit", "z renamed copy.fit");
    drop(dir, k_data / "fit/garmin-fenix2-run.fit.gz", "run.fit.gz");
    drop(dir, k_data / "fit/garmin-fr15-10k-run.fit", "fr15.fit");
    drop(dir, k_data / "bad/bitflip-fenix2-run.fit", "broken.fit");
    drop(dir, k_data / "tcx/course-brighton-beach.tcx.gz", "course.tcx.gz");
    drop(dir, k_data / "fit/garmin-fr110-run-2013.fit", "inProgressActivity.fit");
    drop(dir, k_data / "fit/garmin-fr110-run-2013.fit", ".hidden.fit");
    Daemon d(dir, k_config);
    ASSERT_TRUE(d.start()) << d.log();
    ASSERT_TRUE(Daemon::eventually([&] { return archive_files(dir / "archive").size() == 2; })) << d.log();
    // The same 10k run exported as TCX later: matched by time, not delivered again.
    drop(dir, k_data / "tcx/garmin-fr15-10k-run.tcx.gz", "fr15-export.tcx.gz");
    ASSERT_TRUE(Daemon::eventually([&] {
        auto a = d.call("GET", "/v1/accounts").json();
        for (const auto& acc : a["accounts"].GetArray())
            if (std::string(acc["id"].GetString()) == "inbox")
                return acc["items"]["ingested"].GetInt() == 3 && acc["items"]["failed"].GetInt() == 1 &&
                       acc["items"]["skipped"].GetInt() == 1;
        return false;
    })) << d.call("GET", "/v1/accounts").body;

    // The archive holds the originals byte for byte, named by date and sport.
    auto files = archive_files(dir / "archive");
    EXPECT_EQ(files[0], dir / "archive/2014/2014-10-11T1808_run_fr15.fit");
    EXPECT_EQ(files[1], dir / "archive/2015/2015-08-15T1445_run_run.fit");
    EXPECT_EQ(file_sha(files[0]), file_sha(k_data / "fit/garmin-fr15-10k-run.fit"));
    EXPECT_EQ(file_sha(files[1]), file_sha(k_data / "fit/garmin-fenix2-run.fit"));

    // Two activities; the 10k run has two copies matched by time, and the
    // FIT (with more records) is the delivered one.
    auto list = d.call("GET", "/v1/activities").json();
    ASSERT_EQ(list["activities"].Size(), 2u);
    int64_t fr15 = 0;
    for (const auto& a : list["activities"].GetArray())
        if (std::string(a["name"].GetString()) == "fr15") fr15 = a["id"].GetInt64();
    ASSERT_GT(fr15, 0);
    auto detail = d.call("GET", "/v1/activities/" + std::to_string(fr15)).json();
    ASSERT_EQ(detail["links"].Size(), 3u);  // FIT, the archive copy, then the TCX
    EXPECT_STREQ(detail["links"][0]["matched_by"].GetString(), "origin");
    EXPECT_TRUE(detail["links"][0]["chosen"].GetBool());
    EXPECT_STREQ(detail["links"][1]["account"].GetString(), "archive");
    EXPECT_STREQ(detail["links"][2]["matched_by"].GetString(), "time");
    EXPECT_FALSE(detail["links"][2]["chosen"].GetBool());
    EXPECT_STREQ(detail["delivery_details"][0]["state"].GetString(), "delivered");
    EXPECT_STREQ(detail["delivery_details"][0]["remote_id"].GetString(), "2014/2014-10-11T1808_run_fr15.fit");

    // Every file that did not become an activity says why.
    auto accounts = d.call("GET", "/v1/accounts").json();
    std::map<std::string, std::string> why;
    for (const auto& acc : accounts["accounts"].GetArray()) {
        if (std::string(acc["id"].GetString()) != "inbox") continue;
        for (const auto& p : acc["problems"].GetArray())
            why[fs::path(p["origin"].GetString()).filename().string()] = p["reason"].GetString();
        for (const auto& p : acc["ignored"].GetArray())
            why[fs::path(p["origin"].GetString()).filename().string()] = p["reason"].GetString();
    }
    EXPECT_EQ(why["broken.fit"], "decode_failed");
    EXPECT_EQ(why["course.tcx.gz"], "not_an_activity");
    EXPECT_EQ(why["inProgressActivity.fit"], "in_progress");
    EXPECT_EQ(why[".hidden.fit"], "dotfile");

    // A restart delivers nothing again; a new file still flows.
    ASSERT_EQ(d.stop(), 0);
    ASSERT_TRUE(d.start()) << d.log();
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    EXPECT_EQ(archive_files(dir / "archive").size(), 2u);
    EXPECT_EQ(count_activities(d), 2);
    write_text(dir / "staging" / "new.gpx", synth_gpx(1600000000));
    fs::rename(dir / "staging" / "new.gpx", dir / "inbox" / "new.gpx");
    ASSERT_TRUE(Daemon::eventually([&] { return archive_files(dir / "archive").size() == 3; })) << d.log();
    EXPECT_EQ(count_activities(d), 3);
    EXPECT_EQ(d.stop(), 0);
}

TEST(SyncE2E, ApiEndpoints) {
    TempDir dir("sync-api");
    for (int i = 0; i < 5; ++i)
        write_text(dir / "inbox" / ("ride" + std::to_string(i) + ".gpx"), synth_gpx(1700000000 + i * 86400.0));
    Daemon d(dir, k_config);
    ASSERT_TRUE(d.start()) << d.log();
    ASSERT_TRUE(Daemon::eventually([&] { return archive_files(dir / "archive").size() == 5; })) << d.log();

    // Paging: newest first, cursor to the next page, no overlap.
    auto p1 = d.call("GET", "/v1/activities?limit=2").json();
    ASSERT_EQ(p1["activities"].Size(), 2u);
    ASSERT_TRUE(p1["next_cursor"].IsString());
    auto p2 = d.call("GET", std::string("/v1/activities?limit=2&cursor=") + p1["next_cursor"].GetString()).json();
    ASSERT_EQ(p2["activities"].Size(), 2u);
    auto p3 = d.call("GET", std::string("/v1/activities?limit=2&cursor=") + p2["next_cursor"].GetString()).json();
    ASSERT_EQ(p3["activities"].Size(), 1u);
    EXPECT_TRUE(p3["next_cursor"].IsNull());
    std::set<int64_t> ids;
    for (auto* page : {&p1, &p2, &p3})
        for (const auto& a : (*page)["activities"].GetArray()) ids.insert(a["id"].GetInt64());
    EXPECT_EQ(ids.size(), 5u);
    EXPECT_GT(p1["activities"][0]["id"].GetInt64(), p1["activities"][1]["id"].GetInt64());

    // Filters.
    EXPECT_EQ(d.call("GET", "/v1/activities?since=2023-11-16&until=2023-11-18").json()["activities"].Size(), 2u);
    EXPECT_EQ(d.call("GET", "/v1/activities?sport=ride").json()["activities"].Size(), 5u);
    EXPECT_EQ(d.call("GET", "/v1/activities?sport=run").json()["activities"].Size(), 0u);
    EXPECT_EQ(d.call("GET", "/v1/activities?state=delivered").json()["activities"].Size(), 5u);
    EXPECT_EQ(d.call("GET", "/v1/activities?state=failed").json()["activities"].Size(), 0u);
    EXPECT_EQ(d.call("GET", "/v1/activities?since=yesterday").status, 400);
    EXPECT_EQ(d.call("GET", "/v1/activities?state=lost").status, 400);
    EXPECT_EQ(d.call("GET", "/v1/activities?cursor=abc").status, 400);
    EXPECT_EQ(d.call("GET", "/v1/activities?limit=0").status, 400);
    EXPECT_EQ(d.call("GET", "/v1/activities/999").status, 404);

    // Manual sync: 202 with a job that finishes.
    auto sync = d.call("POST", "/v1/accounts/inbox/sync");
    ASSERT_EQ(sync.status, 202) << sync.body;
    int64_t job = sync.json()["job"]["id"].GetInt64();
    ASSERT_TRUE(Daemon::eventually([&] {
        auto j = d.call("GET", "/v1/jobs/" + std::to_string(job)).json();
        return std::string(j["state"].GetString()) == "done";
    }));
    auto j = d.call("GET", "/v1/jobs/" + std::to_string(job)).json();
    EXPECT_EQ(j["done"].GetInt(), 5);
    EXPECT_EQ(j["total"].GetInt(), 5);
    EXPECT_EQ(d.call("POST", "/v1/accounts/nobody/sync").status, 404);
    EXPECT_EQ(d.call("POST", "/v1/accounts/archive/sync").status, 409);
    EXPECT_EQ(d.call("GET", "/v1/jobs").json()["jobs"].Size(), 1u);
    EXPECT_EQ(d.call("GET", "/v1/jobs/77").status, 404);

    // Backfill validation and a run.
    EXPECT_EQ(d.call("POST", "/v1/backfill", "{\"since\": \"yesterday\"}").status, 400);
    EXPECT_EQ(d.call("POST", "/v1/backfill", "{\"since\": \"2019-01-01\", \"colour\": 1}").status, 400);
    EXPECT_EQ(d.call("POST", "/v1/backfill", "{\"since\": ").status, 400);
    EXPECT_EQ(d.call("POST", "/v1/backfill", "{\"since\": \"2019-01-01\", \"route\": \"nope\"}").status, 404);
    auto bf = d.call("POST", "/v1/backfill", "{\"since\": \"2019-01-01\", \"route\": \"inbox-to-archive\"}");
    ASSERT_EQ(bf.status, 202) << bf.body;
    int64_t bjob = bf.json()["job"]["id"].GetInt64();
    ASSERT_TRUE(Daemon::eventually([&] {
        return std::string(d.call("GET", "/v1/jobs/" + std::to_string(bjob)).json()["state"].GetString()) == "done";
    }));

    // Retry: a delivered delivery has nothing to retry.
    auto act = d.call("GET", "/v1/activities/" + std::to_string(*ids.begin())).json();
    int64_t delivery = act["delivery_details"][0]["id"].GetInt64();
    EXPECT_EQ(d.call("POST", "/v1/deliveries/" + std::to_string(delivery) + "/retry").status, 409);
    EXPECT_EQ(d.call("POST", "/v1/deliveries/12345/retry").status, 404);

    // Plan: a dry run that changes nothing.
    auto plan = d.call("POST", "/v1/plan", "{}").json();
    EXPECT_EQ(plan["totals"]["already_delivered"].GetInt(), 5);
    EXPECT_EQ(plan["totals"]["deliver"].GetInt(), 0);

    // Events: replay after an id (Last-Event-ID), then live ones.
    RawConn sse(d.port());
    sse.send("GET /v1/events HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + d.token() +
             "\r\nLast-Event-ID: 1\r\n\r\n");
    std::string got;
    while (got.find("\nid: 2\n") == std::string::npos && got.find("\r\n\r\nretry") == std::string::npos) {
        auto chunk = sse.recv_some();
        ASSERT_FALSE(chunk.empty()) << got;
        got += chunk;
    }
    while (got.find("id: 2\n") == std::string::npos) {
        auto chunk = sse.recv_some();
        ASSERT_FALSE(chunk.empty()) << got;
        got += chunk;
    }
    EXPECT_EQ(got.find("id: 1\n"), std::string::npos);  // resumed after 1
    auto ids_pos = got.find("id: 2\n");
    EXPECT_LT(ids_pos, got.find("id: 3\n"));
    // A new activity arrives live on the same stream.
    write_text(dir / "staging" / "late.gpx", synth_gpx(1600000000));
    fs::rename(dir / "staging" / "late.gpx", dir / "inbox" / "late.gpx");
    while (got.find("event: activity.ingested\ndata: {\"activity\":\"6\"") == std::string::npos) {
        auto chunk = sse.recv_some();
        ASSERT_FALSE(chunk.empty()) << got;
        got += chunk;
    }
    EXPECT_EQ(d.stop(), 0);
}

TEST(SyncE2E, ClientCommands) {
    TempDir dir("sync-cli");
    write_text(dir / "inbox" / "morning.gpx", synth_gpx(1700000000));
    write_text(dir / "inbox" / "evening.gpx", synth_gpx(1700040000, 20, 46.0, 8.0));
    Daemon d(dir, k_config);
    ASSERT_TRUE(d.start()) << d.log();
    ASSERT_TRUE(Daemon::eventually([&] { return archive_files(dir / "archive").size() == 2; })) << d.log();
    auto run = [&](std::vector<std::string> args) { return d.cli(std::move(args), "cli.out"); };
    auto [acode, aout] = run({"activities"});
    EXPECT_EQ(acode, 0);
    EXPECT_EQ(aout,
              // Listed in name order, so "evening" was ingested first.
              "     2  2023-11-14T22:13:20Z  ride        0.3 km  morning                         archive:delivered\n"
              "     1  2023-11-15T09:20:00Z  ride        0.3 km  evening                         archive:delivered\n");
    auto [one_code, one] = run({"activity", "2"});
    EXPECT_EQ(one_code, 0);
    EXPECT_NE(one.find("activity 2: morning\n  start 2023-11-14T22:13:20Z  sport ride  distance 0.3 km\n"),
              std::string::npos)
        << one;
    EXPECT_NE(one.find("    archive      delivered 2023/2023-11-14T2213_ride_morning.gpx\n"), std::string::npos) << one;
    EXPECT_EQ(run({"activity", "99"}).first, 1);
    EXPECT_EQ(run({"activity"}).first, 2);
    auto [pcode, pout] = run({"plan"});
    EXPECT_EQ(pcode, 0);
    EXPECT_EQ(pout, "would deliver 0, skip 0, already delivered 2\n");
    auto [scode, sout] = run({"sync", "inbox"});
    EXPECT_EQ(scode, 0) << sout;
    EXPECT_NE(sout.find("inbox: sync job 1 queued\njob 1: done, 2 of 2 items processed\n"), std::string::npos) << sout;
    auto [bcode, bout] = run({"backfill", "--since", "2023-01-01", "inbox-to-archive"});
    EXPECT_EQ(bcode, 0) << bout;
    EXPECT_NE(bout.find("job 2: done, 2 of 2 items processed"), std::string::npos) << bout;
    auto [ucode, uout] = run({"backfill", "inbox-to-archive"});
    EXPECT_EQ(ucode, 2);
    EXPECT_NE(uout.find("--since DATE is required"), std::string::npos);
    auto [ecode, eout] = run({"backfill", "--since", "2023-01-01", "nope"});
    EXPECT_EQ(ecode, 1);
    EXPECT_NE(eout.find("HTTP 404: no route 'nope'"), std::string::npos) << eout;
    EXPECT_EQ(d.stop(), 0);
}

TEST(SyncE2E, KillNineDuringImportLosesNothingAndDuplicatesNothing) {
    TempDir dir("sync-crash");
    // Rides arrive in batches: whenever the archive has nearly caught up with
    // the inbox, the next batch is dropped in before the next start, so every
    // kill lands mid-import however fast this machine imports.
    constexpr int k_batch = 100;
    int rides = 0;
    std::set<std::string> expected;
    fs::create_directories(dir / "inbox");
    auto add_batch = [&] {
        for (int n = 0; n < k_batch; ++n, ++rides) {
            auto gpx = synth_gpx(1500000000 + rides * 7200.0, 20, 45.0 + (rides % 50) * 0.01, 7.0);
            expected.insert(sha256_hex(gpx));
            auto name = "ride-" + std::to_string(rides) + ".gpx";
            write_text(dir / "staging" / name, gpx);
            fs::rename(dir / "staging" / name, dir / "inbox" / name);
        }
    };
    add_batch();
    add_batch();
    Daemon d(dir, k_config);
    std::mt19937 rng(12345);
    std::uniform_int_distribution<int> pause_ms(20, 250);
    int kills_mid_import = 0;
    for (int round = 0; round < 60 && kills_mid_import < 12; ++round) {
        if (archive_files(dir / "archive").size() + k_batch / 2 > static_cast<size_t>(rides)) add_batch();
        ASSERT_TRUE(d.start()) << d.log();
        std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(rng)));
        size_t before = archive_files(dir / "archive").size();
        d.kill9();
        if (before < static_cast<size_t>(rides)) ++kills_mid_import;
    }
    EXPECT_GE(kills_mid_import, 10);
    ASSERT_TRUE(d.start()) << d.log();
    ASSERT_TRUE(Daemon::eventually(
        [&] {
            auto p = d.call("POST", "/v1/plan", "{}").json();
            return p.IsObject() && p["totals"]["already_delivered"].GetInt() == rides &&
                   p["totals"]["deliver"].GetInt() == 0;
        },
        std::chrono::seconds(120)))
        << "plan: "
        << d.call("POST", "/v1/plan", "{}").body.substr(d.call("POST", "/v1/plan", "{}").body.find("\"totals\""))
        << "\naccounts: " << d.call("GET", "/v1/accounts").body.substr(0, 3000) << "\nlog: " << d.log();

    // Exactly the inputs, once each, and no leftovers.
    auto files = archive_files(dir / "archive");
    std::set<std::string> got;
    for (const auto& f : files) {
        EXPECT_EQ(f.filename().string().find(".tmp-"), std::string::npos) << f;
        got.insert(file_sha(f));
    }
    EXPECT_EQ(files.size(), static_cast<size_t>(rides));
    EXPECT_EQ(got, expected);
    EXPECT_EQ(count_activities(d), rides);
    EXPECT_EQ(d.call("GET", "/v1/activities?state=duplicate").json()["activities"].Size(), 0u);
    EXPECT_EQ(d.call("GET", "/v1/activities?state=failed").json()["activities"].Size(), 0u);
    EXPECT_EQ(d.call("GET", "/v1/activities?state=in_flight").json()["activities"].Size(), 0u);
    EXPECT_EQ(d.stop(), 0);
}

}  // namespace
}  // namespace fitbridge::test
