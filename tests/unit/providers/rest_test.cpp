// provider: rest — a platform configured by its mapping, against the
// contract's example API (tests/fakes/run rest) and the same contract under
// other names (tests/fakes/run rest_custom): the option checks and their
// positions in `fitbridge config check`, the wire format, the mapping.

#include "providers/rest/rest.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include "formats/decode.hpp"
#include "json/json.hpp"
#include "net/oauth.hpp"
#include "provider_test_util.hpp"
#include "providers/kit/mapping.hpp"
#include "support/fake_server.hpp"

namespace fitbridge::providers::rest {
namespace {

namespace fs = std::filesystem;
using Options = std::map<std::string, std::string>;
using fitbridge::test::FakeServer;

config::AccountConfig account(Options options) {
    config::AccountConfig a;
    a.id = "acme";
    a.provider = "rest";
    a.options = std::move(options);
    return a;
}

std::string error_of(Options options) {
    if (!options.contains("base_url")) options["base_url"] = "https://api.acme.example";
    if (!options.contains("api_key_file") && !options.contains("client_id")) options["api_key_file"] = "acme.key";
    auto r = factory().validate(account(std::move(options)));
    return r ? "ok" : r.error().message;
}

TEST(RestOptions, TwoLinesAreAValidAccount) {
    EXPECT_EQ(error_of({}), "ok");
    auto r = factory().validate(account({{"api_key_file", "acme.key"}}));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message,
              "base_url: required (the address of the platform's API, e.g. https://api.example.com)");
}

TEST(RestOptions, PathsOfOneActivityNeedTheId) {
    EXPECT_EQ(error_of({{"get.path", "/activities/one"}}),
              "get.path: '/activities/one' has no {id} (where the activity's id goes)");
    EXPECT_EQ(error_of({{"update.path", "/activities"}}),
              "update.path: '/activities' has no {id} (where the activity's id goes)");
    EXPECT_EQ(error_of({{"file.path", "/files"}}), "file.path: '/files' has no {id} (where the activity's id goes)");
    EXPECT_EQ(error_of({{"file.path", ""}}), "ok");
    EXPECT_EQ(error_of({{"file.path", "/activities/{id}/file"}}), "ok");
    EXPECT_EQ(error_of({{"get.path", ""}}), "get.path: must not be empty");
    EXPECT_EQ(error_of({{"list.path", "activities"}}), "list.path: expected a path starting with /, got 'activities'");
}

TEST(RestOptions, UnknownKeysNameWhatTheirMapTakes) {
    EXPECT_EQ(error_of({{"list.pth", "/x"}}),
              "unknown option 'list.pth' (list takes path, after, before, time, page, per_page, page_size, "
              "first_page, items)");
    EXPECT_EQ(error_of({{"gear_update.name", "x"}}), "unknown option 'gear_update.name' (gear_update takes field)");
    EXPECT_EQ(error_of({{"lists.path", "/x"}}), "unknown option 'lists.path'");
}

TEST(RestOptions, WordsAndNumbers) {
    EXPECT_EQ(error_of({{"list.time", "unix"}}), "list.time: expected epoch or iso8601, got 'unix'");
    EXPECT_EQ(error_of({{"fields.distance_unit", "yd"}}), "fields.distance_unit: expected m or km or mi, got 'yd'");
    EXPECT_EQ(error_of({{"create.body", "xml"}}), "create.body: expected json or multipart, got 'xml'");
    EXPECT_EQ(error_of({{"update.method", "patch"}}), "update.method: expected PATCH or PUT or POST, got 'patch'");
    EXPECT_EQ(error_of({{"list.first_page", "2"}}), "list.first_page: expected a whole number 0..1, got '2'");
    EXPECT_EQ(error_of({{"fields.id", ""}}), "fields.id: must not be empty");
    EXPECT_EQ(error_of({{"fields.sport", ""}}), "ok");  // no sport field
}

TEST(RestOptions, OAuthEndpointsAreTheAccounts) {
    EXPECT_EQ(error_of({{"client_id", "fb"}, {"client_secret_file", "s"}}),
              "oauth.authorize_url: required with client_id (the platform's OAuth endpoints)");
    EXPECT_EQ(error_of({{"client_id", "fb"},
                        {"client_secret_file", "s"},
                        {"oauth.authorize_url", "https://acme.example/oauth/authorize"}}),
              "oauth.token_url: required with client_id (the platform's OAuth endpoints)");
    test::TempDir dir;
    test::write_text(dir / "s", "the-secret\n");
    auto a = account({{"base_url", "https://api.acme.example"},
                      {"client_id", "fb"},
                      {"client_secret_file", (dir / "s").string()},
                      {"oauth.authorize_url", "https://acme.example/oauth/authorize"},
                      {"oauth.token_url", "https://acme.example/oauth/token/"},
                      {"oauth.scope", "activities:write"}});
    ASSERT_NE(factory().oauth, nullptr);
    auto e = factory().oauth(a, config::Config{});
    ASSERT_TRUE(e) << e.error().message;
    EXPECT_EQ(e->authorize_url, "https://acme.example/oauth/authorize");
    EXPECT_EQ(e->token_url, "https://acme.example/oauth/token");
    EXPECT_EQ(e->client_id, "fb");
    EXPECT_EQ(e->client_secret, "the-secret");
    EXPECT_EQ(e->scope, "activities:write");
}

TEST(RestOptions, ConfigCheckPointsAtTheOption) {
    const std::string yaml =
        "accounts:\n"
        "  - id: acme\n"
        "    provider: rest\n"
        "    base_url: https://api.acme.example\n"
        "    api_key_file: acme.key\n"
        "    get: {path: /activities/one}\n"
        "    list:\n"
        "      pth: /runs\n";
    auto c = config::parse(yaml, "fitbridge.yaml");
    ASSERT_TRUE(c) << c.error().message;
    c->source = "fitbridge.yaml";
    auto r = validate_accounts(*c);
    ASSERT_FALSE(r);
    // Options are checked in key order: get.path before list.pth.
    EXPECT_EQ(r.error().message,
              "fitbridge.yaml:6:11: accounts 'acme': get.path: '/activities/one' has no {id} (where the activity's "
              "id goes)");
    c->accounts[0].options["get.path"] = "/activities/{id}";
    EXPECT_EQ(validate_accounts(*c).error().message,
              "fitbridge.yaml:8:7: accounts 'acme': unknown option 'list.pth' (list takes path, after, before, time, "
              "page, per_page, page_size, first_page, items)");
}

// ---- against the fakes --------------------------------------------------------

class RestFake : public ::testing::Test {
protected:
    std::unique_ptr<Provider> make(const FakeServer& fake, Options extra = {}) {
        test::write_text(m_dir / "key", "test-api-key\n");
        Options o{{"base_url", fake.base()}, {"api_key_file", (m_dir / "key").string()}};
        for (auto& [k, v] : extra) o[k] = v;
        m_http = factory().make_http(m_io.get_executor());
        Context ctx{.executor = m_io.get_executor(), .state_dir = m_dir.path(), .config = &m_config, .http = m_http};
        auto p = factory().create(account(o), ctx);
        if (!p) throw std::runtime_error(p.error().message);
        return std::move(*p);
    }
    template <typename T>
    Result<T> run(Task<T> task) {
        std::optional<Result<T>> out;
        bool done = false;
        auto wrapper = [&]() -> boost::asio::awaitable<void> { out.emplace(co_await std::move(task)); };
        boost::asio::co_spawn(m_io, wrapper(), [&](std::exception_ptr) { done = true; });
        m_io.restart();
        while (!done && m_io.run_one() > 0) {
        }
        return std::move(*out);
    }
    // The fake's log entries for `method` on paths starting with `prefix`.
    static std::vector<std::pair<std::string, std::string>> sent(const FakeServer& fake, const std::string& method,
                                                                 const std::string& prefix) {
        std::vector<std::pair<std::string, std::string>> out;  // (query, body)
        auto log = fake.get_json("/_fake/requests");
        for (const auto& r : log.GetArray())
            if (r["method"].GetString() == method && std::string_view(r["path"].GetString()).starts_with(prefix))
                out.emplace_back(r["query"].GetString(), r["body"].IsString() ? r["body"].GetString() : "");
        return out;
    }

    test::TempDir m_dir;
    boost::asio::io_context m_io;
    config::Config m_config;
    std::shared_ptr<net::HttpClient> m_http;
};

TEST_F(RestFake, TheExampleApiWithTwoLines) {
    FakeServer fake("rest");
    fake.control("POST", "/_fake/activities",
                 R"({"id": "abc123", "start": 1700500000, "type": "run", "name": "Morning Run",
                     "duration": 3600, "distance_m": 9977.9328})");
    auto p = make(fake, {{"gear.path", "/gear"}});  // the contract's optional gear endpoint
    auto page = run(p->list(ListQuery{.since = 1700000000, .until = 1702000000}));
    ASSERT_TRUE(page) << page.error().message;
    ASSERT_EQ(page->items.size(), 1u);
    const auto& a = page->items[0];
    EXPECT_EQ(a.remote_id, "abc123");
    EXPECT_EQ(a.name, "Morning Run");
    EXPECT_EQ(a.start_time, 1700500000.0);
    EXPECT_EQ(a.elapsed_s, 3600.0);
    ASSERT_TRUE(a.distance_m);
    EXPECT_NEAR(*a.distance_m, 9977.9328, 0.01);  // 6.2 mi
    EXPECT_EQ(a.sport_family, "run");
    EXPECT_EQ(a.origin, fake.base() + "/activities/abc123");
    EXPECT_EQ(a.unavailable_reason, "the platform serves no original file");
    EXPECT_EQ(sent(fake, "GET", "/activities").at(0).first, "after=1700000000&before=1702000000");
    auto file = run(p->download(a));
    ASSERT_FALSE(file);
    EXPECT_EQ(file.error().message, "the platform serves no original file");

    ASSERT_TRUE(run(p->update_name("abc123", "Easy 10K")));
    ASSERT_TRUE(run(p->update_gear("abc123", "g1")));
    ASSERT_TRUE(run(p->update_sport("abc123", "hike")));
    const auto patches = sent(fake, "PATCH", "/activities/abc123");
    ASSERT_EQ(patches.size(), 3u);
    EXPECT_EQ(patches[0].second, R"({"name":"Easy 10K"})");
    EXPECT_EQ(patches[1].second, R"({"gear_id":"g1"})");
    EXPECT_EQ(patches[2].second, R"({"type":"hike"})");

    auto gear = run(p->list_gear());
    ASSERT_TRUE(gear) << gear.error().message;
    ASSERT_EQ(gear->size(), 2u);
    EXPECT_EQ((*gear)[0].id, "g1");
    EXPECT_EQ((*gear)[0].name, "Trek Domane");
    EXPECT_EQ(fake.violations().Size(), 0u);
}

TEST_F(RestFake, JsonCreateSendsTheSummaryInTheContractsWords) {
    FakeServer fake("rest");
    auto p = make(fake);
    const auto bytes = test::slurp(test::k_corpus / "fit/garmin-fenix2-run.fit");
    const auto summary = formats::decode(test::bytes_of(bytes));
    auto up = run(p->upload(UploadRequest{test::bytes_of(bytes), &summary, "Morning Run", "fb-1"}));
    ASSERT_TRUE(up) << up.error().message;
    EXPECT_FALSE(up->duplicate);
    EXPECT_EQ(up->remote_id, "a1");
    const auto posts = sent(fake, "POST", "/activities");
    ASSERT_EQ(posts.size(), 1u);
    auto body = json::parse(posts[0].second);
    ASSERT_TRUE(body);
    EXPECT_EQ(kit::string_at(*body, "name"), "Morning Run");
    EXPECT_EQ(kit::string_at(*body, "type"), "run");
    EXPECT_EQ(kit::number_at(*body, "start_time"), std::floor(*summary.start_time));
    EXPECT_EQ(kit::number_at(*body, "duration_seconds"), std::round(*summary.total_elapsed_time));
    ASSERT_TRUE(summary.total_distance);
    EXPECT_NEAR(*kit::number_at(*body, "distance_miles"), *summary.total_distance / 1609.344, 0.001);
    EXPECT_EQ(body->MemberCount(), 5u);
    // Already there: found by start and sport, nothing sent.
    auto again = run(p->upload(UploadRequest{test::bytes_of(bytes), &summary, "Morning Run", "fb-1"}));
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_TRUE(again->duplicate);
    EXPECT_EQ(again->remote_id, "a1");
    EXPECT_EQ(sent(fake, "POST", "/activities").size(), 1u);
}

TEST_F(RestFake, AJsonCreateTakesAnActivityKnownOnlyByItsMetadata) {
    FakeServer fake("rest");
    auto p = make(fake);
    EXPECT_TRUE(p->capabilities() & k_create_metadata);
    formats::Summary summary;  // what the engine keeps of a listing without a file
    summary.format = formats::Format::unknown;
    summary.start_time = 1736500000;
    summary.sport_family = "ride";
    summary.total_elapsed_time = 5400;
    summary.total_distance = 40233.6;
    auto up = run(p->upload(UploadRequest{{}, &summary, "Gravel loop", "fb-2"}));
    ASSERT_TRUE(up) << up.error().message;
    EXPECT_EQ(up->remote_id, "a1");
    const auto posts = sent(fake, "POST", "/activities");
    ASSERT_EQ(posts.size(), 1u);
    EXPECT_EQ(posts[0].second, R"({"name":"Gravel loop","type":"ride","start_time":1736500000,"duration_seconds":5400,)"
                               R"("distance_miles":25})");
    // A multipart create needs a file: such an account creates nothing from metadata.
    auto multipart = make(fake, {{"create.body", "multipart"}});
    EXPECT_FALSE(multipart->capabilities() & k_create_metadata);
    EXPECT_TRUE(multipart->capabilities() & k_upload);
}

TEST_F(RestFake, AnotherSchemaIsOnlyAMapping) {
    FakeServer fake("rest_custom");
    const auto bytes = test::slurp(test::k_corpus / "fit/garmin-fenix2-run.fit");
    fake.control("POST", "/_fake/activities",
                 fmt::format(R"({{"start": 1736500000, "type": "ride", "name": "Commute", "distance_m": 12500,
                                 "duration": 1800, "file_b64": "{}"}})",
                             net::base64(bytes)));
    auto p = make(fake, test::rest_custom_mapping(10));
    auto page = run(p->list(ListQuery{.since = 1736467200, .until = 1736985600}));
    ASSERT_TRUE(page) << page.error().message;
    ASSERT_EQ(page->items.size(), 1u);
    const auto& a = page->items[0];
    EXPECT_EQ(a.remote_id, "a1");
    EXPECT_EQ(a.name, "Commute");
    EXPECT_EQ(a.start_time, 1736500000.0);
    EXPECT_EQ(a.elapsed_s, 1800.0);
    EXPECT_EQ(a.distance_m, 12500.0);
    EXPECT_EQ(a.sport_family, "ride");
    EXPECT_FALSE(a.unavailable_reason);
    EXPECT_EQ(sent(fake, "GET", "/api/v2/workouts").at(0).first,
              "from=2025-01-10T00%3A00%3A00Z&to=2025-01-16T00%3A00%3A00Z&page=0&limit=10");
    auto file = run(p->download(a));
    ASSERT_TRUE(file) << file.error().message;
    EXPECT_EQ(*file, bytes);

    ASSERT_TRUE(run(p->update_description("a1", "windy")));
    EXPECT_EQ(sent(fake, "PUT", "/api/v2/workouts/a1").at(0).second, R"({"notes":"windy"})");

    const auto walk = test::slurp(test::k_corpus / "fit/garmin-fr55-coretemp-walk.fit");
    const auto summary = formats::decode(test::bytes_of(walk));
    auto up = run(p->upload(UploadRequest{test::bytes_of(walk), &summary, "Walk", "fb-2"}));
    ASSERT_TRUE(up) << up.error().message;
    EXPECT_EQ(up->remote_id, "a2");
    EXPECT_EQ(sent(fake, "POST", "/api/v2/uploads").size(), 1u);
    // The fake read the title part and the file part "file".
    auto stored = fake.get_json("/_fake/activities");
    ASSERT_EQ(stored.Size(), 2u);
    EXPECT_EQ(kit::string_at(stored, "1.name"), "Walk");
    EXPECT_EQ(kit::string_at(stored, "1.type"), "walk");
    EXPECT_EQ(kit::number_at(stored, "1.start"), std::floor(*summary.start_time));
    EXPECT_TRUE(kit::json_at(stored, "1.has_file")->GetBool());
    EXPECT_EQ(fake.violations().Size(), 0u);
}

TEST_F(RestFake, AListAnswerWithoutTheArrayIsAClearError) {
    FakeServer fake("rest_custom");
    auto p = make(fake, {{"list.path", "/api/v2/workouts"},
                         {"list.after", "from"},
                         {"list.before", "to"},
                         {"list.time", "iso8601"},
                         {"list.items", "data.rows"}});
    auto page = run(p->list(ListQuery{.since = 1736467200, .until = 1736985600}));
    ASSERT_FALSE(page);
    EXPECT_EQ(page.error().message, "The REST platform answered the activity list without an array at 'data.rows'");
}

}  // namespace
}  // namespace fitbridge::providers::rest
