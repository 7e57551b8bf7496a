// Route history and backfill job positions (lib/store/routes_state.cpp).

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "store/ledger.hpp"

namespace fitbridge::store {
namespace {

class RoutesStateTest : public ::testing::Test {
protected:
    RoutesStateTest()
        : m_dir(std::filesystem::temp_directory_path() /
                ("fb-routes-" + std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name())) {
        std::filesystem::remove_all(m_dir);
        std::filesystem::create_directories(m_dir);
        auto s = Store::open(m_dir / "state.db");
        m_store = std::move(*s);
        m_store->db().exec("INSERT INTO accounts(id, provider, created_at) VALUES ('icu', 'intervals_icu', 0)");
        m_ledger = std::make_unique<Ledger>(*m_store, m_clock);
    }
    ~RoutesStateTest() override { std::filesystem::remove_all(m_dir); }

    std::filesystem::path m_dir;
    ManualClock m_clock{SysTime(std::chrono::milliseconds(1700000000000))};
    std::unique_ptr<Store> m_store;
    std::unique_ptr<Ledger> m_ledger;
};

TEST_F(RoutesStateTest, CoveredHistoryIsKeptPerRouteAndAccount) {
    EXPECT_EQ(m_ledger->route_backfilled_since("r", "icu"), std::nullopt);
    m_ledger->set_route_backfilled_since("r", "icu", 1546300800, 4);
    m_ledger->set_route_backfilled_since("other", "icu", 1600000000, std::nullopt);
    EXPECT_EQ(m_ledger->route_backfilled_since("r", "icu"), 1546300800);
    EXPECT_EQ(m_ledger->route_backfilled_since("r", "zwift"), std::nullopt);
    m_ledger->set_route_backfilled_since("r", "icu", 1514764800, 5);
    EXPECT_EQ(m_ledger->route_backfilled_since("r", "icu"), 1514764800);
    EXPECT_EQ(m_ledger->route_backfilled_since("other", "icu"), 1600000000);
}

TEST_F(RoutesStateTest, AJobKeepsItsListingPosition) {
    JobRow j;
    j.kind = "backfill";
    j.route_id = "r";
    j.account_id = "icu";
    j.state = "running";
    const auto id = m_ledger->create_job(j);
    EXPECT_FALSE(m_ledger->job_position(id).has_value());
    m_ledger->set_job_position(id, {"icu", std::string("2019-01-01|2019-03-01|17"), 40});
    auto p = m_ledger->job_position(id);
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(p->account, "icu");
    EXPECT_EQ(p->cursor, "2019-01-01|2019-03-01|17");
    EXPECT_EQ(p->done, 40);
    m_ledger->set_job_position(id, {"zwift", std::nullopt, 52});
    p = m_ledger->job_position(id);
    EXPECT_EQ(p->account, "zwift");
    EXPECT_EQ(p->cursor, std::nullopt);
    EXPECT_EQ(p->done, 52);
    EXPECT_FALSE(m_ledger->job_position(id + 1).has_value());
}

}  // namespace
}  // namespace fitbridge::store
