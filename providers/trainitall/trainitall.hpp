#pragma once
// The Train it All provider (provider "trainitall"), source and sink over its
// External API v1 (../shared/seeds/003, provider-apis.md §5.3): OAuth2
// Authorization Code + PKCE with rotating refresh tokens, activities listed
// page by page (no date filter: filtered here), FIT downloads, FIT uploads
// (de-duplicated by Train it All by SHA-256) and JSON creates for activities
// without a FIT. HTTP goes through net::HttpClient only.

#include <optional>
#include <string>
#include <string_view>

#include "formats/summary.hpp"
#include "providers/provider.hpp"

namespace fitbridge::providers::trainitall {

// The registry entry, built on the platform kit. Options: `client_id` (the
// OAuth client a Train it All admin provisioned; `fitbridge auth ID`),
// `client_secret_file` (confidential clients only: the token endpoint gets
// Basic auth; public clients rely on PKCE alone); tokens come from `fitbridge
// auth` or POST /v1/accounts/ID/credentials (kind oauth2);
// `base_url` (default https://trainitall.com); `oauth_scope` (default
// "profile:read activities:read activities:write"); `page_size` (per_page of
// the list, default 100); `overlap_days` (default 3).
Factory factory();

// Train it All's activity type ("RUN", "RIDE", ...) -> FitBridge's family.
std::optional<std::string> sport_family_for(std::string_view type);

// The JSON body that creates `summary`'s activity named `name`: title, type,
// startedAt, durationMin, distanceKm, avgHr/maxHr/avgPower when known and
// externalId; never perceivedExertion (Train it All reads it on a 1..10
// scale but shows another, so a copied value would be wrong).
std::string create_body(const std::string& name, const formats::Summary& summary, const std::string& external_id);

}  // namespace fitbridge::providers::trainitall
