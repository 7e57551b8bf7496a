#pragma once
// The control API's sync endpoints (accounts, jobs, activities, deliveries,
// plan, events), registered on a router and served from the engine's ledger.

#include "api/router.hpp"
#include "engine/engine.hpp"

namespace fitbridge::app {

void register_sync_routes(api::Router& router, engine::Engine& engine);

}  // namespace fitbridge::app
