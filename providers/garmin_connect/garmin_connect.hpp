#pragma once
// The Garmin Connect provider (provider "garmin_connect"), source and sink
// over the unofficial API of Garmin's own apps (provider-apis.md §2): lists
// activities by date with offset paging, downloads originals (a ZIP holding
// the FIT, TCX or GPX), uploads files (201, 202 + status polls, 409
// duplicates), renames and retypes activities, links gear. Credentials are
// DI OAuth2 tokens handed over or got by the daemon's own sign-in (auth.hpp).
// Requests to each host are paced (1 s apart by default): Garmin bans
// clients that ask faster and publishes no quota.

#include <optional>
#include <string>
#include <string_view>

#include "providers/provider.hpp"

namespace fitbridge::providers::garmin_connect {

// The registry entry, built on the platform kit. Options: `credentials:
// stored` (DI tokens POSTed to /v1/accounts/{id}/credentials as kind oauth2)
// or `username` + `password_file` (the daemon signs in; a code Garmin asks
// for is POSTed as kind mfa_code); `base_url` (https://connectapi.garmin.com),
// `auth_url` (https://diauth.garmin.com, DI token renewal), `sso_url`
// (https://sso.garmin.com, sign-in); `min_request_interval_ms` (pause between
// two requests to one host, default 1000; 0 in tests); `page_size` (default
// 100); `overlap_days` (default 3).
Factory factory();

// Garmin's activity type key ("virtual_ride") -> FitBridge's family ("ride").
std::optional<std::string> sport_family_for(std::string_view type_key);

}  // namespace fitbridge::providers::garmin_connect
