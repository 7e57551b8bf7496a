// Group commit: calls made while a group is written form the next group;
// each caller gets its own output; a cancelled caller still has its input
// written.

#include "net/group_commit.hpp"

#include <gtest/gtest.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace fitbridge::test {
namespace {

namespace asio = boost::asio;
using Commit = net::GroupCommit<std::string, std::string>;

// A write the test holds until it lets it go: the groups it was given, in order.
struct HeldWrite {
    std::mutex m;
    std::condition_variable cv;
    bool held = true;
    std::vector<std::vector<std::string>> groups;

    Commit::Write write() {
        return [this](std::vector<std::string>& in) {
            std::unique_lock lock(m);
            groups.push_back(in);
            cv.notify_all();
            cv.wait(lock, [&] { return !held || groups.size() > 1; });
            std::vector<std::string> out;
            for (const auto& s : in) out.push_back("wrote " + s);
            return out;
        };
    }
    void wait_for_groups(size_t n) {
        std::unique_lock lock(m);
        cv.wait(lock, [&] { return groups.size() >= n; });
    }
    void let_go() {
        std::lock_guard lock(m);
        held = false;
        cv.notify_all();
    }
};

void submit(asio::io_context& io, Commit& commit, std::string in, std::optional<std::string>& out, bool& done,
            asio::cancellation_slot slot = {}) {
    asio::co_spawn(
        io,
        [&commit, &out, in]() -> asio::awaitable<void> {
            auto r = co_await commit.submit(in);
            out = std::move(r);
        },
        asio::bind_cancellation_slot(slot, [&done](std::exception_ptr e) {
            EXPECT_FALSE(e);
            done = true;
        }));
}

TEST(GroupCommit, CallsMadeWhileAGroupIsWrittenFormTheNextGroup) {
    asio::io_context io;
    net::Offload offload(1, 0, 1);
    HeldWrite held;
    Commit commit(&offload, held.write());
    std::vector<std::optional<std::string>> out(5);
    bool done[5] = {};
    submit(io, commit, "a", out[0], done[0]);
    // "a" alone is being written; four more arrive meanwhile.
    io.poll();
    held.wait_for_groups(1);
    for (int i = 1; i < 5; ++i) submit(io, commit, std::string(1, static_cast<char>('a' + i)), out[i], done[i]);
    io.poll();
    held.let_go();
    while (!(done[0] && done[1] && done[2] && done[3] && done[4])) io.run_one_for(std::chrono::seconds(5));
    ASSERT_EQ(held.groups.size(), 2u);
    EXPECT_EQ(held.groups[0], (std::vector<std::string>{"a"}));
    EXPECT_EQ(held.groups[1], (std::vector<std::string>{"b", "c", "d", "e"}));
    EXPECT_EQ(commit.groups_written(), 2u);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(out[i], "wrote " + std::string(1, static_cast<char>('a' + i)));
}

TEST(GroupCommit, TheCallersOfAGroupAreWokenOnePerTurnSoOtherWorkInterleaves) {
    // A request to the control API arriving as a group of 32 uploads ends
    // must not wait for all 32 continuations.
    asio::io_context io;
    net::Offload offload(1, 0, 1);
    HeldWrite held;
    Commit commit(&offload, held.write());
    std::optional<std::string> first;
    bool first_done = false;
    submit(io, commit, "first", first, first_done);
    io.poll();
    held.wait_for_groups(1);
    std::vector<std::optional<std::string>> out(3);
    bool done[3] = {};
    for (int i = 0; i < 3; ++i) submit(io, commit, "x" + std::to_string(i), out[i], done[i]);
    io.poll();
    held.let_go();
    while (!first_done) io.run_one_for(std::chrono::seconds(5));
    // The second group: three callers. Once the first of them is back, other
    // work posted now runs before the last of them.
    while (!done[0]) io.run_one_for(std::chrono::seconds(5));
    bool last_done_when_other_work_ran = true;
    asio::post(io, [&] { last_done_when_other_work_ran = done[2]; });
    while (!(done[1] && done[2])) io.run_one_for(std::chrono::seconds(5));
    io.poll();
    EXPECT_FALSE(last_done_when_other_work_ran);
    EXPECT_EQ(out[2], "wrote x2");
}

TEST(GroupCommit, ACancelledCallerGetsNothingButItsInputIsStillWritten) {
    asio::io_context io;
    net::Offload offload(1, 0, 1);
    HeldWrite held;
    Commit commit(&offload, held.write());
    asio::cancellation_signal cancel;
    std::optional<std::string> out_a, out_b;
    bool done_a = false, done_b = false;
    submit(io, commit, "a", out_a, done_a, cancel.slot());
    io.poll();
    held.wait_for_groups(1);
    submit(io, commit, "b", out_b, done_b);
    io.poll();
    cancel.emit(asio::cancellation_type::terminal);
    while (!done_a) io.run_one_for(std::chrono::seconds(5));
    EXPECT_FALSE(out_a.has_value());
    held.let_go();
    while (!done_b) io.run_one_for(std::chrono::seconds(5));
    EXPECT_EQ(out_b, "wrote b");
    ASSERT_EQ(held.groups.size(), 2u);
    EXPECT_EQ(held.groups[0], (std::vector<std::string>{"a"}));
}

TEST(GroupCommit, WithoutAPoolEachCallIsWrittenRightAway) {
    asio::io_context io;
    std::vector<size_t> sizes;
    Commit commit(nullptr, [&sizes](std::vector<std::string>& in) {
        sizes.push_back(in.size());
        return std::vector<std::string>(in.size(), "ok");
    });
    std::optional<std::string> out_a, out_b;
    bool done_a = false, done_b = false;
    submit(io, commit, "a", out_a, done_a);
    submit(io, commit, "b", out_b, done_b);
    io.run();
    EXPECT_TRUE(done_a && done_b);
    EXPECT_EQ(out_a, "ok");
    EXPECT_EQ(out_b, "ok");
    EXPECT_EQ(sizes.size(), commit.groups_written());
    size_t total = 0;
    for (auto n : sizes) total += n;
    EXPECT_EQ(total, 2u);
}

}  // namespace
}  // namespace fitbridge::test
