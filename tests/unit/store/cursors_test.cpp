#include "store/cursors.hpp"

#include <SQLiteCpp/Statement.h>
#include <gtest/gtest.h>

#include "store/store.hpp"

namespace fitbridge::store {
namespace {

TEST(CursorStoreTest, SqliteKeepsOneValuePerAccountAndName) {
    auto s = Store::open(":memory:");
    ASSERT_TRUE(s.ok()) << s.error().message;
    (*s)->db().exec("INSERT INTO accounts (id, provider, created_at) VALUES ('a', 'x', 0), ('b', 'x', 0)");
    ManualClock clock{SysTime(std::chrono::seconds(1700000000))};
    SqliteCursorStore cursors(**s, clock);
    EXPECT_EQ(cursors.load("a", "watermark").value(), std::nullopt);
    ASSERT_TRUE(cursors.save("a", "watermark", "100"));
    ASSERT_TRUE(cursors.save("a", "page", "tok-1"));
    ASSERT_TRUE(cursors.save("b", "watermark", "7"));
    ASSERT_TRUE(cursors.save("a", "watermark", "200"));
    EXPECT_EQ(cursors.load("a", "watermark").value(), "200");
    EXPECT_EQ(cursors.load("a", "page").value(), "tok-1");
    EXPECT_EQ(cursors.load("b", "watermark").value(), "7");
    SQLite::Statement q((*s)->db(), "SELECT updated_at FROM cursors WHERE account_id = 'a' AND name = 'watermark'");
    ASSERT_TRUE(q.executeStep());
    EXPECT_EQ(q.getColumn(0).getDouble(), 1700000000.0);

    // An account the store does not know is refused (the table references accounts).
    auto orphan = cursors.save("nobody", "watermark", "1");
    ASSERT_FALSE(orphan);
    EXPECT_EQ(orphan.error().code, "store.cursor");
}

TEST(CursorStoreTest, MemoryStoreBehavesTheSame) {
    MemoryCursorStore cursors;
    EXPECT_EQ(cursors.load("a", "w").value(), std::nullopt);
    ASSERT_TRUE(cursors.save("a", "w", "1"));
    ASSERT_TRUE(cursors.save("a", "w", "2"));
    EXPECT_EQ(cursors.load("a", "w").value(), "2");
    EXPECT_EQ(cursors.load("b", "w").value(), std::nullopt);
}

}  // namespace
}  // namespace fitbridge::store
