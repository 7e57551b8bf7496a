#pragma once
// The TrainingPeaks provider (provider "trainingpeaks", provider-apis.md
// §6.5). One account is one of two routes, chosen by its credential option:
//  - `cookie_file` (the personal route, for free accounts; unofficial): the
//    browser's Production_tpAuth cookie is exchanged at GET /users/v3/token
//    for a bearer token (renewed the same way), workouts are listed by date
//    windows of at most 90 days and each device file is fetched through the
//    workout's attachments. A source.
//  - `client_id` + `client_secret_file` (the partner API, approved partners
//    only; tokens from `fitbridge auth`): files are uploaded with POST
//    /v3/file and followed at /v3/status/{id}. A sink.
// HTTP goes through net::HttpClient only.

#include <optional>
#include <string>
#include <string_view>

#include "providers/provider.hpp"

namespace fitbridge::providers::trainingpeaks {

// The registry entry. Personal route options: `cookie_file`, `base_url`
// (default https://tpapi.trainingpeaks.com), `window_days` (days per list
// request, at most 90), `overlap_days` (default 3). Partner route options:
// `client_id`, `client_secret_file`, `credentials: stored`, `oauth_scope`
// (default "file:write workouts:read"), `auth_url` (default
// https://oauth.trainingpeaks.com), `base_url` (default
// https://api.trainingpeaks.com), `upload_client` (default FitBridge).
Factory factory();

// The cookie's value from what a cookie file holds: the value alone or
// "Production_tpAuth=<value>" (whitespace and a trailing "; ..." dropped).
std::string cookie_value(std::string_view text);

// A partner upload's Filename: `stem` without spaces or reserved characters
// (each becomes '-'), then "." and `extension`.
std::string upload_filename(std::string_view stem, std::string_view extension);

// TrainingPeaks' workoutTypeValueId -> FitBridge's family.
std::optional<std::string> sport_family_for(int workout_type);

}  // namespace fitbridge::providers::trainingpeaks
