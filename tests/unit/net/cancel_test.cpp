// Cancellation of requests in flight: the engine cancels a stopping loop's
// requests through the coroutine's cancellation slot; the client must end
// them at once (not at their 30 s deadline) with net.cancelled.

#include <gtest/gtest.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <optional>

#include "net/http_client.hpp"
#include "net/retry.hpp"
#include "test_server.hpp"

namespace fitbridge::test {
namespace {

namespace asio = boost::asio;

// Sends `request` through `client`, cancels it after `after`, and returns
// what send() answered and how long the whole run took.
std::pair<std::optional<Result<net::HttpResponse>>, std::chrono::steady_clock::duration> send_and_cancel(
    asio::io_context& io, net::HttpClient& client, net::HttpRequest request, std::chrono::milliseconds after) {
    asio::cancellation_signal signal;
    std::optional<Result<net::HttpResponse>> out;
    asio::co_spawn(
        io, [&]() -> asio::awaitable<void> { out.emplace(co_await client.send(request)); },
        asio::bind_cancellation_slot(signal.slot(), [](std::exception_ptr) {}));
    asio::steady_timer t(io);
    t.expires_after(after);
    t.async_wait([&](const boost::system::error_code&) { signal.emit(asio::cancellation_type::terminal); });
    const auto start = std::chrono::steady_clock::now();
    io.run();
    return {std::move(out), std::chrono::steady_clock::now() - start};
}

TEST(HttpClientCancel, AnUploadTheServerHoldsEndsAtOnceWhenCancelled) {
    TestServer server([](const ServerRequest&) {
        ServerReply reply;
        reply.hang = true;
        return reply;
    });
    asio::io_context io;
    auto client = net::make_http_client(io.get_executor());
    net::HttpRequest req;
    req.method = "POST";
    req.url = server.url("/upload");
    req.body = std::string(1000, 'x');
    req.timeout = std::chrono::seconds(30);
    auto [r, took] = send_and_cancel(io, *client, req, std::chrono::milliseconds(200));
    ASSERT_TRUE(r.has_value());
    ASSERT_FALSE(r->ok());
    EXPECT_EQ(r->error().code, "net.cancelled");
    EXPECT_EQ(r->error().message, "POST " + server.url("") + ": cancelled");
    EXPECT_GE(took, std::chrono::milliseconds(190));
    EXPECT_LT(took, std::chrono::seconds(2));
}

TEST(HttpClientCancel, TheRetryingClientDoesNotRetryACancelledRequest) {
    TestServer server([](const ServerRequest&) {
        ServerReply reply;
        reply.hang = true;
        return reply;
    });
    asio::io_context io;
    auto inner = net::make_http_client(io.get_executor());
    SystemClock clock;
    net::RetryPolicy policy;
    policy.retry_unsafe_methods = true;
    net::RetryingClient client(*inner, clock, policy);
    net::HttpRequest req;
    req.url = server.url("/list");
    auto [r, took] = send_and_cancel(io, client, req, std::chrono::milliseconds(100));
    ASSERT_TRUE(r.has_value());
    ASSERT_FALSE(r->ok());
    EXPECT_EQ(r->error().code, "net.cancelled");
    EXPECT_LT(took, std::chrono::seconds(2));
    EXPECT_EQ(server.requests().size(), 1u);
}

}  // namespace
}  // namespace fitbridge::test
