// Polling and backfill: one poller per source account (periodic with ±10%
// jitter, manual triggers, watch wake-ups) and backfill jobs, both walking a
// source's pages through walk().

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <random>

#include "core/log.hpp"
#include "core/time.hpp"
#include "engine/lines.hpp"
#include "engine/parts.hpp"

namespace fitbridge::engine {

namespace asio = boost::asio;
using asio::awaitable;

namespace {
double jitter_factor() {
    static thread_local std::mt19937 rng{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.9, 1.1)(rng);
}
}  // namespace

awaitable<void> Engine::poll_loop(AccountPtr a) {
    using Steady = std::chrono::steady_clock;
    while (!a->stopped && !m_stopping) {
        if (!a->queued_jobs.empty()) {
            // Taken off the queue only once run: a sync that fails with the
            // loop runs again when the loop is restarted.
            co_await run_sync(a, a->queued_jobs.front());
            if (!a->queued_jobs.empty()) a->queued_jobs.pop_front();
            continue;
        }
        if (Steady::now() >= a->next_poll && stored_credentials(*a) && needs_reauth(a->cfg.id)) {
            // Stored credentials that were refused stay refused: wait for new
            // ones (set_credentials restarts the account) or a manual sync. A
            // secret file is read at every request, so those accounts keep
            // their polls and heal as soon as the file is fixed.
            if (!a->reauth_logged)
                log::warn("account {}: needs re-authorisation; periodic polls paused until its credentials are fixed",
                          a->cfg.id);
            a->reauth_logged = true;
            a->next_poll = Steady::now() + std::chrono::seconds(a->cfg.poll_interval_s);
        } else if (Steady::now() >= a->next_poll) {
            a->reauth_logged = false;
            const uint64_t notices = a->change_notices;
            co_await run_sync(a, std::nullopt);
            if (a->stopped || m_stopping) break;
            auto interval =
                std::chrono::duration<double>(static_cast<double>(a->cfg.poll_interval_s) * jitter_factor());
            a->next_poll = Steady::now() + std::chrono::duration_cast<Steady::duration>(interval);
            // Changed while it synced: its listing may predate the change.
            if (a->change_notices != notices) a->next_poll = Steady::now();
            // Files still settling: look again soon rather than at the next poll.
            for (const auto& ig : a->provider->ignored()) {
                if (ig.reason == "unstable") {
                    a->next_poll = std::min(a->next_poll, Steady::now() + std::chrono::seconds(2));
                    break;
                }
            }
        }
        co_await a->poll_wake.wait(a->next_poll - Steady::now());
    }
}

awaitable<void> Engine::run_sync(AccountPtr a, std::optional<int64_t> job_id) {
    if (job_id) {
        m_ledger.update_job(*job_id, "running", 0, std::nullopt, std::nullopt);
        emit("job.updated", event_json({{"job", std::to_string(*job_id)}, {"state", "running"}}));
    }
    const auto started = std::chrono::steady_clock::now();
    int64_t done = 0, total = 0;
    Tally tally;
    auto error = co_await walk(a, {}, job_id, done, total, &tally);
    // An ingest's churn (a parsed document per GPX, the listing) leaves freed
    // heap that glibc keeps; the daemon then idles, so give it back.
    note_work_done();
    const bool interrupted = m_stopping || a->stopped;
    if (!interrupted) m_ledger.set_account_polled(a->cfg.id, error);
    // Every job; a periodic poll only when it found something or failed.
    if (!interrupted && (job_id || error || tally.fresh || tally.skipped || tally.failed))
        log::info(
            "{}",
            summary_line(job_id ? fmt::format("sync job {} {}", *job_id, a->cfg.id) : fmt::format("sync {}", a->cfg.id),
                         total, tally.fresh, tally.skipped, tally.failed,
                         std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(), error));
    if (job_id) {
        std::string state = interrupted ? "queued" : (error ? "failed" : "done");
        m_ledger.update_job(*job_id, state, done, total, error);
        emit("job.updated", event_json({{"job", std::to_string(*job_id)}, {"state", state}}));
    }
}

awaitable<void> Engine::run_backfill(int64_t job_id, std::vector<std::string> accounts, providers::ListQuery query) {
    // A job resumed after a restart goes on from the account and the page it
    // had reached; the pages before were listed and ingested already.
    auto position = m_ledger.job_position(job_id);
    size_t first = 0;
    if (position) {
        auto at = std::find(accounts.begin(), accounts.end(), position->account);
        if (at == accounts.end())
            position.reset();
        else
            first = static_cast<size_t>(at - accounts.begin());
    }
    int64_t done = position ? position->done : 0, total = done;
    m_ledger.update_job(job_id, "running", done, position ? std::optional<int64_t>(total) : std::nullopt, std::nullopt);
    emit("job.updated", event_json({{"job", std::to_string(job_id)}, {"state", "running"}}));
    std::optional<std::string> error;
    const auto started = std::chrono::steady_clock::now();
    const int64_t done_before = done;
    Tally tally;
    query.backfill = true;  // spends only what live polling leaves of the platform's budget
    for (size_t i = first; i < accounts.size(); ++i) {
        const auto& id = accounts[i];
        query.cursor = position && i == first ? position->cursor : std::nullopt;
        // Recorded before listing, so a restart during the next account's first page starts that account.
        if (i > first) m_ledger.set_job_position(job_id, {id, std::nullopt, done});
        auto it = m_accounts.find(id);
        if (it == m_accounts.end() || !it->second->provider) {
            error = fmt::format("account '{}' is not running", id);
            continue;
        }
        auto a = it->second;
        auto e = co_await walk(a, query, job_id, done, total, &tally);
        if (e) error = fmt::format("{}: {}", id, *e);
        if (m_stopping || a->stopped) co_return;  // stays running/queued: resumed at the next start
    }
    note_work_done();  // as after a sync
    std::string state = error ? "failed" : "done";
    m_ledger.update_job(job_id, state, done, total, error);
    log::info("{}",
              summary_line(fmt::format("backfill job {}", job_id), total - done_before, tally.fresh, tally.skipped,
                           tally.failed,
                           std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(), error));
    emit("job.updated", event_json({{"job", std::to_string(job_id)}, {"state", state}}));
}

awaitable<std::optional<std::string>> Engine::walk(AccountPtr a, providers::ListQuery query,
                                                   std::optional<int64_t> job_id, int64_t& done, int64_t& total,
                                                   Tally* tally) {
    Batch batch(*this, tally);
    auto failed = co_await walk_pages(std::move(a), std::move(query), job_id, done, total, batch);
    // However the pages ended, the batch recorded in the background is
    // waited for: its counts belong to this walk.
    co_await finish_recording(batch);
    co_return failed;
}

awaitable<std::optional<std::string>> Engine::walk_pages(AccountPtr a, providers::ListQuery query,
                                                         std::optional<int64_t> job_id, int64_t& done, int64_t& total,
                                                         Batch& batch) {
    const std::string& id = a->cfg.id;
    std::optional<std::string> cursor = query.cursor;  // a resumed backfill starts at its page
    // Named, not converted in co_return (GCC 12 mishandles those temporaries).
    std::optional<std::string> failed;
    for (;;) {
        // The platform asked for a pause (persisted, so it outlives restarts):
        // asking again before it ends would only be refused, or lengthen it.
        // A live sync fails at once; history can wait the pause out.
        if (auto until = blocked_until(id)) {
            const auto why = fmt::format("rate-limited by the platform until {}", format_iso8601(*until));
            if (!query.backfill) {
                failed = why;
                co_return failed;
            }
            if (job_id)
                m_ledger.update_job(
                    *job_id, "running", done, total,
                    fmt::format("{}: waiting for the platform's rate limit until {}", id, format_iso8601(*until)));
            asio::steady_timer t(m_executor);
            t.expires_after(std::chrono::seconds(1));
            boost::system::error_code ec;
            co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            if (m_stopping || a->stopped) co_return failed;
            continue;
        }
        query.cursor = cursor;
        auto page = co_await a->provider->list(query);
        if (m_stopping || a->stopped) co_return failed;
        if (!page) {
            const auto& e = page.error();
            if (e.cls == ErrorClass::rate_limited) {
                block(id, e);
                if (query.backfill) continue;  // the same page again once the pause is over
            }
            if (!query.backfill) {
                log::warn("account {}: listing failed: {}", id, e.message);
                if (e.cls == ErrorClass::auth) m_ledger.set_account_state(id, "needs_reauth", e.message);
            }
            failed = e.message;
            co_return failed;
        }
        total += static_cast<int64_t>(page->items.size());
        if (query.backfill && job_id) m_ledger.update_job(*job_id, "running", done, total, std::nullopt);
        // Items are downloaded one after the other, one per turn of the
        // io_context (a source and a store that complete without suspending,
        // a folder, would otherwise hold the thread, and the API with it, for
        // a whole page), then decoded a group at a time side by side.
        auto& items = page->items;
        int64_t reported = done;
        for (size_t i = 0; i < items.size();) {
            std::vector<Fetched> group;
            while (i < items.size() && group.size() < Batch::k_decode_group) {
                co_await asio::post(m_executor, asio::use_awaitable);
                if (m_stopping || a->stopped) co_return failed;
                auto& item = items[i];
                // An item another job is ingesting is waited for (fetch_item)
                // only once this group is recorded: that job may wait for one
                // of ours.
                const std::string key = id + '\n' + item.remote_id;
                if (!group.empty() && m_ingesting.contains(key) && !batch.holds(key)) break;
                item.backfill = query.backfill;  // its download spends the same share
                auto fetched = co_await fetch_item(a, std::move(item), batch);
                ++i;
                ++done;
                if (fetched) group.push_back(std::move(*fetched));
                if (batch.slow_source) break;
            }
            if (!group.empty()) {
                co_await decode_group(group);
                if (m_stopping || a->stopped) co_return failed;
                for (auto& f : group) settle_fetched(f, batch);
            }
            // A fast source's batch is synced and recorded in the background
            // while the next group is fetched; a slow one's items are
            // recorded before its next download (nothing to overlap there).
            if (batch.due()) {
                if (batch.slow_source)
                    co_await commit_batch(batch);
                else
                    co_await start_commit(batch);
            }
            if (job_id && done / 10 != reported / 10) {
                m_ledger.update_job(*job_id, "running", done, total, std::nullopt);
                reported = done;
            }
        }
        // A page is recorded whole before the job's position moves past it.
        co_await commit_batch(batch);
        if (m_stopping || a->stopped) co_return failed;
        cursor = page->next_cursor;
        if (!cursor) co_return failed;
        if (query.backfill && job_id) m_ledger.set_job_position(*job_id, {id, cursor, done});
    }
}

}  // namespace fitbridge::engine
