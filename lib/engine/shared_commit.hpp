#pragma once
// Small ledger writes that become ready within a few turns of the io_context
// share one transaction.
//
// A delivery writes its row twice (in_flight before the upload, its result
// after), and uploads to a fast sink start and end in bursts: an archive's
// group of copies comes back together. One transaction each meant one set of
// locks and one write of the same few pages per row; on the io thread, where
// the ledger lives, that was most of a delivery's cost. Here a write joins
// the next commit, which runs in a turn of its own once the writes queued
// meanwhile have joined too, at most k_max_writes of them (32 delivery rows:
// about 0.4 ms, 0.9 ms at p90), so a request served on the io thread waits
// behind one short transaction, as with the ingest's batches.
// The commit waits a short window after its first write (or until
// k_max_writes have joined): deliveries to a fast sink become ready a few
// turns apart, each behind its read or its upload on the pools.
//
// Each write runs inside its own savepoint: one that throws is rolled back
// alone and its caller gets the exception; the others still commit. A caller
// resumes only after the commit, so what it does next (an upload after its
// in_flight row) happens after its write is in the ledger. io thread only.

#include <SQLiteCpp/Database.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace fitbridge::engine {

class SharedCommit {
public:
    // Runs one commit: opens the transaction, calls `writes` (which runs each
    // joined write in its savepoint) and commits, or throws.
    using Around = std::function<void(const std::function<void()>& writes)>;
    static constexpr size_t k_max_writes = 32;
    static constexpr std::chrono::microseconds k_window{2000};

    // window 0: the commit runs in the next turn.
    SharedCommit(boost::asio::any_io_executor executor, SQLite::Database& db, Around around,
                 size_t max_writes = k_max_writes, std::chrono::microseconds window = k_window);
    // Writes still waiting never run; their callers stay suspended until the
    // io_context drops them.
    ~SharedCommit();
    SharedCommit(const SharedCommit&) = delete;
    SharedCommit& operator=(const SharedCommit&) = delete;

    // Runs `write` in the next shared commit and resumes once it is
    // committed: true. false: cut short (cancelled) before it ran; it never
    // will. Rethrows what `write` threw (only its own writes rolled back) or
    // what the commit threw (nothing of that commit kept).
    boost::asio::awaitable<bool> write(std::function<void()> write);

    int64_t commits() const;  // transactions committed so far (tests, diagnostics)

private:
    struct Joined;
    struct State;
    static void commit_next(const std::shared_ptr<State>& state);
    static void schedule(const std::shared_ptr<State>& state, bool now);
    static void run(State& s, const std::vector<std::shared_ptr<Joined>>& batch);
    std::shared_ptr<State> m_state;
};

}  // namespace fitbridge::engine
