// The engine with scripted providers: ingest, matching, the richer copy,
// delivery state transitions, retries, reconcile after a crash, and jobs.

#include "engine/engine.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <SQLiteCpp/Statement.h>
#include <sqlite3.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <deque>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <string_view>
#include <thread>
#include <utility>

#include "core/files.hpp"
#include "core/hash.hpp"
#include "net/http_client.hpp"
#include "support/factory.hpp"
#include "support/run.hpp"
#include "support/synth.hpp"
#include "support/temp_dir.hpp"

namespace fitbridge::engine {
namespace {

using providers::Task;

// What the scripted providers do, keyed by account id.
struct Script {
    std::vector<std::pair<providers::RemoteActivity, std::string>> items;  // listing and file bytes
    std::deque<Result<providers::UploadResult>> uploads;                   // answers, in order
    std::optional<std::string> existing;                                   // find_existing's answer
    std::vector<std::pair<std::string, std::string>> renames;              // update_name calls
    std::deque<Error> list_errors;                                         // answers to the next listings
    std::optional<std::string> credential_origin;                          // credential_source()'s origin
    int upload_calls = 0;
    int find_calls = 0;
    int list_calls = 0;
    std::vector<bool> listed_for_backfill;                            // ListQuery::backfill of each listing
    std::vector<bool> downloaded_for_backfill;                        // RemoteActivity::backfill of each download
    std::function<void()> on_download;                                // called at each download
    std::function<void()> on_upload;                                  // called at each upload
    std::function<void()> changed;                                    // the engine's watch callback (k_watch)
    std::vector<std::pair<std::optional<double>, int64_t>> uploaded;  // each upload's start_time and records
    std::vector<size_t> uploaded_bytes;                               // each upload's byte count
    std::vector<formats::Summary> uploaded_summaries;                 // each upload's summary
};
std::map<std::string, Script>& scripts() {
    static std::map<std::string, Script> s;
    return s;
}

class FakeProvider final : public providers::Provider {
public:
    FakeProvider(std::string id, uint32_t caps) : m_id(std::move(id)), m_caps(caps) {}
    std::string_view account_id() const override { return m_id; }
    uint32_t capabilities() const override { return m_caps; }
    Task<providers::ListPage> list(const providers::ListQuery& q) override {
        auto& s = scripts()[m_id];
        ++s.list_calls;
        s.listed_for_backfill.push_back(q.backfill);
        if (!s.list_errors.empty()) {
            auto e = s.list_errors.front();
            s.list_errors.pop_front();
            co_return e;
        }
        providers::ListPage p;
        for (const auto& [item, bytes] : s.items) p.items.push_back(item);
        co_return p;
    }
    Task<std::string> download(const providers::RemoteActivity& item) override {
        scripts()[m_id].downloaded_for_backfill.push_back(item.backfill);
        if (scripts()[m_id].on_download) scripts()[m_id].on_download();
        for (const auto& [i, bytes] : scripts()[m_id].items)
            if (i.remote_id == item.remote_id) co_return bytes;
        co_return Error::transient("fake.gone", "no such item");
    }
    Task<providers::UploadResult> upload(const providers::UploadRequest& req) override {
        auto& s = scripts()[m_id];
        ++s.upload_calls;
        s.uploaded.emplace_back(req.summary->start_time, req.summary->records);
        s.uploaded_bytes.push_back(req.bytes.size());
        s.uploaded_summaries.push_back(*req.summary);
        if (s.on_upload) s.on_upload();
        if (s.uploads.empty())
            co_return providers::UploadResult{"remote-" + req.summary->content_sha256.substr(0, 8), false};
        auto r = s.uploads.front();
        s.uploads.pop_front();
        co_return r;
    }
    Task<void> update_name(const std::string& remote_id, const std::string& name) override {
        scripts()[m_id].renames.emplace_back(remote_id, name);
        co_return Result<void>{};
    }
    std::optional<CredentialSource> credential_source() const override {
        auto& s = scripts()[m_id];
        if (!s.credential_origin) return std::nullopt;
        return CredentialSource{"api_key", *s.credential_origin};
    }
    void watch(std::function<void()> on_change) override { scripts()[m_id].changed = std::move(on_change); }
    Task<std::optional<std::string>> find_existing(const providers::UploadRequest&) override {
        auto& s = scripts()[m_id];
        ++s.find_calls;
        co_return s.existing;
    }

private:
    std::string m_id;
    uint32_t m_caps;
};

Result<std::unique_ptr<providers::Provider>> make_source(const config::AccountConfig& a, const providers::Context&) {
    return std::unique_ptr<providers::Provider>(
        std::make_unique<FakeProvider>(a.id, providers::k_list_window | providers::k_download));
}
// A source that notices changes itself (a folder's inotify).
Result<std::unique_ptr<providers::Provider>> make_watched(const config::AccountConfig& a, const providers::Context&) {
    return std::unique_ptr<providers::Provider>(
        std::make_unique<FakeProvider>(a.id, providers::k_list_window | providers::k_download | providers::k_watch));
}
Result<std::unique_ptr<providers::Provider>> make_sink(const config::AccountConfig& a, const providers::Context&) {
    return std::unique_ptr<providers::Provider>(
        std::make_unique<FakeProvider>(a.id, providers::k_upload | providers::k_update_name));
}
Result<std::unique_ptr<providers::Provider>> make_both(const config::AccountConfig& a, const providers::Context&) {
    return std::unique_ptr<providers::Provider>(std::make_unique<FakeProvider>(
        a.id, providers::k_list_window | providers::k_download | providers::k_upload | providers::k_update_name));
}
// A sink that also creates activities from a summary alone.
Result<std::unique_ptr<providers::Provider>> make_meta_sink(const config::AccountConfig& a, const providers::Context&) {
    return std::unique_ptr<providers::Provider>(std::make_unique<FakeProvider>(
        a.id, providers::k_upload | providers::k_create_metadata | providers::k_update_name));
}
const providers::Factory k_meta_sink =
    test::scripted_factory("fake_meta_sink", "scripted sink creating from metadata",
                           providers::k_upload | providers::k_create_metadata, make_meta_sink);
const providers::Factory k_source =
    test::scripted_factory("fake_source", "scripted source", providers::k_list_window, make_source);
const providers::Factory k_watched =
    test::scripted_factory("fake_watched", "scripted source that watches", providers::k_list_window, make_watched);
const providers::Factory k_sink = test::scripted_factory("fake_sink", "scripted sink", providers::k_upload, make_sink);
const providers::Factory k_both =
    test::scripted_factory("fake_both", "scripted source and sink", providers::k_upload, make_both);
// A platform whose accounts must share one HTTP client (one budget per platform).
struct NullClient final : net::HttpClient {
    boost::asio::awaitable<Result<net::HttpResponse>> send(net::HttpRequest) override {
        co_return Error::permanent("test.offline", "no network in this test");
    }
};
int& http_made() {
    static int n = 0;
    return n;
}
std::map<std::string, const net::HttpClient*>& http_seen() {
    static std::map<std::string, const net::HttpClient*> m;
    return m;
}
std::shared_ptr<net::HttpClient> make_null_http(boost::asio::any_io_executor) {
    ++http_made();
    return std::make_shared<NullClient>();
}
Result<std::unique_ptr<providers::Provider>> make_net_sink(const config::AccountConfig& a,
                                                           const providers::Context& ctx) {
    http_seen()[a.id] = ctx.http.get();
    return make_sink(a, ctx);
}
const providers::Factory k_net_sink = test::scripted_factory("fake_net_sink", "scripted sink with HTTP",
                                                             providers::k_upload, make_net_sink, make_null_http);

const providers::Factory* lookup(std::string_view name) {
    if (name == "fake_net_sink") return &k_net_sink;
    if (name == "fake_both") return &k_both;
    if (name == "fake_source") return &k_source;
    if (name == "fake_watched") return &k_watched;
    if (name == "fake_sink") return &k_sink;
    if (name == "fake_meta_sink") return &k_meta_sink;
    return nullptr;
}

providers::RemoteActivity item(const std::string& id) {
    providers::RemoteActivity r;
    r.remote_id = id;
    r.name = id;
    r.origin = "fake:" + id;
    return r;
}

class EngineTest : public ::testing::Test {
protected:
    EngineTest() : m_dir("engine-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name())) {
        scripts().clear();
        auto s = store::Store::open(m_dir / "state.db");
        m_store = std::move(*s);
        m_cfg.sync.match_tolerance_s = 300;
        config::AccountConfig src;
        src.id = "src";
        src.provider = "fake_source";
        src.poll_interval_s = 3600;
        config::AccountConfig sink;
        sink.id = "sink";
        sink.provider = "fake_sink";
        m_cfg.accounts = {src, sink};
        config::RouteConfig r;
        r.id = "r";
        r.from = {"src"};
        r.to = {"sink"};
        m_cfg.routes = {r};
        // The accounts table normally follows the config (app::Service).
        for (const auto& a : m_cfg.accounts)
            m_store->db().exec("INSERT INTO accounts(id, provider, created_at) VALUES ('" + a.id + "', '" + a.provider +
                               "', 0)");
    }
    ~EngineTest() override {
        if (m_engine) m_engine->stop();
        m_io.run_for(std::chrono::milliseconds(50));
        m_engine.reset();
    }
    void start() {
        if (m_io.stopped()) m_io.restart();
        m_engine = std::make_unique<Engine>(m_io.get_executor(), *m_store, m_clock, m_dir.path(), lookup);
        m_engine->configure(m_cfg);
    }
    template <typename Pred>
    bool run_until(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
        return test::run_until(m_io, pred, limit);
    }
    std::vector<store::DeliveryRow> deliveries() {
        std::vector<store::DeliveryRow> out;
        for (const char* s : {"planned", "in_flight", "delivered", "duplicate", "skipped", "failed"})
            for (auto& d : m_engine->ledger().deliveries_in_state(s)) out.push_back(d);
        return out;
    }
    bool delivery_state(int64_t id, const std::string& state) {
        auto d = m_engine->ledger().delivery(id);
        return d && d->state == state;
    }

    test::TempDir m_dir;
    boost::asio::io_context m_io;
    ManualClock m_clock{SysTime(std::chrono::milliseconds(1700000000000))};
    std::unique_ptr<store::Store> m_store;
    config::Config m_cfg;
    std::unique_ptr<Engine> m_engine;
};

constexpr double k_t0 = 1600000000;

TEST_F(EngineTest, IngestsMatchesAndDeliversTheRicherCopy) {
    // The head unit's file (HR, 40 points) and the trainer app's (power, 30
    // points) of one ride, 20 s apart, listed in one poll; and a second ride.
    scripts()["src"].items = {{item("headunit"), test::synth_gpx(k_t0, 60, 45.0, 7.0, "Ride", false)},
                              {item("trainer"), test::synth_gpx(k_t0 + 1, 59, 45.0, 7.0, "Ride", true)},
                              {item("other"), test::synth_gpx(k_t0 + 86400, 40)}};
    start();
    ASSERT_TRUE(run_until([&] { return m_engine->ledger().deliveries_in_state("delivered").size() == 2; }))
        << "uploads " << scripts()["sink"].upload_calls << ", deliveries " << deliveries().size() << ", activities "
        << m_engine->ledger().all_activity_ids().size();
    EXPECT_EQ(scripts()["sink"].upload_calls, 2);
    auto& l = m_engine->ledger();
    auto a1 = l.activity(1);
    ASSERT_TRUE(a1);
    auto links = l.links(1);
    ASSERT_EQ(links.size(), 3u);  // headunit, trainer, and the sink's copy
    EXPECT_EQ(links[0].remote_id, "headunit");
    EXPECT_EQ(links[0].matched_by, "origin");
    EXPECT_EQ(links[1].remote_id, "trainer");
    EXPECT_EQ(links[1].matched_by, "time");
    EXPECT_TRUE(links[1].has_power);
    // Power beats HR: the trainer's file is the one delivered.
    EXPECT_EQ(a1->chosen_link_id, links[1].id);
    EXPECT_EQ(a1->content_sha256, sha256_hex(test::synth_gpx(k_t0 + 1, 59, 45.0, 7.0, "Ride", true)));
    EXPECT_EQ(links[2].account_id, "sink");
    EXPECT_EQ(links[2].matched_by, "delivered");
    EXPECT_EQ(l.all_activity_ids().size(), 2u);
    // A second poll of the same items changes nothing.
    ASSERT_TRUE(m_engine->trigger_sync("src").ok());
    ASSERT_TRUE(run_until([&] { return scripts()["src"].list_calls == 2; }));
    m_io.run_for(std::chrono::milliseconds(50));
    EXPECT_EQ(scripts()["sink"].upload_calls, 2);
    EXPECT_EQ(l.all_activity_ids().size(), 2u);
}

// A change notice that comes while a sync runs (a file landing after its
// listing) gets another sync right after it, not at the next periodic poll.
TEST_F(EngineTest, AChangeNoticeDuringASyncGetsAnotherSyncRightAfterIt) {
    m_cfg.accounts[0].provider = "fake_watched";
    m_store->db().exec("UPDATE accounts SET provider = 'fake_watched' WHERE id = 'src'");
    auto& src = scripts()["src"];
    src.items = {{item("first"), test::synth_gpx(k_t0)}};
    bool landed = false;
    src.on_download = [&] {
        if (landed) return;
        landed = true;
        src.items.push_back({item("second"), test::synth_gpx(k_t0 + 86400)});
        ASSERT_TRUE(src.changed);
        src.changed();
    };
    start();
    ASSERT_TRUE(run_until([&] { return m_engine->ledger().deliveries_in_state("delivered").size() == 2; }))
        << "listings " << src.list_calls;
    EXPECT_EQ(src.list_calls, 2);
    ASSERT_TRUE(m_engine->ledger().source_item("src", "second"));
    EXPECT_EQ(m_engine->ledger().source_item("src", "second")->state, "ingested");
    // Nothing changed during the second: no third listing before the next poll.
    run_until([] { return false; }, std::chrono::milliseconds(100));
    EXPECT_EQ(src.list_calls, 2);
}

TEST_F(EngineTest, DecodeFailuresAndNonActivitiesAreRecordedWithReasons) {
    scripts()["src"].items = {{item("broken"), std::string("<gpx><trk><trkseg><trkpt lat=")},
                              {item("route"), std::string("<?xml version=\"1.0\"?><gpx version=\"1.1\"><rte><rtept "
                                                          "lat=\"1\" lon=\"2\"/></rte></gpx>")}};
    start();
    ASSERT_TRUE(run_until([&] { return m_engine->ledger().source_item("src", "route").has_value(); }));
    auto broken = m_engine->ledger().source_item("src", "broken");
    ASSERT_TRUE(broken);
    EXPECT_EQ(broken->state, "failed");
    EXPECT_EQ(broken->reason, "decode_failed");
    EXPECT_NE(broken->detail.value_or("").find("line 1"), std::string::npos) << broken->detail.value_or("");
    auto route = m_engine->ledger().source_item("src", "route");
    EXPECT_EQ(route->state, "skipped");
    EXPECT_EQ(route->reason, "not_an_activity");
    EXPECT_TRUE(m_engine->ledger().all_activity_ids().empty());
}

TEST_F(EngineTest, TransientFailureBacksOffThenRetryDelivers) {
    scripts()["src"].items = {{item("a"), test::synth_gpx(k_t0)}};
    scripts()["sink"].uploads.push_back(Error::transient("net.timeout", "sink timed out"));
    start();
    ASSERT_TRUE(run_until([&] { return m_engine->ledger().deliveries_in_state("failed").size() == 1; }));
    auto d = m_engine->ledger().deliveries_in_state("failed")[0];
    EXPECT_EQ(d.reason, "sink_transient");
    EXPECT_EQ(d.message, "sink timed out");
    EXPECT_EQ(d.attempts, 1);
    ASSERT_TRUE(d.retry_at);
    // First retry: 30 s with full jitter kept in [15, 30] s.
    EXPECT_GE(*d.retry_at - 1700000000.0, 15.0);
    EXPECT_LE(*d.retry_at - 1700000000.0, 30.0);
    // Not retried before its time (the clock stands still).
    m_io.run_for(std::chrono::milliseconds(100));
    EXPECT_EQ(scripts()["sink"].upload_calls, 1);
    ASSERT_TRUE(m_engine->retry_delivery(d.id).ok());
    ASSERT_TRUE(run_until([&] { return delivery_state(d.id, "delivered"); }));
    EXPECT_EQ(m_engine->ledger().delivery(d.id)->attempts, 2);
    EXPECT_FALSE(m_engine->retry_delivery(d.id).ok());  // nothing left to retry
}

TEST_F(EngineTest, AnOutageAtTheSinkPausesItAndTheFirstSuccessReleasesTheBacklog) {
    scripts()["src"].items = {{item("a"), test::synth_gpx(k_t0)},
                              {item("b"), test::synth_gpx(k_t0 + 86400)},
                              {item("c"), test::synth_gpx(k_t0 + 2 * 86400)}};
    scripts()["sink"].uploads = {Error::transient("http.503", "down"), Error::transient("http.503", "down")};
    start();
    // a fails; the sink is paused instead of b and c failing too.
    ASSERT_TRUE(run_until([&] { return m_engine->ledger().deliveries_in_state("failed").size() == 1; }));
    run_until([] { return false; }, std::chrono::milliseconds(100));
    EXPECT_EQ(scripts()["sink"].upload_calls, 1);
    EXPECT_EQ(m_engine->ledger().deliveries_in_state("planned").size(), 2u);
    const auto a = m_engine->ledger().deliveries_in_state("failed")[0];
    EXPECT_EQ(m_engine->ledger().account_blocked_until("sink"), *a.retry_at);  // its backoff, at most 30 s

    // Past the pause a is due again and fails again (backoff now 30..60 s).
    m_clock.advance(std::chrono::seconds(31));
    m_engine->configure(m_cfg);
    ASSERT_TRUE(run_until([&] { return scripts()["sink"].upload_calls == 2; }));
    run_until([] { return false; }, std::chrono::milliseconds(100));
    EXPECT_EQ(scripts()["sink"].upload_calls, 2);
    const double retry_a = *m_engine->ledger().delivery(a.id)->retry_at;

    // 30 s on the pause is over but a's backoff is not: b goes, succeeds, and
    // a follows at once instead of waiting out its backoff.
    m_clock.advance(std::chrono::milliseconds(30001));
    ASSERT_GT(retry_a, m_engine->ledger().now());
    m_engine->configure(m_cfg);
    ASSERT_TRUE(run_until([&] { return m_engine->ledger().deliveries_in_state("delivered").size() == 3; }));
    EXPECT_EQ(scripts()["sink"].upload_calls, 5);
    EXPECT_EQ(m_engine->ledger().delivery(a.id)->attempts, 3);
}

// A sink that cannot take this kind of file (a FIT-only platform offered a
// GPX) skips the delivery with the sink's reason; it is not a failure.
TEST_F(EngineTest, AnUnsupportedFormatIsASkipWithTheSinksReason) {
    scripts()["src"].items = {{item("a"), test::synth_gpx(k_t0)}};
    scripts()["sink"].uploads = {
        Error::permanent("sweatstack.unsupported_format", "SweatStack takes FIT files only; this is a GPX file")};
    start();
    ASSERT_TRUE(run_until([&] { return m_engine->ledger().deliveries_in_state("skipped").size() == 1; }));
    const auto d = m_engine->ledger().deliveries_in_state("skipped")[0];
    EXPECT_EQ(d.reason, "sink_unsupported");
    EXPECT_EQ(d.message, "SweatStack takes FIT files only; this is a GPX file");
    EXPECT_FALSE(d.retry_at);
    EXPECT_EQ(scripts()["sink"].upload_calls, 1);
    EXPECT_TRUE(m_engine->ledger().deliveries_in_state("failed").empty());
}

TEST_F(EngineTest, PermanentRateLimitedAndAuthFailures) {
    scripts()["src"].items = {{item("a"), test::synth_gpx(k_t0)},
                              {item("b"), test::synth_gpx(k_t0 + 86400)},
                              {item("c"), test::synth_gpx(k_t0 + 2 * 86400)}};
    Error limited{"http.429", ErrorClass::rate_limited, "slow down", std::chrono::seconds(120)};
    scripts()["sink"].uploads = {Error::permanent("http.422", "rejected the file"),
                                 Error{"http.401", ErrorClass::auth, "token expired", {}}, limited};
    start();
    ASSERT_TRUE(run_until([&] { return m_engine->ledger().deliveries_in_state("failed").size() == 3; }));
    auto failed = m_engine->ledger().deliveries_in_state("failed");
    EXPECT_EQ(failed[0].reason, "sink_rejected");
    EXPECT_FALSE(failed[0].retry_at);  // permanent: never retried by itself
    EXPECT_EQ(failed[1].reason, "sink_auth");
    EXPECT_EQ(failed[2].reason, "sink_rate_limited");
    EXPECT_DOUBLE_EQ(*failed[2].retry_at, 1700000000.0 + 120);
    SQLite::Statement q(m_store->db(), "SELECT state, last_error FROM accounts WHERE id = 'sink'");
    ASSERT_TRUE(q.executeStep());
    EXPECT_EQ(q.getColumn(0).getString(), "needs_reauth");
    EXPECT_EQ(q.getColumn(1).getString(), "token expired");
}

TEST_F(EngineTest, RateLimitedSinkPausesEveryDeliveryToItUntilThePauseEnds) {
    scripts()["src"].items = {{item("a"), test::synth_gpx(k_t0)},
                              {item("b"), test::synth_gpx(k_t0 + 86400)},
                              {item("c"), test::synth_gpx(k_t0 + 2 * 86400)}};
    scripts()["sink"].uploads = {Error{"http.429", ErrorClass::rate_limited, "slow down", std::chrono::seconds(120)}};
    start();
    ASSERT_TRUE(run_until([&] { return m_engine->ledger().deliveries_in_state("failed").size() == 1; }));
    run_until([] { return false; }, std::chrono::milliseconds(200));
    // The other two were not tried: the platform asked for two minutes' rest.
    EXPECT_EQ(scripts()["sink"].upload_calls, 1);
    EXPECT_EQ(m_engine->ledger().deliveries_in_state("planned").size(), 2u);
    EXPECT_EQ(m_engine->ledger().account_blocked_until("sink"), 1700000000.0 + 120);

    // The pause is in the store: a restart keeps it.
    m_engine->stop();
    m_io.run_for(std::chrono::milliseconds(50));
    m_engine.reset();
    start();
    run_until([] { return false; }, std::chrono::milliseconds(200));
    EXPECT_EQ(scripts()["sink"].upload_calls, 1);

    // Once it is over, everything goes.
    m_clock.advance(std::chrono::seconds(121));
    m_engine->configure(m_cfg);  // wakes the delivery loop
    ASSERT_TRUE(run_until([&] { return m_engine->ledger().deliveries_in_state("delivered").size() == 3; }));
    EXPECT_EQ(scripts()["sink"].upload_calls, 4);
}

TEST_F(EngineTest, RateLimitedSourceRefusesSyncsAndBackfillWaitsThePauseOut) {
    scripts()["src"].items = {{item("a"), test::synth_gpx(k_t0)}};
    scripts()["src"].list_errors = {Error{"http.429", ErrorClass::rate_limited, "slow down", std::chrono::seconds(60)}};
    start();
    ASSERT_TRUE(run_until([&] { return scripts()["src"].list_calls == 1; }));
    run_until([] { return false; }, std::chrono::milliseconds(50));
    EXPECT_EQ(m_engine->ledger().account_blocked_until("src"), 1700000000.0 + 60);

    // A manual sync during the pause says so and sends nothing.
    auto sync = m_engine->trigger_sync("src");
    ASSERT_TRUE(sync);
    ASSERT_TRUE(run_until([&] { return m_engine->ledger().job(*sync)->state == "failed"; }));
    EXPECT_EQ(m_engine->ledger().job(*sync)->error.value_or(""),
              "rate-limited by the platform until 2023-11-14T22:14:20Z");
    EXPECT_EQ(scripts()["src"].list_calls, 1);

    // A backfill waits for the pause, then lists at backfill priority.
    auto job = m_engine->start_backfill(std::string("r"), std::nullopt, k_t0 - 86400, std::nullopt);
    ASSERT_TRUE(job);
    run_until([] { return false; }, std::chrono::milliseconds(1200));
    EXPECT_EQ(m_engine->ledger().job(*job)->state, "running");
    EXPECT_EQ(m_engine->ledger().job(*job)->error.value_or(""),
              "src: waiting for the platform's rate limit until 2023-11-14T22:14:20Z");
    EXPECT_EQ(scripts()["src"].list_calls, 1);
    m_clock.advance(std::chrono::seconds(61));
    ASSERT_TRUE(run_until([&] { return m_engine->ledger().job(*job)->state == "done"; }));
    EXPECT_EQ(scripts()["src"].list_calls, 2);
    EXPECT_EQ(scripts()["src"].listed_for_backfill, (std::vector<bool>{false, true}));
    EXPECT_EQ(scripts()["src"].downloaded_for_backfill, (std::vector<bool>{true}));
    EXPECT_EQ(m_engine->ledger().all_activity_ids().size(), 1u);
}

TEST_F(EngineTest, RefusedStoredCredentialsPausePollsButASecretFileKeepsBeingTried) {
    m_cfg.accounts[0].poll_interval_s = 1;
    const Error refused{"http.401", ErrorClass::auth, "bad key", {}};
    for (int i = 0; i < 10; ++i) scripts()["src"].list_errors.push_back(refused);

    // Stored: after the refusal no periodic poll asks again.
    scripts()["src"].credential_origin = "stored";
    start();
    ASSERT_TRUE(run_until([&] { return scripts()["src"].list_calls == 1; }));
    run_until([] { return false; }, std::chrono::milliseconds(2500));
    EXPECT_EQ(scripts()["src"].list_calls, 1);
    EXPECT_EQ(m_engine->ledger().account_state("src")->state, "needs_reauth");
    // A manual sync still tries (a person asked).
    ASSERT_TRUE(m_engine->trigger_sync("src"));
    ASSERT_TRUE(run_until([&] { return scripts()["src"].list_calls == 2; }));

    // A secret file: polls go on, so fixing the file is enough.
    m_engine->stop();
    m_io.run_for(std::chrono::milliseconds(50));
    m_engine.reset();
    scripts()["src"].credential_origin = "api_key_file";
    start();
    ASSERT_TRUE(run_until([&] { return scripts()["src"].list_calls >= 4; }, std::chrono::seconds(5)));
}

TEST_F(EngineTest, AccountsOfOnePlatformShareOneHttpClient) {
    http_made() = 0;
    http_seen().clear();
    for (const char* id : {"net1", "net2"}) {
        config::AccountConfig a;
        a.id = id;
        a.provider = "fake_net_sink";
        m_cfg.accounts.push_back(a);
        m_store->db().exec(std::string("INSERT INTO accounts(id, provider, created_at) VALUES ('") + id +
                           "', 'fake_net_sink', 0)");
    }
    start();
    EXPECT_EQ(http_made(), 1);
    ASSERT_EQ(http_seen().size(), 2u);
    EXPECT_NE(http_seen()["net1"], nullptr);
    EXPECT_EQ(http_seen()["net1"], http_seen()["net2"]);
}

TEST_F(EngineTest, InFlightAfterCrashIsReconciledBeforeAnyRetry) {
    // A first run delivers nothing (the sink is down) and leaves the delivery
    // in flight, as a kill -9 during the upload would.
    scripts()["src"].items = {{item("a"), test::synth_gpx(k_t0)}, {item("b"), test::synth_gpx(k_t0 + 86400)}};
    start();
    ASSERT_TRUE(run_until([&] { return m_engine->ledger().deliveries_in_state("delivered").size() == 2; }))
        << "uploads " << scripts()["sink"].upload_calls << ", deliveries " << deliveries().size() << ", activities "
        << m_engine->ledger().all_activity_ids().size();
    m_engine->stop();
    m_io.run_for(std::chrono::milliseconds(20));
    m_engine.reset();
    m_store->db().exec("UPDATE deliveries SET state = 'in_flight', remote_id = NULL");
    scripts()["sink"].upload_calls = 0;
    // The sink has both: reconcile finds them and uploads nothing.
    scripts()["sink"].existing = "found-on-sink";
    start();
    ASSERT_TRUE(run_until([&] { return m_engine->ledger().deliveries_in_state("delivered").size() == 2; }));
    EXPECT_EQ(scripts()["sink"].find_calls, 2);
    EXPECT_EQ(scripts()["sink"].upload_calls, 0);
    auto d = m_engine->ledger().deliveries_in_state("delivered")[0];
    EXPECT_EQ(d.remote_id, "found-on-sink");
    EXPECT_EQ(d.reason, "reconciled");
    // And when the sink does not have it, it is uploaded once.
    m_engine->stop();
    m_io.run_for(std::chrono::milliseconds(20));
    m_engine.reset();
    m_store->db().exec("UPDATE deliveries SET state = 'in_flight' WHERE id = 1");
    scripts()["sink"].existing.reset();
    start();
    ASSERT_TRUE(run_until([&] { return scripts()["sink"].upload_calls == 1; }));
    ASSERT_TRUE(run_until([&] { return delivery_state(1, "delivered"); }));
}

TEST_F(EngineTest, AmbiguousMatchIsHeldUntilAPersonDecides) {
    // Two known rides 4 minutes apart, then a third copy between them.
    scripts()["src"].items = {{item("a"), test::synth_gpx(k_t0, 20, 45.0, 7.0)},
                              {item("b"), test::synth_gpx(k_t0 + 240, 20, 46.0, 7.0)}};
    start();
    ASSERT_TRUE(run_until([&] { return m_engine->ledger().deliveries_in_state("delivered").size() == 1; }));
    // a and b are within 5 min of each other: b matched a by time.
    EXPECT_EQ(m_engine->ledger().all_activity_ids().size(), 1u);
    m_cfg.sync.match_tolerance_s = 200;  // now they are apart ...
    scripts()["src"].items = {
        {item("c"), test::synth_gpx(k_t0 + 400, 20, 47.0, 7.0)},
        {item("d"), test::synth_gpx(k_t0 + 800, 20, 48.0, 7.0)},
        {item("e"), test::synth_gpx(k_t0 + 600, 20, 49.0, 7.0)}};  // ... and e sits between c and d
    m_engine->configure(m_cfg);
    ASSERT_TRUE(m_engine->trigger_sync("src").ok());
    ASSERT_TRUE(run_until([&] { return m_engine->ledger().source_item("src", "e").has_value(); }));
    auto e = m_engine->ledger().source_item("src", "e");
    EXPECT_EQ(e->reason, "ambiguous_match");
    EXPECT_EQ(e->detail, "could be activity 2 or 3");
    auto act = m_engine->ledger().activity(*e->activity_id);
    EXPECT_EQ(act->ambiguous_with, "[2,3]");
    auto ds = m_engine->ledger().deliveries(act->id);
    ASSERT_EQ(ds.size(), 1u);
    EXPECT_EQ(ds[0].state, "skipped");
    EXPECT_EQ(ds[0].reason, "ambiguous_match");
    // A person looks and says "deliver it".
    ASSERT_TRUE(m_engine->retry_delivery(ds[0].id).ok());
    ASSERT_TRUE(run_until([&] { return delivery_state(ds[0].id, "delivered"); }));
}

TEST_F(EngineTest, JobsReportProgressAndEventsAreNumbered) {
    for (int i = 0; i < 12; ++i)
        scripts()["src"].items.push_back({item("r" + std::to_string(i)), test::synth_gpx(k_t0 + i * 86400.0)});
    std::vector<int64_t> ids;
    start();
    m_engine->add_listener([&](const store::EventRow& e) { ids.push_back(e.id); });
    auto job = m_engine->trigger_sync("src");
    ASSERT_TRUE(job.ok());
    ASSERT_TRUE(run_until([&] { return m_engine->ledger().job(*job)->state == "done"; }));
    auto j = m_engine->ledger().job(*job);
    EXPECT_EQ(j->done, 12);
    EXPECT_EQ(j->total, 12);
    EXPECT_FALSE(m_engine->trigger_sync("sink").ok());
    EXPECT_EQ(m_engine->trigger_sync("nobody").error().code, "engine.unknown_account");
    ASSERT_FALSE(ids.empty());
    for (size_t i = 1; i < ids.size(); ++i) EXPECT_EQ(ids[i], ids[i - 1] + 1);
    // Backfill over the route.
    auto bf = m_engine->start_backfill(std::string("r"), std::nullopt, k_t0, std::nullopt);
    ASSERT_TRUE(bf.ok());
    ASSERT_TRUE(run_until([&] { return m_engine->ledger().job(*bf)->state == "done"; }));
    EXPECT_EQ(m_engine->ledger().job(*bf)->total, 12);
    EXPECT_EQ(m_engine->start_backfill(std::string("nope"), std::nullopt, k_t0, std::nullopt).error().code,
              "engine.unknown_route");
    EXPECT_EQ(m_engine->start_backfill(std::nullopt, std::string("src"), k_t0, k_t0 - 1).error().code,
              "engine.bad_window");
}

TEST_F(EngineTest, JobsSurviveRestarts) {
    scripts()["src"].items = {{item("a"), test::synth_gpx(k_t0)}};
    // Left running and queued by a process that died.
    m_store->db().exec("INSERT INTO accounts(id, provider, created_at) VALUES ('gone', 'fake_source', 0)");
    m_store->db().exec(
        "INSERT INTO jobs(id, kind, account_id, state, params, done, created_at, updated_at) VALUES "
        "(7, 'sync', 'src', 'running', '{}', 3, 0, 0), "
        "(8, 'backfill', NULL, 'queued', '{\"since\":1500000000,\"until\":null,\"accounts\":[\"src\"]}', 0, 0, 0), "
        "(9, 'sync', 'gone', 'queued', '{}', 0, 0, 0)");
    start();
    ASSERT_TRUE(run_until(
        [&] { return m_engine->ledger().job(7)->state == "done" && m_engine->ledger().job(8)->state == "done"; }));
    EXPECT_EQ(m_engine->ledger().job(7)->total, 1);
    EXPECT_EQ(m_engine->ledger().job(8)->total, 1);
    auto gone = m_engine->ledger().job(9);
    EXPECT_EQ(gone->state, "cancelled");
    EXPECT_EQ(gone->error, "its account is no longer configured");
}

TEST_F(EngineTest, OnlyAccountsRoutesReadFromArePolledAndNewRoutesPlanHistory) {
    scripts()["src"].items = {{item("a"), test::synth_gpx(k_t0)}};
    m_cfg.routes.clear();
    start();
    m_io.run_for(std::chrono::milliseconds(100));
    EXPECT_EQ(scripts()["src"].list_calls, 0);  // nothing reads from it yet
    config::RouteConfig r;
    r.id = "late";
    r.from = {"src"};
    r.to = {"sink"};
    r.since = "2019-01-01";
    m_cfg.routes = {r};
    m_engine->configure(m_cfg);
    ASSERT_TRUE(run_until([&] { return m_engine->ledger().deliveries_in_state("delivered").size() == 1; }));
    // A second sink added later receives the history too.
    config::AccountConfig sink2;
    sink2.id = "sink2";
    sink2.provider = "fake_sink";
    m_store->db().exec("INSERT INTO accounts(id, provider, created_at) VALUES ('sink2', 'fake_sink', 0)");
    m_cfg.accounts.push_back(sink2);
    m_cfg.routes[0].to.push_back("sink2");
    m_engine->configure(m_cfg);
    ASSERT_TRUE(run_until([&] { return m_engine->ledger().deliveries_in_state("delivered").size() == 2; }));
    EXPECT_EQ(scripts()["sink2"].upload_calls, 1);
}

TEST_F(EngineTest, RenamesAtTheNameAuthorityPropagate) {
    // src -> hub (the name authority, also listed) and src -> sink.
    m_cfg.accounts[1].id = "hub";
    m_cfg.accounts[1].provider = "fake_both";
    config::AccountConfig sink;
    sink.id = "sink";
    sink.provider = "fake_sink";
    m_cfg.accounts.push_back(sink);
    m_store->db().exec("INSERT INTO accounts(id, provider, created_at) VALUES ('hub', 'fake_both', 0)");
    m_cfg.routes[0].to = {"hub", "sink"};
    m_cfg.sync.name_authority = "hub";
    auto gpx = test::synth_gpx(k_t0);
    scripts()["src"].items = {{item("morning"), gpx}};
    start();
    ASSERT_TRUE(run_until([&] { return m_engine->ledger().deliveries_in_state("delivered").size() == 2; }));
    const std::string on_hub = "remote-" + sha256_hex(gpx).substr(0, 8);
    // The athlete renames the ride on the hub; the next poll of the hub sees it.
    auto listed = item(on_hub);
    listed.name = "Hill repeats";
    scripts()["hub"].items = {{listed, gpx}};
    ASSERT_TRUE(m_engine->trigger_sync("hub").ok());
    ASSERT_TRUE(run_until([&] { return !scripts()["sink"].renames.empty(); }));
    EXPECT_EQ(scripts()["sink"].renames, (std::vector<std::pair<std::string, std::string>>{{on_hub, "Hill repeats"}}));
    EXPECT_TRUE(scripts()["hub"].renames.empty());  // the authority itself is not written back
    EXPECT_EQ(m_engine->ledger().activity(1)->name, "Hill repeats");
    EXPECT_EQ(scripts()["hub"].upload_calls, 1);  // listing our own upload did not re-ingest it
    // Polling again with the same name changes nothing.
    ASSERT_TRUE(m_engine->trigger_sync("hub").ok());
    ASSERT_TRUE(run_until([&] { return scripts()["hub"].list_calls == 3; }));
    m_io.run_for(std::chrono::milliseconds(50));
    EXPECT_EQ(scripts()["sink"].renames.size(), 1u);
}

// A file whose sport is only "other" (a TCX rebuilt from a platform's
// streams) takes the sport the source listed; a file that names its sport
// keeps it.
TEST_F(EngineTest, AGenericSportInTheFileGivesWayToTheListedOne) {
    auto walk = item("walk");
    walk.sport_family = "walk";
    auto ride = item("ride");
    ride.sport_family = "walk";  // the listing is wrong; the file says cycling
    std::string other = test::synth_gpx(k_t0);
    other.replace(other.find("<type>cycling</type>"), 20, "<type>other</type>");
    scripts()["src"].items = {{walk, other}, {ride, test::synth_gpx(k_t0 + 86400)}};
    start();
    ASSERT_TRUE(run_until([&] { return m_engine->ledger().deliveries_in_state("delivered").size() == 2; }));
    EXPECT_EQ(m_engine->ledger().activity(1)->sport_family, "walk");
    EXPECT_EQ(m_engine->ledger().activity(2)->sport_family, "ride");
}

// An item the source serves no file for, listed with its metadata.
providers::RemoteActivity metadata_item(const std::string& id, double start) {
    auto r = item(id);
    r.name = "Lunch run";
    r.start_time = start;
    r.sport_family = "run";
    r.elapsed_s = 1800;
    r.distance_m = 5000;
    r.unavailable_reason = "the platform serves no original file";
    return r;
}

// src -> sink (files only) and src -> meta (creates from a summary).
void add_meta_sink(config::Config& cfg, store::Store& store) {
    config::AccountConfig meta;
    meta.id = "meta";
    meta.provider = "fake_meta_sink";
    cfg.accounts.push_back(meta);
    cfg.routes[0].to = {"sink", "meta"};
    store.db().exec("INSERT INTO accounts(id, provider, created_at) VALUES ('meta', 'fake_meta_sink', 0)");
}

TEST_F(EngineTest, AnItemWithoutAFileIsKeptAsMetadataAndGoesOnlyToSinksThatCreateFromIt) {
    add_meta_sink(m_cfg, *m_store);
    scripts()["src"].items = {{metadata_item("m1", k_t0), ""}};
    start();
    ASSERT_TRUE(run_until([&] { return m_engine->ledger().deliveries_in_state("delivered").size() == 1; }));
    ASSERT_TRUE(run_until([&] { return m_engine->ledger().deliveries_in_state("skipped").size() == 1; }));
    auto& l = m_engine->ledger();
    auto act = l.activity(1);
    ASSERT_TRUE(act);
    EXPECT_EQ(act->name, "Lunch run");
    EXPECT_EQ(act->start_time, k_t0);
    EXPECT_EQ(act->sport_family, "run");
    EXPECT_EQ(act->elapsed_s, 1800.0);
    EXPECT_EQ(act->distance_m, 5000.0);
    EXPECT_EQ(act->original_path, "");
    EXPECT_EQ(act->content_sha256, sha256_hex(std::string("fitbridge-metadata\nsrc\nm1")));
    auto rec = l.source_item("src", "m1");
    ASSERT_TRUE(rec);
    EXPECT_EQ(rec->state, "ingested");
    EXPECT_EQ(rec->activity_id, 1);
    EXPECT_EQ(rec->reason, "unavailable");
    EXPECT_EQ(rec->detail, "the platform serves no original file");
    // The file sink: unavailable, with the source's reason; nothing uploaded.
    auto skipped = l.deliveries_in_state("skipped")[0];
    EXPECT_EQ(skipped.sink_id, "sink");
    EXPECT_EQ(skipped.reason, "unavailable");
    EXPECT_EQ(skipped.message, "the platform serves no original file");
    EXPECT_EQ(scripts()["sink"].upload_calls, 0);
    // The summary sink: an upload with no bytes and the listing's values.
    EXPECT_EQ(l.deliveries_in_state("delivered")[0].sink_id, "meta");
    ASSERT_EQ(scripts()["meta"].upload_calls, 1);
    EXPECT_EQ(scripts()["meta"].uploaded_bytes, std::vector<size_t>{0});
    const auto& sent = scripts()["meta"].uploaded_summaries[0];
    EXPECT_EQ(sent.start_time, k_t0);
    EXPECT_EQ(sent.sport_family, "run");
    EXPECT_EQ(sent.total_elapsed_time, 1800.0);
    EXPECT_EQ(sent.total_distance, 5000.0);
    EXPECT_EQ(sent.records, 0);
    // The dry run says the same.
    const auto plan = m_engine->plan();
    ASSERT_EQ(plan.rows.size(), 2u);
    EXPECT_EQ(plan.rows[0].sink, "sink");
    EXPECT_EQ(plan.rows[0].action, "skip");
    EXPECT_EQ(plan.rows[0].reason, "unavailable");
    EXPECT_EQ(plan.rows[1].sink, "meta");
    EXPECT_EQ(plan.rows[1].action, "already_delivered");
    EXPECT_EQ(plan.skip, 1);
    EXPECT_EQ(plan.already_delivered, 1);
    EXPECT_EQ(plan.deliver, 0);
    // Listed again: nothing new.
    ASSERT_TRUE(m_engine->trigger_sync("src").ok());
    ASSERT_TRUE(run_until([&] { return scripts()["src"].list_calls == 2; }));
    m_io.run_for(std::chrono::milliseconds(50));
    EXPECT_EQ(scripts()["meta"].upload_calls, 1);
    EXPECT_EQ(l.all_activity_ids().size(), 1u);
}

TEST_F(EngineTest, AnItemWithoutAFileOrAStartTimeIsOnlyRecordedAsSkipped) {
    add_meta_sink(m_cfg, *m_store);
    auto bare = metadata_item("m1", k_t0);
    bare.start_time.reset();
    scripts()["src"].items = {{bare, ""}};
    start();
    ASSERT_TRUE(run_until([&] { return m_engine->ledger().source_item("src", "m1").has_value(); }));
    auto rec = m_engine->ledger().source_item("src", "m1");
    EXPECT_EQ(rec->state, "skipped");
    EXPECT_EQ(rec->reason, "unavailable");
    EXPECT_EQ(rec->detail, "the platform serves no original file");
    EXPECT_TRUE(m_engine->ledger().all_activity_ids().empty());
    // Listed later with its start time, it is kept as metadata after all.
    scripts()["src"].items = {{metadata_item("m1", k_t0), ""}};
    ASSERT_TRUE(m_engine->trigger_sync("src").ok());
    ASSERT_TRUE(run_until([&] { return m_engine->ledger().deliveries_in_state("delivered").size() == 1; }));
    EXPECT_EQ(m_engine->ledger().source_item("src", "m1")->state, "ingested");
    EXPECT_EQ(m_engine->ledger().all_activity_ids().size(), 1u);
}

TEST_F(EngineTest, AFileCopyFromElsewhereJoinsTheMetadataActivityAndReachesTheFileSinks) {
    add_meta_sink(m_cfg, *m_store);
    config::AccountConfig watch;
    watch.id = "watch";
    watch.provider = "fake_source";
    watch.poll_interval_s = 3600;
    m_cfg.accounts.push_back(watch);
    m_store->db().exec("INSERT INTO accounts(id, provider, created_at) VALUES ('watch', 'fake_source', 0)");
    m_cfg.routes[0].from = {"src", "watch"};
    auto listed = metadata_item("m1", k_t0);
    listed.sport_family = "ride";  // the watch's recording below; no distance listed
    listed.elapsed_s = 59;
    listed.distance_m.reset();
    scripts()["src"].items = {{listed, ""}};
    start();
    ASSERT_TRUE(run_until([&] { return m_engine->ledger().deliveries_in_state("skipped").size() == 1; }));
    ASSERT_TRUE(run_until([&] { return m_engine->ledger().deliveries_in_state("delivered").size() == 1; }));
    // The watch's file of the same run, 20 s off.
    auto gpx = test::synth_gpx(k_t0 + 20, 60);
    scripts()["watch"].items = {{item("w1"), gpx}};
    ASSERT_TRUE(m_engine->trigger_sync("watch").ok());
    ASSERT_TRUE(run_until([&] { return m_engine->ledger().deliveries_in_state("delivered").size() == 2; }));
    auto& l = m_engine->ledger();
    EXPECT_EQ(l.all_activity_ids().size(), 1u);
    auto act = l.activity(1);
    EXPECT_EQ(act->content_sha256, sha256_hex(gpx));
    EXPECT_NE(act->original_path, "");
    auto links = l.links(1);
    ASSERT_EQ(links.size(), 4u);  // m1, the meta sink's copy, w1, the file sink's copy
    EXPECT_EQ(links[2].remote_id, "w1");
    EXPECT_EQ(links[2].matched_by, "time");
    EXPECT_EQ(act->chosen_link_id, links[2].id);
    // The file sink got the file; the summary sink kept its one copy.
    ASSERT_EQ(scripts()["sink"].upload_calls, 1);
    EXPECT_EQ(scripts()["sink"].uploaded_bytes, std::vector<size_t>{gpx.size()});
    EXPECT_EQ(scripts()["meta"].upload_calls, 1);
    for (const auto& d : l.deliveries(1)) EXPECT_EQ(d.state, "delivered") << d.sink_id;
}

TEST_F(EngineTest, AMetadataCopyOfAKnownActivityJoinsItAndTheFileStaysItsCopy) {
    add_meta_sink(m_cfg, *m_store);
    auto gpx = test::synth_gpx(k_t0, 60);
    auto listed = metadata_item("m1", k_t0 + 20);
    listed.sport_family = "ride";
    listed.elapsed_s = 59;
    listed.distance_m.reset();
    scripts()["src"].items = {{item("w1"), gpx}, {listed, ""}};
    start();
    ASSERT_TRUE(run_until([&] { return m_engine->ledger().deliveries_in_state("delivered").size() == 2; }));
    m_io.run_for(std::chrono::milliseconds(50));
    auto& l = m_engine->ledger();
    EXPECT_EQ(l.all_activity_ids().size(), 1u);
    auto act = l.activity(1);
    EXPECT_EQ(act->content_sha256, sha256_hex(gpx));
    auto links = l.links(1);
    ASSERT_GE(links.size(), 2u);
    EXPECT_EQ(links[0].remote_id, "w1");
    EXPECT_EQ(links[1].remote_id, "m1");
    EXPECT_EQ(links[1].matched_by, "time");
    EXPECT_EQ(act->chosen_link_id, links[0].id);
    // Both sinks got the file, once.
    EXPECT_EQ(scripts()["sink"].uploaded_bytes, std::vector<size_t>{gpx.size()});
    EXPECT_EQ(scripts()["meta"].uploaded_bytes, std::vector<size_t>{gpx.size()});
    EXPECT_EQ(l.source_item("src", "m1")->activity_id, 1);
}

TEST_F(EngineTest, RenamesOfAMetadataActivityAtTheNameAuthorityPropagate) {
    add_meta_sink(m_cfg, *m_store);
    m_cfg.sync.name_authority = "src";
    scripts()["src"].items = {{metadata_item("m1", k_t0), ""}};
    start();
    ASSERT_TRUE(run_until([&] { return m_engine->ledger().deliveries_in_state("delivered").size() == 1; }));
    const std::string on_meta = "remote-" + sha256_hex(std::string("fitbridge-metadata\nsrc\nm1")).substr(0, 8);
    auto renamed = metadata_item("m1", k_t0);
    renamed.name = "Tempo run";
    scripts()["src"].items = {{renamed, ""}};
    ASSERT_TRUE(m_engine->trigger_sync("src").ok());
    ASSERT_TRUE(run_until([&] { return !scripts()["meta"].renames.empty(); }));
    EXPECT_EQ(scripts()["meta"].renames, (std::vector<std::pair<std::string, std::string>>{{on_meta, "Tempo run"}}));
    EXPECT_EQ(m_engine->ledger().activity(1)->name, "Tempo run");
    EXPECT_TRUE(scripts()["sink"].renames.empty());  // it has no copy
}

TEST_F(EngineTest, IngestAndDeliveryYieldToTheIoContextBetweenItems) {
    // The fake source and sink never suspend, like a folder and the archive:
    // between two downloads and between two uploads, other handlers (the
    // API's connections, timers) must get their turn.
    m_cfg.sync.max_concurrent_per_account = 4;
    for (int i = 0; i < 12; ++i)
        scripts()["src"].items.push_back({item(fmt::format("r{}", i)), test::synth_gpx(k_t0 + i * 86400.0, 20)});
    // A handler that counts turns of the io_context. Its state is shared, not
    // on this stack: the fixture runs the io_context again when it stops the
    // engine, and one tick may still be queued then.
    struct Ticker {
        int ticks = 0;
        bool done = false;
    };
    struct Tick {
        std::shared_ptr<Ticker> state;
        boost::asio::io_context* io;
        void operator()() const {
            ++state->ticks;
            if (!state->done) boost::asio::post(*io, *this);
        }
    };
    struct StopTicking {
        std::shared_ptr<Ticker> state;
        ~StopTicking() { state->done = true; }
    };
    auto ticker = std::make_shared<Ticker>();
    const StopTicking stop_ticking{ticker};
    boost::asio::post(m_io, Tick{ticker, &m_io});
    std::vector<int> at_download, at_upload;
    scripts()["src"].on_download = [&] { at_download.push_back(ticker->ticks); };
    scripts()["sink"].on_upload = [&] { at_upload.push_back(ticker->ticks); };
    start();
    ASSERT_TRUE(run_until([&] { return m_engine->ledger().deliveries_in_state("delivered").size() == 12; }));
    ticker->done = true;
    ASSERT_EQ(at_download.size(), 12u);
    ASSERT_EQ(at_upload.size(), 12u);
    for (size_t i = 1; i < 12; ++i) {
        EXPECT_GT(at_download[i], at_download[i - 1]) << "downloads " << i - 1 << " and " << i << " in one turn";
        EXPECT_GT(at_upload[i], at_upload[i - 1]) << "uploads " << i - 1 << " and " << i << " in one turn";
    }
}

TEST_F(EngineTest, AFastSourcesItemsAreRecordedTogetherAfterTheirOriginalsAreSynced) {
    // Group commit: a folder hands files over at once, so a page's items are
    // decoded and written first, synced in one pass, then recorded in order.
    for (int i = 0; i < 12; ++i)
        scripts()["src"].items.push_back({item(fmt::format("r{}", i)), test::synth_gpx(k_t0 + i * 86400.0, 20)});
    std::vector<bool> earlier_recorded;
    scripts()["src"].on_download = [&] {
        earlier_recorded.push_back(m_engine->ledger().source_item("src", "r0").has_value());
    };
    start();
    ASSERT_TRUE(run_until([&] { return m_engine->ledger().deliveries_in_state("delivered").size() == 12; }));
    ASSERT_EQ(earlier_recorded.size(), 12u);
    EXPECT_EQ(std::count(earlier_recorded.begin(), earlier_recorded.end(), true), 0)
        << "r0 was recorded before the page's last download";
    for (int i = 0; i < 12; ++i) {
        auto rec = m_engine->ledger().source_item("src", fmt::format("r{}", i));
        ASSERT_TRUE(rec);
        EXPECT_EQ(rec->state, "ingested");
        auto act = m_engine->ledger().activity(*rec->activity_id);
        ASSERT_TRUE(act);
        EXPECT_EQ(act->id, i + 1);  // recorded in listing order
        EXPECT_EQ(read_file(act->original_path).value(), test::synth_gpx(k_t0 + i * 86400.0, 20));
    }
}

// What each commit of the ledger's connection wrote: the tables it
// inserted into or updated, and the ids of the events it inserted.
struct CommitLog {
    struct Commit {
        std::set<std::string> tables;
        std::vector<int64_t> events;
    };
    std::vector<Commit> commits;
    Commit open;

    explicit CommitLog(sqlite3* db) {
        sqlite3_update_hook(
            db,
            [](void* self, int, const char*, const char* table, sqlite3_int64 rowid) {
                auto& log = *static_cast<CommitLog*>(self);
                log.open.tables.insert(table);
                if (std::string_view(table) == "events") log.open.events.push_back(rowid);
            },
            this);
        sqlite3_commit_hook(
            db,
            [](void* self) {
                auto& log = *static_cast<CommitLog*>(self);
                log.commits.push_back(std::exchange(log.open, {}));
                return 0;
            },
            this);
    }
};

TEST_F(EngineTest, AFastSourcesItemsAreRecordedSixteenToATransactionWithTheirEvents) {
    for (int i = 0; i < 40; ++i)
        scripts()["src"].items.push_back({item(fmt::format("r{}", i)), test::synth_gpx(k_t0 + i * 86400.0, 20)});
    sqlite3* db = m_store->db().getHandle();
    CommitLog log(db);
    start();
    ASSERT_TRUE(run_until([&] { return m_engine->ledger().deliveries_in_state("delivered").size() == 40; }));
    m_io.run_for(std::chrono::milliseconds(50));
    sqlite3_update_hook(db, nullptr, nullptr);
    sqlite3_commit_hook(db, nullptr, nullptr);
    int with_activities = 0;
    std::map<int64_t, const CommitLog::Commit*> commit_of_event;
    for (const auto& c : log.commits) {
        with_activities += c.tables.contains("activities");
        for (auto id : c.events) commit_of_event[id] = &c;
    }
    EXPECT_EQ(with_activities, 3);  // 16, 16 and 8
    // Each event went out in the commit of the rows it tells about.
    int ingested = 0, delivery_updates = 0;
    SQLite::Statement q(m_store->db(),
                        "SELECT id, type FROM events WHERE type IN ('activity.ingested', 'delivery.updated')");
    while (q.executeStep()) {
        const int64_t id = q.getColumn(0).getInt64();
        const std::string type = q.getColumn(1).getString();
        ASSERT_TRUE(commit_of_event.contains(id)) << type << " " << id;
        const auto& tables = commit_of_event[id]->tables;
        if (type == "activity.ingested") {
            ++ingested;
            EXPECT_TRUE(tables.contains("activities")) << "event " << id;
        } else {
            ++delivery_updates;
            EXPECT_TRUE(tables.contains("deliveries")) << "event " << id;
        }
    }
    EXPECT_EQ(ingested, 40);
    EXPECT_EQ(delivery_updates, 80);  // in_flight, then delivered
}

TEST_F(EngineTest, AFastSourcesNextBatchIsFetchedWhileTheLastOneIsSyncedAndRecorded) {
    // A batch is due at 64 items (66: decoded three at a time). Its syncs
    // and transactions must not hold the walk: the next downloads go on
    // meanwhile. Recorded in line, the first batch would be recorded whole
    // before the 67th download.
    const int n = 80;
    for (int i = 0; i < n; ++i)
        scripts()["src"].items.push_back({item(fmt::format("r{}", i)), test::synth_gpx(k_t0 + i * 86400.0, 5)});
    int downloads = 0;
    int64_t most_unrecorded = 0;  // over downloads 70 to 80: items downloaded before, not yet recorded
    scripts()["src"].on_download = [&] {
        if (++downloads < 70) return;
        SQLite::Statement q(m_store->db(), "SELECT COUNT(*) FROM source_items WHERE account_id = 'src'");
        q.executeStep();
        most_unrecorded = std::max<int64_t>(most_unrecorded, downloads - 1 - q.getColumn(0).getInt64());
    };
    start();
    ASSERT_TRUE(run_until([&] { return m_engine->ledger().deliveries_in_state("delivered").size() == size_t(n); }));
    EXPECT_EQ(downloads, n);
    EXPECT_GT(most_unrecorded, 32);
    for (int i = 0; i < n; ++i) {
        auto rec = m_engine->ledger().source_item("src", fmt::format("r{}", i));
        ASSERT_TRUE(rec) << i;
        EXPECT_EQ(rec->state, "ingested") << i;
    }
}

TEST_F(EngineTest, ASlowSourcesItemIsRecordedBeforeTheNextDownload) {
    // A platform that takes its time per file: nothing waits for 64 of them.
    for (int i = 0; i < 4; ++i)
        scripts()["src"].items.push_back({item(fmt::format("r{}", i)), test::synth_gpx(k_t0 + i * 86400.0, 20)});
    std::vector<int> recorded_at_download;
    scripts()["src"].on_download = [&] {
        int n = 0;
        for (int i = 0; i < 4; ++i) n += m_engine->ledger().source_item("src", fmt::format("r{}", i)).has_value();
        recorded_at_download.push_back(n);
        std::this_thread::sleep_for(std::chrono::milliseconds(60));
    };
    start();
    ASSERT_TRUE(run_until([&] { return m_engine->ledger().deliveries_in_state("delivered").size() == 4; }));
    EXPECT_EQ(recorded_at_download, (std::vector<int>{0, 1, 2, 3}));
}

TEST_F(EngineTest, DeliveryUsesTheStoredSummaryAndDoesNotDecodeAgain) {
    // Ingested while the route leads to another sink.
    config::AccountConfig other;
    other.id = "other";
    other.provider = "fake_sink";
    m_cfg.accounts.push_back(other);
    m_store->db().exec("INSERT INTO accounts(id, provider, created_at) VALUES ('other', 'fake_sink', 0)");
    const auto routes = m_cfg.routes;
    m_cfg.routes[0].to = {"other"};
    scripts()["src"].items = {{item("ride"), test::synth_gpx(k_t0, 60)}};
    start();
    ASSERT_TRUE(run_until([&] {
        auto it = m_engine->ledger().source_item("src", "ride");
        return it && it->state == "ingested";
    }));
    auto act = m_engine->ledger().activity(1);
    ASSERT_TRUE(act);
    // The original now holds another ride: a delivery that decoded the file
    // again would describe that one.
    std::ofstream(act->original_path, std::ios::binary | std::ios::trunc) << test::synth_gpx(k_t0 + 7200, 10);
    m_cfg.routes = routes;
    m_engine->configure(m_cfg);
    ASSERT_TRUE(run_until([&] { return m_engine->ledger().deliveries_in_state("delivered").size() == 2; }));
    ASSERT_EQ(scripts()["sink"].uploaded.size(), 1u);
    EXPECT_EQ(scripts()["sink"].uploaded[0].first, std::optional<double>(k_t0));
    EXPECT_EQ(scripts()["sink"].uploaded[0].second, 60);
}

}  // namespace
}  // namespace fitbridge::engine
