// A route's history: a new route (or an earlier since) starts one backfill job
// per source account for the window not yet covered, never twice, and a job
// cut short resumes at the page it had reached.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/time.hpp"
#include "engine/engine.hpp"
#include "json/json.hpp"
#include "support/factory.hpp"
#include "support/process.hpp"
#include "support/synth.hpp"

namespace fitbridge::engine {
namespace {

using providers::Task;

// One listing a source answered.
struct Listing {
    std::optional<double> since, until;
    std::optional<std::string> cursor;
    bool backfill = false;
};

// A source with `pages` pages of two rides each; cursors are "p1", "p2", ...
struct PagedScript {
    int pages = 4;
    std::vector<Listing> listings;
    std::optional<std::string> hold_at;  // a listing of this cursor waits until cancelled
    bool refuse = false;                 // listings answer 401 (credentials refused)
    int uploads = 0;
};
std::map<std::string, PagedScript>& paged() {
    static std::map<std::string, PagedScript> s;
    return s;
}

constexpr double k_t0 = 1600000000;

double ride_start(const std::string& account, int n) {
    return k_t0 + n * 86400.0 + (account[0] - 'a') * 7200.0;  // each account its own rides
}

class PagedProvider final : public providers::Provider {
public:
    PagedProvider(std::string id, uint32_t caps) : m_id(std::move(id)), m_caps(caps) {}
    std::string_view account_id() const override { return m_id; }
    uint32_t capabilities() const override { return m_caps; }
    Task<providers::ListPage> list(const providers::ListQuery& q) override {
        auto& s = paged()[m_id];
        s.listings.push_back({q.since, q.until, q.cursor, q.backfill});
        if (s.refuse) co_return Error{"fake.401", ErrorClass::auth, "credentials refused", {}};
        providers::ListPage p;
        if (!q.backfill) co_return p;  // the live window holds nothing new
        if (q.cursor && q.cursor == s.hold_at) {
            boost::asio::steady_timer t(co_await boost::asio::this_coro::executor);
            t.expires_after(std::chrono::seconds(30));
            boost::system::error_code ec;
            co_await t.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
            co_return Error::transient("fake.held", "held until cancelled");
        }
        const int page = q.cursor ? std::stoi(q.cursor->substr(1)) : 0;
        for (int i = 0; i < 2; ++i) {
            providers::RemoteActivity r;
            r.remote_id = fmt::format("{}-{}", m_id, page * 2 + i);
            r.name = r.remote_id;
            r.origin = "paged:" + r.remote_id;
            p.items.push_back(r);
        }
        if (page + 1 < s.pages) p.next_cursor = fmt::format("p{}", page + 1);
        co_return p;
    }
    Task<std::string> download(const providers::RemoteActivity& item) override {
        const auto n = std::stoi(item.remote_id.substr(item.remote_id.rfind('-') + 1));
        co_return test::synth_gpx(ride_start(m_id, n), 20, 45.0 + (m_id[0] - 'a'));
    }
    Task<providers::UploadResult> upload(const providers::UploadRequest& req) override {
        ++paged()[m_id].uploads;
        co_return providers::UploadResult{"up-" + req.summary->content_sha256.substr(0, 8), false};
    }
    // Nothing is ever on this sink before FitBridge uploads it.
    Task<std::optional<std::string>> find_existing(const providers::UploadRequest&) override {
        co_return std::optional<std::string>{};
    }

private:
    std::string m_id;
    uint32_t m_caps;
};

Result<std::unique_ptr<providers::Provider>> make_source(const config::AccountConfig& a, const providers::Context&) {
    return std::unique_ptr<providers::Provider>(
        std::make_unique<PagedProvider>(a.id, providers::k_list_window | providers::k_download));
}
Result<std::unique_ptr<providers::Provider>> make_folder(const config::AccountConfig& a, const providers::Context&) {
    return std::unique_ptr<providers::Provider>(
        std::make_unique<PagedProvider>(a.id, providers::k_list_window | providers::k_download | providers::k_watch));
}
Result<std::unique_ptr<providers::Provider>> make_sink(const config::AccountConfig& a, const providers::Context&) {
    return std::unique_ptr<providers::Provider>(std::make_unique<PagedProvider>(a.id, providers::k_upload));
}
// A source that takes credentials through the store (set_credentials).
const providers::Factory k_source = [] {
    auto f = test::scripted_factory("paged_source", "paged source", providers::k_list_window, make_source);
    f.accept_credentials = [](const config::AccountConfig&, std::string_view) -> Result<void> { return {}; };
    return f;
}();
const providers::Factory k_folder =
    test::scripted_factory("paged_folder", "watched source", providers::k_list_window, make_folder);
const providers::Factory k_sink = test::scripted_factory("paged_sink", "sink", providers::k_upload, make_sink);
const providers::Factory* lookup(std::string_view name) {
    if (name == "paged_source") return &k_source;
    if (name == "paged_folder") return &k_folder;
    if (name == "paged_sink") return &k_sink;
    return nullptr;
}

const double k_now = 1700000000;                     // the test clock
const double k_2019 = *parse_iso8601("2019-01-01");  // the route's since
const double k_2018 = *parse_iso8601("2018-01-01");  // moved earlier

class HistoryTest : public ::testing::Test {
protected:
    HistoryTest() : m_dir("history-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name())) {
        paged().clear();
        auto s = store::Store::open(m_dir / "state.db");
        m_store = std::move(*s);
        for (const auto& [id, provider] : std::vector<std::pair<std::string, std::string>>{
                 {"a", "paged_source"}, {"b", "paged_source"}, {"dir", "paged_folder"}, {"sink", "paged_sink"}}) {
            config::AccountConfig c;
            c.id = id;
            c.provider = provider;
            c.poll_interval_s = 3600;
            m_cfg.accounts.push_back(c);
            m_store->db().exec("INSERT INTO accounts(id, provider, created_at) VALUES ('" + id + "', '" + provider +
                               "', 0)");
        }
        config::RouteConfig r;
        r.id = "r";
        r.from = {"a", "b"};
        r.to = {"sink"};
        r.since = "2019-01-01";
        m_cfg.routes = {r};
    }
    ~HistoryTest() override { stop(); }
    void start() {
        if (m_io.stopped()) m_io.restart();
        m_engine = std::make_unique<Engine>(m_io.get_executor(), *m_store, m_clock, m_dir.path(), lookup);
        m_engine->configure(m_cfg);
    }
    // Ends the engine as a restart would: loops cancelled, the process gone.
    void stop() {
        if (!m_engine) return;
        m_engine->stop();
        if (m_io.stopped()) m_io.restart();
        m_io.run_for(std::chrono::milliseconds(50));
        m_engine.reset();
    }
    template <typename Pred>
    bool run_until(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
        auto deadline = std::chrono::steady_clock::now() + limit;
        while (!pred() && std::chrono::steady_clock::now() < deadline) {
            if (m_io.stopped()) m_io.restart();
            m_io.run_for(std::chrono::milliseconds(5));
        }
        return pred();
    }
    std::vector<store::JobRow> backfills() {
        std::vector<store::JobRow> out;
        for (auto& j : m_engine->ledger().jobs(100))
            if (j.kind == "backfill") out.push_back(j);
        std::sort(out.begin(), out.end(), [](const auto& x, const auto& y) { return x.id < y.id; });
        return out;
    }
    bool all_done() {
        auto jobs = backfills();
        return !jobs.empty() && std::all_of(jobs.begin(), jobs.end(), [](const auto& j) { return j.state == "done"; });
    }
    static std::vector<Listing> backfill_listings(const std::string& account) {
        std::vector<Listing> out;
        for (const auto& l : paged()[account].listings)
            if (l.backfill) out.push_back(l);
        return out;
    }

    test::TempDir m_dir;
    boost::asio::io_context m_io;
    ManualClock m_clock{SysTime(std::chrono::milliseconds(static_cast<int64_t>(k_now) * 1000))};
    std::unique_ptr<store::Store> m_store;
    config::Config m_cfg;
    std::unique_ptr<Engine> m_engine;
};

TEST_F(HistoryTest, ANewRouteBackfillsEachSourceOnceAndARestartStartsNoSecondJob) {
    start();
    auto jobs = backfills();
    ASSERT_EQ(jobs.size(), 2u);
    for (size_t i = 0; i < 2; ++i) {
        EXPECT_EQ(jobs[i].route_id, "r");
        EXPECT_EQ(jobs[i].account_id, i == 0 ? "a" : "b");
        auto params = json::parse(jobs[i].params);
        ASSERT_TRUE(params.ok());
        EXPECT_EQ(json::get_number(*params, "since"), k_2019);
        EXPECT_EQ(json::get_number(*params, "until"), k_now);
    }
    ASSERT_TRUE(run_until([&] { return all_done(); })) << backfills()[0].state << " " << backfills()[1].state;
    for (const std::string id : {"a", "b"}) {
        auto listed = backfill_listings(id);
        ASSERT_EQ(listed.size(), 4u) << id;
        EXPECT_EQ(listed[0].cursor, std::nullopt);
        EXPECT_EQ(listed[3].cursor, "p3");
        for (const auto& l : listed) {
            EXPECT_EQ(l.since, k_2019);
            EXPECT_EQ(l.until, k_now);
        }
    }
    EXPECT_EQ(backfills()[0].done, 8);
    EXPECT_EQ(backfills()[0].total, 8);
    EXPECT_EQ(m_engine->ledger().route_backfilled_since("r", "a"), k_2019);
    ASSERT_TRUE(run_until([&] { return paged()["sink"].uploads == 16; }));

    stop();
    start();
    run_until([] { return false; }, std::chrono::milliseconds(100));
    EXPECT_EQ(backfills().size(), 2u);
    EXPECT_EQ(backfill_listings("a").size(), 4u);
    EXPECT_EQ(backfill_listings("b").size(), 4u);
}

TEST_F(HistoryTest, ASinceMovedEarlierBackfillsOnlyTheGap) {
    start();
    ASSERT_TRUE(run_until([&] { return all_done(); }));
    m_cfg.routes[0].since = "2018-01-01";
    m_engine->configure(m_cfg);
    auto jobs = backfills();
    ASSERT_EQ(jobs.size(), 4u);
    for (size_t i = 2; i < 4; ++i) {
        EXPECT_EQ(jobs[i].account_id, i == 2 ? "a" : "b");
        auto params = json::parse(jobs[i].params);
        EXPECT_EQ(json::get_number(*params, "since"), k_2018);
        EXPECT_EQ(json::get_number(*params, "until"), k_2019);
    }
    ASSERT_TRUE(run_until([&] { return all_done(); }));
    auto listed = backfill_listings("a");
    ASSERT_EQ(listed.size(), 8u);
    EXPECT_EQ(listed[4].since, k_2018);
    EXPECT_EQ(listed[4].until, k_2019);
    EXPECT_EQ(m_engine->ledger().route_backfilled_since("r", "a"), k_2018);
    // The same since again, or a later one, is covered already.
    m_engine->configure(m_cfg);
    m_cfg.routes[0].since = "2020-01-01";
    m_engine->configure(m_cfg);
    EXPECT_EQ(backfills().size(), 4u);
}

TEST_F(HistoryTest, AJobCutShortAfterPageTwoResumesAtPageThree) {
    m_cfg.routes[0].from = {"a"};
    paged()["a"].hold_at = "p2";
    start();
    // Pages 1 and 2 listed and ingested; the listing of page 3 is under way.
    ASSERT_TRUE(run_until([&] { return backfill_listings("a").size() == 3; }));
    ASSERT_EQ(backfills().size(), 1u);
    const auto job = backfills()[0].id;
    EXPECT_EQ(m_engine->ledger().source_items("a", std::nullopt, 100).size(), 4u);
    stop();

    paged()["a"].hold_at.reset();
    paged()["a"].listings.clear();
    start();
    ASSERT_TRUE(run_until([&] { return m_engine->ledger().job(job)->state == "done"; }));
    auto listed = backfill_listings("a");
    ASSERT_EQ(listed.size(), 2u);
    EXPECT_EQ(listed[0].cursor, "p2");
    EXPECT_EQ(listed[1].cursor, "p3");
    EXPECT_EQ(listed[0].since, k_2019);
    EXPECT_EQ(m_engine->ledger().job(job)->done, 8);
    EXPECT_EQ(m_engine->ledger().job(job)->total, 8);
    EXPECT_EQ(m_engine->ledger().source_items("a", std::nullopt, 100).size(), 8u);
    EXPECT_EQ(backfills().size(), 1u);
}

TEST_F(HistoryTest, AWatchedFolderNeedsNoJobAndItsWindowIsRecordedAsCovered) {
    m_cfg.routes[0].from = {"dir"};
    start();
    run_until([] { return false; }, std::chrono::milliseconds(50));
    EXPECT_TRUE(backfills().empty());
    EXPECT_EQ(m_engine->ledger().route_backfilled_since("r", "dir"), k_2019);
    EXPECT_TRUE(backfill_listings("dir").empty());
    EXPECT_FALSE(paged()["dir"].listings.empty());  // its polls list it all
}

// A backfill that failed because the platform refused the credentials goes
// on, as the same job, once new credentials are stored for that account.
TEST_F(HistoryTest, ABackfillRefusedForCredentialsRunsAgainWhenNewOnesArrive) {
    paged()["a"].refuse = true;
    start();
    ASSERT_TRUE(run_until([&] {
        auto jobs = backfills();
        return jobs.size() == 2 && jobs[0].state == "failed" && jobs[1].state == "done";
    }));
    EXPECT_EQ(backfills()[0].error, "a: credentials refused");
    paged()["a"].refuse = false;
    ASSERT_TRUE(m_engine->set_credentials("a", net::Credentials{"token", "new-token", "", std::nullopt, ""}));
    ASSERT_TRUE(run_until([&] { return all_done(); }));
    const auto jobs = backfills();
    ASSERT_EQ(jobs.size(), 2u);  // the same job ran again; no new one
    EXPECT_EQ(jobs[0].account_id, "a");
    EXPECT_EQ(jobs[0].done, 8);  // 4 pages of 2 rides
    EXPECT_FALSE(jobs[0].error);
    ASSERT_TRUE(run_until([&] { return paged()["sink"].uploads == 16; }));  // both sources' 8 rides
}

TEST_F(HistoryTest, ARouteWithoutSinceStartsNoBackfill) {
    m_cfg.routes[0].since.reset();
    start();
    run_until([] { return false; }, std::chrono::milliseconds(50));
    EXPECT_TRUE(backfills().empty());
    EXPECT_EQ(m_engine->ledger().route_backfilled_since("r", "a"), std::nullopt);
}

}  // namespace
}  // namespace fitbridge::engine
