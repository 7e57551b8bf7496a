// A server with an owner: it serves on a thread of its own and hands each
// handler to the owner's thread, except on routes that run on the server's.

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include "api/server.hpp"
#include "support/raw_http.hpp"

namespace fitbridge::api {
namespace {

using namespace std::chrono_literals;
using test::RawConn;
using test::status_of;

constexpr const char* k_token = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const std::string k_auth = std::string("Authorization: Bearer ") + k_token + "\r\n";

std::string get(const std::string& target) {
    return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + k_auth + "\r\n";
}

class ServerOwnerTest : public ::testing::Test {
protected:
    void SetUp() override {
        m_router.add("GET", "/v1/owner", [this](Request&) {
            m_owner_calls.push_back(std::this_thread::get_id());  // only the owner's thread touches it
            return json_response(200, "{\"on\":\"owner\"}");
        });
        m_router.add(
            "GET", "/v1/quick",
            [this](Request&) {
                m_quick_thread = std::this_thread::get_id();
                return json_response(200, "{\"on\":\"server\"}");
            },
            false, RunsOn::server);
        m_router.add("GET", "/v1/events", [this](Request&) {
            Response r;
            r.content_type = "text/event-stream";
            r.body = "retry: 1000\n\n";
            r.stream = [this](std::shared_ptr<EventStream> s) {
                m_stream_thread = std::this_thread::get_id();
                m_stream = s;  // sent to later, from the owner's thread
            };
            return r;
        });
        ServerOptions o;
        o.listen = "127.0.0.1:0";
        o.guard.token = k_token;
        m_server = std::make_unique<Server>(
            m_server_io, o, m_router, [this](std::function<void()> f) { boost::asio::post(m_owner_io, std::move(f)); });
        auto r = m_server->start();
        ASSERT_TRUE(r.ok()) << r.error().message;
        auto addr = m_server->local_address();
        m_port = std::stoi(addr.substr(addr.rfind(':') + 1));
        m_server_thread = std::thread([this] {
            m_server_id = std::this_thread::get_id();
            auto work = boost::asio::make_work_guard(m_server_io);
            m_server_io.run();
        });
        m_owner_thread = std::thread([this] {
            m_owner_id = std::this_thread::get_id();
            auto work = boost::asio::make_work_guard(m_owner_io);
            m_owner_io.run();
        });
    }
    void TearDown() override {
        m_server_io.stop();
        m_server_thread.join();
        m_owner_io.stop();
        m_owner_thread.join();
        m_server.reset();
    }
    // Keeps the owner's thread busy for `d` (an engine item during a backfill).
    std::future<void> block_owner(std::chrono::milliseconds d) {
        auto started = std::make_shared<std::promise<void>>();
        auto f = started->get_future();
        boost::asio::post(m_owner_io, [started, d] {
            started->set_value();
            std::this_thread::sleep_for(d);
        });
        return f;
    }

    // Declared first: the io_contexts outlive what the other holds.
    boost::asio::io_context m_server_io;
    boost::asio::io_context m_owner_io;
    Router m_router;
    std::unique_ptr<Server> m_server;
    std::thread m_server_thread, m_owner_thread;
    std::atomic<std::thread::id> m_server_id, m_owner_id;
    std::vector<std::thread::id> m_owner_calls;
    std::atomic<std::thread::id> m_quick_thread, m_stream_thread;
    std::shared_ptr<EventStream> m_stream;
    int m_port = 0;
};

TEST_F(ServerOwnerTest, HandlersRunOnTheOwnersThreadUnlessTheirRouteRunsOnTheServers) {
    RawConn c(m_port);
    ASSERT_TRUE(c.send(get("/v1/owner")));
    auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(status_of(*r), 200);
    EXPECT_EQ(test::body_of(*r), "{\"on\":\"owner\"}\n");
    ASSERT_TRUE(c.send(get("/v1/quick")));
    r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(test::body_of(*r), "{\"on\":\"server\"}\n");
    // Read after the owner's thread has run everything posted so far.
    std::promise<std::vector<std::thread::id>> calls;
    boost::asio::post(m_owner_io, [&] { calls.set_value(m_owner_calls); });
    auto owner_calls = calls.get_future().get();
    ASSERT_EQ(owner_calls.size(), 1u);
    EXPECT_EQ(owner_calls[0], m_owner_id.load());
    EXPECT_EQ(m_quick_thread.load(), m_server_id.load());
    EXPECT_NE(m_server_id.load(), m_owner_id.load());
}

TEST_F(ServerOwnerTest, AServerRouteAnswersWhileTheOwnerIsBusyAndAnOwnerRouteWaitsForIt) {
    RawConn quick(m_port), slow(m_port);
    block_owner(400ms).wait();
    const auto t0 = std::chrono::steady_clock::now();
    ASSERT_TRUE(slow.send(get("/v1/owner")));
    ASSERT_TRUE(quick.send(get("/v1/quick")));
    auto q = quick.read_response();
    const auto quick_took = std::chrono::steady_clock::now() - t0;
    auto s = slow.read_response();
    const auto slow_took = std::chrono::steady_clock::now() - t0;
    ASSERT_TRUE(q);
    ASSERT_TRUE(s);
    EXPECT_EQ(status_of(*q), 200);
    EXPECT_EQ(status_of(*s), 200);
    // The owner is busy for 400 ms from before either request: the owner's
    // route cannot be answered before that ends, the server's is not held up
    // by it (200 ms of slack for a loaded machine).
    EXPECT_GE(slow_took, 350ms);
    EXPECT_LT(quick_took, 200ms);
}

TEST_F(ServerOwnerTest, EventsSentFromTheOwnersThreadReachTheStream) {
    RawConn c(m_port);
    ASSERT_TRUE(c.send(get("/v1/events")));
    std::string got;
    while (got.find("retry: 1000\n\n") == std::string::npos) {
        auto chunk = c.recv_some();
        ASSERT_FALSE(chunk.empty());
        got += chunk;
    }
    std::promise<void> sent;
    boost::asio::post(m_owner_io, [&] {
        ASSERT_TRUE(m_stream);
        EXPECT_TRUE(m_stream->open());
        m_stream->send("id: 1\ndata: one\n\n");
        m_stream->send("id: 2\ndata: two\n\n");
        sent.set_value();
    });
    sent.get_future().wait();
    while (got.find("data: two\n\n") == std::string::npos) {
        auto chunk = c.recv_some();
        ASSERT_FALSE(chunk.empty()) << got;
        got += chunk;
    }
    EXPECT_NE(got.find("retry: 1000\n\nid: 1\ndata: one\n\nid: 2\ndata: two\n\n"), std::string::npos) << got;
    EXPECT_EQ(m_stream_thread.load(), m_owner_id.load());
}

TEST_F(ServerOwnerTest, StopsWithARequestWaitingForTheOwnerAndCallsDoneOnTheOwnersThread) {
    RawConn c(m_port);
    block_owner(200ms).wait();
    ASSERT_TRUE(c.send(get("/v1/owner")));
    std::this_thread::sleep_for(50ms);  // the request is waiting for the owner
    std::promise<std::thread::id> done;
    m_server->stop(2000ms, [&] { done.set_value(std::this_thread::get_id()); });
    auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(status_of(*r), 200);
    EXPECT_NE(r->find("Connection: close\r\n"), std::string::npos);
    auto f = done.get_future();
    ASSERT_EQ(f.wait_for(2s), std::future_status::ready);
    EXPECT_EQ(f.get(), m_owner_id.load());
}

}  // namespace
}  // namespace fitbridge::api
