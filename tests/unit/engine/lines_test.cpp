// The engine's log lines: fixed fields, one line, bounded free text.

#include "engine/lines.hpp"

#include <gtest/gtest.h>

#include "core/time.hpp"

namespace fitbridge::engine {
namespace {

const double k_start = *parse_iso8601("2024-10-14T05:04:37Z");

TEST(LogLines, Ingest) {
    EXPECT_EQ(ingest_line("zwift", k_start, std::string("ride"), 42123.0, "Morning Ride", 17, "new"),
              "ingest zwift: 2024-10-14T05:04Z ride 42.1 km \"Morning Ride\" -> activity 17 (new)");
    EXPECT_EQ(ingest_line("icu", std::nullopt, std::nullopt, std::nullopt, "a \"b\"\nc", 3, "matched by time"),
              "ingest icu: - - - km \"a 'b' c\" -> activity 3 (matched by time)");
}

TEST(LogLines, ItemsDeliveriesAndSummaries) {
    EXPECT_EQ(item_line("skip", "inbox", "ab12", "not_an_activity", "a course"),
              "skip inbox item ab12: not_an_activity: a course");
    EXPECT_EQ(item_line("fail", "icu", "i9", "download_failed", ""), "fail icu item i9: download_failed");
    EXPECT_EQ(delivery_line(17, "archive", "delivered", std::string("2024/10/x.fit"), std::nullopt, std::nullopt,
                            std::nullopt),
              "deliver activity 17 -> archive: new 2024/10/x.fit");
    EXPECT_EQ(delivery_line(17, "icu", "duplicate", std::string("i55"), std::nullopt, std::nullopt, std::nullopt),
              "deliver activity 17 -> icu: duplicate i55");
    EXPECT_EQ(
        delivery_line(17, "icu", "skipped", std::nullopt, std::string("sport_filtered"), std::nullopt, std::nullopt),
        "deliver activity 17 -> icu: skipped sport_filtered");
    EXPECT_EQ(delivery_line(17, "icu", "failed", std::nullopt, std::string("sink_transient"),
                            std::string("HTTP 503\nService Unavailable"), k_start + 300),
              "deliver activity 17 -> icu: failed sink_transient: HTTP 503 Service Unavailable (retry "
              "2024-10-14T05:09Z)");
    EXPECT_EQ(summary_line("sync zwift", 12, 3, 1, 0, 2.34, std::nullopt),
              "sync zwift: listed 12, new 3, skipped 1, failed 0 in 2.3 s");
    EXPECT_EQ(summary_line("backfill job 4", 0, 0, 0, 0, 0.01, std::string("HTTP 401")),
              "backfill job 4: listed 0, new 0, skipped 0, failed 0 in 0.0 s, error: HTTP 401");
}

TEST(LogLines, FreeTextIsCutOnACharacterBoundary) {
    EXPECT_EQ(log_text("ééé", 3), "é…");  // 2 bytes each: the third byte starts no character
    EXPECT_EQ(log_text("abcdef", 4), "abcd…");
    EXPECT_EQ(log_text("tab\there", 20), "tab here");
    EXPECT_EQ(log_minute(std::nullopt), "-");
}

}  // namespace
}  // namespace fitbridge::engine
