// The per-sink delivery queue queries behind the engine's delivery loops.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "store/ledger.hpp"
#include "support/temp_dir.hpp"

namespace fitbridge::store {
namespace {

class LedgerQueueTest : public ::testing::Test {
protected:
    LedgerQueueTest() {
        auto s = Store::open(m_dir / "state.db");
        m_store = std::move(*s);
        for (const char* id : {"a", "b"})
            m_store->db().exec(std::string("INSERT INTO accounts(id, provider, created_at) VALUES ('") + id +
                               "', 'folder', 0)");
        m_ledger = std::make_unique<Ledger>(*m_store, m_clock);
    }
    int64_t activity(const std::string& sha) {
        ActivityRow a;
        a.content_sha256 = sha;
        a.original_path = "/nowhere/" + sha;
        return m_ledger->insert_activity(a);
    }
    int64_t delivery(int64_t activity, const std::string& sink) {
        m_ledger->ensure_delivery(activity, sink, "planned", std::nullopt);
        for (const auto& d : m_ledger->deliveries(activity))
            if (d.sink_id == sink) return d.id;
        return 0;
    }

    test::TempDir m_dir{"ledger"};
    ManualClock m_clock{SysTime(std::chrono::seconds(1000))};
    std::unique_ptr<Store> m_store;
    std::unique_ptr<Ledger> m_ledger;
};

TEST_F(LedgerQueueTest, DueDeliveriesAndTheNextRetryOfOneSink) {
    const auto a1 = activity("1"), a2 = activity("2"), a3 = activity("3");
    const auto a_1 = delivery(a1, "a"), b_1 = delivery(a1, "b"), a_2 = delivery(a2, "a"), a_3 = delivery(a3, "a");
    const auto b_2 = delivery(a2, "b");
    m_ledger->set_delivery(a_2, "failed", std::nullopt, std::string("sink_transient"), std::nullopt, 1500.0, true);
    m_ledger->set_delivery(a_3, "failed", std::nullopt, std::string("sink_transient"), std::nullopt, 900.0, true);
    m_ledger->set_delivery(b_2, "failed", std::nullopt, std::string("sink_transient"), std::nullopt, 1200.0, true);

    auto due = m_ledger->due_deliveries_to("a", 1000, 10);
    ASSERT_EQ(due.size(), 2u);  // planned, and the failure whose retry time has come
    EXPECT_EQ(due[0].id, a_1);
    EXPECT_EQ(due[1].id, a_3);
    EXPECT_EQ(m_ledger->due_deliveries_to("a", 1000, 1).size(), 1u);
    auto due_b = m_ledger->due_deliveries_to("b", 1000, 10);
    ASSERT_EQ(due_b.size(), 1u);
    EXPECT_EQ(due_b[0].id, b_1);

    EXPECT_EQ(m_ledger->next_retry_at_to("a", 1000), 1500.0);
    EXPECT_EQ(m_ledger->next_retry_at_to("b", 1000), 1200.0);
    EXPECT_EQ(m_ledger->next_retry_at_to("a", 1500), std::nullopt);
    EXPECT_EQ(m_ledger->due_deliveries_to("nobody", 1000, 10).size(), 0u);
}

}  // namespace
}  // namespace fitbridge::store
