// A route's history: a route that is new, or whose since moved earlier,
// starts one backfill job per source account for the window not yet covered
// ([since, now) the first time, [new since, old since) later). What is
// covered is persisted per (route, account), so a window gets one job only.

#include <fmt/format.h>

#include "core/log.hpp"
#include "core/time.hpp"
#include "engine/parts.hpp"
#include "json/json.hpp"

namespace fitbridge::engine {

void Engine::backfill_routes() {
    const double now = m_ledger.now();
    for (const auto& r : m_cfg.routes) {
        if (!r.since) continue;  // no history asked for: live from now on
        const auto since = parse_iso8601(*r.since);
        if (!since || *since >= now) continue;
        for (const auto& id : r.from) {
            auto it = m_accounts.find(id);
            // Not running (disabled, no credentials yet): tried again at the next configure.
            if (it == m_accounts.end() || !it->second->provider) continue;
            const auto caps = it->second->provider->capabilities();
            if (!(caps & (providers::k_list_window | providers::k_list_cursor))) continue;
            const auto covered = m_ledger.route_backfilled_since(r.id, id);
            if (covered && *covered <= *since) continue;
            const double until = covered ? *covered : now;
            if (caps & providers::k_watch) {
                // A watched folder lists everything it holds at every poll,
                // whatever the window: a job would only list it all again.
                m_ledger.set_route_backfilled_since(r.id, id, *since, std::nullopt);
                log::info("backfill {} from {}: not needed, every poll lists the whole folder", r.id, id);
                continue;
            }
            json::Builder b;
            b.w.StartObject();
            b.key("since");
            b.number(*since);
            b.key("until");
            b.number(until);
            b.key("accounts");
            b.w.StartArray();
            b.string(id);
            b.w.EndArray();
            b.w.EndObject();
            store::JobRow j;
            j.kind = "backfill";
            j.route_id = r.id;
            j.account_id = id;
            j.state = "queued";
            j.params = b.str();
            int64_t job = 0;
            {
                // The job and the window it covers together, or neither.
                auto tx = m_ledger.transaction();
                job = m_ledger.create_job(j);
                m_ledger.set_route_backfilled_since(r.id, id, *since, job);
                tx.commit();
            }
            log::info("backfill {} from {}: job {} for {} .. {}", r.id, id, job, format_iso8601(*since),
                      format_iso8601(until));
            emit("job.updated", event_json({{"job", std::to_string(job)}, {"state", "queued"}}));
            providers::ListQuery q;
            q.since = *since;
            q.until = until;
            spawn_backfill(job, {id}, q);
        }
    }
}

}  // namespace fitbridge::engine
