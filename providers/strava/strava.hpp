#pragma once
// The Strava provider (provider "strava"), source and sink over API v3
// (../shared/reference/provider-apis.md §1): lists the athlete's activities
// by after/before and page/per_page, rebuilds each one's file from its
// streams (Strava serves no original), uploads files and polls them to the
// end, updates name, description, sport type and gear, and reads bikes and
// shoes. HTTP goes through net::HttpClient only.

#include <optional>
#include <string>
#include <string_view>

#include "providers/provider.hpp"

namespace fitbridge::providers::strava {

// The registry entry, built on the platform kit. Options: `client_id` +
// `client_secret_file` (the user's own API application; `fitbridge auth ID`
// asks for read,activity:read_all,activity:write,profile:read_all) or
// `credentials: stored` (tokens POSTed to /v1/accounts/{id}/credentials);
// `base_url` (default https://www.strava.com: API under /api/v3, tokens at
// /oauth/token); `page_size` (per_page, default 200, at most 200);
// `overlap_days` (trailing window re-listed by incremental polls, default 3);
// `gear_map` ("<sport family>:<gear id>", set on activities this account
// uploads). Requests are paced by the quota headers every answer carries.
Factory factory();

// Strava's sport_type -> FitBridge sport family ("VirtualRide" -> ride).
std::optional<std::string> sport_family_for_type(std::string_view type);

// A Fault body ({"message", "errors": [{"resource", "field", "code"}]}) as one
// line: "Bad Request: upload gzip invalid encoding"; other bodies as the kit reads them.
std::string fault_line(std::string_view body);

// The activity id in an upload error "<file> duplicate of activity 123" (the
// text may carry an HTML link around it), or nullopt when it is no duplicate.
std::optional<std::string> duplicate_of(std::string_view error);

// FitBridge's own external_id prefix: activities carrying it were uploaded
// by FitBridge and are not imported back.
inline constexpr std::string_view k_own_external_id = "fitbridge-";

}  // namespace fitbridge::providers::strava
