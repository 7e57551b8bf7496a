// The kit's URL templates (files a platform keeps in a storage bucket) and
// date windows (list calls taking a first and a last day, with a longest span).

#include <gtest/gtest.h>

#include "providers/kit/date_windows.hpp"
#include "providers/kit/url_template.hpp"

namespace fitbridge::providers::kit {
namespace {

TEST(UrlTemplate, FillsEncodesAndRefuses) {
    auto url = fill_url_template("https://{bucket}.s3.amazonaws.com/{key}",
                                 {{"bucket", "s3-fit-prd"}, {"key", "prod/123/a b+c.fit"}}, "x.files_url");
    ASSERT_TRUE(url) << url.error().message;
    EXPECT_EQ(*url, "https://s3-fit-prd.s3.amazonaws.com/prod/123/a%20b%2Bc.fit");
    auto missing = fill_url_template("https://{bucket}.s3.amazonaws.com/{key}", {{"key", "k"}}, "x.files_url");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, "x.files_url");
    EXPECT_EQ(missing.error().message, "no bucket to put in https://{bucket}.s3.amazonaws.com/{key}");
    auto climbing = fill_url_template("http://h/{key}", {{"key", "../etc/passwd"}}, "x");
    ASSERT_FALSE(climbing);
    EXPECT_EQ(climbing.error().message, "refusing the key '../etc/passwd' (it climbs up)");
    EXPECT_FALSE(fill_url_template("{key}", {{"key", "k"}}, "x"));
    EXPECT_EQ(template_names("https://{bucket}.x/{key}"), (std::vector<std::string>{"bucket", "key"}));
}

TEST(DateWindows, NewestFirstAndNeverLongerThanAllowed) {
    // 2025-01-01T00:00Z .. 2025-04-15T12:00Z: 105 days in windows of 90.
    auto w = date_windows(1735689600, 1744718400, 90);
    ASSERT_EQ(w.size(), 2u);
    EXPECT_EQ(w[0].first, "2025-01-16");
    EXPECT_EQ(w[0].last, "2025-04-15");
    EXPECT_EQ(w[1].first, "2025-01-01");
    EXPECT_EQ(w[1].last, "2025-01-15");
    // An exclusive midnight end does not add its day; padding widens both sides.
    auto day = date_windows(1735689600, 1735776000, 90);
    ASSERT_EQ(day.size(), 1u);
    EXPECT_EQ(day[0].first, "2025-01-01");
    EXPECT_EQ(day[0].last, "2025-01-01");
    auto padded = date_windows(1735689600, 1735776000, 90, 1);
    EXPECT_EQ(padded[0].first, "2024-12-31");
    EXPECT_EQ(padded[0].last, "2025-01-02");
    EXPECT_TRUE(date_windows(10, 10, 90).empty());
    EXPECT_EQ(utc_day(951782400), "2000-02-29");
}

}  // namespace
}  // namespace fitbridge::providers::kit
