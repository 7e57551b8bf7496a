#pragma once
// The Intervals.icu provider (provider "intervals_icu"), source and sink over
// its REST API (../shared/reference/provider-apis.md §4): lists activities by
// date window with a trailing overlap, downloads originals, uploads files
// (duplicates recognised), renames, updates description/type/gear and reads
// the gear list. HTTP goes through net::HttpClient only.

#include <optional>
#include <string>
#include <vector>

#include "providers/provider.hpp"

namespace fitbridge::providers::intervals_icu {

// The registry entry, built on the platform kit (providers/kit). Options (its
// table): `athlete_id` (default "0" = the key's owner), one way to
// authenticate (below); `base_url` (default https://intervals.icu); `overlap_days`
// (trailing window re-listed by incremental polls, default 3; the position is
// kept in the store's cursors table); `page_size` (activities per list
// request, default 200); `gear_map` (list of "<sport family>:<gear id>", gear
// set through update_gear on activities this account uploads).
// The daemon gives every Intervals.icu account the one client made by
// Factory::make_http (paced to about 10 requests/s per IP, retrying transient
// failures); without Context::http the provider builds such a client itself.
// Credentials: `api_key_file` (Basic API_KEY:<key>), `token_file` (Bearer),
// or `credentials: stored` / `client_id` + `client_secret_file` (the state
// store, set by `fitbridge auth` or POST /v1/accounts/{id}/credentials).
Factory factory();

// A partial activity update: only the fields that are set are sent.
struct ActivityUpdate {
    std::optional<std::string> name{};
    std::optional<std::string> description{};
    std::optional<std::string> type{};  // Intervals.icu activity type, e.g. "Ride", "VirtualRide"
    std::optional<std::string> gear_id{};
};

// The concrete provider, for callers that need more than the Provider
// interface offers (the engine only uses Provider).
class IntervalsIcuProvider : public Provider {
public:
    // Sends a partial PUT /api/v1/activity/{id} (what update_name,
    // update_description, update_sport and update_gear send one field of);
    // an empty update sends nothing.
    virtual Task<void> update_activity(const std::string& remote_id, const ActivityUpdate& update) = 0;
};

// Intervals.icu activity type -> FitBridge sport family ("VirtualRide" -> ride).
std::optional<std::string> sport_family_for_type(std::string_view type);

}  // namespace fitbridge::providers::intervals_icu
