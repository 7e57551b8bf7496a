// End to end: GET /metrics of the real daemon after an import, parsed by the
// reference exposition-format parser (Debian's python3-prometheus-client).

#include <gtest/gtest.h>

#include <cstdio>
#include <set>

#include "support/daemon.hpp"
#include "support/synth.hpp"

namespace fitbridge::test {
namespace {

namespace fs = std::filesystem;

constexpr const char* k_config = R"(api:
  listen: 127.0.0.1:{PORT}
  metrics_public: {PUBLIC}
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

std::string config(bool metrics_public) {
    std::string c = k_config;
    c.replace(c.find("{PUBLIC}"), 8, metrics_public ? "true" : "false");
    return c;
}

// Each sample as "name{k="v",...} value" with labels sorted, plus one
// "TYPE family type" line per family, as the reference parser reads them.
constexpr const char* k_parser = R"(import sys
from prometheus_client.parser import text_string_to_metric_families
for f in text_string_to_metric_families(sys.stdin.read()):
    print("TYPE", f.name, f.type)
    for s in f.samples:
        labels = ",".join('%s="%s"' % (k, v) for k, v in sorted(s.labels.items()))
        print("%s{%s} %r" % (s.name, labels, s.value))
)";

// Runs the reference parser over `text`: its lines, or nothing when it failed.
std::set<std::string> parse_with_reference(const TempDir& dir, const std::string& text) {
    write_text(dir / "parse.py", k_parser);
    write_text(dir / "metrics.txt", text);
    // Debian's interpreter, where python3-prometheus-client installs (another
    // python3 earlier in PATH may not have it).
    std::string cmd =
        "/usr/bin/python3 " + (dir / "parse.py").string() + " < " + (dir / "metrics.txt").string() + " 2>&1";
    std::set<std::string> lines;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p) return lines;
    std::string out;
    char buf[4096];
    while (size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    int rc = ::pclose(p);
    EXPECT_EQ(rc, 0) << out;
    for (size_t start = 0, end; (end = out.find('\n', start)) != std::string::npos; start = end + 1)
        lines.insert(out.substr(start, end - start));
    return lines;
}

// The value of the one sample whose line starts with `prefix`, or NaN.
double sample(const std::set<std::string>& lines, const std::string& prefix) {
    for (const auto& l : lines)
        if (l.rfind(prefix + " ", 0) == 0) return std::stod(l.substr(prefix.size() + 1));
    return std::nan("");
}

ApiAnswer get_metrics(const Daemon& d, bool with_token) {
    RawConn c(d.port());
    c.send("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" +
           (with_token ? "Authorization: Bearer " + d.token() + "\r\n" : std::string()) + "\r\n");
    auto r = c.read_response();
    ApiAnswer a{status_of(r), body_of(r)};
    if (r && a.status == 200) {
        EXPECT_EQ(RawConn::find_header(*r, "content-type"), "text/plain; version=0.0.4; charset=utf-8");
    }
    return a;
}

TEST(MetricsE2E, ScrapeAfterAnImportParsesWithTheReferenceParser) {
    TempDir dir("metrics-e2e");
    const double t0 = 1'700'000'000;
    write_text(dir / "inbox" / "one.gpx", synth_gpx(t0, 30));
    write_text(dir / "inbox" / "two.gpx", synth_gpx(t0 + 86400, 30));
    write_text(dir / "inbox" / "broken.gpx", "<?xml version=\"1.0\"?>\n<gpx version=\"1.1\"><trk><trkseg>" +
                                                 std::string(1500, ' ') + "<trkpt lat=\"45\" lon=");
    Daemon d(dir, config(false));
    const double started = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    ASSERT_TRUE(d.start()) << d.log();
    ASSERT_TRUE(Daemon::eventually([&] {
        auto r = d.call("GET", "/v1/activities?limit=10");
        return r.status == 200 && r.json()["activities"].Size() == 2;
    })) << d.log();
    // A manual sync: one job, done, and nothing new.
    ASSERT_EQ(d.call("POST", "/v1/accounts/inbox/sync").status, 202);
    ASSERT_TRUE(Daemon::eventually([&] {
        auto body = d.call("GET", "/v1/jobs").body;
        return body.find("\"state\":\"done\"") != std::string::npos;
    })) << d.log();
    ASSERT_TRUE(Daemon::eventually([&] {
        return d.call("GET", "/v1/activities?limit=10").body.find("\"delivered\"") != std::string::npos &&
               get_metrics(d, true).body.find("fitbridge_deliveries{sink=\"archive\",state=\"delivered\"} 2\n") !=
                   std::string::npos;
    })) << get_metrics(d, true).body;

    EXPECT_EQ(get_metrics(d, false).status, 401);
    auto scraped = get_metrics(d, true);
    ASSERT_EQ(scraped.status, 200);
    auto lines = parse_with_reference(dir, scraped.body);
    ASSERT_FALSE(lines.empty()) << scraped.body;
    const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();

    EXPECT_TRUE(lines.count("TYPE fitbridge_build_info gauge"));
    EXPECT_EQ(sample(lines, "fitbridge_activities{}"), 2);
    EXPECT_EQ(sample(lines, "fitbridge_source_items{account=\"inbox\",reason=\"\",state=\"ingested\"}"), 2);
    EXPECT_EQ(sample(lines, "fitbridge_source_items{account=\"inbox\",reason=\"decode_failed\",state=\"failed\"}"), 1);
    EXPECT_EQ(sample(lines, "fitbridge_deliveries{sink=\"archive\",state=\"delivered\"}"), 2);
    EXPECT_TRUE(lines.count("TYPE fitbridge_delivery_queue_depth gauge"));
    EXPECT_EQ(sample(lines, "fitbridge_delivery_queue_depth{sink=\"archive\"}"), 0);
    EXPECT_EQ(sample(lines, "fitbridge_jobs{kind=\"sync\",state=\"done\"}"), 1);
    double polled = sample(lines, "fitbridge_last_successful_poll_timestamp_seconds{account=\"inbox\"}");
    EXPECT_GE(polled, started - 1);
    EXPECT_LE(polled, now + 1);
    EXPECT_EQ(sample(lines, "fitbridge_rate_limit_blocked_until_timestamp_seconds{account=\"inbox\"}"), 0);
    // Each of the three files is decoded once, when ingested: a delivery
    // reads the summary stored then instead of decoding the original again.
    EXPECT_TRUE(lines.count("TYPE fitbridge_decode_duration_seconds histogram"));
    EXPECT_EQ(sample(lines, "fitbridge_decode_duration_seconds_count{format=\"gpx\"}"), 3);
    EXPECT_EQ(sample(lines, "fitbridge_decode_duration_seconds_bucket{format=\"gpx\",le=\"+Inf\"}"), 3);
    EXPECT_GT(sample(lines, "process_resident_memory_bytes{}"), 1e6);
    EXPECT_GE(sample(lines, "process_open_fds{}"), 5);
    double uptime = sample(lines, "fitbridge_uptime_seconds{}");
    EXPECT_GE(uptime, 0);
    EXPECT_LE(uptime, now - started + 1);
    bool build_info = false;
    for (const auto& l : lines)
        build_info |= l.rfind("fitbridge_build_info{version=\"", 0) == 0 && l.ends_with("} 1.0");
    EXPECT_TRUE(build_info);
    EXPECT_EQ(d.stop(), 0);

    // metrics_public: a local scraper needs no token; Host still applies.
    write_text(dir / "fitbridge.yaml", [&] {
        std::string c = config(true);
        for (auto [k, v] :
             {std::pair<std::string, std::string>{"{DIR}", dir.path().string()}, {"{PORT}", std::to_string(d.port())}})
            for (size_t p; (p = c.find(k)) != std::string::npos;) c.replace(p, k.size(), v);
        return c;
    }());
    ASSERT_TRUE(d.start()) << d.log();
    auto open = get_metrics(d, false);
    EXPECT_EQ(open.status, 200);
    EXPECT_NE(open.body.find("fitbridge_activities 2\n"), std::string::npos);
    RawConn foreign(d.port());
    foreign.send("GET /metrics HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(status_of(foreign.read_response()), 421);
    EXPECT_EQ(d.call("GET", "/v1/jobs", "", "").status, 200);
    RawConn other(d.port());
    other.send("GET /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(status_of(other.read_response()), 401);
    EXPECT_EQ(d.stop(), 0);
}

}  // namespace
}  // namespace fitbridge::test
