#include "config/config.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "support/temp_dir.hpp"

namespace fitbridge::config {
namespace {

std::string parse_error(std::string_view yaml) {
    auto r = parse(yaml, "test.yaml");
    EXPECT_FALSE(r.ok()) << yaml;
    return r.ok() ? std::string() : r.error().message;
}

TEST(Config, EmptyDocumentGivesDefaults) {
    auto c = parse("", "test.yaml");
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->api.listen, "127.0.0.1:8787");
    EXPECT_EQ(c->api.max_body_bytes, 1 << 20);
    EXPECT_EQ(c->sync.match_tolerance_s, 300);
    EXPECT_EQ(c->log_level, "info");
    EXPECT_TRUE(c->accounts.empty());
}

TEST(Config, ParsesEveryKind) {
    auto c = parse(R"(log_level: debug
api:
  listen: "[::1]:9000"
  allowed_hosts: [fitbridge.lan, nas.local]
  max_body_bytes: 4096
  idle_timeout: 2m
sync:
  match_tolerance: 10m
  match_duration_ratio: 0.1
accounts:
  - id: zwift
    provider: folder
    preset: zwift
    poll_interval: 1h
  - id: icu
    provider: intervals_icu
    api_key_file: icu.key
    enabled: false
    tags: [a, b]
routes:
  - id: zwift-to-icu
    from: zwift
    to: [icu]
    since: 2019-01-01
    sports: [ride]
)",
                   "test.yaml");
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->log_level, "debug");
    EXPECT_EQ(c->api.listen, "[::1]:9000");
    EXPECT_EQ(c->api.allowed_hosts, (std::vector<std::string>{"fitbridge.lan", "nas.local"}));
    EXPECT_EQ(c->api.max_body_bytes, 4096);
    EXPECT_EQ(c->api.idle_timeout_s, 120);
    EXPECT_EQ(c->sync.match_tolerance_s, 600);
    EXPECT_DOUBLE_EQ(c->sync.match_duration_ratio, 0.1);
    ASSERT_EQ(c->accounts.size(), 2u);
    EXPECT_EQ(c->accounts[0].id, "zwift");
    EXPECT_EQ(c->accounts[0].provider, "folder");
    EXPECT_EQ(c->accounts[0].poll_interval_s, 3600);
    EXPECT_EQ(c->accounts[0].options.at("preset"), "zwift");
    EXPECT_EQ(c->accounts[0].line, 11);
    EXPECT_FALSE(c->accounts[1].enabled);
    EXPECT_EQ(c->accounts[1].options.at("api_key_file"), "icu.key");
    EXPECT_EQ(c->accounts[1].list_options.at("tags"), (std::vector<std::string>{"a", "b"}));
    ASSERT_EQ(c->routes.size(), 1u);
    EXPECT_EQ(c->routes[0].from, (std::vector<std::string>{"zwift"}));
    EXPECT_EQ(c->routes[0].to, (std::vector<std::string>{"icu"}));
    EXPECT_EQ(c->routes[0].since, "2019-01-01");
    EXPECT_EQ(c->routes[0].sports, (std::vector<std::string>{"ride"}));
}

TEST(Config, UnknownKeyNamesKeyLineAndColumn) {
    EXPECT_EQ(parse_error("api:\n  listen: 127.0.0.1:1\n  lisen: x\n"), "test.yaml:3:3: api.lisen: unknown key");
    EXPECT_EQ(parse_error("colour: blue\n"), "test.yaml:1:1: colour: unknown key");
}

TEST(Config, WrongTypesAndBadValues) {
    EXPECT_EQ(parse_error("api:\n  listen: [a, b]\n"),
              "test.yaml:2:11: api.listen: expected a single value, got a sequence");
    EXPECT_EQ(parse_error("api:\n  max_body_bytes: lots\n"),
              "test.yaml:2:19: api.max_body_bytes: expected an integer, got 'lots'");
    EXPECT_EQ(parse_error("api:\n  listen: localhost:99999\n"), "test.yaml:2:11: api.listen: bad port '99999'");
    EXPECT_EQ(parse_error("log_level: loud\n"), "test.yaml:1:12: log_level: must be one of debug, info, warn, error");
    EXPECT_EQ(parse_error("sync:\n  match_tolerance: 5 minutes\n"),
              "test.yaml:2:20: sync.match_tolerance: bad duration '5 minutes' (use 30s, 15m, 2h, 1d)");
    EXPECT_EQ(parse_error("api: 3\n"), "test.yaml:1:6: api: expected a mapping, got a scalar");
}

TEST(Config, AccountAndRouteRules) {
    EXPECT_EQ(parse_error("accounts:\n  - provider: folder\n"),
              "test.yaml:2:5: accounts[0].id: required key is missing");
    EXPECT_EQ(parse_error("accounts:\n  - id: Bad Id\n    provider: folder\n"),
              "test.yaml:2:9: accounts[0].id: must be 1-64 characters of a-z, 0-9, '-' and '_'");
    EXPECT_EQ(parse_error("accounts:\n  - id: a\n    provider: x\n  - id: a\n    provider: y\n"),
              "test.yaml:4:9: accounts[1].id: duplicate account id 'a'");
    EXPECT_EQ(parse_error("accounts:\n  - id: a\n    provider: x\n    api_key: hunter2\n"),
              "test.yaml:4:5: accounts[0].api_key: secrets are not written inline; put it in a file and use "
              "api_key_file");
    EXPECT_EQ(parse_error("accounts:\n  - id: a\n    provider: x\nroutes:\n  - id: r\n    from: a\n    to: b\n"),
              "test.yaml:7:9: routes[0].to: unknown account 'b'");
    EXPECT_EQ(parse_error("accounts:\n  - id: a\n    provider: x\nroutes:\n  - id: r\n    from: a\n    to: a\n    "
                          "since: last year\n"),
              "test.yaml:8:12: routes[0].since: expected a date like 2019-01-01");
    EXPECT_EQ(parse_error("accounts:\n  - id: a\n    provider: x\nroutes:\n  - id: r\n    from: a\n    to: a\n    "
                          "sports: [cycling]\n"),
              "test.yaml:8:13: routes[0].sports: unknown sport family 'cycling' (ride, run, swim, walk, hike, row, "
              "ski, strength, yoga, other)");
}

TEST(Config, NestedAccountOptionsAreFlattenedWithTheirPositions) {
    const std::string yaml =
        "accounts:\n"
        "  - id: acme\n"
        "    provider: rest\n"
        "    base_url: https://api.acme.example\n"
        "    list: {path: /runs, page: \"\"}\n"
        "    fields:\n"
        "      distance_unit: km\n"
        "      more: {deep: x}\n"
        "    tags: [a, b]\n";
    auto c = parse(yaml, "test.yaml");
    ASSERT_TRUE(c) << c.error().message;
    const auto& a = c->accounts.at(0);
    EXPECT_EQ(a.options, (std::map<std::string, std::string>{{"base_url", "https://api.acme.example"},
                                                             {"list.path", "/runs"},
                                                             {"list.page", ""},
                                                             {"fields.distance_unit", "km"},
                                                             {"fields.more.deep", "x"}}));
    EXPECT_EQ(a.list_options.at("tags"), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(a.option_marks.at("base_url").line, 4);
    EXPECT_EQ(a.option_marks.at("base_url").column, 5);
    EXPECT_EQ(a.option_marks.at("list.page").line, 5);
    EXPECT_EQ(a.option_marks.at("list.page").column, 25);
    EXPECT_EQ(a.option_marks.at("fields.distance_unit").line, 7);
    EXPECT_EQ(a.option_marks.at("fields.distance_unit").column, 7);
    EXPECT_EQ(a.option_marks.at("tags").line, 9);
    EXPECT_FALSE(a.option_marks.contains("list"));

    EXPECT_EQ(parse_error("accounts:\n  - id: a\n    provider: rest\n    oauth: {client_secret: x}\n"),
              "test.yaml:4:13: accounts[0].oauth.client_secret: secrets are not written inline; put it in a file and "
              "use client_secret_file");
    EXPECT_EQ(parse_error("accounts:\n  - id: a\n    provider: rest\n    list: {path: [{a: b}]}\n"),
              "test.yaml:4:19: accounts[0].list.path: expected a list of strings");
    EXPECT_EQ(parse_error("accounts:\n  - id: a\n    provider: rest\n    list:\n"),
              "test.yaml:4:5: accounts[0].list: expected a value, a list or a mapping, got null");
}

TEST(Config, NameAuthorityMustBeAnAccount) {
    EXPECT_EQ(parse_error("sync:\n  name_authority: icu\n"),
              "test.yaml:2:19: sync.name_authority: unknown account 'icu'");
    auto c = parse("sync:\n  name_authority: icu\naccounts:\n  - id: icu\n    provider: x\n", "test.yaml");
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->sync.name_authority, "icu");
}

TEST(Config, SyntaxErrorHasPosition) {
    EXPECT_EQ(parse_error("api:\n  allowed_hosts: [a, b\n"),
              "test.yaml:3:1: YAML syntax error: end of sequence flow not found");
}

TEST(Config, DumpNeverShowsSecretsAndRoundTrips) {
    auto c =
        parse("accounts:\n  - id: icu\n    provider: intervals_icu\n    api_key_file: /run/keys/icu\n", "test.yaml");
    ASSERT_TRUE(c.ok());
    // Inject a secret the parser would refuse, to prove the dump redacts anyway.
    c->accounts[0].options["password"] = "hunter2";
    auto json = to_json(*c);
    EXPECT_EQ(json.find("hunter2"), std::string::npos);
    EXPECT_NE(json.find("\"password\":\"<redacted>\""), std::string::npos);
    EXPECT_NE(json.find("\"api_key_file\":\"/run/keys/icu\""), std::string::npos);
    auto yaml = to_yaml(*c);
    EXPECT_EQ(yaml.find("hunter2"), std::string::npos);
    // The YAML dump (minus the injected secret) parses back to the same config.
    c->accounts[0].options.erase("password");
    auto again = parse(to_yaml(*c), "dump.yaml");
    ASSERT_TRUE(again.ok()) << again.error().message;
    EXPECT_EQ(to_json(*again), to_json(*c));
}

TEST(Config, SecretsResolveUnderCredentialsDirectory) {
    test::TempDir dir("cred");
    test::write_text(dir / "icu.key", "s3cret\n");
    Config c;
    ::setenv("CREDENTIALS_DIRECTORY", dir.path().c_str(), 1);
    auto s = read_secret("icu.key", c);
    ::unsetenv("CREDENTIALS_DIRECTORY");
    ASSERT_TRUE(s.ok()) << s.error().message;
    EXPECT_EQ(*s, "s3cret");
    auto missing = read_secret((dir / "nope").string(), c);
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().cls, ErrorClass::auth);
}

TEST(Config, ExampleFileIsValid) {
    auto c = load(std::filesystem::path(FITBRIDGE_SOURCE_DIR) / "config" / "fitbridge.example.yaml");
    ASSERT_TRUE(c.ok()) << c.error().message;
}

TEST(Config, TextMustBeUtf8WithoutControlCharacters) {
    auto c = parse(std::string("api:\n  listen: 'unix:/a\0b'\n", 27), "t.yaml");
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().message, "t.yaml:2:19: control character 0x00 in the text");
    c = parse("log_level: debug\napi: {listen: \"127.0.0.1:80\xff\"}\n", "t.yaml");
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().message, "t.yaml:2:28: not UTF-8 text (byte 0xff)");
    c = parse("log_level: \"\xe0\x8d\x8b\"\n", "t.yaml");  // an overlong form of U+034B
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().message, "t.yaml:1:13: not UTF-8 text (byte 0xe0)");
    EXPECT_TRUE(parse("api:\t{listen: 'unix:/caf\xc3\xa9.sock'}\r\n", "t.yaml").ok());
}

TEST(Config, DumpKeepsEscapedControlCharacters) {
    auto c = parse("api:\n  listen: \"unix:/a\\0b\"\n", "t.yaml");
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->api.listen, std::string("unix:/a\0b", 9));
    auto again = parse(to_yaml(*c), "dump.yaml");
    ASSERT_TRUE(again.ok()) << again.error().message;
    EXPECT_EQ(again->api.listen, c->api.listen);
    EXPECT_EQ(to_json(*again), to_json(*c));
}

}  // namespace
TEST(Config, DumpKeepsCarriageReturnsAndBlanksInOptions) {
    // Found by config_fuzz: a carriage return at the end of an option's value
    // (and key) was dumped unquoted and read back as a line break.
    auto c = parse("accounts:\n  - {id: x, provider: folder, \"note\\r\": \"value\\r\", pad: \" both \"}\n", "t.yaml");
    ASSERT_TRUE(c.ok()) << c.error().message;
    ASSERT_EQ(c->accounts.size(), 1u);
    EXPECT_EQ(c->accounts[0].options.at("note\r"), "value\r");
    EXPECT_EQ(c->accounts[0].options.at("pad"), " both ");
    auto again = parse(to_yaml(*c), "dump.yaml");
    ASSERT_TRUE(again.ok()) << again.error().message;
    EXPECT_EQ(to_json(*again), to_json(*c));
}

}  // namespace fitbridge::config
