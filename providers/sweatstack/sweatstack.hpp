#pragma once
// The SweatStack provider (provider "sweatstack"), source and sink over its
// activities API (../shared/seeds/002, provider-apis.md §5.2): lists by date
// window (newest first, offset paging), downloads originals where SweatStack
// serves them, uploads FIT files in batches of up to 10 and follows their
// asynchronous processing. HTTP goes through net::HttpClient only.

#include <optional>
#include <string>
#include <string_view>

#include "providers/provider.hpp"

namespace fitbridge::providers::sweatstack {

// The registry entry, built on the platform kit. Options: one way to
// authenticate: `token_file` (an API key or access token, sent as Bearer),
// `credentials: stored`, or `client_id` + `client_secret_file` (OAuth2 + PKCE
// through `fitbridge auth`); `base_url` (default https://app.sweatstack.no);
// `page_size` (activities per list request, default 50); `overlap_days`
// (trailing days re-listed by incremental polls, default 3). A token the
// server hands back in the `refreshed-token` header replaces the one in use.
Factory factory();

// SweatStack's sport (OpenSportTaxonomy, e.g. "cycling.road") -> FitBridge's
// family ("ride"); the first dotted segment decides.
std::optional<std::string> sport_family_for(std::string_view sport);

}  // namespace fitbridge::providers::sweatstack
