#include "json/json.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include <gtest/gtest.h>

namespace fitbridge::json {
namespace {

TEST(JsonParse, MalformedTextNamesTheByteAndTheReason) {
    auto r = parse(R"({"a": 1,})");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "json.malformed");
    EXPECT_EQ(r.error().message, "malformed JSON at byte 8: Missing a name for object member.");
}

// A platform answer cannot smuggle an infinity into a distance: RapidJSON's
// default parse refuses numbers beyond double, so get_number only ever sees
// finite values.
TEST(JsonParse, ANumberBeyondDoubleIsRefusedNotInfinite) {
    auto r = parse(R"({"distance": 1e400})");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "malformed JSON at byte 13: Number too big to be stored in double.");
    EXPECT_FALSE(parse(R"({"distance": Infinity})"));
    EXPECT_FALSE(parse(R"({"distance": NaN})"));
}

TEST(JsonGet, TypedLookupsAnswerNulloptForAbsentOrWrongTypes) {
    auto doc = parse(R"({"s": "x", "i": 42, "d": 1.5, "b": true, "n": null})");
    ASSERT_TRUE(doc);
    EXPECT_EQ(get_string(*doc, "s"), "x");
    EXPECT_EQ(get_string(*doc, "i"), std::nullopt);
    EXPECT_EQ(get_int(*doc, "i"), 42);
    EXPECT_EQ(get_int(*doc, "d"), std::nullopt);
    EXPECT_EQ(get_number(*doc, "i"), 42.0);
    EXPECT_EQ(get_number(*doc, "d"), 1.5);
    EXPECT_EQ(get_number(*doc, "n"), std::nullopt);
    EXPECT_EQ(get_bool(*doc, "b"), true);
    EXPECT_EQ(get_bool(*doc, "missing"), std::nullopt);
    EXPECT_EQ(get_string((*doc)["s"], "s"), std::nullopt);  // not an object
}

TEST(JsonBuilder, FieldWritesEachKindOfValue) {
    Builder b;
    b.w.StartObject();
    b.field("s", "text");
    b.field("sv", std::string_view("view"));
    b.field("str", std::string("owned"));
    b.field("opt_s", std::optional<std::string>{});
    b.field("opt_d", std::optional<double>{2.5});
    b.field("int", int64_t{-7});
    b.field("size", size_t{12});
    b.field("whole", 3.0);
    b.field("frac", 0.25);
    b.field("inf", std::numeric_limits<double>::infinity());
    b.field("flag", false);
    b.w.EndObject();
    EXPECT_EQ(b.str(), R"({"s":"text","sv":"view","str":"owned","opt_s":null,"opt_d":2.5,"int":-7,"size":12,"whole":3,)"
                       R"("frac":0.25,"inf":null,"flag":false})");
}

TEST(JsonQuote, EscapesQuotesBackslashesAndControls) { EXPECT_EQ(quote("a\"b\\c\n"), R"("a\"b\\c\n")"); }

}  // namespace
}  // namespace fitbridge::json
