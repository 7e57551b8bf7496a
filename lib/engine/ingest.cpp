// Ingest of one listed item: download, decode, keep the original, then one
// transaction that matches it to known activities, links it, records the
// source item and plans its deliveries. Also planning: replan and the dry run.

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/files.hpp"
#include "core/hash.hpp"
#include "core/log.hpp"
#include "engine/lines.hpp"
#include "engine/parts.hpp"
#include "formats/decode.hpp"
#include "json/json.hpp"
#include "pipeline/match.hpp"
#include "pipeline/plan.hpp"

namespace fitbridge::engine {

namespace asio = boost::asio;
using asio::awaitable;
using pipeline::Reason;

namespace {

// Where a copy's decoded values live in the ledger.
std::optional<double> opt_positive(const std::optional<double>& v) {
    if (v && *v > 0) return v;
    return std::nullopt;
}

pipeline::Facts facts_of(const store::ActivityRow& a, const std::vector<store::LinkRow>& links) {
    pipeline::Facts f;
    f.activity_id = a.id;
    f.content_sha256.push_back(a.content_sha256);
    for (const auto& l : links) {
        if (!l.content_sha256.empty()) f.content_sha256.push_back(l.content_sha256);
        f.records = std::max(f.records, l.records);
    }
    f.start_time = a.start_time;
    f.sport_family = a.sport_family;
    f.elapsed_s = opt_positive(a.elapsed_s);
    f.distance_m = opt_positive(a.distance_m);
    // Positions live in the stored summary.
    auto doc = json::parse(a.summary);
    if (doc && doc->IsObject()) {
        auto fl = json::get_number(*doc, "first_lat"), fo = json::get_number(*doc, "first_lon");
        auto ll = json::get_number(*doc, "last_lat"), lo = json::get_number(*doc, "last_lon");
        if (fl && fo) f.first_position = std::make_pair(*fl, *fo);
        if (ll && lo) f.last_position = std::make_pair(*ll, *lo);
    }
    return f;
}

// The summary of an activity known only by its listing: no original, and a
// content identity of its own (the account and item, never a file's hash) so
// that it stays apart from every file.
formats::Summary metadata_summary(const std::string& account, const providers::RemoteActivity& item) {
    formats::Summary s;
    s.format = formats::Format::unknown;
    s.ok = true;
    s.content_sha256 = sha256_hex("fitbridge-metadata\n" + account + "\n" + item.remote_id);
    s.start_time = item.start_time;
    s.sport_family = item.sport_family;
    s.total_elapsed_time = item.elapsed_s;
    s.total_distance = item.distance_m;
    return s;
}

}  // namespace

awaitable<void> Engine::propagate_name(int64_t activity_id, std::string name, std::string authority) {
    m_ledger.set_activity_name(activity_id, name);
    emit("activity.renamed",
         event_json({{"activity", std::to_string(activity_id)}, {"name", name}, {"by", authority}}));
    for (const auto& l : m_ledger.links(activity_id)) {
        if (l.account_id == authority) continue;
        auto it = m_accounts.find(l.account_id);
        if (it == m_accounts.end() || !it->second->provider ||
            !(it->second->provider->capabilities() & providers::k_update_name))
            continue;
        auto r = co_await it->second->provider->update_name(l.remote_id, name);
        if (m_stopping) co_return;
        if (!r) {
            log::warn("activity {}: renaming on {} failed: {}", activity_id, l.account_id, r.error().message);
            emit("activity.rename_failed", event_json({{"activity", std::to_string(activity_id)},
                                                       {"account", l.account_id},
                                                       {"detail", r.error().message}}));
        }
    }
}

awaitable<std::optional<Engine::Fetched>> Engine::fetch_item(AccountPtr a, providers::RemoteActivity item,
                                                             Batch& batch) {
    std::optional<Fetched> none;  // named: GCC 12 mishandles temporaries in co_return
    // One fetch per item: a job that lists an item another job is ingesting
    // waits for it to end, then finds it recorded below.
    const std::string key = a->cfg.id + '\n' + item.remote_id;
    if (batch.holds(key)) co_return none;  // listed twice: once is enough
    while (m_ingesting.contains(key)) {
        // Whatever this job holds is recorded first: the other job may be
        // waiting for one of its items in turn.
        co_await commit_batch(batch);
        boost::asio::steady_timer wait(m_executor, std::chrono::milliseconds(50));
        boost::system::error_code ec;
        co_await wait.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
        if (m_stopping || a->stopped) co_return none;
    }
    m_ingesting.insert(key);
    // Released here, unless the item joins the batch (which releases it once
    // recorded, or dropped).
    struct Release {
        std::set<std::string>& set;
        std::string key;
        bool kept = false;
        ~Release() {
            if (!kept) set.erase(key);
        }
    } release{m_ingesting, key};
    // Already linked (an earlier ingest, or a copy FitBridge delivered there):
    // nothing to fetch; the name authority's renames flow to the other copies.
    if (auto link = m_ledger.link_by_remote(a->cfg.id, item.remote_id)) {
        if (!m_ledger.source_item(a->cfg.id, item.remote_id)) {
            store::SourceItem rec;
            rec.account_id = a->cfg.id;
            rec.remote_id = item.remote_id;
            rec.state = "ingested";
            rec.origin = item.origin;
            rec.name = item.name;
            rec.activity_id = link->activity_id;
            rec.attempts = 1;
            rec.seen_at = m_ledger.now();
            m_ledger.put_source_item(rec);
        }
        auto act = m_ledger.activity(link->activity_id);
        if (act && a->cfg.id == m_cfg.sync.name_authority && !item.name.empty() && item.name != act->name)
            co_await propagate_name(act->id, item.name, a->cfg.id);
        co_return none;
    }
    auto seen = m_ledger.source_item(a->cfg.id, item.remote_id);
    // Seen before: never processed again, unless fetching it failed, or it
    // was skipped as unavailable and now comes with the metadata to keep it.
    const bool retry = seen && ((seen->state == "failed" && seen->reason == reason_name(Reason::download_failed)) ||
                                (seen->state == "skipped" && seen->reason == reason_name(Reason::unavailable) &&
                                 item.unavailable_reason && item.start_time));
    if (seen && !retry) co_return none;
    Tally* tally = batch.tally;
    store::SourceItem rec;
    rec.account_id = a->cfg.id;
    rec.remote_id = item.remote_id;
    rec.origin = item.origin;
    rec.name = item.name;
    rec.seen_at = m_ledger.now();
    rec.attempts = seen ? seen->attempts + 1 : 1;
    if (item.unavailable_reason && item.start_time) {
        // Kept as metadata: no download, but its place in the listing order.
        release.kept = true;
        batch.keys.push_back(key);
        std::optional<Fetched> meta(Fetched{key, a, item, std::move(rec), std::string(), {}, true});
        meta->decoded.summary = metadata_summary(a->cfg.id, item);
        co_return meta;
    }
    if (item.unavailable_reason) {
        rec.state = "skipped";
        rec.reason = reason_name(Reason::unavailable);
        rec.detail = item.unavailable_reason;
        m_ledger.put_source_item(rec);
        if (tally) ++tally->skipped;
        log::info("{}", item_line("skip", a->cfg.id, item.remote_id, *rec.reason, rec.detail.value_or("")));
        emit("item.skipped", event_json({{"account", a->cfg.id}, {"item", item.remote_id}, {"reason", *rec.reason}}));
        co_return none;
    }
    const auto fetch_started = std::chrono::steady_clock::now();
    auto bytes = co_await a->provider->download(item);
    if (m_stopping || a->stopped) co_return none;
    // A source that makes the daemon wait for each file (a platform, not a
    // folder) gets its items recorded before the next fetch, not 64 fetches later.
    if (std::chrono::steady_clock::now() - fetch_started > std::chrono::milliseconds(50)) batch.slow_source = true;
    // A source that finds out only on fetching that it has no file for the
    // item (Strava: no streams) says so with "<platform>.unavailable".
    if (!bytes && bytes.error().cls == ErrorClass::permanent && bytes.error().code.ends_with(".unavailable"))
        item.unavailable_reason = bytes.error().message;
    if (!bytes && item.unavailable_reason) {
        rec.state = "skipped";
        rec.reason = reason_name(Reason::unavailable);
        rec.detail = item.unavailable_reason;
        m_ledger.put_source_item(rec);
        if (tally) ++tally->skipped;
        log::info("{}", item_line("skip", a->cfg.id, item.remote_id, *rec.reason, rec.detail.value_or("")));
        emit("item.skipped", event_json({{"account", a->cfg.id}, {"item", item.remote_id}, {"reason", *rec.reason}}));
        co_return none;
    }
    if (!bytes) {
        rec.state = "failed";
        rec.reason = reason_name(Reason::download_failed);
        rec.detail = bytes.error().message;
        m_ledger.put_source_item(rec);
        if (tally) ++tally->failed;
        log::warn("{}", item_line("fail", a->cfg.id, item.remote_id, *rec.reason, *rec.detail));
        emit("item.failed",
             event_json(
                 {{"account", a->cfg.id}, {"item", item.remote_id}, {"reason", *rec.reason}, {"detail", *rec.detail}}));
        co_return none;
    }
    // Its key is released with the batch's (settle_fetched may add it).
    release.kept = true;
    batch.keys.push_back(key);
    std::optional<Fetched> fetched(
        Fetched{key, std::move(a), std::move(item), std::move(rec), std::move(*bytes), {}, false});
    co_return fetched;
}

awaitable<void> Engine::decode_group(std::vector<Fetched>& group) {
    // Decoding and the originals' writes run on the offload pool, side by
    // side; the files are synced with the rest of their batch.
    auto decode_and_keep = [this, &group](size_t i) {
        auto& f = group[i];
        if (f.metadata) return;  // nothing to decode
        Decoded& d = f.decoded;
        d.summary = formats::decode(as_bytes(f.bytes));
        // A file that knows only a generic sport (TCX has Running, Biking and
        // Other, so a walk rebuilt from a platform's streams reads as other)
        // takes the sport its source listed.
        if (f.item.sport_family && (!d.summary.sport_family || *d.summary.sport_family == "other"))
            d.summary.sport_family = f.item.sport_family;
        if (d.summary.ok && d.summary.is_activity)
            d.original = m_originals.store(f.bytes, d.summary, Durability::deferred);
    };
    co_await net::run_each(&m_offload, group.size(), decode_and_keep);
}

void Engine::settle_fetched(Fetched& f, Batch& batch) {
    // Settled here unless it joins the batch's items: its key is let go.
    struct Release {
        Engine& engine;
        Batch& batch;
        const std::string& key;
        bool kept = false;
        ~Release() {
            if (kept) return;
            std::erase(batch.keys, key);
            engine.m_ingesting.erase(key);
        }
    } release{*this, batch, f.key};
    const auto& a = f.account;
    auto& item = f.item;
    auto& rec = f.rec;
    Tally* tally = batch.tally;
    auto& summary = f.decoded.summary;
    if (f.metadata) {
        release.kept = true;
        batch.add(Prepared{a, std::move(item), std::move(summary), std::string()});
        return;
    }
    if (!summary.ok || !summary.is_activity) {
        rec.state = summary.ok ? "skipped" : "failed";
        rec.reason = reason_name(summary.ok ? Reason::not_an_activity : Reason::decode_failed);
        rec.detail = summary.ok ? summary.not_activity_reason : summary.error;
        m_ledger.put_source_item(rec);
        if (tally) ++(summary.ok ? tally->skipped : tally->failed);
        if (summary.ok)
            log::info("{}", item_line("skip", a->cfg.id, item.remote_id, *rec.reason, rec.detail.value_or("")));
        else
            log::warn("{}", item_line("fail", a->cfg.id, item.remote_id, *rec.reason, rec.detail.value_or("")));
        emit(summary.ok ? "item.skipped" : "item.failed", event_json({{"account", a->cfg.id},
                                                                      {"item", item.remote_id},
                                                                      {"reason", *rec.reason},
                                                                      {"detail", rec.detail.value_or("")}}));
        return;
    }
    const auto& original = f.decoded.original;
    if (!original || !*original) {
        // Nothing recorded: the next poll offers the item again.
        log::error("account {}: cannot keep the original of {}: {}", a->cfg.id, item.remote_id,
                   original ? original->error().message : std::string("not written"));
        if (tally) ++tally->failed;
        return;
    }
    std::string path = **original;
    batch.unsynced.emplace_back(path);
    release.kept = true;
    batch.add(Prepared{a, std::move(item), std::move(summary), std::move(path)});
}

awaitable<void> Engine::commit_batch(Batch& batch) {
    co_await finish_recording(batch);
    if (batch.items.empty()) co_return;
    // Taken out whole: fetch_item may start the next batch while this one
    // is recorded (a job waiting for another's item commits its own first).
    auto out = std::make_shared<Recording>(m_executor);
    batch.slow_source = false;
    // Named first: GCC 12 destroys temporaries in a co_await expression twice.
    auto items = std::exchange(batch.items, {});
    auto files = std::exchange(batch.unsynced, {});
    auto keys = std::exchange(batch.keys, {});
    co_await record_taken(std::move(items), std::move(files), std::move(keys), out);
    if (batch.tally) {
        batch.tally->fresh += out->fresh;
        batch.tally->failed += out->failed;
    }
}

awaitable<void> Engine::start_commit(Batch& batch) {
    co_await finish_recording(batch);
    if (batch.items.empty()) co_return;
    batch.slow_source = false;
    batch.recording = std::make_shared<Recording>(m_executor);
    auto items = std::exchange(batch.items, {});
    auto files = std::exchange(batch.unsynced, {});
    auto keys = std::exchange(batch.keys, {});
    auto record = record_taken(std::move(items), std::move(files), std::move(keys), batch.recording);
    asio::co_spawn(m_executor, std::move(record), [out = batch.recording](std::exception_ptr e) {
        if (e) {
            // Not recorded: its keys are released, the next poll offers its items again.
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                log::error("recording a batch of ingested items failed: {}; offered again at the next poll", ex.what());
            } catch (...) {
                log::error("recording a batch of ingested items failed; offered again at the next poll");
            }
        }
        out->done = true;
        out->wake.cancel();
    });
}

awaitable<void> Engine::finish_recording(Batch& batch) {
    auto r = std::exchange(batch.recording, nullptr);
    if (!r) co_return;
    if (!r->done) {
        boost::system::error_code ec;
        co_await r->wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        // Cut short (a stop): the recording goes on, or ended, without us.
        if (!r->done) co_return;
    }
    if (batch.tally) {
        batch.tally->fresh += r->fresh;
        batch.tally->failed += r->failed;
    }
}

awaitable<void> Engine::record_taken(std::vector<Prepared> items, std::vector<std::filesystem::path> files,
                                     std::vector<std::string> keys, std::shared_ptr<Recording> out) {
    struct Release {
        std::set<std::string>& set;
        std::vector<std::string> keys;
        ~Release() {
            for (const auto& k : keys) set.erase(k);
        }
    } release{m_ingesting, std::move(keys)};
    if (!files.empty()) {
        auto sync = [&files]() { return sync_files(files); };
        auto synced = co_await net::run_syncing(&m_offload, std::move(sync));
        if (!synced) {
            // Nothing recorded: the next poll offers these items again.
            log::error("cannot make {} original{} durable: {}; {} offered again at the next poll", files.size(),
                       files.size() == 1 ? "" : "s", synced.error().message,
                       files.size() == 1 ? "its item is" : "their items are");
            out->failed += static_cast<int64_t>(items.size());
            co_return;
        }
    }
    // Several items per transaction, one transaction per turn of the
    // io_context: the ledger's pages are written once for the several instead
    // of once per item (four of the indexes are keyed by content hashes, so
    // each item dirties leaves of its own there). A request that runs on the
    // io thread waits behind one turn at most (about 1.1 ms at
    // k_items_per_transaction = 16, 1.5 ms at p90); /v1/status and /healthz
    // are answered on the API's own thread and do not wait for it.
    std::vector<std::string> lines;
    for (size_t i = 0; i < items.size();) {
        if (i > 0) co_await asio::post(m_executor, asio::use_awaitable);
        if (m_stopping) co_return;
        HeldEvents held(*this);
        auto tx = m_ledger.transaction();
        lines.clear();
        const size_t end = std::min(items.size(), i + Batch::k_items_per_transaction);
        for (; i < end; ++i) {
            auto& p = items[i];
            auto line = ingest_decoded(*p.account, p.item, p.original, p.summary);
            if (line) lines.push_back(std::move(*line));
        }
        tx.commit();
        held.publish();
        for (const auto& line : lines) log::info("{}", line);
        out->fresh += static_cast<int64_t>(lines.size());
    }
    wake_route_sinks();
}

std::optional<std::string> Engine::ingest_decoded(const Account& a, const providers::RemoteActivity& item,
                                                  const std::string& original, const formats::Summary& s) {
    const bool has_file = !original.empty();
    if (auto again = m_ledger.source_item(a.cfg.id, item.remote_id); again && again->state == "ingested")
        return std::nullopt;
    const auto summary_json = formats::to_json(s, item.origin.empty() ? item.name : item.origin);
    const double now = m_ledger.now();

    pipeline::Facts incoming;
    incoming.content_sha256 = {s.content_sha256};
    incoming.start_time = s.start_time;
    incoming.sport_family = s.sport_family;
    incoming.elapsed_s = opt_positive(s.total_elapsed_time);
    incoming.distance_m = opt_positive(s.total_distance);
    incoming.records = s.records;
    if (s.first_lat && s.first_lon) incoming.first_position = std::make_pair(*s.first_lat, *s.first_lon);
    if (s.last_lat && s.last_lon) incoming.last_position = std::make_pair(*s.last_lat, *s.last_lon);

    std::vector<pipeline::Facts> known;
    if (auto by_hash = m_ledger.activity_by_content(s.content_sha256)) {
        auto act = m_ledger.activity(*by_hash);
        if (act) known.push_back(facts_of(*act, m_ledger.links(act->id)));
    } else if (s.start_time) {
        const double window = std::max(m_cfg.sync.match_tolerance_s * 1.0, 14 * 3600.0 + 60);
        for (const auto& act : m_ledger.activities_between(*s.start_time - window, *s.start_time + window))
            known.push_back(facts_of(act, m_ledger.links(act.id)));
    }
    pipeline::MatchOptions mo{static_cast<double>(m_cfg.sync.match_tolerance_s), m_cfg.sync.match_duration_ratio};
    auto m = pipeline::match(incoming, known, mo);

    store::LinkRow link;
    link.account_id = a.cfg.id;
    link.remote_id = item.remote_id;
    link.content_sha256 = s.content_sha256;
    link.original_path = original;
    link.records = s.records;
    link.has_power = s.has_power;
    link.has_hr = s.has_hr;
    link.created_at = now;

    int64_t activity_id = 0;
    bool matched = m.kind == pipeline::MatchKind::exact || m.kind == pipeline::MatchKind::time ||
                   m.kind == pipeline::MatchKind::time_shifted;
    if (matched) {
        activity_id = m.activity_ids.front();
        link.activity_id = activity_id;
        link.matched_by = std::string(pipeline::to_string(m.kind));
        link.confidence = m.confidence;
        link.id = m_ledger.insert_link(link);
        // Deliver the richer copy, unless a delivery already used the other.
        auto act = m_ledger.activity(activity_id);
        bool committed = false;
        for (const auto& d : m_ledger.deliveries(activity_id))
            committed |= d.state == "in_flight" || d.state == "delivered" || d.state == "duplicate";
        if (act && act->original_path.empty() && has_file) {
            // The first file of an activity known only by its metadata: it
            // becomes the activity's copy whatever went out already (that
            // was metadata), and the file sinks it was unavailable for get it.
            m_ledger.update_activity_choice(activity_id, link, summary_json, s.start_time, s.sport_family,
                                            s.total_elapsed_time, s.total_distance);
            for (const auto& d : m_ledger.deliveries(activity_id))
                if (d.state == "skipped" && d.reason == reason_name(Reason::unavailable))
                    m_ledger.set_delivery(d.id, "planned", std::nullopt, std::nullopt, std::nullopt, std::nullopt,
                                          false);
        } else if (act && has_file && !committed && m.kind != pipeline::MatchKind::time_shifted) {
            // (A copy known only by its metadata never replaces a file.)
            pipeline::Richness current{};
            for (const auto& l : m_ledger.links(activity_id))
                if (l.content_sha256 == act->content_sha256 && l.id != link.id)
                    current = {l.has_power, l.has_hr, l.records};
            if (pipeline::richer({s.has_power, s.has_hr, s.records}, current))
                m_ledger.update_activity_choice(activity_id, link, summary_json, s.start_time, s.sport_family,
                                                s.total_elapsed_time, s.total_distance);
        }
    } else {
        store::ActivityRow act;
        act.content_sha256 = s.content_sha256;
        act.start_time = s.start_time;
        act.sport_family = s.sport_family;
        act.elapsed_s = s.total_elapsed_time;
        act.distance_m = s.total_distance;
        act.name = item.name;
        act.summary = summary_json;
        act.original_path = original;
        act.created_at = now;
        if (m.kind == pipeline::MatchKind::ambiguous) {
            std::string ids = "[";
            for (size_t i = 0; i < m.activity_ids.size(); ++i)
                ids += (i ? "," : "") + std::to_string(m.activity_ids[i]);
            act.ambiguous_with = ids + "]";
        }
        activity_id = m_ledger.insert_activity(act);
        link.activity_id = activity_id;
        link.matched_by = "origin";
        link.id = m_ledger.insert_link(link);
        m_ledger.update_activity_choice(activity_id, link, summary_json, s.start_time, s.sport_family,
                                        s.total_elapsed_time, s.total_distance);
    }
    store::SourceItem rec;
    rec.account_id = a.cfg.id;
    rec.remote_id = item.remote_id;
    rec.state = "ingested";
    rec.origin = item.origin;
    rec.name = item.name;
    rec.activity_id = activity_id;
    rec.attempts = 1;
    rec.seen_at = now;
    if (m.kind == pipeline::MatchKind::ambiguous) {
        rec.reason = reason_name(Reason::ambiguous_match);
        rec.detail = fmt::format("could be activity {}", fmt::join(m.activity_ids, " or "));
    } else if (!has_file) {
        // Kept as metadata: why there is no file, for the file sinks' deliveries.
        rec.reason = reason_name(Reason::unavailable);
        rec.detail = item.unavailable_reason;
    }
    m_ledger.put_source_item(rec);
    replan(activity_id);
    emit("activity.ingested",
         event_json({{"activity", std::to_string(activity_id)},
                     {"account", a.cfg.id},
                     {"item", item.remote_id},
                     {"matched_by", matched ? std::string(pipeline::to_string(m.kind)) : std::string("new")}}));
    return ingest_line(
        a.cfg.id, s.start_time, s.sport_family, s.total_distance, item.name.empty() ? item.remote_id : item.name,
        activity_id,
        fmt::format("{}{}", matched ? fmt::format("matched by {}", pipeline::to_string(m.kind)) : std::string("new"),
                    has_file ? "" : ", metadata only"));
}

void Engine::replan(int64_t activity_id) {
    auto act = m_ledger.activity(activity_id);
    if (!act) return;
    pipeline::ActivityFacts f;
    f.start_time = act->start_time;
    f.sport_family = act->sport_family;
    f.ambiguous = act->ambiguous_with.has_value();
    for (const auto& l : m_ledger.links(activity_id)) {
        if (l.matched_by == "delivered") continue;  // copies FitBridge put there itself
        f.accounts.push_back(l.account_id);
    }
    for (const auto& p : pipeline::plan(f, m_cfg.routes)) {
        const auto reason = p.skipped ? std::optional<std::string>(reason_name(*p.skipped)) : std::nullopt;
        if (m_ledger.ensure_delivery(activity_id, p.sink, p.skipped ? "skipped" : "planned", reason) && reason)
            log::info("{}",
                      delivery_line(activity_id, p.sink, "skipped", std::nullopt, reason, std::nullopt, std::nullopt));
    }
}

void Engine::replan_all() {
    auto tx = m_ledger.transaction();
    for (auto id : m_ledger.all_activity_ids()) replan(id);
    tx.commit();
}

Plan Engine::plan() {
    Plan out;
    for (auto id : m_ledger.all_activity_ids()) {
        auto act = m_ledger.activity(id);
        pipeline::ActivityFacts f;
        f.start_time = act->start_time;
        f.sport_family = act->sport_family;
        f.ambiguous = act->ambiguous_with.has_value();
        for (const auto& l : m_ledger.links(id))
            if (l.matched_by != "delivered") f.accounts.push_back(l.account_id);
        auto existing = m_ledger.deliveries(id);
        for (const auto& p : pipeline::plan(f, m_cfg.routes)) {
            auto d = std::find_if(existing.begin(), existing.end(), [&](const auto& x) { return x.sink_id == p.sink; });
            PlanRow row{id, act->start_time, act->sport_family, p.sink, p.route, "deliver", std::nullopt};
            if (d != existing.end() && (d->state == "delivered" || d->state == "duplicate")) {
                row.action = "already_delivered";
                ++out.already_delivered;
            } else if (d != existing.end() && d->state == "skipped" && d->reason && !p.skipped) {
                // Skipped when it came to delivering (e.g. unavailable: no file).
                row.action = "skip";
                row.reason = d->reason;
                ++out.skip;
            } else if (p.skipped) {
                row.action = "skip";
                row.reason = reason_name(*p.skipped);
                ++out.skip;
            } else {
                ++out.deliver;
            }
            out.rows.push_back(std::move(row));
        }
    }
    return out;
}

}  // namespace fitbridge::engine
