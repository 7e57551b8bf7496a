#pragma once
// What the engine's parts (engine.cpp, poller.cpp, ingest.cpp, delivery.cpp,
// accounts.cpp, events.cpp) share: the per-account state and small helpers.
// Internal to lib/engine.

#include <algorithm>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "engine/engine.hpp"
#include "pipeline/reason.hpp"

namespace fitbridge::engine {

// A sleep that notify() cuts short; a notify while awake is not lost.
struct Wake {
    explicit Wake(boost::asio::any_io_executor ex) : timer(std::move(ex)) {}
    boost::asio::steady_timer timer;
    bool pending = false;
    void notify() {
        pending = true;
        timer.cancel();
    }
    // Sleeps until notified, cancelled or `d` passes.
    boost::asio::awaitable<void> wait(std::chrono::steady_clock::duration d);
};

struct Engine::Account {
    Account(boost::asio::any_io_executor ex, config::AccountConfig c)
        : cfg(std::move(c)), poll_wake(ex), delivery_wake(ex) {}
    config::AccountConfig cfg;
    const providers::Factory* factory = nullptr;
    std::unique_ptr<providers::Provider> provider;
    std::optional<std::string> create_error;
    std::vector<int64_t> loops;  // supervisor ids, cancelled when the account stops
    bool stopped = false;

    // Polling (poller.cpp).
    Wake poll_wake;
    std::deque<int64_t> queued_jobs;
    bool read_from = false;  // polled: a route reads from it, or it is the name authority
    bool reauth_logged = false;
    std::chrono::steady_clock::time_point next_poll{};
    // Change notices from its watcher (k_watch): one that comes while a sync
    // runs may be about a file that sync's listing missed, so another follows.
    uint64_t change_notices = 0;

    // Delivering to it as a sink (delivery.cpp): the uploads in flight, by
    // delivery id, each with the signal that cancels it.
    Wake delivery_wake;
    std::map<int64_t, std::shared_ptr<CancelSlot>> uploads;
    std::set<int64_t> cancelled_uploads;  // cancelled by the loop, not failed
    // Whether it took an upload since its loop started or its last failure.
    // Until then it gets one upload at a time: a probe, so that an outage
    // costs one attempt rather than one per slot.
    bool proven = false;
    bool reconcile_needed = false;    // an upload ended without writing its result
    std::exception_ptr upload_error;  // an upload threw: the loop fails with it
};

// An item downloaded, decoded and (for a file) written to the original
// store, waiting for its batch's commit (ingest.cpp).
struct Engine::Prepared {
    AccountPtr account;
    providers::RemoteActivity item;
    formats::Summary summary;
    std::string original;  // empty: kept as metadata, no file
};

// What ingest_item gathers for commit_batch: the items, their keys in
// m_ingesting (released once recorded, or when the batch is dropped, e.g.
// by a stop: those items are offered again) and the files to sync.
struct Engine::Batch {
    explicit Batch(Engine& e, Tally* t = nullptr) : engine(e), tally(t) {}
    ~Batch() {
        for (const auto& k : keys) engine.m_ingesting.erase(k);
    }
    Batch(const Batch&) = delete;
    Batch& operator=(const Batch&) = delete;

    // Group commit: at most this many items, or this long since the oldest
    // joined, or sooner when the source is slow to hand files over.
    static constexpr size_t k_max_items = 64;
    static constexpr std::chrono::milliseconds k_max_wait{250};
    // Downloads decoded side by side on the offload pool (its thread count).
    static constexpr size_t k_decode_group = 3;
    // Items recorded per transaction (and per turn of the io_context).
    static constexpr size_t k_items_per_transaction = 16;

    Engine& engine;
    Tally* tally;
    std::vector<Prepared> items;
    std::vector<std::string> keys;
    std::vector<std::filesystem::path> unsynced;
    std::shared_ptr<Recording> recording;  // the previous batch, being recorded in the background
    std::chrono::steady_clock::time_point oldest{};
    bool slow_source = false;

    bool holds(const std::string& key) const { return std::find(keys.begin(), keys.end(), key) != keys.end(); }
    // Its key joined `keys` when it was fetched.
    void add(Prepared p) {
        if (items.empty()) oldest = std::chrono::steady_clock::now();
        items.push_back(std::move(p));
    }
    bool due() const {
        return !items.empty() &&
               (items.size() >= k_max_items || slow_source || std::chrono::steady_clock::now() - oldest >= k_max_wait);
    }
};

// A batch being recorded in the background (start_commit): what it counted,
// and the wake-up of the walk waiting for it (finish_recording).
struct Engine::Recording {
    explicit Recording(const boost::asio::any_io_executor& ex) : wake(ex) {
        wake.expires_at(boost::asio::steady_timer::time_point::max());
    }
    int64_t fresh = 0, failed = 0;
    bool done = false;
    boost::asio::steady_timer wake;
};

// What the offload pool hands back from decoding a download (ingest.cpp).
struct Decoded {
    formats::Summary summary;
    std::optional<Result<std::string>> original;  // the stored file, when it is an activity
};

// A downloaded item waiting for its decode, or a metadata-only one keeping
// its place in the listing order (ingest.cpp). Its key is held in
// m_ingesting through the batch's keys.
struct Engine::Fetched {
    std::string key;
    AccountPtr account;
    providers::RemoteActivity item;
    store::SourceItem rec;  // what is recorded if it is skipped or fails
    std::string bytes;
    Decoded decoded;        // filled by decode_group
    bool metadata = false;  // kept without a file: decoded.summary comes from the listing
};

// Events emitted while one is alive are persisted at once but reach the
// listeners only at publish(), after the transaction that wrote them has
// committed; dropped without publish() (the transaction rolled back), they
// never do. For synchronous blocks only: held across a co_await it would
// catch other coroutines' events.
struct Engine::HeldEvents {
    explicit HeldEvents(Engine& e) : engine(e) { ++engine.m_events_held; }
    ~HeldEvents() {
        if (!released) end(false);
    }
    HeldEvents(const HeldEvents&) = delete;
    HeldEvents& operator=(const HeldEvents&) = delete;
    void publish() {
        released = true;
        end(true);
    }

private:
    void end(bool send) {
        if (--engine.m_events_held > 0) {
            if (!send) engine.m_held_events.clear();  // an outer hold's transaction rolls back too
            return;
        }
        auto events = std::exchange(engine.m_held_events, {});
        if (send)
            for (const auto& e : events) engine.publish(e);
    }
    Engine& engine;
    bool released = false;
};

inline std::string reason_name(pipeline::Reason r) { return std::string(pipeline::to_string(r)); }

inline std::span<const uint8_t> as_bytes(const std::string& s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// An event's data: a flat object of strings.
std::string event_json(std::initializer_list<std::pair<std::string_view, std::string>> fields);

}  // namespace fitbridge::engine
