// The engine's loops: one delivery loop per sink (a stalled sink delays no
// other, and has at most sync.max_concurrent_per_account uploads in flight),
// supervision (a loop that throws is logged, shown, restarted and its work
// finished), and cancellation (stop() ends uploads in flight; the next start
// reconciles them).

#include <SQLiteCpp/Exception.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <map>
#include <set>

#include "core/hash.hpp"
#include "engine/engine.hpp"
#include "support/factory.hpp"
#include "support/run.hpp"
#include "support/synth.hpp"
#include "support/temp_dir.hpp"

namespace fitbridge::engine {
namespace {

namespace asio = boost::asio;
using providers::Task;

constexpr double k_t0 = 1600000000;

// What the scripted accounts do and saw, keyed by account id.
struct Behaviour {
    std::vector<std::pair<providers::RemoteActivity, std::string>> items;  // the listing and file bytes
    bool stall = false;  // uploads after the first `stall_after` wait for release() (or a cancellation)
    int stall_after = 0;
    int throw_on_upload = 0;        // the next this many uploads throw SQLITE_BUSY
    int throw_on_list = 0;          // the next this many listings throw SQLITE_BUSY
    std::set<std::string> on_sink;  // content hashes the sink holds (find_existing)
    int uploads_started = 0;
    int uploads_done = 0;
    int uploads_cancelled = 0;
    int in_flight = 0;
    int max_in_flight = 0;
    int list_calls = 0;
    size_t concurrent_uploads = 0;  // what the sink asks for (Provider::concurrent_uploads)
};
std::map<std::string, Behaviour>& behaviour() {
    static std::map<std::string, Behaviour> b;
    return b;
}
// The timers stalled uploads wait on; release() cancels them all.
std::vector<asio::steady_timer*>& stalled() {
    static std::vector<asio::steady_timer*> t;
    return t;
}
void release() {
    for (auto* t : stalled()) t->cancel();
}

SQLite::Exception busy() { return SQLite::Exception("database is locked", SQLITE_BUSY); }

class Scripted final : public providers::Provider {
public:
    Scripted(std::string id, uint32_t caps) : m_id(std::move(id)), m_caps(caps) {}
    std::string_view account_id() const override { return m_id; }
    uint32_t capabilities() const override { return m_caps; }
    size_t concurrent_uploads() const override { return behaviour()[m_id].concurrent_uploads; }
    Task<providers::ListPage> list(const providers::ListQuery&) override {
        auto& b = behaviour()[m_id];
        ++b.list_calls;
        if (b.throw_on_list > 0) {
            --b.throw_on_list;
            throw busy();
        }
        providers::ListPage p;
        for (const auto& [item, bytes] : b.items) p.items.push_back(item);
        co_return p;
    }
    Task<std::string> download(const providers::RemoteActivity& item) override {
        for (const auto& [i, bytes] : behaviour()[m_id].items)
            if (i.remote_id == item.remote_id) co_return bytes;
        co_return Error::transient("fake.gone", "no such item");
    }
    Task<providers::UploadResult> upload(const providers::UploadRequest& req) override {
        auto& b = behaviour()[m_id];
        ++b.uploads_started;
        if (b.throw_on_upload > 0) {
            --b.throw_on_upload;
            throw busy();
        }
        ++b.in_flight;
        b.max_in_flight = std::max(b.max_in_flight, b.in_flight);
        if (b.stall && b.uploads_started > b.stall_after) {
            asio::steady_timer t(co_await asio::this_coro::executor, asio::steady_timer::time_point::max());
            stalled().push_back(&t);
            boost::system::error_code ec;
            co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            std::erase(stalled(), &t);
            auto state = co_await asio::this_coro::cancellation_state;
            if (state.cancelled() != asio::cancellation_type::none) {
                --b.in_flight;
                ++b.uploads_cancelled;
                co_return Error::transient("fake.cancelled", "upload cancelled");
            }
        }
        --b.in_flight;
        ++b.uploads_done;
        b.on_sink.insert(req.summary->content_sha256);
        co_return providers::UploadResult{"remote-" + req.summary->content_sha256.substr(0, 8), false};
    }
    Task<std::optional<std::string>> find_existing(const providers::UploadRequest& req) override {
        auto& b = behaviour()[m_id];
        if (b.on_sink.count(req.summary->content_sha256))
            co_return std::optional<std::string>("remote-" + req.summary->content_sha256.substr(0, 8));
        co_return std::optional<std::string>();
    }

private:
    std::string m_id;
    uint32_t m_caps;
};

Result<std::unique_ptr<providers::Provider>> make_source(const config::AccountConfig& a, const providers::Context&) {
    return std::unique_ptr<providers::Provider>(
        std::make_unique<Scripted>(a.id, providers::k_list_window | providers::k_download));
}
Result<std::unique_ptr<providers::Provider>> make_sink(const config::AccountConfig& a, const providers::Context&) {
    return std::unique_ptr<providers::Provider>(std::make_unique<Scripted>(a.id, providers::k_upload));
}
const providers::Factory k_source =
    test::scripted_factory("scripted_source", "scripted source", providers::k_list_window, make_source);
const providers::Factory k_sink =
    test::scripted_factory("scripted_sink", "scripted sink", providers::k_upload, make_sink);
const providers::Factory* lookup(std::string_view name) {
    if (name == k_source.name) return &k_source;
    if (name == k_sink.name) return &k_sink;
    return nullptr;
}

class LoopsTest : public ::testing::Test {
protected:
    LoopsTest() : m_dir("loops-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name())) {
        behaviour().clear();
        stalled().clear();
        auto opened = store::Store::open(m_dir / "state.db");
        m_store = std::move(*opened);
        add_account("src", "scripted_source");
        config::RouteConfig r;
        r.id = "r";
        r.from = {"src"};
        m_cfg.routes = {r};
        m_cfg.sync.max_concurrent_per_account = 2;
        m_options.supervisor.first_backoff = std::chrono::milliseconds(300);
    }
    ~LoopsTest() override {
        if (m_engine) m_engine->stop();
        m_io.run_for(std::chrono::milliseconds(50));
        m_engine.reset();
    }
    void add_account(const std::string& id, const std::string& provider) {
        config::AccountConfig a;
        a.id = id;
        a.provider = provider;
        a.poll_interval_s = 3600;
        m_cfg.accounts.push_back(a);
        m_store->db().exec("INSERT INTO accounts(id, provider, created_at) VALUES ('" + id + "', '" + provider +
                           "', 0)");
    }
    void add_sink(const std::string& id) {
        add_account(id, "scripted_sink");
        m_cfg.routes[0].to.push_back(id);
    }
    void list_rides(int n) {
        for (int i = 0; i < n; ++i) {
            providers::RemoteActivity r;
            r.remote_id = "ride-" + std::to_string(i);
            r.name = r.remote_id;
            r.origin = "scripted:" + r.remote_id;
            behaviour()["src"].items.emplace_back(r, test::synth_gpx(k_t0 + i * 86400.0));
        }
    }
    void start() {
        if (m_io.stopped()) m_io.restart();
        m_engine = std::make_unique<Engine>(m_io.get_executor(), *m_store, m_clock, m_dir.path(), lookup, m_options);
        m_engine->configure(m_cfg);
    }
    template <typename Pred>
    bool run_until(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
        return test::run_until(m_io, pred, limit);
    }
    // Deliveries to `sink` in `state`.
    size_t count(const std::string& sink, const std::string& state) {
        size_t n = 0;
        for (const auto& d : m_engine->ledger().deliveries_in_state(state)) n += d.sink_id == sink;
        return n;
    }

    test::TempDir m_dir;
    asio::io_context m_io;
    ManualClock m_clock{SysTime(std::chrono::milliseconds(1700000000000))};
    std::unique_ptr<store::Store> m_store;
    config::Config m_cfg;
    EngineOptions m_options;
    std::unique_ptr<Engine> m_engine;
};

TEST_F(LoopsTest, AStalledSinkDelaysNoOtherSink) {
    add_sink("slow");
    add_sink("fast");
    behaviour()["slow"].stall = true;
    behaviour()["slow"].stall_after = 1;
    list_rides(100);
    start();
    // The slow sink's uploads never finish while the fast one takes all 100.
    ASSERT_TRUE(run_until([&] { return count("fast", "delivered") == 100; }))
        << "fast delivered " << count("fast", "delivered") << ", slow in flight " << behaviour()["slow"].in_flight;
    EXPECT_EQ(behaviour()["fast"].uploads_started, 100);
    EXPECT_EQ(behaviour()["slow"].in_flight, 2);  // sync.max_concurrent_per_account
    EXPECT_EQ(count("slow", "in_flight"), 2u);
    EXPECT_EQ(count("slow", "planned"), 97u);
    EXPECT_EQ(count("slow", "delivered"), 1u);
    // Released, the slow sink catches up, never more than two at a time.
    behaviour()["slow"].stall = false;
    release();
    ASSERT_TRUE(run_until([&] { return count("slow", "delivered") == 100; }));
    EXPECT_EQ(behaviour()["slow"].uploads_started, 100);
    EXPECT_EQ(behaviour()["slow"].max_in_flight, 2);
    EXPECT_EQ(behaviour()["fast"].max_in_flight, 1);  // its uploads finish at once
    EXPECT_FALSE(m_engine->health().degraded());
}

TEST_F(LoopsTest, TheConcurrencyLimitComesFromTheConfiguration) {
    add_sink("slow");
    behaviour()["slow"].stall = true;
    behaviour()["slow"].stall_after = 1;
    m_cfg.sync.max_concurrent_per_account = 5;
    list_rides(8);
    start();
    ASSERT_TRUE(run_until([&] { return behaviour()["slow"].in_flight == 5; }));
    m_io.run_for(std::chrono::milliseconds(50));
    EXPECT_EQ(behaviour()["slow"].in_flight, 5);
    EXPECT_EQ(count("slow", "delivered"), 1u);
    EXPECT_EQ(count("slow", "planned"), 2u);
}

TEST_F(LoopsTest, ASinkThatAsksForMoreUploadsAtOnceGetsThemWhateverTheConfigurationSays) {
    // The archive's concurrent uploads share their syncs: it asks for more
    // than the platforms' limit (2 here).
    add_sink("slow");
    behaviour()["slow"].stall = true;
    behaviour()["slow"].stall_after = 1;
    behaviour()["slow"].concurrent_uploads = 6;
    list_rides(10);
    start();
    ASSERT_TRUE(run_until([&] { return behaviour()["slow"].in_flight == 6; }));
    m_io.run_for(std::chrono::milliseconds(50));
    EXPECT_EQ(behaviour()["slow"].in_flight, 6);
    EXPECT_EQ(count("slow", "delivered"), 1u);
    EXPECT_EQ(count("slow", "planned"), 3u);
}

TEST_F(LoopsTest, ASinkThatHasNotTakenAnUploadYetGetsOneAtATime) {
    // Its first upload is a probe: were the sink down, only one attempt is spent.
    add_sink("slow");
    behaviour()["slow"].stall = true;
    list_rides(4);
    start();
    ASSERT_TRUE(run_until([&] { return behaviour()["slow"].in_flight == 1; }));
    m_io.run_for(std::chrono::milliseconds(50));
    EXPECT_EQ(behaviour()["slow"].uploads_started, 1);
    EXPECT_EQ(count("slow", "planned"), 3u);
    // Once it took one, the others go two at a time.
    behaviour()["slow"].stall_after = 1;
    release();
    ASSERT_TRUE(run_until([&] { return behaviour()["slow"].in_flight == 2; }));
    EXPECT_EQ(count("slow", "delivered"), 1u);
    EXPECT_EQ(count("slow", "planned"), 1u);
}

TEST_F(LoopsTest, StopCancelsUploadsInFlightAndTheNextStartReconcilesThem) {
    add_sink("slow");
    behaviour()["slow"].stall = true;
    behaviour()["slow"].stall_after = 1;
    list_rides(4);
    start();
    ASSERT_TRUE(run_until([&] { return behaviour()["slow"].in_flight == 2; }));
    m_engine->stop();
    // Nothing is left to run: the stalled uploads were cancelled, not awaited.
    const auto stop_started = std::chrono::steady_clock::now();
    m_io.restart();
    m_io.run_for(std::chrono::seconds(2));
    EXPECT_TRUE(m_io.stopped()) << "the io_context still had work 2 s after stop()";
    EXPECT_LT(std::chrono::steady_clock::now() - stop_started, std::chrono::milliseconds(500));
    EXPECT_EQ(behaviour()["slow"].uploads_cancelled, 2);
    EXPECT_EQ(count("slow", "in_flight"), 2u);  // as after a crash
    EXPECT_EQ(count("slow", "planned"), 1u);
    EXPECT_EQ(count("slow", "delivered"), 1u);
    m_engine.reset();

    // One of the two landed before the cut; the next start finds it there and
    // uploads only what is missing.
    store::Ledger ledger(*m_store, m_clock);
    std::vector<std::string> first;
    for (const auto& d : ledger.deliveries_in_state("in_flight"))
        first.push_back(ledger.activity(d.activity_id)->content_sha256);
    ASSERT_EQ(first.size(), 2u);
    behaviour()["slow"].stall = false;
    behaviour()["slow"].on_sink.insert(first[0]);
    start();
    ASSERT_TRUE(run_until([&] { return count("slow", "delivered") == 4; }));
    EXPECT_EQ(behaviour()["slow"].uploads_done, 3);  // one before the stop, two after
    EXPECT_EQ(behaviour()["slow"].on_sink.size(), 4u);
    int reconciled = 0;
    for (const auto& d : m_engine->ledger().deliveries_in_state("delivered")) reconciled += d.reason == "reconciled";
    EXPECT_EQ(reconciled, 1);
}

TEST_F(LoopsTest, ADeliveryLoopThatThrowsIsShownRestartedAndFinishesItsWork) {
    add_sink("sink");
    behaviour()["sink"].throw_on_upload = 1;
    list_rides(3);
    start();
    // Down: the failure is visible, naming the loop and the exception.
    ASSERT_TRUE(run_until([&] { return m_engine->health().core_down; }));
    auto h = m_engine->health();
    ASSERT_EQ(h.troubles.size(), 1u);
    EXPECT_EQ(h.troubles[0].name, "delivery loop of sink");
    EXPECT_TRUE(h.troubles[0].core);
    EXPECT_TRUE(h.troubles[0].down);
    EXPECT_EQ(h.troubles[0].reason, "database is locked");
    EXPECT_EQ(h.troubles[0].failures, 1);
    // Back after the backoff; the interrupted delivery is reconciled (not on
    // the sink) and made again, and every activity arrives exactly once.
    ASSERT_TRUE(run_until([&] { return count("sink", "delivered") == 3; }));
    EXPECT_EQ(behaviour()["sink"].uploads_done, 3);
    EXPECT_EQ(behaviour()["sink"].on_sink.size(), 3u);
    h = m_engine->health();
    EXPECT_FALSE(h.core_down);
    ASSERT_EQ(h.troubles.size(), 1u);  // still shown: it failed within the healthy period
    EXPECT_FALSE(h.troubles[0].down);
    EXPECT_TRUE(h.degraded());
}

TEST_F(LoopsTest, APollerThatThrowsIsRestartedAndIngests) {
    add_sink("sink");
    behaviour()["src"].throw_on_list = 2;
    list_rides(2);
    start();
    ASSERT_TRUE(run_until([&] { return count("sink", "delivered") == 2; }));
    EXPECT_EQ(behaviour()["src"].list_calls, 3);
    auto h = m_engine->health();
    ASSERT_EQ(h.troubles.size(), 1u);
    EXPECT_EQ(h.troubles[0].name, "poller of src");
    EXPECT_EQ(h.troubles[0].failures, 2);
    EXPECT_FALSE(h.core_down);
}

}  // namespace
}  // namespace fitbridge::engine
