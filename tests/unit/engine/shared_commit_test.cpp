#include "engine/shared_commit.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace fitbridge::engine {
namespace {

namespace asio = boost::asio;

class SharedCommitTest : public ::testing::Test {
protected:
    SharedCommitTest() : m_db(":memory:", SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE) {
        m_db.exec("CREATE TABLE rows (name TEXT PRIMARY KEY)");
        sqlite3_commit_hook(m_db.getHandle(), &SharedCommitTest::on_commit, this);
    }
    static int on_commit(void* self) {
        ++static_cast<SharedCommitTest*>(self)->m_sqlite_commits;
        return 0;  // go on with the commit
    }

    std::unique_ptr<SharedCommit> make(size_t max_writes = SharedCommit::k_max_writes,
                                       std::chrono::microseconds window = SharedCommit::k_window) {
        return std::make_unique<SharedCommit>(
            m_io.get_executor(), m_db,
            [this](const std::function<void()>& writes) {
                SQLite::Transaction tx(m_db);
                writes();
                tx.commit();
            },
            max_writes, window);
    }
    // Runs `f` after `turns` more turns of the io_context.
    void after_turns(int turns, std::function<void()> f) {
        if (turns == 0) return f();
        asio::post(m_io, [this, turns, f = std::move(f)]() mutable { after_turns(turns - 1, std::move(f)); });
    }
    void insert(const std::string& name) {
        SQLite::Statement q(m_db, "INSERT INTO rows(name) VALUES (?)");
        q.bind(1, name);
        q.exec();
    }
    std::vector<std::string> rows() {
        std::vector<std::string> out;
        SQLite::Statement q(m_db, "SELECT name FROM rows ORDER BY rowid");
        while (q.executeStep()) out.push_back(q.getColumn(0).getString());
        return out;
    }
    // Starts a writer that records, once resumed, what it saw: "name: ok",
    // "name: cut short" or "name: <what it threw>", and the rows then.
    void writer(SharedCommit& shared, std::string name, std::function<void()> write) {
        auto run = [](SharedCommitTest* t, SharedCommit* s, std::string n,
                      std::function<void()> w) -> asio::awaitable<void> {
            std::string outcome;
            try {
                auto op = s->write(std::move(w));
                outcome = (co_await std::move(op)) ? "ok" : "cut short";
            } catch (const std::exception& e) {
                outcome = e.what();
            }
            t->m_outcomes.push_back(n + ": " + outcome + " (" + std::to_string(t->rows().size()) + " rows)");
        };
        asio::co_spawn(m_io, run(this, &shared, std::move(name), std::move(write)), asio::detached);
    }

    asio::io_context m_io;
    SQLite::Database m_db;
    int m_sqlite_commits = 0;
    std::vector<std::string> m_outcomes;
};

TEST_F(SharedCommitTest, WritesReadyInTheSameTurnsShareOneCommitAndResumeAfterIt) {
    auto shared = make();
    for (const std::string n : {"a", "b", "c"}) writer(*shared, n, [this, n] { insert(n); });
    m_io.run();
    EXPECT_EQ(rows(), (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_EQ(m_sqlite_commits, 1);
    EXPECT_EQ(shared->commits(), 1);
    // Each resumed after the commit: all three rows were there.
    EXPECT_EQ(m_outcomes, (std::vector<std::string>{"a: ok (3 rows)", "b: ok (3 rows)", "c: ok (3 rows)"}));
}

TEST_F(SharedCommitTest, AWriteThatThrowsIsRolledBackAloneAndOnlyItsCallerSeesTheError) {
    auto shared = make();
    writer(*shared, "a", [this] { insert("a"); });
    writer(*shared, "b", [this] {
        insert("b");
        throw std::runtime_error("b failed");
    });
    writer(*shared, "c", [this] { insert("c"); });
    m_io.run();
    EXPECT_EQ(rows(), (std::vector<std::string>{"a", "c"}));
    EXPECT_EQ(m_sqlite_commits, 1);
    EXPECT_EQ(m_outcomes, (std::vector<std::string>{"a: ok (2 rows)", "b: b failed (2 rows)", "c: ok (2 rows)"}));
}

TEST_F(SharedCommitTest, AFailedCommitKeepsNothingAndEveryCallerSeesWhy) {
    auto shared =
        std::make_unique<SharedCommit>(m_io.get_executor(), m_db, [this](const std::function<void()>& writes) {
            SQLite::Transaction tx(m_db);
            writes();
            throw std::runtime_error("disk full");  // the transaction rolls back
        });
    writer(*shared, "a", [this] { insert("a"); });
    writer(*shared, "b", [this] { insert("b"); });
    m_io.run();
    EXPECT_TRUE(rows().empty());
    EXPECT_EQ(shared->commits(), 0);
    EXPECT_EQ(m_outcomes, (std::vector<std::string>{"a: disk full (0 rows)", "b: disk full (0 rows)"}));
}

TEST_F(SharedCommitTest, MoreWritesThanOneCommitTakesGoInLaterTurnsInOrder) {
    auto shared = make(2);
    for (const std::string n : {"a", "b", "c", "d", "e"}) writer(*shared, n, [this, n] { insert(n); });
    m_io.run();
    EXPECT_EQ(rows(), (std::vector<std::string>{"a", "b", "c", "d", "e"}));
    EXPECT_EQ(m_sqlite_commits, 3);
    EXPECT_EQ(shared->commits(), 3);
    // Each resumed after its own commit: at least the rows committed by then
    // (callers resume one per turn, so a later commit may come first).
    std::sort(m_outcomes.begin(), m_outcomes.end());
    ASSERT_EQ(m_outcomes.size(), 5u);
    const std::vector<std::string> names{"a", "b", "c", "d", "e"};
    const std::vector<int> committed{2, 2, 4, 4, 5};
    for (size_t i = 0; i < 5; ++i) {
        int seen = 0;
        ASSERT_EQ(std::sscanf(m_outcomes[i].c_str(), "%*[a-e]: ok (%d rows)", &seen), 1) << m_outcomes[i];
        EXPECT_TRUE(m_outcomes[i].starts_with(names[i] + ": ok")) << m_outcomes[i];
        EXPECT_GE(seen, committed[i]) << m_outcomes[i];
    }
}

TEST_F(SharedCommitTest, AWriteJoinedWhileACommitRunsGoesIntoTheNextOne) {
    auto shared = make();
    writer(*shared, "a", [this, &shared] {
        insert("a");
        // Joins from inside a commit (the io thread is never re-entered).
        writer(*shared, "late", [this] { insert("late"); });
    });
    m_io.run();
    EXPECT_EQ(rows(), (std::vector<std::string>{"a", "late"}));
    EXPECT_EQ(m_sqlite_commits, 2);
    ASSERT_EQ(m_outcomes.size(), 2u);
    EXPECT_TRUE(m_outcomes[0].starts_with("a: ok")) << m_outcomes[0];
    EXPECT_EQ(m_outcomes[1], "late: ok (2 rows)");
}

TEST_F(SharedCommitTest, WritesAFewTurnsApartWithinTheWindowShareOneCommit) {
    auto shared = make();
    writer(*shared, "a", [this] { insert("a"); });
    after_turns(5, [&] { writer(*shared, "b", [this] { insert("b"); }); });
    m_io.run();
    EXPECT_EQ(rows(), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(m_sqlite_commits, 1);
    EXPECT_EQ(m_outcomes, (std::vector<std::string>{"a: ok (2 rows)", "b: ok (2 rows)"}));
}

TEST_F(SharedCommitTest, WithoutAWindowTheCommitRunsInTheNextTurn) {
    auto shared = make(SharedCommit::k_max_writes, std::chrono::microseconds(0));
    writer(*shared, "a", [this] { insert("a"); });
    after_turns(5, [&] { writer(*shared, "b", [this] { insert("b"); }); });
    m_io.run();
    EXPECT_EQ(rows(), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(m_sqlite_commits, 2);
    EXPECT_EQ(m_outcomes, (std::vector<std::string>{"a: ok (1 rows)", "b: ok (2 rows)"}));
}

TEST_F(SharedCommitTest, AFullCommitDoesNotWaitOutItsWindow) {
    auto shared = make(2, std::chrono::seconds(30));
    writer(*shared, "a", [this] { insert("a"); });
    writer(*shared, "b", [this] { insert("b"); });
    const auto t0 = std::chrono::steady_clock::now();
    m_io.run();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
    EXPECT_EQ(m_sqlite_commits, 1);
    EXPECT_EQ(m_outcomes, (std::vector<std::string>{"a: ok (2 rows)", "b: ok (2 rows)"}));
}

TEST_F(SharedCommitTest, GoneBeforeItsCommitNothingRunsAndTheCallersResumeCutShort) {
    auto shared = make();
    bool ran = false;
    writer(*shared, "a", [&] { ran = true; });
    // The writer joins and waits; the shared commit goes before its turn.
    m_io.run_one();
    shared.reset();
    m_io.run();
    EXPECT_FALSE(ran);
    EXPECT_EQ(m_sqlite_commits, 0);
    EXPECT_EQ(m_outcomes, (std::vector<std::string>{"a: cut short (0 rows)"}));
}

}  // namespace
}  // namespace fitbridge::engine
