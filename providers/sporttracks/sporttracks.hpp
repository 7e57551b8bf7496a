#pragma once
// The SportTracks provider (provider "sporttracks", ../shared/seeds/001 and
// provider-apis.md §5.1): lists workouts by date window (0-based pages, the
// answer's `next` link followed), builds a TCX from a workout's sample arrays
// (SportTracks serves no original file), imports files through fileUpload,
// creates a workout from a summary alone, and renames by GET + PUT of the
// whole workout (a PUT replaces everything).

#include <string>
#include <string_view>

#include <rapidjson/document.h>

#include "providers/provider.hpp"

namespace fitbridge::providers::sporttracks {

// The registry entry, built on the platform kit. Options: one way to
// authenticate (`client_id` + `client_secret_file`, then `fitbridge auth ID`
// with the state SportTracks requires; `credentials: stored` for OAuth2
// tokens POSTed as {"kind": "oauth2", ...}; or `token_file`), `base_url`
// (default https://api.sporttracks.mobi), `page_size` (workouts per list
// request, default 100) and `overlap_days` (trailing days re-listed by
// incremental polls, default 3). A workout without samples (entered by hand)
// is listed with `unavailable_reason`: the engine keeps it as metadata.
Factory factory();

// The TCX of a SportTracks workout (its JSON): one lap with the workout's
// duration and distance, a trackpoint per sample offset with whatever the
// arrays give there. Empty when the workout has no start time or no samples.
std::string workout_tcx(const rapidjson::Value& workout);

}  // namespace fitbridge::providers::sporttracks
