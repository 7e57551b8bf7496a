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

// The registry entry. Options: `athlete_id` (default "0" = the key's owner),
// `api_key_file` (HTTP Basic API_KEY:<key>) or `token_file` (OAuth Bearer),
// exactly one; `base_url` (default https://intervals.icu); `overlap_days`
// (trailing window re-listed by incremental polls, default 3); `page_size`
// (activities per list request, default 200); `gear_map` (list of
// "<sport family>:<gear id>", gear set on activities this account uploads).
// Without Context::http the provider builds its own client (paced to about
// 10 requests/s, retrying transient failures).
Factory factory();

// One item of the athlete's gear list.
struct Gear {
    std::string id;
    std::string name;
    std::string type;  // Bike, Shoes, ...
    bool retired = false;
};

// A partial activity update: only the fields that are set are sent.
struct ActivityUpdate {
    std::optional<std::string> name;
    std::optional<std::string> description;
    std::optional<std::string> type;  // Intervals.icu activity type, e.g. "Ride", "VirtualRide"
    std::optional<std::string> gear_id;
};

// The concrete provider, for callers that need more than the Provider
// interface offers (the engine only uses Provider).
class IntervalsIcuProvider : public Provider {
public:
    // Sends a partial PUT /api/v1/activity/{id}; an empty update sends nothing.
    virtual Task<void> update_activity(const std::string& remote_id, const ActivityUpdate& update) = 0;
    // GET /api/v1/athlete/{id}/gear.
    virtual Task<std::vector<Gear>> list_gear() = 0;
};

// Intervals.icu activity type -> FitBridge sport family ("VirtualRide" -> ride).
std::optional<std::string> sport_family_for_type(std::string_view type);

}  // namespace fitbridge::providers::intervals_icu
