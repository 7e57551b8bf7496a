#include "core/sched.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace fitbridge::sched {
namespace {

using namespace std::chrono_literals;

TEST(Sched, AShortSliceIsTheCallingThreadsAlone) {
    std::chrono::microseconds before{}, after{}, other{};
    bool accepted = false;
    std::thread t([&] {
        before = requested_slice();
        accepted = prefer_short_slices(100us);
        after = requested_slice();
    });
    t.join();
    std::thread u([&] { other = requested_slice(); });
    u.join();
    ASSERT_TRUE(accepted);
    // Linux 6.12 and later report the slice asked for; older kernels accept
    // the call, keep their own slice and report none.
    EXPECT_TRUE(after == 100us || after == 0us) << after.count();
    if (after == 100us) {
        EXPECT_NE(before, 100us);
        EXPECT_NE(other, 100us);  // a new thread has the default
    }
}

TEST(Sched, AllButOneDropsTheLowestCpuOfTwoOrMore) {
    EXPECT_EQ(all_but_one({0, 1}), (Cpus{1}));
    EXPECT_EQ(all_but_one({0, 2, 5}), (Cpus{2, 5}));
    EXPECT_EQ(all_but_one({3}), (Cpus{3}));
    EXPECT_EQ(all_but_one({}), (Cpus{}));
}

TEST(Sched, DescribeWritesRangesAsTasksetDoes) {
    EXPECT_EQ(describe({0, 1, 2, 5}), "0-2,5");
    EXPECT_EQ(describe({1}), "1");
    EXPECT_EQ(describe({0, 2, 3, 7, 8, 9}), "0,2-3,7-9");
    EXPECT_EQ(describe({}), "");
}

TEST(Sched, AThreadRunsOnTheCpusItIsGivenAndItsNewThreadsInheritThem) {
    const Cpus all = allowed_cpus();
    ASSERT_FALSE(all.empty());
    Cpus mine, child, after;
    bool ok = false;
    std::thread t([&] {
        ok = run_on({all.back()});
        mine = allowed_cpus();
        std::thread c([&] { child = allowed_cpus(); });
        c.join();
        ok = ok && run_on(all);
        after = allowed_cpus();
    });
    t.join();
    EXPECT_TRUE(ok);
    EXPECT_EQ(mine, (Cpus{all.back()}));
    EXPECT_EQ(child, (Cpus{all.back()}));
    EXPECT_EQ(after, all);
    EXPECT_EQ(allowed_cpus(), all);  // the test's own thread was never moved
    EXPECT_FALSE(run_on({}));
}

TEST(Sched, WhileClientsAreSeenTheThreadsThatFollowKeepOffTheSpareCpu) {
    const Cpus all = allowed_cpus();
    if (all.size() < 2) GTEST_SKIP() << "one CPU: nothing to spare";
    SpareCpu spare(all, 500ms);
    EXPECT_EQ(spare.spare(), all.front());
    EXPECT_EQ(spare.engine_cpus(), all_but_one(all));
    Cpus before, during, still, after, bystander;
    std::thread engine([&] {
        spare.follow();  // no client yet
        before = allowed_cpus();
        spare.note_client();
        spare.follow();
        during = allowed_cpus();
        spare.follow();  // nothing changed: stays
        still = allowed_cpus();
        std::thread other([&] { bystander = allowed_cpus(); });
        other.join();
        std::this_thread::sleep_for(650ms);  // no client for longer than the hold
        spare.follow();
        after = allowed_cpus();
    });
    engine.join();
    EXPECT_EQ(before, all);
    EXPECT_EQ(during, all_but_one(all));
    EXPECT_EQ(still, all_but_one(all));
    EXPECT_EQ(bystander, all_but_one(all));  // a thread started meanwhile inherits
    EXPECT_EQ(after, all);
    EXPECT_EQ(allowed_cpus(), all);  // a thread that does not follow stays where it is
}

TEST(Sched, WithOneCpuThereIsNothingToSpare) {
    const Cpus all = allowed_cpus();
    SpareCpu spare({all.back()}, 1000ms);
    EXPECT_EQ(spare.spare(), -1);
    Cpus seen;
    std::thread t([&] {
        spare.note_client();
        spare.follow();
        seen = allowed_cpus();
    });
    t.join();
    EXPECT_EQ(seen, all);  // not moved to {all.back()}: follow() did nothing
}

}  // namespace
}  // namespace fitbridge::sched
