#pragma once
// GET /metrics: Prometheus text format 0.0.4. The process registry (provider
// requests, rate limits, decode times) plus what the ledger knows, counted
// with SQL at scrape time, and process figures.

#include <chrono>

#include "api/router.hpp"
#include "config/config.hpp"
#include "store/store.hpp"

namespace fitbridge::app {

inline constexpr const char* k_metrics_content_type = "text/plain; version=0.0.4; charset=utf-8";

// Everything /metrics serves. `config` names the sinks (whose queue depth is
// shown even when 0); `started_unix` is when the process started (seconds).
std::string render_metrics(store::Store& store, const config::Config& config, double started_unix);

// Adds GET /metrics (behind the token unless api.metrics_public puts
// "/metrics" in GuardOptions::public_paths). `config` must outlive the router.
void register_metrics_route(api::Router& router, store::Store& store, const config::Config& config,
                            double started_unix);

}  // namespace fitbridge::app
