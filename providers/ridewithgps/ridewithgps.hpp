#pragma once
// The Ride with GPS provider (provider "ridewithgps"), source and sink
// (provider-apis.md §3): trips listed through the v1 API
// (/api/v1/trips.json, newest update first, following
// meta.pagination.next_page_url; no date filter: filtered here), originals
// as the legacy TCX export, trips created with the legacy multipart
// POST /trips.json and waited for until the v1 list shows them, then named
// and given gear with the legacy PUT /trips/{id}.json; gear from the legacy
// /users/current.json. Every call carries the app's key (x-rwgps-api-key).

#include <optional>
#include <string>
#include <string_view>

#include "providers/provider.hpp"

namespace fitbridge::providers::ridewithgps {

// The registry entry, built on the platform kit. Options: `api_key_file`
// (required: the API client's key, sent with every call); then one of
// `auth_token_file` (the user's auth token: Basic base64(key:token)),
// `credentials: stored` or `client_id` + `client_secret_file` (OAuth,
// `fitbridge auth ID`; Bearer tokens without expiry); `base_url` (default
// https://ridewithgps.com); `page_size` (20..200, default 200);
// `overlap_days` (default 3); `gear_map`.
Factory factory();

// Ride with GPS's activity_type ("cycling:gravel", "running", ...) -> FitBridge's family.
std::optional<std::string> sport_family_for(std::string_view activity_type);

// The legacy update's body: {"trip": {"name": ..., "gear_id": ...}} with
// what is set; a gear id of digits goes as a number.
std::string update_body(const std::optional<std::string>& name, const std::optional<std::string>& gear_id);

}  // namespace fitbridge::providers::ridewithgps
