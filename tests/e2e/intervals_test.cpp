// End to end: a Zwift-style folder with 300 corpus-derived rides over two
// years, delivered by the real daemon to the Intervals.icu fake server over
// loopback HTTP: exactly once, through a 429 storm and an outage, across a
// restart, with renames at the name authority propagating.

#include <gtest/gtest.h>

#include <optional>
#include <regex>

#include "core/time.hpp"
#include "support/daemon.hpp"
#include "support/synth.hpp"

namespace fitbridge::test {
namespace {

namespace fs = std::filesystem;

// Starts tests/fakes/run intervals on a free port; the first line it prints is
// the base URL.
class IntervalsFake {
public:
    explicit IntervalsFake(const TempDir& dir)
        : m_proc({"/usr/bin/env", "bash", std::string(FITBRIDGE_SOURCE_DIR) + "/tests/fakes/run", "intervals", "--port",
                  "0"},
                 {{"PATH", "/usr/bin:/bin"}}, dir / "fake.log") {
        Daemon::eventually(
            [&] {
                auto out = m_proc.output();
                auto p = out.find("http://");
                if (p == std::string::npos) return false;
                m_base = out.substr(p, out.find('\n', p) - p);
                return true;
            },
            std::chrono::seconds(10));
        m_port = m_base.empty() ? 0 : std::stoi(m_base.substr(m_base.rfind(':') + 1));
    }
    const std::string& base_url() const { return m_base; }
    ApiAnswer control(const std::string& method, const std::string& path, const std::string& body = "") const {
        RawConn c(m_port);
        std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
        req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
        c.send(req);
        auto r = c.read_response();
        return {status_of(r), body_of(r)};
    }
    // Requests that reached the API (not the control endpoints), optionally
    // only those answered with `status`.
    int count(const std::string& method, const std::string& path_regex, std::optional<int> status = {}) const {
        auto log = control("GET", "/_fake/requests").json();
        int n = 0;
        std::regex re(path_regex);
        for (const auto& r : log.GetArray()) {
            if (std::string(r["method"].GetString()) != method || !std::regex_match(r["path"].GetString(), re))
                continue;
            if (status && !(r["status"].IsInt() && r["status"].GetInt() == *status)) continue;
            ++n;
        }
        return n;
    }

private:
    Process m_proc;
    std::string m_base;
    int m_port = 0;
};

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
    IntervalsFake fake(dir);
    ASSERT_FALSE(fake.base_url().empty());
    write_text(dir / "icu.key", "test-api-key\n");

    std::ifstream in(fs::path(FITBRIDGE_TESTDATA_DIR) / "gpx/fittrackee-e2e.gpx");
    std::string corpus((std::istreambuf_iterator<char>(in)), {});
    constexpr int k_rides = 300;
    for (int i = 0; i < k_rides; ++i) {
        // One ride every ~2.4 days from 2018-03-13: two years.
        char name[32];
        std::snprintf(name, sizeof name, "ride-%03d.gpx", i);
        write_file(dir / "staging" / name, shifted_gpx(corpus, i * 207360.0));
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
    base_url: )" + fake.base_url() +
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
    auto delivered = [&] {
        auto p = d.call("POST", "/v1/plan", "{}").json();
        return p.IsObject() && p["totals"]["already_delivered"].GetInt() == k_rides;
    };
    ASSERT_TRUE(Daemon::eventually(delivered, std::chrono::seconds(240)))
        << d.call("POST", "/v1/plan", "{}").body.substr(0, 300) << "\n"
        << d.log().substr(0, 3000);

    auto on_icu = fake.control("GET", "/_fake/activities").json();
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
    EXPECT_EQ(fake.control("GET", "/_fake/activities").json().Size(), static_cast<rapidjson::SizeType>(k_rides));

    // Renaming a ride at the name authority (the folder) renames it on Intervals.icu.
    fs::rename(dir / "zwift" / "ride-007.gpx", dir / "zwift" / "Alpe du Zwift.gpx");
    ASSERT_TRUE(Daemon::eventually([&] {
        for (const auto& a : fake.control("GET", "/_fake/activities").json().GetArray())
            if (a["name"].IsString() && std::string(a["name"].GetString()) == "Alpe du Zwift") return true;
        return false;
    })) << d.log();
    EXPECT_EQ(fake.count("PUT", "/api/v1/activity/[^/]+"), 1);
    EXPECT_EQ(d.stop(), 0);
}

}  // namespace
}  // namespace fitbridge::test
