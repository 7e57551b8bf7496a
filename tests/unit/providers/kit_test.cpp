// The platform kit's pieces on their own: option tables, credential options,
// error bodies, listing positions and page walkers, ZIP originals, uploads
// that are polled, find_existing by start, and the JSON mapping helpers.

#include <zip.h>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <deque>

#include "formats/decode.hpp"
#include "json/json.hpp"
#include "provider_test_util.hpp"
#include "providers/kit/files.hpp"
#include "providers/kit/listing.hpp"
#include "providers/kit/mapping.hpp"
#include "providers/kit/platform.hpp"
#include "providers/kit/track.hpp"
#include "providers/kit/upload.hpp"
#include "support/memory_tokens.hpp"

namespace fitbridge::providers::kit {
namespace {

using test::run;

config::AccountConfig account(std::map<std::string, std::string> options,
                              std::map<std::string, std::vector<std::string>> lists = {}) {
    config::AccountConfig a;
    a.id = "acc";
    a.provider = "demo";
    a.options = std::move(options);
    a.list_options = std::move(lists);
    return a;
}

// ---- option tables -------------------------------------------------------------

constexpr OptionSpec k_table[] = {
    {.name = "size", .type = OptionType::integer, .default_value = "10", .help = "items", .min = 1, .max = 50},
    {.name = "wait", .type = OptionType::duration, .default_value = "15m", .help = "how long", .max = 0},
    {.name = "deep", .type = OptionType::boolean, .default_value = "no", .help = "recurse"},
    {.name = "home", .type = OptionType::url, .help = "a URL"},
    {.name = "tags", .type = OptionType::list, .help = "words"},
};

std::string error_of(const config::AccountConfig& a) {
    auto r = parse_options(a, {k_table});
    return r ? std::string("ok") : r.error().message;
}

TEST(KitOptionsTest, ParsesTypesAndFillsDefaults) {
    auto r = parse_options(
        account({{"size", "42"}, {"deep", "on"}, {"home", "https://x.test//"}}, {{"tags", {"a", "b"}}}), {k_table});
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->integer("size"), 42);
    EXPECT_TRUE(r->given("size"));
    EXPECT_EQ(r->integer("wait"), 900);
    EXPECT_FALSE(r->given("wait"));
    EXPECT_TRUE(r->boolean("deep"));
    EXPECT_EQ(r->text("home"), "https://x.test");
    EXPECT_EQ(r->list("tags"), (std::vector<std::string>{"a", "b"}));
    EXPECT_FALSE(r->has("nothing"));

    EXPECT_EQ(error_of(account({{"size", "51"}})), "size: expected a whole number 1..50, got '51'");
    EXPECT_EQ(error_of(account({{"size", "x"}})), "size: expected a whole number 1..50, got 'x'");
    EXPECT_EQ(error_of(account({{"wait", "soon"}})),
              "wait: expected a duration such as 90s, 15m, 2h or 1d, got 'soon'");
    EXPECT_EQ(error_of(account({{"deep", "maybe"}})), "deep: expected true or false, got 'maybe'");
    EXPECT_EQ(error_of(account({{"home", "x.test"}})),
              "home: 'x.test' must start with https:// (or http:// for a local fake)");
    EXPECT_EQ(error_of(account({}, {{"size", {"1", "2"}}})), "size: expected one value, got a list");
    EXPECT_EQ(error_of(account({{"colour", "red"}})), "unknown option 'colour'");
    EXPECT_EQ(parse_duration_text("2h"), 7200);
    EXPECT_EQ(parse_duration_text("1d"), 86400);
    EXPECT_EQ(parse_duration_text("-1"), std::nullopt);
}

TEST(KitOptionsTest, DescribesTheTableForVersion) {
    EXPECT_EQ(describe_options(std::span(k_table).first(2), "  "),
              "  size (integer, default 10, 1..50): items\n  wait (duration, default 15m): how long\n");
}

TEST(KitOptionsTest, AFactoryListsThePlatformsOptionsThenTheKits) {
    std::vector<std::string_view> names;
    for (const auto& spec : find_factory("intervals_icu")->options) names.push_back(spec.name);
    EXPECT_EQ(names, (std::vector<std::string_view>{"athlete_id", "overlap_days", "page_size", "gear_map", "base_url",
                                                    "api_key_file", "token_file", "credentials", "client_id",
                                                    "client_secret_file", "oauth_scope"}));
}

// ---- credentials ----------------------------------------------------------------

Task<net::Credentials> demo_login(net::HttpClient& http, const LoginRequest& req, const Clock& clock);

const Platform k_demo{
    .name = "demo",
    .title = "Demo",
    .base_url = "https://api.demo.test",
    .auth_url = "https://auth.demo.test",
    .credential_modes = k_token_file | k_login | k_oauth_app | k_stored,
    .stored_kinds = "oauth2",
    .stored_kinds_help = "OAuth tokens",
    .authorize_path = "/authorize",
    .token_path = "/token",
    .oauth_scope = "read",
    .login = &demo_login,
    .statuses = {},
};

std::string settings_error(std::map<std::string, std::string> options) {
    auto r = parse_settings(k_demo, account(std::move(options)), {});
    return r ? std::string("ok") : r.error().message;
}

TEST(KitCredentialsTest, OneSetOfMessagesNamingTheOption) {
    EXPECT_EQ(settings_error({{"token_file", "t"}}), "ok");
    EXPECT_EQ(settings_error({{"username", "ann"}, {"password_file", "p"}}), "ok");
    EXPECT_EQ(settings_error({}),
              "token_file: required (a file holding an OAuth token), or username + password_file for the account's "
              "login, or client_id + client_secret_file for fitbridge auth, or credentials: stored");
    EXPECT_EQ(settings_error({{"token_file", "t"}, {"username", "ann"}, {"password_file", "p"}}),
              "token_file, username/password_file, credentials/client_id: set only one (one way to authenticate)");
    EXPECT_EQ(settings_error({{"username", "ann"}}),
              "password_file: required with username (a file holding the password)");
    EXPECT_EQ(settings_error({{"password_file", "p"}}), "username: required with password_file");
    EXPECT_EQ(settings_error({{"password_file", ""}, {"username", "a"}}), "password_file: must name a file");
    EXPECT_EQ(settings_error({{"api_key_file", "k"}}), "unknown option 'api_key_file'");
    EXPECT_EQ(settings_error({{"client_id", "c"}, {"client_secret_file", "s"}, {"oauth_scope", ""}}),
              "oauth_scope: must not be empty (e.g. read)");

    auto s = parse_settings(k_demo, account({{"client_id", "c"}, {"client_secret_file", "s"}}), {});
    ASSERT_TRUE(s);
    EXPECT_EQ(s->mode, k_oauth_app);
    EXPECT_EQ(s->base_url, "https://api.demo.test");
    EXPECT_EQ(s->auth_url, "https://auth.demo.test");
    EXPECT_EQ(s->scope, "read");

    auto accept = [](std::map<std::string, std::string> o, std::string_view kind) {
        auto r = accept_credentials(k_demo, account(std::move(o)), kind, {});
        return r ? std::string("ok") : r.error().message;
    };
    EXPECT_EQ(accept({{"credentials", "stored"}}, "oauth2"), "ok");
    EXPECT_EQ(accept({{"credentials", "stored"}}, "api_key"), "Demo takes OAuth tokens, not 'api_key'");
    EXPECT_EQ(accept({{"username", "ann"}, {"password_file", "p"}}, "oauth2"),
              "account acc reads its password from password_file: write it there, or replace that option with "
              "`credentials: stored` to keep credentials in the state store");
}

// A scripted HTTP peer: answers in order and records what was sent.
class ScriptedClient final : public net::HttpClient {
public:
    std::deque<net::HttpResponse> answers;
    std::vector<net::HttpRequest> sent;
    bool yield = false;  // let other coroutines run before answering, as a network would
    boost::asio::awaitable<Result<net::HttpResponse>> send(net::HttpRequest request) override {
        sent.push_back(request);
        if (yield) co_await boost::asio::post(co_await boost::asio::this_coro::executor, boost::asio::use_awaitable);
        if (answers.empty()) co_return Error::transient("test.empty", "no scripted answer left");
        auto r = answers.front();
        answers.pop_front();
        co_return r;
    }
    static net::HttpResponse answer(int status, std::string body, net::Headers headers = {}) {
        net::HttpResponse r;
        r.status = status;
        r.body = std::move(body);
        r.headers = std::move(headers);
        return r;
    }
};

int g_logins = 0;
Task<net::Credentials> demo_login(net::HttpClient& http, const LoginRequest& req, const Clock& clock) {
    ++g_logins;
    net::HttpRequest r;
    r.method = "POST";
    r.url = req.auth_url + "/login";
    r.body = req.username + ":" + req.password;
    auto answer = co_await http.send(r);
    if (!answer) co_return answer.error();
    if (answer->status != 200) co_return Error::auth("demo.login", "Demo refused the login");
    net::Credentials c;
    c.access_token = answer->body;
    c.expires_at = clock.now() + std::chrono::hours(1);
    co_return c;
}

TEST(KitClientTest, LoginIsKeptInTheStoreRenewedOnExpiryAndOnceAfterA401) {
    test::TempDir dir;
    test::write_text(dir / "pw", "s3cret\n");
    g_logins = 0;
    auto http = std::make_shared<ScriptedClient>();
    fitbridge::test::MemoryTokenStore tokens;
    ManualClock clock{SysTime(std::chrono::seconds(1700000000))};
    auto settings =
        parse_settings(k_demo, account({{"username", "ann"}, {"password_file", (dir / "pw").string()}}), {});
    ASSERT_TRUE(settings);
    Context ctx{.clock = &clock, .http = http, .tokens = &tokens};
    PlatformClient client(k_demo, *settings, ctx);
    EXPECT_EQ(client.credential_source().origin, "password_file");

    using A = ScriptedClient;
    http->answers = {A::answer(200, "tok-1"), A::answer(200, "[]")};
    ASSERT_TRUE(run(client.call(Call{.path = "/items", .what = "item list"})));
    EXPECT_EQ(http->sent[0].url, "https://auth.demo.test/login");
    EXPECT_EQ(http->sent[0].body, "ann:s3cret");
    EXPECT_EQ(http->sent[1].url, "https://api.demo.test/items");
    EXPECT_EQ(http->sent[1].headers.back(), (std::pair<std::string, std::string>{"Authorization", "Bearer tok-1"}));
    EXPECT_EQ(tokens.saved["acc"].access_token, "tok-1");
    EXPECT_EQ(tokens.saved["acc"].kind, "login");

    // A new client (a restart) uses the stored session without logging in.
    PlatformClient again(k_demo, *settings, ctx);
    http->answers = {A::answer(200, "[]")};
    ASSERT_TRUE(run(again.call(Call{.path = "/items", .what = "item list"})));
    EXPECT_EQ(g_logins, 1);

    // The session expires: log in again first.
    clock.advance(std::chrono::minutes(59) + std::chrono::seconds(30));
    http->answers = {A::answer(200, "tok-2"), A::answer(200, "[]")};
    ASSERT_TRUE(run(again.call(Call{.path = "/items", .what = "item list"})));
    EXPECT_EQ(g_logins, 2);

    // A 401: one new login and a resend; a second 401 is final.
    http->answers = {A::answer(401, "{}"), A::answer(200, "tok-3"), A::answer(200, "[]")};
    ASSERT_TRUE(run(again.call(Call{.path = "/items", .what = "item list"})));
    EXPECT_EQ(g_logins, 3);
    EXPECT_EQ(http->sent.back().headers.back().second, "Bearer tok-3");
    http->answers = {A::answer(401, "{}"), A::answer(200, "tok-4"), A::answer(401, "{\"message\":\"bad session\"}")};
    auto r = run(again.call(Call{.path = "/items", .what = "item list"}));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().cls, ErrorClass::auth);
    EXPECT_EQ(r.error().message,
              "Demo rejected the credentials for the item list (401 bad session); check the username and the password "
              "in password_file");
}

boost::asio::awaitable<void> call_items(PlatformClient& client, int& ok) {
    Call call{.path = "/items", .what = "item list"};
    auto r = co_await client.call(std::move(call));
    if (r) ++ok;
}

TEST(KitClientTest, ConcurrentRequestsShareOneLogin) {
    test::TempDir dir;
    test::write_text(dir / "pw", "s3cret\n");
    g_logins = 0;
    auto http = std::make_shared<ScriptedClient>();
    http->yield = true;
    fitbridge::test::MemoryTokenStore tokens;
    ManualClock clock{SysTime(std::chrono::seconds(1700000000))};
    auto settings =
        parse_settings(k_demo, account({{"username", "ann"}, {"password_file", (dir / "pw").string()}}), {});
    ASSERT_TRUE(settings);
    PlatformClient client(k_demo, *settings, Context{.clock = &clock, .http = http, .tokens = &tokens});
    http->answers = {ScriptedClient::answer(200, "tok-1"), ScriptedClient::answer(200, "[]"),
                     ScriptedClient::answer(200, "[]")};
    boost::asio::io_context io;
    int ok = 0;
    boost::asio::co_spawn(io, call_items(client, ok), boost::asio::detached);
    boost::asio::co_spawn(io, call_items(client, ok), boost::asio::detached);
    io.run();
    EXPECT_EQ(ok, 2);
    EXPECT_EQ(g_logins, 1);
    ASSERT_EQ(http->sent.size(), 3u);
    EXPECT_EQ(http->sent[2].headers.back().second, "Bearer tok-1");
}

TEST(KitClientTest, ErrorBodiesBecomeOneReadableLine) {
    EXPECT_EQ(body_message(R"({"message":"Bad Request","errors":[{"code":"invalid"}]})"), "Bad Request");
    EXPECT_EQ(body_message(R"({"errors":[{"resource":"Activity","code":"duplicate"}]})"), "duplicate");
    EXPECT_EQ(body_message(R"({"errors":["file is empty"]})"), "file is empty");
    EXPECT_EQ(body_message(R"({"error":{"message":"quota"}})"), "quota");
    EXPECT_EQ(body_message(R"({"detail":"Not found."})"), "Not found.");
    EXPECT_EQ(body_message("<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head></html>"),
              "an HTML page titled \"502 Bad Gateway\"");
    EXPECT_EQ(body_message("\n<html><body>down</body></html>"), "an HTML page");
    EXPECT_EQ(body_message("line one\nline two"), "line one line two");
    EXPECT_EQ(body_message(""), "(empty body)");
}

TEST(KitClientTest, FastApiValidationErrorsBecomeOneLine) {
    EXPECT_EQ(body_message(R"({"detail":[{"loc":["query","start"],"msg":"Input should be a valid date",)"
                           R"("type":"date_from_datetime_parsing"},{"loc":["body","files",3],"msg":"Field required",)"
                           R"("type":"missing"}]})"),
              "query.start: Input should be a valid date; body.files.3: Field required");
    EXPECT_EQ(body_message(R"({"detail":[{"loc":[],"msg":"","type":"value_error"}]})"), "value_error");
    EXPECT_EQ(body_message(R"({"detail":[]})"), R"({"detail":[]})");
}

const Platform k_adopting{.name = "adopt",
                          .title = "Adopt",
                          .base_url = "https://api.adopt.test",
                          .credential_modes = k_token_file | k_stored,
                          .refreshed_token_header = "Refreshed-Token"};

TEST(KitClientTest, ATokenHandedBackInAHeaderIsUsedFromTheNextRequestOn) {
    test::TempDir dir;
    test::write_text(dir / "tok", "from-file\n");
    auto settings = parse_settings(k_adopting, account({{"token_file", (dir / "tok").string()}}), {});
    ASSERT_TRUE(settings) << settings.error().message;
    auto http = std::make_shared<ScriptedClient>();
    PlatformClient client(k_adopting, *settings, Context{.http = http});
    using A = ScriptedClient;
    http->answers = {A::answer(200, "[]", {{"refreshed-token", "fresh-1"}}),
                     A::answer(200, "[]"),
                     A::answer(401, "{}"),
                     A::answer(200, "[]"),
                     A::answer(404, "{}", {{"refreshed-token", "nope"}}),
                     A::answer(200, "[]")};
    for (int i = 0; i < 5; ++i) (void)run(client.call(Call{.path = "/items", .what = "item list"}));
    ASSERT_EQ(http->sent.size(), 6u);
    auto auth = [&](size_t i) { return http->sent[i].headers.back().second; };
    EXPECT_EQ(auth(0), "Bearer from-file");
    EXPECT_EQ(auth(1), "Bearer fresh-1");
    EXPECT_EQ(auth(2), "Bearer fresh-1");  // refused: the account's own token again, at once
    EXPECT_EQ(auth(3), "Bearer from-file");
    EXPECT_EQ(auth(4), "Bearer from-file");
    EXPECT_EQ(auth(5), "Bearer from-file");  // only a successful answer hands over a token

    // Stored credentials keep the new token for the next start.
    fitbridge::test::MemoryTokenStore tokens;
    tokens.saved["acc"] = net::Credentials{"token", "stored-1", "", std::nullopt, ""};
    auto stored = parse_settings(k_adopting, account({{"credentials", "stored"}}), {});
    ASSERT_TRUE(stored);
    PlatformClient kept(k_adopting, *stored, Context{.http = http, .tokens = &tokens});
    http->sent.clear();
    http->answers = {A::answer(200, "[]", {{"refreshed-token", "Bearer fresh-2"}}), A::answer(200, "[]")};
    ASSERT_TRUE(run(kept.call(Call{.path = "/items", .what = "item list"})));
    ASSERT_TRUE(run(kept.call(Call{.path = "/items", .what = "item list"})));
    EXPECT_EQ(http->sent[0].headers.back().second, "Bearer stored-1");
    EXPECT_EQ(http->sent[1].headers.back().second, "Bearer fresh-2");
    EXPECT_EQ(tokens.saved["acc"].access_token, "fresh-2");
    EXPECT_EQ(tokens.saved["acc"].kind, "token");
}

std::string keyed_authorization(std::string_view token, std::string_view key) {
    return "Basic " + net::base64(std::string(key) + ":" + std::string(token));
}

// A platform whose every call carries an app key besides the user's
// credentials, with a token file of its own name (Ride with GPS).
const Platform k_keyed{.name = "keyed",
                       .title = "Keyed",
                       .base_url = "https://api.keyed.test",
                       .credential_modes = k_token_file | k_stored,
                       .stored_kinds = "token,oauth2",
                       .token_file_option = "auth_token_file",
                       .token_file_help = "the user's auth token",
                       .key_option = "api_key_file",
                       .key_option_help = "a file holding the app's API key",
                       .key_header = "x-app-key",
                       .token_file_authorization = &keyed_authorization};

TEST(KitCredentialsTest, AKeyOptionEveryAccountSetsAndATokenFileOfItsOwnName) {
    auto error = [](std::map<std::string, std::string> o) {
        auto r = parse_settings(k_keyed, account(std::move(o)), {});
        return r ? std::string("ok") : r.error().message;
    };
    EXPECT_EQ(error({{"api_key_file", "k"}, {"auth_token_file", "t"}}), "ok");
    EXPECT_EQ(error({{"api_key_file", "k"}, {"credentials", "stored"}}), "ok");
    EXPECT_EQ(error({{"auth_token_file", "t"}}), "api_key_file: required (a file holding the app's API key)");
    EXPECT_EQ(error({{"api_key_file", "k"}}),
              "auth_token_file: required (a file holding the user's auth token), or credentials: stored");
    EXPECT_EQ(error({{"api_key_file", "k"}, {"auth_token_file", "t"}, {"credentials", "stored"}}),
              "auth_token_file, credentials: set only one (one way to authenticate)");
    EXPECT_EQ(error({{"api_key_file", "k"}, {"token_file", "t"}}), "unknown option 'token_file'");
    EXPECT_EQ(error({{"api_key_file", ""}, {"auth_token_file", "t"}}), "api_key_file: must name a file");
    std::vector<std::string> names;
    for (const auto& o : common_options(k_keyed)) names.emplace_back(o.name);
    EXPECT_EQ(names, (std::vector<std::string>{"base_url", "auth_token_file", "api_key_file", "credentials"}));
}

TEST(KitClientTest, TheKeyGoesWithEveryCallAndIntoTheTokenFilesAuthorization) {
    test::TempDir dir;
    test::write_text(dir / "key", "app-key\n");
    test::write_text(dir / "tok", "user-token\n");
    auto settings = parse_settings(
        k_keyed, account({{"api_key_file", (dir / "key").string()}, {"auth_token_file", (dir / "tok").string()}}), {});
    ASSERT_TRUE(settings) << settings.error().message;
    auto http = std::make_shared<ScriptedClient>();
    PlatformClient client(k_keyed, *settings, Context{.http = http});
    using A = ScriptedClient;
    http->answers = {A::answer(200, "[]"), A::answer(401, R"({"error":"Failed to authenticate the user"})")};
    ASSERT_TRUE(run(client.call(Call{.path = "/items", .what = "item list"})));
    ASSERT_EQ(http->sent.size(), 1u);
    const auto& h = http->sent[0].headers;
    ASSERT_EQ(h.size(), 2u);
    EXPECT_EQ(h[0], (std::pair<std::string, std::string>{"x-app-key", "app-key"}));
    EXPECT_EQ(h[1].second, "Basic " + net::base64("app-key:user-token"));
    auto denied = run(client.call(Call{.path = "/items", .what = "item list"}));
    ASSERT_FALSE(denied);
    EXPECT_EQ(denied.error().cls, ErrorClass::auth);
    EXPECT_EQ(denied.error().message,
              "Keyed rejected the credentials for the item list (401 Failed to authenticate the user); check the "
              "token in auth_token_file and the key in api_key_file");
    EXPECT_EQ(client.credential_source().origin, "auth_token_file");

    // A replaced key is used at once; a missing one is an auth error before any request.
    test::write_text(dir / "key", "key-2\n");
    http->sent.clear();
    http->answers = {A::answer(200, "[]")};
    ASSERT_TRUE(run(client.call(Call{.path = "/items", .what = "item list"})));
    EXPECT_EQ(http->sent[0].headers[0].second, "key-2");
    EXPECT_EQ(http->sent[0].headers[1].second, "Basic " + net::base64("key-2:user-token"));
    std::filesystem::remove(dir / "key");
    http->sent.clear();
    auto no_key = run(client.call(Call{.path = "/items", .what = "item list"}));
    ASSERT_FALSE(no_key);
    EXPECT_EQ(no_key.error().cls, ErrorClass::auth);
    EXPECT_EQ(no_key.error().code, "keyed.credentials");
    EXPECT_TRUE(http->sent.empty());

    // Stored tokens are bearer tokens, with the key beside them.
    test::write_text(dir / "key", "app-key\n");
    fitbridge::test::MemoryTokenStore tokens;
    tokens.saved["acc"] = net::Credentials{"oauth2", "oauth-1", "", std::nullopt, ""};
    auto stored =
        parse_settings(k_keyed, account({{"api_key_file", (dir / "key").string()}, {"credentials", "stored"}}), {});
    ASSERT_TRUE(stored);
    PlatformClient kept(k_keyed, *stored, Context{.http = http, .tokens = &tokens});
    http->answers = {A::answer(200, "[]")};
    ASSERT_TRUE(run(kept.call(Call{.path = "/items", .what = "item list"})));
    EXPECT_EQ(http->sent[0].headers[0].second, "app-key");
    EXPECT_EQ(http->sent[0].headers[1].second, "Bearer oauth-1");
}

const Platform k_public{.name = "pub",
                        .title = "Pub",
                        .base_url = "https://pub.test",
                        .credential_modes = k_oauth_app | k_stored,
                        .authorize_path = "/oauth/authorize",
                        .token_path = "/api/oauth/token",
                        .oauth_scope = "activities:read",
                        .public_client = true,
                        .token_basic_auth = true};

TEST(KitCredentialsTest, APublicClientNeedsNoSecretAndAConfidentialOneUsesBasic) {
    test::TempDir dir;
    test::write_text(dir / "secret", "s3cret\n");
    auto pub = parse_settings(k_public, account({{"client_id", "fitbridge"}}), {});
    ASSERT_TRUE(pub) << pub.error().message;
    EXPECT_EQ(pub->mode, k_oauth_app);
    config::Config cfg;
    auto e = oauth_endpoints(k_public, *pub, cfg);
    ASSERT_TRUE(e) << e.error().message;
    EXPECT_EQ(e->token_url, "https://pub.test/api/oauth/token");
    EXPECT_EQ(e->client_secret, "");
    EXPECT_TRUE(e->basic_auth);
    net::HttpRequest req;
    std::vector<std::pair<std::string, std::string>> form;
    net::authenticate_client(*e, req, form);
    EXPECT_TRUE(req.headers.empty());
    EXPECT_EQ(form, (std::vector<std::pair<std::string, std::string>>{{"client_id", "fitbridge"}}));

    auto conf = parse_settings(
        k_public, account({{"client_id", "fitbridge"}, {"client_secret_file", (dir / "secret").string()}}), {});
    ASSERT_TRUE(conf) << conf.error().message;
    auto c = oauth_endpoints(k_public, *conf, cfg);
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->client_secret, "s3cret");
    net::HttpRequest basic;
    form.clear();
    net::authenticate_client(*c, basic, form);
    EXPECT_TRUE(form.empty());
    EXPECT_EQ(basic.headers, (net::Headers{{"Authorization", "Basic " + net::base64("fitbridge:s3cret")}}));
    EXPECT_EQ(parse_settings(k_public, account({}), {}).error().message,
              "client_id: required, with client_secret_file for a confidential client (fitbridge auth), or "
              "credentials: stored");
    // Without the flag a secret is still required.
    EXPECT_EQ(settings_error({{"client_id", "c"}}),
              "client_secret_file: required with client_id (the OAuth app's secret)");
}

constexpr StatusRule k_rules[] = {{409, ErrorClass::permanent, "duplicate", "the activity is there already"}};
const Platform k_ruled{.name = "ruled", .title = "Ruled", .base_url = "https://r.test", .statuses = k_rules};

TEST(KitClientTest, ThePlatformsStatusTableComesFirst) {
    auto settings = parse_settings(k_ruled, account({}), {});
    ASSERT_TRUE(settings) << settings.error().message;
    auto http = std::make_shared<ScriptedClient>();
    PlatformClient client(k_ruled, *settings, Context{.http = http});
    using A = ScriptedClient;
    http->answers = {A::answer(409, R"({"message":"exists"})"), A::answer(503, "<html><title>Down</title></html>"),
                     A::answer(200, "{not json")};
    auto dup = run(client.call(Call{.method = "POST", .path = "/up", .what = "upload"}));
    ASSERT_FALSE(dup);
    EXPECT_EQ(dup.error().code, "ruled.duplicate");
    EXPECT_EQ(dup.error().message, "Ruled answered the upload with 409 (exists): the activity is there already");
    auto down = run(client.call(Call{.path = "/x", .what = "list"}));
    ASSERT_FALSE(down);
    EXPECT_EQ(down.error().cls, ErrorClass::transient);
    EXPECT_EQ(down.error().message, "Ruled failed the list (503 an HTML page titled \"Down\")");
    auto bad = run(client.call_json(Call{.path = "/x", .what = "list"}));
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, "ruled.bad_answer");
    EXPECT_EQ(bad.error().message, "Ruled answered the list with something that is not JSON: {not json");
    EXPECT_FALSE(http->sent[0].headers.size());  // no credentials: nothing to authorise
}

// ---- listing ---------------------------------------------------------------------

TEST(KitListingTest, TheWatermarkLivesInTheCursorStore) {
    store::MemoryCursorStore cursors;
    Watermark w(&cursors, "acc");
    EXPECT_EQ(w.since(1000, 100), 900);
    w.begin();
    w.see(500);
    w.see(700);
    EXPECT_EQ(w.value(), std::nullopt);  // not until the listing is complete
    w.finish();
    EXPECT_EQ(w.value(), 700);
    EXPECT_EQ(cursors.load("acc", "watermark").value(), "700");
    w.begin();
    w.see(600);
    w.finish();  // never backwards
    EXPECT_EQ(cursors.load("acc", "watermark").value(), "700");
    Watermark restarted(&cursors, "acc");
    EXPECT_EQ(restarted.since(1000, 100), 600);
}

TEST(KitListingTest, WindowCursorsRoundTrip) {
    WindowCursor w{
        .since = 10, .until = 20.5, .incremental = true, .position = "2025-01-10T08:00:00", .seen = {"a", "b"}};
    EXPECT_EQ(w.format(), "10|21|2025-01-10T08:00:00|1|a,b");
    auto back = WindowCursor::parse(w.format());
    ASSERT_TRUE(back);
    EXPECT_EQ(back->until, 21);
    EXPECT_EQ(back->seen, (std::vector<std::string>{"a", "b"}));
    EXPECT_TRUE(back->was_seen("b"));
    EXPECT_TRUE(back->contains(10));
    EXPECT_FALSE(back->contains(21));
    EXPECT_FALSE(WindowCursor::parse("10|x|p|1|"));
    EXPECT_FALSE(WindowCursor::parse("garbage"));
}

TEST(KitListingTest, PageWalkersForEveryStyle) {
    EXPECT_EQ(page_query(Paging::offset, "", 50), "offset=0&limit=50");
    EXPECT_EQ(next_position(Paging::offset, "", 50, 50), "50");
    EXPECT_EQ(next_position(Paging::offset, "50", 50, 50), "100");
    EXPECT_EQ(next_position(Paging::offset, "100", 7, 50), std::nullopt);
    EXPECT_EQ(page_query(Paging::page0, "", 30), "page=0&per_page=30");
    EXPECT_EQ(next_position(Paging::page0, "", 30, 30), "1");
    EXPECT_EQ(page_query(Paging::page1, "", 30, {.page = "p", .per_page = "n"}), "p=1&n=30");
    EXPECT_EQ(next_position(Paging::page1, "", 30, 30), "2");
    EXPECT_EQ(next_position(Paging::page1, "2", 30, 30), "3");
    EXPECT_EQ(next_position(Paging::page1, "3", 0, 30), std::nullopt);
    EXPECT_EQ(next_position(Paging::next_link, "", 30, 30, "https://x/p2"), "https://x/p2");
    EXPECT_EQ(next_position(Paging::next_link, "https://x/p2", 30, 30, ""), std::nullopt);
    EXPECT_EQ(page_query(Paging::cursor, "abc", 10), "cursor=abc&limit=10");
    EXPECT_EQ(next_position(Paging::cursor, "abc", 10, 10, "abc"), std::nullopt);  // a stuck token ends it
}

TEST(KitListingTest, ListWindowFiltersPagesAndMovesTheWatermarkAtTheEnd) {
    store::MemoryCursorStore cursors;
    Watermark w(&cursors, "acc");
    auto activity = [](std::string id, double start) {
        RemoteActivity a;
        a.remote_id = std::move(id);
        a.start_time = start;
        return a;
    };
    std::vector<std::string> positions;
    FetchWindow fetch = [&](const WindowCursor& c) -> Task<WindowPage> {
        positions.push_back(c.position);
        WindowPage p;
        if (c.position.empty()) {
            p.items = {activity("a", 1000), activity("b", 900), activity("old", 10)};
            p.next_position = "p2";
            p.boundary_ids = {"b"};
        } else {
            p.items = {activity("b", 900), activity("c", 800)};
        }
        co_return p;
    };
    auto first = run(list_window(ListQuery{}, w, 2000, 1500, "demo", fetch));
    ASSERT_TRUE(first) << first.error().message;
    ASSERT_EQ(first->items.size(), 2u);  // "old" is before now - overlap
    ASSERT_TRUE(first->next_cursor);
    EXPECT_EQ(cursors.load("acc", "watermark").value(), std::nullopt);
    auto second = run(list_window(ListQuery{.cursor = first->next_cursor}, w, 2000, 1500, "demo", fetch));
    ASSERT_TRUE(second);
    ASSERT_EQ(second->items.size(), 1u);  // b was returned on the first page
    EXPECT_EQ(second->items[0].remote_id, "c");
    EXPECT_FALSE(second->next_cursor);
    EXPECT_EQ(positions, (std::vector<std::string>{"", "p2"}));
    EXPECT_EQ(cursors.load("acc", "watermark").value(), "1000");
    auto bad = run(list_window(ListQuery{.cursor = "nonsense"}, w, 2000, 1500, "demo", fetch));
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, "demo.cursor");
}

// ---- files -----------------------------------------------------------------------

std::string make_zip(const std::vector<std::pair<std::string, std::string>>& members) {
    test::TempDir dir;
    const auto path = (dir / "a.zip").string();
    int err = 0;
    zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
    for (const auto& [name, data] : members) {
        zip_source_t* src = zip_source_buffer(z, data.data(), data.size(), 0);
        zip_file_add(z, name.c_str(), src, ZIP_FL_OVERWRITE);
    }
    zip_close(z);
    return members.empty() ? std::string("PK\x05\x06", 4) + std::string(18, '\0') : test::slurp(path);
}

TEST(KitFilesTest, ZipOriginalsGiveTheirOneActivity) {
    const auto fit = test::slurp(test::k_corpus / "fit/garmin-fr55-coretemp-walk.fit");
    const auto gpx = test::slurp(test::k_corpus / "gpx/fittrackee-e2e.gpx");
    auto one = accept_file(k_demo, make_zip({{"123_ACTIVITY.fit", fit}}), "application/zip", "activity 123");
    ASSERT_TRUE(one) << one.error().message;
    EXPECT_EQ(*one, fit);

    auto message = [](Result<std::string> r) { return r ? std::string("ok") : r.error().message; };
    EXPECT_EQ(message(accept_file(k_demo, make_zip({{"a.fit", fit}, {"b.gpx", gpx}}), "", "activity 1")),
              "Demo sent a ZIP archive for activity 1 with several activity files (a.fit, b.gpx); which one is the "
              "original is unclear");
    EXPECT_EQ(message(accept_file(k_demo, make_zip({{"readme.txt", "hello"}}), "", "activity 1")),
              "Demo sent a ZIP archive for activity 1 holding no FIT, TCX or GPX file (only readme.txt)");
    EXPECT_EQ(message(accept_file(k_demo, make_zip({}), "", "activity 1")),
              "Demo sent an empty ZIP archive for activity 1");
    auto whole = make_zip({{"a.fit", fit}});
    auto cut = accept_file(k_demo, whole.substr(0, whole.size() / 2), "", "activity 1");
    ASSERT_FALSE(cut);
    EXPECT_EQ(cut.error().code, "demo.bad_file");
    EXPECT_TRUE(cut.error().message.starts_with("Demo sent a damaged or truncated ZIP archive for activity 1"))
        << cut.error().message;
    auto html = accept_file(k_demo, "<html>login</html>", "text/html", "activity 1");
    ASSERT_FALSE(html);
    EXPECT_EQ(html.error().message,
              "Demo sent 18 bytes of text/html starting \"<html>login</html>\" for activity 1, not a FIT, TCX or GPX "
              "file");
    EXPECT_EQ(file_extension(test::bytes_of(fit)), "fit");
    EXPECT_EQ(file_extension(test::bytes_of(std::string("hello"))), std::nullopt);
}

TEST(KitTrack, MovingTimePositionsAndDefaultsDecodeAsGiven) {
    Track track{.start = 1736496000, .family = "ride", .distance_m = 812.5, .moving_s = 100};
    for (int i = 0; i <= 10; ++i) {
        TrackPoint p{.offset_s = i * 12.0, .distance_m = i * 81.25};
        if (i != 3) {  // one point without position or heart rate
            p.lat = 45.0 + i * 0.001;
            p.lon = 7.0;
            p.heart_rate = 130 + i;
        }
        if (i % 2 == 0) p.watts = 250;
        track.points.push_back(p);
    }
    const auto tcx = write_tcx(track);
    ASSERT_TRUE(tcx) << tcx.error().message;
    const auto s = formats::decode(test::bytes_of(*tcx));
    ASSERT_TRUE(s.ok) << s.error;
    EXPECT_TRUE(s.is_activity);
    EXPECT_EQ(s.format, formats::Format::tcx);
    EXPECT_EQ(s.start_time, 1736496000.0);
    EXPECT_EQ(s.total_distance, 812.5);
    EXPECT_EQ(s.total_timer_time, 100.0);
    EXPECT_EQ(s.total_elapsed_time, 120.0);  // the last point's offset
    EXPECT_EQ(s.sport_family, "ride");
    EXPECT_EQ(s.records, 11);
    EXPECT_EQ(s.records_with_position, 10);
    EXPECT_EQ(s.last_lat, 45.01);
    EXPECT_EQ(s.rec_max_hr, 140.0);
    EXPECT_EQ(s.rec_avg_power, 250.0);
    // Defaults: the last point's offset and distance; a sport TCX lacks is Other.
    track.moving_s.reset();
    track.distance_m.reset();
    track.family = "swim";
    const auto other_tcx = write_tcx(track);
    ASSERT_TRUE(other_tcx) << other_tcx.error().message;
    const auto other = formats::decode(test::bytes_of(*other_tcx));
    EXPECT_EQ(other.total_timer_time, 120.0);
    EXPECT_EQ(other.total_distance, 812.5);
    EXPECT_EQ(other.sport, "Other");
}

TEST(KitFilesTest, FetchFileCapsTheDownloadAndChecksWhatCame) {
    auto settings = parse_settings(k_ruled, account({}), {});
    ASSERT_TRUE(settings);
    auto http = std::make_shared<ScriptedClient>();
    PlatformClient client(k_ruled, *settings, Context{.http = http});
    const auto fit = test::slurp(test::k_corpus / "fit/garmin-fr55-coretemp-walk.fit");
    http->answers = {
        ScriptedClient::answer(200, make_zip({{"1.fit", fit}})),
        ScriptedClient::answer(200, "<html><title>Sign in</title></html>", {{"content-type", "text/html"}})};
    auto got =
        run(fetch_file(client, Call{.path = "/files/1", .what = "download", .max_response_bytes = 4096}, "activity 1"));
    ASSERT_TRUE(got) << got.error().message;
    EXPECT_EQ(*got, fit);
    EXPECT_EQ(http->sent[0].max_response_bytes, 4096u);
    EXPECT_EQ(http->sent[0].url, "https://r.test/files/1");
    auto html = run(fetch_file(client, Call{.path = "/files/2", .what = "download"}, "activity 2"));
    ASSERT_FALSE(html);
    EXPECT_EQ(html.error().code, "ruled.not_a_file");
    EXPECT_EQ(html.error().message,
              "Ruled sent 35 bytes of text/html starting \"<html><title>Sign in</title></ht\" for activity 2, not a "
              "FIT, TCX or GPX file");
    EXPECT_EQ(http->sent[1].max_response_bytes, net::HttpRequest{}.max_response_bytes);
}

// ---- uploads ---------------------------------------------------------------------

TEST(KitUploadTest, MultipartAndBase64Bodies) {
    const std::string bytes = "FITDATA";
    Call call;
    set_multipart(call, {{"name", "Ride"}}, net::MultipartFile{"file", "a.fit"}, test::bytes_of(bytes));
    ASSERT_EQ(call.headers.size(), 1u);
    const std::string boundary = call.headers[0].second.substr(call.headers[0].second.find('=') + 1);
    EXPECT_EQ(call.body, "--" + boundary + "\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nRide\r\n--" +
                             boundary +
                             "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.fit\"\r\nContent-Type: "
                             "application/octet-stream\r\n\r\nFITDATA\r\n--" +
                             boundary + "--\r\n");
    EXPECT_EQ(json_with_base64({{"name", "Ride"}}, "data", test::bytes_of(bytes)),
              R"({"name":"Ride","data":"RklUREFUQQ=="})");
}

TEST(KitUploadTest, SeveralFilesInOneMultipartBody) {
    const std::string a = "FIT-A", b = "FIT-B";
    Call call;
    set_multipart_files(call, {{"sport", "cycling"}}, "files",
                        {BatchItem{test::bytes_of(a), "a.fit"}, BatchItem{test::bytes_of(b), "b\"x.fit"}});
    ASSERT_EQ(call.headers.size(), 1u);
    auto parts = net::parse_multipart(call.headers[0].second, call.body);
    ASSERT_TRUE(parts) << parts.error().message;
    ASSERT_EQ(parts->size(), 3u);
    EXPECT_EQ((*parts)[0].name, "sport");
    EXPECT_EQ((*parts)[0].data, "cycling");
    EXPECT_EQ((*parts)[1].name, "files");
    EXPECT_EQ((*parts)[1].filename, "a.fit");
    EXPECT_EQ((*parts)[1].data, "FIT-A");
    EXPECT_EQ((*parts)[2].name, "files");
    EXPECT_EQ((*parts)[2].filename, "b%22x.fit");
    EXPECT_EQ((*parts)[2].data, "FIT-B");
}

boost::asio::awaitable<void> submit_one(UploadBatcher& batcher, std::string name, std::vector<std::string>& out) {
    const std::string bytes = "bytes of " + name;
    BatchItem item{test::bytes_of(bytes), name};  // (not a temporary inside co_await: GCC 12)
    auto r = co_await batcher.submit(std::move(item));
    out.push_back(name + "=" + (r ? *r : "error: " + r.error().message));
}

TEST(KitUploadTest, ConcurrentUploadsShareRequestsOfAtMostTheBatchSize) {
    std::vector<std::vector<std::string>> requests;
    UploadBatcher batcher(
        2, std::chrono::milliseconds(50),
        [&](const std::vector<BatchItem>& items) -> Task<std::vector<Result<std::string>>> {
            std::vector<std::string> names;
            std::vector<Result<std::string>> out;
            for (const auto& i : items) {
                names.push_back(i.file_name + ":" +
                                std::string(reinterpret_cast<const char*>(i.bytes.data()), i.bytes.size()));
                if (i.file_name == "bad")
                    out.emplace_back(Error::permanent("demo.rejected", "bad file"));
                else
                    out.emplace_back("id-" + i.file_name);
            }
            requests.push_back(names);
            if (items.size() == 1 && items[0].file_name == "down")
                co_return Error::transient("demo.down", "Demo is down");
            co_return out;
        });
    boost::asio::io_context io;
    std::vector<std::string> results;
    for (const char* name : {"a", "bad", "c"})
        boost::asio::co_spawn(io, submit_one(batcher, name, results), boost::asio::detached);
    io.run();
    ASSERT_EQ(requests.size(), 2u);
    EXPECT_EQ(requests[0], (std::vector<std::string>{"a:bytes of a", "bad:bytes of bad"}));
    EXPECT_EQ(requests[1], (std::vector<std::string>{"c:bytes of c"}));
    EXPECT_EQ(results, (std::vector<std::string>{"a=id-a", "bad=error: bad file", "c=id-c"}));
    EXPECT_EQ(batcher.requests(), 2u);

    // A failed request is every item's answer.
    io.restart();
    results.clear();
    boost::asio::co_spawn(io, submit_one(batcher, "down", results), boost::asio::detached);
    io.run();
    EXPECT_EQ(results, (std::vector<std::string>{"down=error: Demo is down"}));
}

TEST(KitUploadTest, PollsWithBackoffAndNeverUploadsTwiceWhileTheFirstMayLand) {
    std::vector<std::chrono::milliseconds> slept;
    UploadPoller poller(
        k_demo,
        PollPolicy{
            .max_polls = 3, .first_delay = std::chrono::milliseconds(100), .max_delay = std::chrono::milliseconds(150)},
        [&](std::chrono::milliseconds d) -> boost::asio::awaitable<void> {
            slept.push_back(d);
            co_return;
        });
    int starts = 0;
    std::deque<UploadStatus> statuses = {{}, {}, {}, {}, {.state = UploadStatus::done, .remote_id = "77"}};
    auto start = [&]() -> Task<std::string> {
        ++starts;
        co_return std::string("up-1");
    };
    auto check = [&](const std::string& id) -> Task<UploadStatus> {
        EXPECT_EQ(id, "up-1");
        auto s = statuses.front();
        statuses.pop_front();
        co_return s;
    };
    auto first = run(poller.upload("key", start, check));
    ASSERT_FALSE(first);
    EXPECT_EQ(first.error().cls, ErrorClass::transient);
    EXPECT_EQ(first.error().message,
              "Demo is still processing upload up-1 after 3 checks; it is checked again before any new upload of this "
              "activity");
    EXPECT_EQ(slept,
              (std::vector<std::chrono::milliseconds>{std::chrono::milliseconds(100), std::chrono::milliseconds(150)}));
    EXPECT_EQ(poller.pending().at("key"), "up-1");
    auto second = run(poller.upload("key", start, check));  // the engine's retry
    ASSERT_TRUE(second) << second.error().message;
    EXPECT_EQ(second->remote_id, "77");
    EXPECT_EQ(starts, 1);
    EXPECT_TRUE(poller.pending().empty());

    statuses = {{.state = UploadStatus::failed, .error = Error::permanent("demo.rejected", "corrupt file")}};
    auto failed = run(poller.upload("other", start, check));
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().message, "corrupt file");
    EXPECT_TRUE(poller.pending().empty());
}

TEST(KitUploadTest, AnUploadLeftPendingIsPolledAgainAfterARestart) {
    store::MemoryCursorStore cursors;
    auto no_sleep = [](std::chrono::milliseconds) -> boost::asio::awaitable<void> { co_return; };
    int starts = 0;
    std::deque<UploadStatus> statuses = {{}, {}, {.state = UploadStatus::done, .remote_id = "88"}};
    auto start = [&]() -> Task<std::string> {
        ++starts;
        co_return std::string("up-9");
    };
    auto check = [&](const std::string& id) -> Task<UploadStatus> {
        EXPECT_EQ(id, "up-9");
        auto s = statuses.front();
        statuses.pop_front();
        co_return s;
    };
    {
        UploadPoller poller(k_demo, PollPolicy{.max_polls = 2}, no_sleep);
        poller.persist(&cursors, "acc");
        auto first = run(poller.upload("key", start, check));
        ASSERT_FALSE(first);
        EXPECT_EQ(first.error().code, "demo.upload_pending");
    }
    EXPECT_EQ(*cursors.load("acc", "upload:key").value(), "up-9");
    UploadPoller restarted(k_demo, PollPolicy{.max_polls = 2}, no_sleep);
    restarted.persist(&cursors, "acc");
    auto second = run(restarted.upload("key", start, check));
    ASSERT_TRUE(second) << second.error().message;
    EXPECT_EQ(second->remote_id, "88");
    EXPECT_EQ(starts, 1);  // never sent twice
    EXPECT_EQ(*cursors.load("acc", "upload:key").value(), "");
    EXPECT_EQ(cursors.size(), 1u);  // an upload done at once leaves nothing behind
    statuses = {{.state = UploadStatus::done, .remote_id = "89"}};
    ASSERT_TRUE(run(restarted.upload("quick", start, check)));
    EXPECT_EQ(cursors.size(), 1u);
}

TEST(KitUploadTest, FindsByStartWithinTheToleranceAndSport) {
    formats::Summary summary;
    summary.start_time = 10000;
    summary.sport_family = "ride";
    const std::string bytes = "x";
    UploadRequest req{test::bytes_of(bytes), &summary, "n", "e"};
    auto activity = [](std::string id, double start, std::optional<std::string> family) {
        RemoteActivity a;
        a.remote_id = std::move(id);
        a.start_time = start;
        a.sport_family = std::move(family);
        return a;
    };
    std::vector<std::pair<double, double>> asked;
    ListWindow list = [&](double since, double until) -> Task<std::vector<RemoteActivity>> {
        asked.emplace_back(since, until);
        co_return std::vector<RemoteActivity>{activity("run", 10010, "run"), activity("far", 10200, "ride"),
                                              activity("near", 9950, std::nullopt)};
    };
    auto found = run(find_by_start(req, list, 120));
    ASSERT_TRUE(found);
    EXPECT_EQ(*found, "near");
    EXPECT_EQ(asked, (std::vector<std::pair<double, double>>{{9880, 10121}}));
    summary.start_time = 20000;
    EXPECT_EQ(run(find_by_start(req, list, 120)).value(), std::nullopt);
    config::Config cfg;
    cfg.sync.match_tolerance_s = 90;
    EXPECT_EQ(match_tolerance(&cfg), 90);
    EXPECT_EQ(match_tolerance(nullptr), 300);
}

// ---- mapping ---------------------------------------------------------------------

TEST(KitMappingTest, PathsTimesDistancesDurationsAndSports) {
    auto doc = json::parse(R"({"a":{"b":[{"c":"x"},{"n":5,"s":"7.5"}]},"t":1736496000000})").value();
    EXPECT_EQ(string_at(doc, "a.b.0.c"), "x");
    EXPECT_EQ(number_at(doc, "a.b.1.n"), 5);
    EXPECT_EQ(number_at(doc, "a.b.1.s"), 7.5);
    EXPECT_EQ(json_at(doc, "a.b.2"), nullptr);
    EXPECT_EQ(json_at(doc, "a.x"), nullptr);
    EXPECT_EQ(json_at(doc, ""), &doc);  // the empty path is the root
    EXPECT_EQ(time_of(doc["t"]), 1736496000);
    // Ids: strings, or whole numbers as their text; never a fraction or a float.
    EXPECT_EQ(id_at(doc, "a.b.0.c"), "x");
    EXPECT_EQ(id_at(doc, "a.b.1.n"), "5");
    EXPECT_EQ(id_at(doc, "t"), "1736496000000");
    EXPECT_EQ(id_at(json::parse(R"({"f":1.5})").value(), "f"), std::nullopt);
    EXPECT_EQ(id_at(doc, "a"), std::nullopt);

    EXPECT_EQ(parse_time("2025-01-10T08:00:00Z"), 1736496000);
    EXPECT_EQ(parse_time("2025-01-10T09:00:00+01:00"), 1736496000);
    EXPECT_EQ(parse_time("2025-01-10T08:00:00"), 1736496000);
    EXPECT_EQ(parse_time("2025-01-10 08:00:00"), 1736496000);
    EXPECT_EQ(parse_time("2025-01-10T08:00:00.250Z"), 1736496000.25);
    // Short offsets, as SportTracks writes them: hours only, or without the colon.
    EXPECT_EQ(parse_time("2025-01-10T03:00:00-05"), 1736496000);
    EXPECT_EQ(parse_time("2025-01-10T13:30:00+0530"), 1736496000);
    EXPECT_EQ(parse_time("yesterday"), std::nullopt);
    EXPECT_EQ(local_seconds(1736496000.9), "2025-01-10T08:00:00");

    EXPECT_EQ(parse_distance("5 km"), 5000);
    EXPECT_DOUBLE_EQ(parse_distance("3.1mi").value(), 3.1 * 1609.344);
    EXPECT_EQ(parse_distance("4200"), 4200);
    EXPECT_EQ(parse_distance("4 parsecs"), std::nullopt);
    EXPECT_EQ(to_meters(2, DistanceUnit::km), 2000);

    EXPECT_EQ(parse_duration("1:02:03"), 3723);
    EXPECT_EQ(parse_duration("62:03"), 3723);
    EXPECT_EQ(parse_duration("PT1H2M3S"), 3723);
    EXPECT_EQ(parse_duration("PT45.5S"), 45.5);
    EXPECT_EQ(parse_duration("P1DT1H"), 90000);
    EXPECT_EQ(parse_duration("3723"), 3723);
    EXPECT_EQ(parse_duration("1:2:3:4"), std::nullopt);
    EXPECT_EQ(parse_duration("PT1Y"), std::nullopt);

    constexpr SportName k_sport_names[] = {{"VirtualRide", "ride"}, {"Ride", "ride"}, {"Treadmill", "run"}};
    EXPECT_EQ(family_of(k_sport_names, "virtualride"), "ride");
    EXPECT_EQ(family_of(k_sport_names, "Treadmill"), "run");
    EXPECT_EQ(family_of(k_sport_names, "Swimming"), "swim");  // FitBridge's own reading
    EXPECT_EQ(platform_sport(k_sport_names, "ride"), "VirtualRide");
    EXPECT_EQ(platform_sport(k_sport_names, "yoga"), std::nullopt);
}

// Found by tests/fuzz/kit_fuzz: from_chars reads "inf" and "nan", and finite
// parts can add up past the largest double; neither is an amount.
TEST(KitMappingTest, AmountsAreFinite) {
    auto doc = json::parse(R"({"a":"inf","b":"nan","c":"-infinity","d":"1e308"})").value();
    EXPECT_EQ(number_at(doc, "a"), std::nullopt);
    EXPECT_EQ(number_at(doc, "b"), std::nullopt);
    EXPECT_EQ(number_at(doc, "c"), std::nullopt);
    EXPECT_EQ(number_at(doc, "d"), 1e308);
    auto huge_json = json::parse(R"({"n":31e308,"t":-31e308})").value();  // RapidJSON: infinity
    EXPECT_EQ(number_at(huge_json, "n"), std::nullopt);
    EXPECT_EQ(time_of(huge_json["t"]), std::nullopt);
    EXPECT_EQ(parse_duration("inf"), std::nullopt);
    EXPECT_EQ(parse_duration("infinity"), std::nullopt);
    const std::string huge(308, '9');  // about 1e308
    EXPECT_EQ(parse_duration("P" + huge + "D"), std::nullopt);
    EXPECT_EQ(parse_duration("PT" + huge + "H"), std::nullopt);
    EXPECT_EQ(parse_duration(huge + ":00:00"), std::nullopt);
    EXPECT_EQ(parse_distance(huge + " mi"), std::nullopt);
    EXPECT_EQ(parse_distance("inf"), std::nullopt);
    EXPECT_EQ(parse_distance(huge.substr(0, 300) + " km"), std::stod(huge.substr(0, 300)) * 1000);
}

}  // namespace
}  // namespace fitbridge::providers::kit

// ---- files built from samples (track.hpp) ------------------------------------

namespace fitbridge::providers::kit {
namespace {

formats::Summary decode_text(const std::string& text) {
    return formats::decode({reinterpret_cast<const uint8_t*>(text.data()), text.size()});
}

TEST(KitTrack, ATcxFromStreamsDecodesToTheGivenTotals) {
    Streams s;
    s.time_s = {0, 10, 20, 30};
    s.lat = {46.5, 46.5001, 46.5002, 46.5003};
    s.lon = {6.6, 6.6001, 6.6002, 6.6003};
    s.altitude_m = {400, 401, 402, 403};
    s.distance_m = {0, 40, 80, 120};
    s.heart_rate = {120, 130, 140, 150};
    s.watts = {200, 210, 220, 230};
    Track t{.start = 1736496000, .family = "ride", .distance_m = 125.5, .elapsed_s = 40, .notes = "Ride <&> \"x\""};
    t.points = points_of(s);
    auto tcx = write_tcx(t);
    ASSERT_TRUE(tcx) << tcx.error().message;
    EXPECT_NE(tcx->find("<Activity Sport=\"Biking\">"), std::string::npos);
    EXPECT_NE(tcx->find("<Notes>Ride &lt;&amp;&gt; &quot;x&quot;</Notes>"), std::string::npos);
    auto sum = decode_text(*tcx);
    ASSERT_TRUE(sum.ok) << sum.error;
    EXPECT_EQ(sum.format, formats::Format::tcx);
    EXPECT_EQ(sum.start_time, 1736496000.0);
    EXPECT_EQ(sum.sport_family, "ride");
    EXPECT_EQ(sum.total_distance, 125.5);     // the given total, not the last sample's 120
    EXPECT_EQ(sum.total_elapsed_time, 40.0);  // a last, time-only point at the elapsed time
    EXPECT_EQ(sum.total_timer_time, 40.0);
    EXPECT_EQ(sum.records, 5);
    EXPECT_EQ(sum.records_with_position, 4);
    EXPECT_EQ(sum.first_lat, 46.5);
    EXPECT_EQ(sum.last_lon, 6.6003);
    EXPECT_EQ(sum.rec_avg_hr, 135.0);
    EXPECT_EQ(sum.rec_max_hr, 150.0);
    EXPECT_EQ(sum.rec_avg_power, 215.0);
    EXPECT_EQ(sum.laps, 1);
}

TEST(KitTrack, LapsSplitTheSamplesAndTheirDistancesAddUpToTheTotal) {
    Streams s;
    s.time_s = {0, 30, 60, 90};
    Track t{.start = 1736496000, .family = "run", .distance_m = 1000, .elapsed_s = 90};
    t.laps = {{0, 60, 600}, {60, 30, 600}};  // lap distances scaled to 500 + 500
    t.points = points_of(s);
    auto tcx = write_tcx(t);
    ASSERT_TRUE(tcx) << tcx.error().message;
    auto sum = decode_text(*tcx);
    ASSERT_TRUE(sum.ok) << sum.error;
    EXPECT_EQ(sum.sport_family, "run");
    EXPECT_EQ(sum.laps, 2);
    EXPECT_EQ(sum.total_distance, 1000.0);
    EXPECT_EQ(sum.total_timer_time, 90.0);
    EXPECT_EQ(sum.records, 4);
    EXPECT_NE(tcx->find("<Lap StartTime=\"2025-01-10T08:01:00Z\">"), std::string::npos);
}

TEST(KitTrack, NoSamplesOrSamplesOutOfOrderAreErrors) {
    Track empty{.start = 1736496000};
    auto none = write_tcx(empty);
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().message, "no samples to build an activity file from");
    Streams s;
    s.time_s = {0, 20, 10};
    Track back{.start = 1736496000};
    back.points = points_of(s);
    auto bad = write_tcx(back);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().message, "sample 2 is earlier than the one before it (10 s < 20 s)");
}

TEST(KitScopes, MissingScopesNameWhatTheyAreFor) {
    static constexpr ScopeNeed k_needs[] = {{"activity:write", "uploads"}, {"profile:read_all", "gear"}};
    Platform p{.name = "demo", .scope_needs = k_needs};
    EXPECT_EQ(missing_scopes(p, "read,activity:write profile:read_all"), std::vector<std::string>{});
    EXPECT_EQ(missing_scopes(p, "read,activity:write"), std::vector<std::string>{"profile:read_all (gear)"});
    EXPECT_EQ(missing_scopes(p, ""), (std::vector<std::string>{"activity:write (uploads)", "profile:read_all (gear)"}));
}

}  // namespace
}  // namespace fitbridge::providers::kit
