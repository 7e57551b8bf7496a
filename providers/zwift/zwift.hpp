#pragma once
// The Zwift cloud provider (provider "zwift"), a source over the unofficial
// API Zwift's own game and companion app use (provider-apis.md §6.1): a
// Keycloak password grant, GET /api/profiles/me, the profile's activity list
// and each finished activity's FIT file from the storage bucket it names.
// HTTP goes through net::HttpClient only.

#include <optional>
#include <string>
#include <string_view>

#include "providers/provider.hpp"

namespace fitbridge::providers::zwift {

// The registry entry, built on the platform kit. Options: `username` and
// `password_file` (the Zwift login); `auth_url` (default
// https://secure.zwift.com: the Keycloak realm's token endpoint
// /auth/realms/zwift/protocol/openid-connect/token); `base_url` (default
// https://us-or-rly101.zwift.com); `files_url` (default
// https://{bucket}.s3.amazonaws.com/{key}: where FIT files are fetched,
// without any Zwift token); `client_id` (default Zwift_Game_Client);
// `page_size` (default 50); `overlap_days` (default 3). Unofficial.
Factory factory();

// Zwift's sport ("CYCLING", "RUNNING") -> FitBridge's family.
std::optional<std::string> sport_family_for(std::string_view sport);

}  // namespace fitbridge::providers::zwift
