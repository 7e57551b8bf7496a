// Delivery: one loop per sink account, with at most
// sync.max_concurrent_per_account uploads in flight (or what the sink asks
// for, Provider::concurrent_uploads), so a slow, paused or
// failing sink delays only itself. The row goes to in_flight (committed)
// before its upload starts; an upload that ends without a result (a crash, a
// cancellation, a failed loop) is reconciled against the sink before any retry.

#include <SQLiteCpp/Exception.h>
#include <fmt/format.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cmath>
#include <random>

#include "core/files.hpp"
#include "core/log.hpp"
#include "engine/lines.hpp"
#include "engine/parts.hpp"
#include "formats/decode.hpp"
#include "formats/summary_json.hpp"

namespace fitbridge::engine {

namespace asio = boost::asio;
using asio::awaitable;
using pipeline::Reason;

namespace {

// Exponential backoff with full jitter, 30 s doubling, capped at 6 h.
double backoff_seconds(int64_t attempts) {
    static thread_local std::mt19937 rng{std::random_device{}()};
    double cap = std::min(30.0 * std::pow(2.0, static_cast<double>(std::min<int64_t>(attempts, 20))), 6 * 3600.0);
    return std::uniform_real_distribution<double>(cap / 2, cap)(rng);
}

std::string idempotency_key(const store::ActivityRow& act) {
    return fmt::format("fitbridge-{}", act.content_sha256.substr(0, 16));
}

// The summary an upload carries: the one the ingest stored with the activity
// (decoding the original again would cost as much as the ingest's decode),
// decoded afresh only when that cannot be read back.
formats::Summary upload_summary(const store::ActivityRow& act, std::span<const uint8_t> bytes) {
    auto s = formats::summary_from_json(act.summary);
    if (!s) {
        log::warn("activity {}: stored summary unreadable ({}); decoding the original again", act.id,
                  s.error().message);
        return formats::decode(bytes);
    }
    s->start_time = act.start_time;  // exact: the JSON keeps milliseconds
    return std::move(*s);
}

// Why an activity kept as metadata has no file: the reason its source gave.
std::string unavailable_message(store::Ledger& ledger, int64_t activity_id) {
    for (const auto& l : ledger.links(activity_id)) {
        if (l.matched_by == "delivered" || !l.original_path.empty()) continue;
        auto item = ledger.source_item(l.account_id, l.remote_id);
        if (item && item->reason == reason_name(Reason::unavailable) && item->detail) return *item->detail;
    }
    return std::string(pipeline::describe(Reason::unavailable));
}

// Cancels a sink's uploads when its loop ends, however it ends.
struct CancelUploads {
    asio::any_io_executor executor;
    std::map<int64_t, std::shared_ptr<CancelSlot>>& uploads;
    std::set<int64_t>& cancelled;
    ~CancelUploads() {
        for (auto& [id, slot] : uploads) {
            cancelled.insert(id);
            cancel(executor, slot);
        }
    }
};

}  // namespace

void Engine::wake_deliveries() {
    for (auto& [id, a] : m_accounts) a->delivery_wake.notify();
}

void Engine::wake_route_sinks() {
    // Only a route's sinks get new deliveries; every other loop woken would
    // just query the ledger and sleep again, once per ingested item.
    for (const auto& r : m_cfg.routes)
        for (const auto& sink : r.to)
            if (auto it = m_accounts.find(sink); it != m_accounts.end()) it->second->delivery_wake.notify();
}

awaitable<void> Engine::delivery_loop(AccountPtr sink) {
    CancelUploads cancel_uploads{m_executor, sink->uploads, sink->cancelled_uploads};
    const std::string& id = sink->cfg.id;
    sink->proven = false;
    co_await reconcile(sink);
    while (!sink->stopped && !m_stopping) {
        if (sink->upload_error) std::rethrow_exception(std::exchange(sink->upload_error, nullptr));
        if (sink->reconcile_needed) {
            sink->reconcile_needed = false;
            co_await reconcile(sink);
            continue;
        }
        const double now = m_ledger.now();
        double wake_at = now + 3600;
        if (auto until = blocked_until(id)) {
            wake_at = *until;  // paused: only this sink's deliveries wait
        } else {
            const size_t wanted = sink->provider->concurrent_uploads();
            const auto limit = !sink->proven ? size_t{1}
                               : wanted > 0
                                   ? wanted
                                   : static_cast<size_t>(std::max<int64_t>(1, m_cfg.sync.max_concurrent_per_account));
            if (sink->uploads.size() < limit) {
                for (const auto& d : m_ledger.due_deliveries_to(id, now, static_cast<int>(limit * 2))) {
                    if (sink->uploads.size() >= limit) break;
                    if (sink->uploads.count(d.id)) continue;
                    // One upload started per turn: uploads that never suspend
                    // (the archive's bookkeeping) would otherwise run back to
                    // back while a request to the API waits.
                    co_await asio::post(m_executor, asio::use_awaitable);
                    if (sink->stopped || m_stopping) co_return;
                    if (sink->uploads.count(d.id) || sink->uploads.size() >= limit) continue;
                    const auto now_row = m_ledger.delivery(d.id);  // it may have changed meanwhile
                    if (!now_row || !(now_row->state == "planned" ||
                                      (now_row->state == "failed" && now_row->retry_at && *now_row->retry_at <= now)))
                        continue;
                    start_upload(sink, *now_row);
                }
            }
            if (auto next = m_ledger.next_retry_at_to(id, now)) wake_at = std::min(wake_at, *next);
        }
        if (sink->uploads.empty()) note_work_done();
        // Woken early by new work, a finished upload or a retry request.
        const double wait_s = std::clamp(wake_at - m_ledger.now(), 0.05, 3600.0);
        co_await sink->delivery_wake.wait(std::chrono::milliseconds(static_cast<int64_t>(wait_s * 1000)));
    }
}

void Engine::start_upload(const AccountPtr& sink, const store::DeliveryRow& d) {
    auto slot = std::make_shared<CancelSlot>();
    sink->uploads[d.id] = slot;
    ++*m_uploads_running;
    // The handler may run after the engine is gone: it touches only the sink.
    asio::co_spawn(m_executor, deliver(sink, d),
                   on_finish(slot, [sink, slot, running = m_uploads_running, id = d.id](std::exception_ptr e) {
                       slot->finished = true;
                       --*running;
                       sink->uploads.erase(id);
                       const bool cancelled = sink->cancelled_uploads.erase(id) > 0;
                       if (e) {
                           // Cut short before its result was written: the row
                           // may still say in_flight.
                           sink->reconcile_needed = true;
                           if (!cancelled && !sink->stopped && !sink->upload_error) sink->upload_error = e;
                       }
                       sink->delivery_wake.notify();
                   }));
}

awaitable<void> Engine::reconcile(AccountPtr sink) {
    for (const auto& d : m_ledger.deliveries_in_state("in_flight")) {
        if (d.sink_id != sink->cfg.id || sink->uploads.count(d.id)) continue;
        auto act = m_ledger.activity(d.activity_id);
        if (!act) continue;
        // An activity kept as metadata went out as its summary alone.
        auto bytes = act->original_path.empty() ? Result<std::string>(std::string()) : read_file(act->original_path);
        if (!bytes) {
            m_ledger.set_delivery(d.id, "planned", std::nullopt, std::nullopt, std::nullopt, std::nullopt, false);
            continue;
        }
        auto summary = upload_summary(*act, as_bytes(*bytes));
        providers::UploadRequest req{as_bytes(*bytes), &summary, act->name, idempotency_key(*act)};
        auto found = co_await sink->provider->find_existing(req);
        if (sink->stopped || m_stopping) co_return;
        if (found && *found) {
            m_ledger.set_delivery(d.id, "delivered", **found, std::string("reconciled"),
                                  std::string("found on the sink after a restart"), std::nullopt, false);
            log::info("delivery {}: found on {} after restart ({})", d.id, d.sink_id, **found);
        } else {
            m_ledger.set_delivery(d.id, "planned", std::nullopt, std::nullopt, std::nullopt, std::nullopt, false);
        }
    }
}

awaitable<void> Engine::deliver(AccountPtr sink, store::DeliveryRow d) {
    // Its own turn of the io_context: co_spawn starts it inside the delivery
    // loop, and an upload that never suspends (the archive) would run there.
    co_await asio::post(m_executor, asio::use_awaitable);
    if (sink->stopped || m_stopping) co_return;
    auto act = m_ledger.activity(d.activity_id);
    if (!act) co_return;
    auto set = [&](const std::string& state, std::optional<std::string> remote, std::optional<Reason> reason,
                   std::optional<std::string> message, std::optional<double> retry_at, bool attempt) {
        m_ledger.set_delivery(d.id, state, remote,
                              reason ? std::optional<std::string>(reason_name(*reason)) : std::nullopt, message,
                              retry_at, attempt);
        if (state != "in_flight") {
            const auto reason_text = reason ? std::optional<std::string>(reason_name(*reason)) : std::nullopt;
            const auto line = delivery_line(d.activity_id, d.sink_id, state, remote, reason_text, message, retry_at);
            if (state == "failed")
                log::warn("{}", line);
            else
                log::info("{}", line);
        }
        emit("delivery.updated", event_json({{"delivery", std::to_string(d.id)},
                                             {"activity", std::to_string(d.activity_id)},
                                             {"sink", d.sink_id},
                                             {"state", state},
                                             {"reason", reason ? reason_name(*reason) : std::string()}}));
    };
    // An activity kept as metadata (no original) goes only to a sink that
    // creates activities from a summary: the request's bytes are empty.
    const bool metadata_only = act->original_path.empty();
    if (metadata_only && !(sink->provider->capabilities() & providers::k_create_metadata)) {
        set("skipped", std::nullopt, Reason::unavailable, unavailable_message(m_ledger, d.activity_id), std::nullopt,
            false);
        co_return;
    }
    if (!metadata_only && !(sink->provider->capabilities() & providers::k_upload)) {
        set("skipped", std::nullopt, Reason::sink_unsupported, std::nullopt, std::nullopt, false);
        co_return;
    }
    // The original is read on the offload pool: copying a large file into
    // memory (its page faults and the copy) is time a request to the API
    // would wait for on the io thread. Uploads run side by side, so the
    // round trip costs no throughput.
    Result<std::string> bytes = std::string();
    if (!metadata_only) {
        auto read = [path = act->original_path] { return read_file(path); };
        bytes = co_await net::run_blocking(&m_offload, std::move(read));
        if (sink->stopped || m_stopping) co_return;
    }
    if (!bytes) {
        set("failed", std::nullopt, Reason::original_missing, bytes.error().message, std::nullopt, false);
        co_return;
    }
    // Shared with the sink, which may keep them past the call (no copy).
    const auto original = std::make_shared<const std::string>(std::move(*bytes));
    auto summary = upload_summary(*act, as_bytes(*original));
    providers::UploadRequest req{as_bytes(*original), &summary, act->name, idempotency_key(*act), original};
    // The intent is committed before the upload starts: a crash from here on
    // leaves "in_flight", which the next start reconciles against the sink.
    // The row and its event join the commit of the uploads starting now.
    // Named first: GCC 12 destroys temporaries in a co_await expression twice.
    std::function<void()> mark_in_flight = [&] {
        set("in_flight", std::nullopt, std::nullopt, std::nullopt, std::nullopt, true);
    };
    auto marking = commit_together(std::move(mark_in_flight));
    if (!co_await std::move(marking)) co_return;  // cut short: nothing written
    if (sink->stopped || m_stopping) {
        sink->reconcile_needed = true;  // in_flight without an upload
        co_return;
    }
    auto r = co_await sink->provider->upload(req);
    const auto cancelled = (co_await asio::this_coro::cancellation_state).cancelled();
    if (!r && (cancelled != asio::cancellation_type::none || sink->stopped || m_stopping)) {
        // Stopped mid-upload: it may or may not have landed. The row stays
        // in_flight and is reconciled like after a crash.
        sink->reconcile_needed = true;
        co_return;
    }
    if (r) {
        sink->proven = true;
        // With the other results of the same few turns, in one commit.
        std::function<void()> record = [&] {
            set(r->duplicate ? "duplicate" : "delivered", r->remote_id, std::nullopt, std::nullopt, std::nullopt,
                false);
            // The sink took it: whatever credentials problem it had is over, and
            // what waited out an outage there can go now rather than at its backoff.
            if (needs_reauth(d.sink_id)) m_ledger.set_account_state(d.sink_id, "ok", std::nullopt);
            m_ledger.release_transient_failures(d.sink_id);
            store::LinkRow l;
            l.activity_id = d.activity_id;
            l.account_id = d.sink_id;
            l.remote_id = r->remote_id;
            l.matched_by = "delivered";
            l.content_sha256 = act->content_sha256;
            l.original_path = act->original_path;
            l.created_at = m_ledger.now();
            try {
                m_ledger.insert_link(l);
            } catch (const SQLite::Exception&) {
                // The sink's id is already linked (a duplicate of a known activity).
            }
        };
        // Cut short: the row still says in_flight, reconciled like after a crash.
        auto recording = commit_together(std::move(record));
        if (!co_await std::move(recording)) sink->reconcile_needed = true;
        co_return;
    }
    const auto& e = r.error();
    const double now = m_ledger.now();
    if (e.cls != ErrorClass::permanent) sink->proven = false;
    switch (e.cls) {
        case ErrorClass::transient: {
            const double backoff = backoff_seconds(d.attempts);
            set("failed", std::nullopt, Reason::sink_transient, e.message, now + backoff, false);
            // The sink is likely down for everyone: pause it briefly rather than
            // spend every other delivery's retries on the outage.
            pause(d.sink_id, std::min(backoff, 30.0), "unreachable");
            break;
        }
        case ErrorClass::rate_limited:
            set("failed", std::nullopt, Reason::sink_rate_limited, e.message,
                now + static_cast<double>(e.retry_after.value_or(std::chrono::seconds(900)).count()), false);
            block(d.sink_id, e);  // the other deliveries to this sink wait too
            break;
        case ErrorClass::auth:
            set("failed", std::nullopt, Reason::sink_auth, e.message, now + 3600, false);
            m_ledger.set_account_state(d.sink_id, "needs_reauth", e.message);
            break;
        case ErrorClass::permanent:
        case ErrorClass::fatal:
            if (providers::is_unsupported(e))
                set("skipped", std::nullopt, Reason::sink_unsupported, e.message, std::nullopt, false);
            else
                set("failed", std::nullopt, Reason::sink_rejected, e.message, std::nullopt, false);
            break;
    }
}

}  // namespace fitbridge::engine
