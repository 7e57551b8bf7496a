#pragma once
// The control API's sync endpoints (accounts, jobs, activities, deliveries,
// plan, events), registered on a router and served from the engine's ledger.

#include "api/router.hpp"
#include "engine/engine.hpp"
#include "json/json.hpp"

namespace fitbridge::app {

void register_sync_routes(api::Router& router, engine::Engine& engine);

// GET /healthz: 200 while every core loop runs; 503 naming the loops that
// are down (and why) while one waits to be restarted.
api::Response healthz(const engine::Health& health);
// The "state" ("ok" | "degraded") and "loops" members of GET /v1/status.
void write_health(json::Builder& b, const engine::Health& health);

}  // namespace fitbridge::app
