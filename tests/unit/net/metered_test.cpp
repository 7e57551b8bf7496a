#include <gtest/gtest.h>

#include "net/http_client.hpp"
#include "net_test_util.hpp"
#include "support/run.hpp"

namespace fitbridge::net {
namespace {

using test::response;
using test::run;

TEST(MeteredClient, CountsEachRequestByPlatformAndAnswerClass) {
    auto scripted = std::make_unique<test::ScriptedClient>();
    auto* script = scripted.get();
    script->script.push_back(response(200));
    script->script.push_back(response(201));
    script->script.push_back(response(429, {{"retry-after", "5"}}));
    script->script.push_back(response(503));
    script->script.push_back(Error::transient("net.connect", "connection refused"));
    metrics::Registry registry;
    auto client = with_metrics(std::move(scripted), "strava", registry);
    boost::asio::io_context io;
    for (int i = 0; i < 5; ++i) {
        HttpRequest req;
        req.url = "https://www.strava.com/api/v3/athlete";
        auto r = run(io, client->send(req));
        EXPECT_EQ(r.ok(), i < 4);
    }
    EXPECT_EQ(script->requests.size(), 5u);
    const std::string k = "fitbridge_provider_requests_total";
    EXPECT_EQ(registry.value(k, {{"platform", "strava"}, {"status_class", "2xx"}}), 2);
    EXPECT_EQ(registry.value(k, {{"platform", "strava"}, {"status_class", "4xx"}}), 1);
    EXPECT_EQ(registry.value(k, {{"platform", "strava"}, {"status_class", "5xx"}}), 1);
    EXPECT_EQ(registry.value(k, {{"platform", "strava"}, {"status_class", "error"}}), 1);
    EXPECT_EQ(registry.value("fitbridge_rate_limited_total", {{"platform", "strava"}}), 1);
    auto text = registry.render();
    EXPECT_NE(text.find("fitbridge_provider_request_duration_seconds_count{platform=\"strava\"} 5\n"),
              std::string::npos)
        << text;
}

}  // namespace
}  // namespace fitbridge::net
