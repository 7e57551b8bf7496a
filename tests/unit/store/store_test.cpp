#include "store/store.hpp"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>

#include "support/temp_dir.hpp"

namespace fitbridge::store {
namespace {

class StoreTest : public ::testing::Test {
protected:
    test::TempDir m_dir{"store"};
};

bool has_table(SQLite::Database& db, const std::string& name) {
    SQLite::Statement q(db, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name=?");
    q.bind(1, name);
    q.executeStep();
    return q.getColumn(0).getInt() == 1;
}

// How SQLite would run `sql`: the detail column of EXPLAIN QUERY PLAN.
std::string query_plan(SQLite::Database& db, const std::string& sql) {
    SQLite::Statement q(db, "EXPLAIN QUERY PLAN " + sql);
    std::string plan;
    while (q.executeStep()) plan += q.getColumn(3).getString() + "\n";
    return plan;
}

TEST_F(StoreTest, LinksAreFoundByContentThroughAnIndexNotAScan) {
    // Every ingest asks whether its content is linked already: a scan of
    // links made each ingest slower as the history grew.
    auto s = Store::open(m_dir / "state.db");
    ASSERT_TRUE(s.ok()) << s.error().message;
    EXPECT_EQ(query_plan((*s)->db(), "SELECT activity_id FROM links WHERE content_sha256 = 'x'"),
              "SEARCH links USING INDEX links_content (content_sha256=?)\n");
}

// Bytes of page cache a connection holds.
int cache_used(SQLite::Database& db) {
    int current = 0, high = 0;
    sqlite3_db_status(db.getHandle(), SQLITE_DBSTATUS_CACHE_USED, &current, &high, 0);
    return current;
}

// What an idle daemon gives back: the pages a scan left in each connection's
// cache, the writer's and the API reader's.
TEST_F(StoreTest, ReleaseMemoryEmptiesThePageCachesOfTheWriterAndTheReader) {
    auto s = Store::open(m_dir / "state.db");
    ASSERT_TRUE(s) << s.error().message;
    auto& db = (*s)->db();
    db.exec("CREATE TABLE blobs (id INTEGER PRIMARY KEY, data TEXT NOT NULL)");
    {
        SQLite::Transaction tx(db);
        SQLite::Statement ins(db, "INSERT INTO blobs(data) VALUES (?)");
        const std::string kib(1024, 'x');
        for (int i = 0; i < 1500; ++i) {
            ins.bind(1, kib);
            ins.exec();
            ins.reset();
        }
        tx.commit();
    }
    auto scan = [](SQLite::Database& c) {
        SQLite::Statement q(c, "SELECT sum(length(data)) FROM blobs");
        q.executeStep();
        return q.getColumn(0).getInt64();
    };
    EXPECT_EQ(scan(db), 1500 * 1024);
    EXPECT_EQ((*s)->read(scan), 1500 * 1024);
    EXPECT_GT(cache_used(db), 1 << 20);  // 1.5 MiB of rows went through it
    EXPECT_GT((*s)->read(cache_used), 1 << 20);
    (*s)->release_memory();
    EXPECT_LT(cache_used(db), 64 << 10);
    EXPECT_LT((*s)->read(cache_used), 64 << 10);
    // Nothing lost: the next read finds every row again.
    EXPECT_EQ(scan(db), 1500 * 1024);
}

TEST_F(StoreTest, FromEmptyAppliesEveryMigrationOnce) {
    auto s = Store::open(m_dir / "state.db");
    ASSERT_TRUE(s.ok()) << s.error().message;
    EXPECT_EQ((*s)->schema_version(), migrations().back().version);
    for (auto t : {"accounts", "credentials", "cursors", "jobs", "activities", "links", "deliveries"})
        EXPECT_TRUE(has_table((*s)->db(), t)) << t;
    {
        SQLite::Statement fk((*s)->db(), "PRAGMA foreign_keys");
        fk.executeStep();
        EXPECT_EQ(fk.getColumn(0).getInt(), 1);
        SQLite::Statement jm((*s)->db(), "PRAGMA journal_mode");
        jm.executeStep();
        EXPECT_EQ(jm.getColumn(0).getString(), "wal");
    }
    s->reset();
    // Reopening applies nothing new.
    auto again = Store::open(m_dir / "state.db");
    ASSERT_TRUE(again.ok());
    SQLite::Statement n((*again)->db(), "SELECT count(*) FROM schema_migrations");
    n.executeStep();
    EXPECT_EQ(n.getColumn(0).getInt(), static_cast<int>(migrations().size()));
}

TEST_F(StoreTest, FileIsPrivate) {
    ::umask(022);
    auto s = Store::open(m_dir / "state.db");
    ASSERT_TRUE(s.ok());
    struct stat st {};
    ASSERT_EQ(::stat((m_dir / "state.db").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(StoreTest, FromEachPreviousVersion) {
    // Open with every prefix of the migration list, then with all of them.
    auto all = migrations();
    for (size_t upto = 1; upto <= all.size(); ++upto) {
        std::filesystem::remove_all(m_dir.path());
        {
            auto s = Store::open(m_dir / "state.db", all.subspan(0, upto));
            ASSERT_TRUE(s.ok());
            EXPECT_EQ((*s)->schema_version(), all[upto - 1].version);
        }
        auto s = Store::open(m_dir / "state.db");
        ASSERT_TRUE(s.ok()) << s.error().message;
        EXPECT_EQ((*s)->schema_version(), all.back().version);
    }
}

TEST_F(StoreTest, FailedMigrationLeavesOldSchema) {
    static constexpr std::array<Migration, 3> k_bad{{
        {1, "one", "CREATE TABLE a (x INTEGER);"},
        {2, "two", "CREATE TABLE b (y INTEGER);"},
        {3, "broken", "CREATE TABLE c (z INTEGER); INSERT INTO nowhere VALUES (1);"},
    }};
    auto s = Store::open(m_dir / "state.db", k_bad);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, "store.migration_failed");
    EXPECT_EQ(s.error().message.rfind("migration 3 (broken) failed, schema left at version 2: ", 0), 0u)
        << s.error().message;
    auto ok = Store::open(m_dir / "state.db", std::span<const Migration>(k_bad).subspan(0, 2));
    ASSERT_TRUE(ok.ok());
    EXPECT_EQ((*ok)->schema_version(), 2);
    EXPECT_TRUE(has_table((*ok)->db(), "b"));
    EXPECT_FALSE(has_table((*ok)->db(), "c"));
}

TEST_F(StoreTest, RefusesNewerSchema) {
    static constexpr std::array<Migration, 2> k_two{
        {{1, "one", "CREATE TABLE a (x);"}, {2, "two", "CREATE TABLE b (y);"}}};
    ASSERT_TRUE(Store::open(m_dir / "state.db", k_two).ok());
    auto s = Store::open(m_dir / "state.db", std::span<const Migration>(k_two).subspan(0, 1));
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, "store.schema_newer");
}

TEST_F(StoreTest, ForeignKeysAreEnforced) {
    auto s = Store::open(m_dir / "state.db");
    ASSERT_TRUE(s.ok());
    EXPECT_THROW((*s)->db().exec("INSERT INTO cursors(account_id, name, value, updated_at) VALUES ('x','c','v',0)"),
                 SQLite::Exception);
}

// Commits `n` transactions of one 64 KiB row each (16+ WAL pages each).
void commit_rows(Store& s, int n) {
    for (int i = 0; i < n; ++i) {
        SQLite::Statement ins(s.db(), "INSERT INTO big(b) VALUES (zeroblob(65536))");
        ins.exec();
    }
}

TEST_F(StoreTest, WithARunnerTheCommitHandsTheCheckpointOverInsteadOfMakingIt) {
    auto s = Store::open(m_dir / "state.db");
    ASSERT_TRUE(s.ok());
    auto& store = **s;
    store.db().exec("CREATE TABLE big(b BLOB)");
    std::vector<std::function<void()>> handed;
    store.set_checkpoint_runner([&](std::function<void()> job) { handed.push_back(std::move(job)); });
    const auto wal = m_dir / "state.db-wal";
    // Rows of ~17 pages each: a third more than the mark.
    const int past_the_mark = Store::k_checkpoint_pages * 4 / 3 / 17;
    commit_rows(store, past_the_mark);
    // One checkpoint handed over (a second waits until the first has run),
    // none made by the commits: the rows are in the WAL, not the database.
    ASSERT_EQ(handed.size(), 1u);
    EXPECT_GT(std::filesystem::file_size(wal), past_the_mark * 65536u);
    EXPECT_LT(std::filesystem::file_size(m_dir / "state.db"), 1000000u);
    handed.front()();  // the runner's thread, on a connection of its own
    EXPECT_GT(std::filesystem::file_size(m_dir / "state.db"), past_the_mark * 65536u);
    commit_rows(store, past_the_mark);
    EXPECT_EQ(handed.size(), 2u);
    // Unset: SQLite's own checkpoint in the commit again.
    store.set_checkpoint_runner(nullptr);
    handed.back()();
    commit_rows(store, 200);
    EXPECT_EQ(handed.size(), 2u);
    SQLite::Statement count(store.db(), "SELECT count(*) FROM big");
    ASSERT_TRUE(count.executeStep());
    EXPECT_EQ(count.getColumn(0).getInt(), 2 * past_the_mark + 200);
}

// In a process where a store is SQLite's first use, SQLite keeps no memory
// statistics (their process-wide mutex would be shared by the io thread and
// the checkpointer). Checked in a fresh process: other tests use SQLite first.
TEST_F(StoreTest, TheFirstStoreOfAProcessTurnsSQLitesMemoryStatisticsOff) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    const auto path = m_dir / "stats.db";
    EXPECT_EXIT(
        {
            auto s = Store::open(path);
            if (!s.ok()) std::exit(2);
            (*s)->db().exec("CREATE TABLE t (x TEXT); INSERT INTO t VALUES ('a')");
            int now = -1;
            int high = -1;
            sqlite3_status(SQLITE_STATUS_MALLOC_COUNT, &now, &high, 0);
            std::exit(now == 0 && high == 0 ? 0 : 1);
        },
        ::testing::ExitedWithCode(0), "");
}

// The reader, for the control API's thread: what is committed, at once, while
// the writer holds a transaction open.
int count_accounts(SQLite::Database& db) {
    SQLite::Statement q(db, "SELECT count(*) FROM accounts");
    q.executeStep();
    return q.getColumn(0).getInt();
}

void add_account(SQLite::Database& db, const std::string& id) {
    SQLite::Statement q(db, "INSERT INTO accounts(id, provider, state, created_at) VALUES (?, 'folder', 'ok', 0)");
    q.bind(1, id);
    q.exec();
}

TEST_F(StoreTest, TheReaderSeesWhatIsCommittedWithoutWaitingForTheWritersTransaction) {
    auto s = Store::open(m_dir / "state.db");
    ASSERT_TRUE(s.ok()) << s.error().message;
    Store& store = **s;
    add_account(store.db(), "a");
    EXPECT_EQ(store.read([](SQLite::Database& db) { return count_accounts(db); }), 1);
    {
        SQLite::Transaction t(store.db());
        add_account(store.db(), "b");
        const auto t0 = std::chrono::steady_clock::now();
        EXPECT_EQ(store.read([](SQLite::Database& db) { return count_accounts(db); }), 1);
        // Its busy timeout is a second: it did not wait for the writer.
        EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(500));
        t.commit();
    }
    EXPECT_EQ(store.read([](SQLite::Database& db) { return count_accounts(db); }), 2);
    // Read-only: a write through it fails and changes nothing.
    EXPECT_THROW(store.read([](SQLite::Database& db) { add_account(db, "c"); }), SQLite::Exception);
    EXPECT_EQ(count_accounts(store.db()), 2);
}

TEST_F(StoreTest, AnInMemoryStoresReaderIsItsOnlyConnection) {
    auto s = Store::open(":memory:");
    ASSERT_TRUE(s.ok()) << s.error().message;
    add_account((*s)->db(), "a");
    EXPECT_EQ((*s)->read([](SQLite::Database& db) { return count_accounts(db); }), 1);
}

}  // namespace
}  // namespace fitbridge::store
