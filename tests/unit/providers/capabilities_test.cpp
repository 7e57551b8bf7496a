// Every compiled-in provider's capability bits match the methods it
// implements: a bit it claims leads to its own method (not the default
// refusal), a bit it lacks is refused with provider.unsupported. A sink
// answers find_existing itself.

#include <gtest/gtest.h>

#include <map>

#include "net/http_client.hpp"
#include "provider_test_util.hpp"
#include "providers/provider.hpp"

namespace fitbridge::providers {
namespace {

using test::run;

// Answers every request with a 500 and counts them: a provider that sends
// anything has its own implementation of the method.
class RefusingClient final : public net::HttpClient {
public:
    int sent = 0;
    boost::asio::awaitable<Result<net::HttpResponse>> send(net::HttpRequest) override {
        ++sent;
        net::HttpResponse r;
        r.status = 500;
        r.body = "{\"message\":\"test server\"}";
        co_return r;
    }
};

// Options that make each provider valid without any outside service. A new
// platform adds its row here.
std::map<std::string, std::string> options_for(std::string_view provider, const test::TempDir& dir) {
    if (provider == "folder" || provider == "health_export") return {{"path", dir.path().string()}};
    if (provider == "archive") return {{"root", (dir / "archive").string()}};
    if (provider == "intervals_icu")
        return {{"api_key_file", (dir / "key").string()}, {"base_url", "http://127.0.0.1:9"}};
    if (provider == "rest")
        return {{"api_key_file", (dir / "key").string()},
                {"base_url", "http://127.0.0.1:9"},
                {"file.path", "/activities/{id}/file"},
                {"gear.path", "/gear"}};
    if (provider == "strava")
        return {
            {"client_id", "12345"}, {"client_secret_file", (dir / "key").string()}, {"base_url", "http://127.0.0.1:9"}};
    if (provider == "sweatstack") return {{"token_file", (dir / "key").string()}, {"base_url", "http://127.0.0.1:9"}};
    if (provider == "trainitall") return {{"client_id", "fitbridge"}, {"base_url", "http://127.0.0.1:9"}};
    if (provider == "sporttracks") return {{"token_file", (dir / "key").string()}, {"base_url", "http://127.0.0.1:9"}};
    if (provider == "mywhoosh" || provider == "igpsport")
        return {{"username", "rider"}, {"password_file", (dir / "key").string()}, {"base_url", "http://127.0.0.1:9"}};
    if (provider == "trainingpeaks")
        return {{"cookie_file", (dir / "key").string()}, {"base_url", "http://127.0.0.1:9"}};
    if (provider == "zwift")
        return {{"username", "rider@example.com"},
                {"password_file", (dir / "key").string()},
                {"base_url", "http://127.0.0.1:9"},
                {"auth_url", "http://127.0.0.1:9"}};
    if (provider == "garmin_connect") return {{"credentials", "stored"}, {"base_url", "http://127.0.0.1:9"}};
    if (provider == "ridewithgps")
        return {{"api_key_file", (dir / "key").string()},
                {"auth_token_file", (dir / "key").string()},
                {"base_url", "http://127.0.0.1:9"}};
    return {};
}

struct Outcome {
    bool refused = false;  // provider.unsupported
    std::string message;
};

template <typename T>
Outcome outcome_of(Result<T> r) {
    if (r) return {};
    return {r.error().code == "provider.unsupported", r.error().message};
}

TEST(CapabilitiesTest, EveryBitClaimedIsImplementedAndEveryOtherIsRefused) {
    for (const auto& f : registry()) {
        SCOPED_TRACE(std::string(f.name));
        test::TempDir dir;
        test::write_text(dir / "key", "k");
        config::AccountConfig account;
        account.id = "acc";
        account.provider = std::string(f.name);
        account.options = options_for(f.name, dir);
        ASSERT_FALSE(account.options.empty()) << "add " << f.name << " to options_for()";
        auto http = std::make_shared<RefusingClient>();
        boost::asio::io_context io;
        Context ctx{.executor = io.get_executor(), .state_dir = dir.path(), .http = http};
        auto made = f.create(account, ctx);
        ASSERT_TRUE(made) << made.error().message;
        Provider& p = **made;
        // A provider with routes (trainingpeaks: a personal-route source, a
        // partner-route sink) claims for one account a part of its factory's bits.
        const uint32_t caps = p.capabilities();
        if (f.name == "trainingpeaks") {
            EXPECT_EQ(caps & ~f.capabilities, 0u);
        } else {
            EXPECT_EQ(caps, f.capabilities);
        }

        const std::string text = "x";
        const UploadRequest upload{test::bytes_of(text), nullptr, "name", "ext"};
        RemoteActivity item;
        item.remote_id = "r1";
        item.origin = (dir / "absent.fit").string();
        const std::pair<uint32_t, Outcome> checks[] = {
            {k_list_window | k_list_cursor, outcome_of(run(p.list(ListQuery{.since = 0.0})))},
            {k_download, outcome_of(run(p.download(item)))},
            {k_upload, outcome_of(run(p.upload(upload)))},
            {k_update_name, outcome_of(run(p.update_name("r1", "n")))},
            {k_update_description, outcome_of(run(p.update_description("r1", "d")))},
            {k_update_sport, outcome_of(run(p.update_sport("r1", "ride")))},
            {k_update_gear, outcome_of(run(p.update_gear("r1", "g1")))},
            {k_list_gear, outcome_of(run(p.list_gear()))},
            {k_delete, outcome_of(run(p.delete_activity("r1")))},
        };
        for (const auto& [bits, outcome] : checks) {
            const bool claimed = (caps & bits) != 0;
            EXPECT_EQ(outcome.refused, !claimed) << capability_names(bits).front() << ": " << outcome.message;
            if (outcome.refused) {
                EXPECT_NE(outcome.message.find("is not supported by"), std::string::npos);
            }
        }
        if (caps & k_upload) {
            formats::Summary summary;
            summary.start_time = 1736496000;
            const UploadRequest dated{test::bytes_of(text), &summary, "name", "ext"};
            EXPECT_FALSE(outcome_of(run(p.find_existing(dated))).refused) << "a sink must answer find_existing";
        }
        p.shutdown();
    }
}

TEST(CapabilitiesTest, RefusalsNameTheMethodAndThePlatform) {
    test::TempDir dir;
    config::AccountConfig account;
    account.id = "zwift";
    account.provider = "folder";
    account.options = {{"path", dir.path().string()}};
    auto made = find_factory("folder")->create(account, Context{});
    ASSERT_TRUE(made) << made.error().message;
    auto r = run((*made)->update_gear("r1", "b1"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().cls, ErrorClass::permanent);
    EXPECT_EQ(r.error().message, "setting gear on activities is not supported by a folder (account 'zwift')");
}

}  // namespace
}  // namespace fitbridge::providers
