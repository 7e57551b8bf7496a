#pragma once
// The provider of a platform that follows the "Becoming a provider" contract
// (../shared/seeds/000, end of the providers page): provider "rest", a JSON
// REST API with per-user API keys (or OAuth) whose endpoints and field names
// are the account's options, not code. docs/becoming-a-provider.md is the
// platform owner's side.

#include "providers/provider.hpp"

namespace fitbridge::providers::rest {

// The registry entry, built on the platform kit. `base_url` and one way to
// authenticate (`api_key_file`, sent as "Bearer <key>"; `token_file`;
// `credentials: stored`; or `client_id` + `client_secret_file` with
// `oauth: {authorize_url, token_url, scope}`) are all a platform that copied
// the contract's example API needs: every other option defaults to that
// example. The mapping, written as nested maps (flattened to dotted keys):
//   list:   {path, after, before, time: epoch|iso8601, page, per_page,
//            page_size, first_page, items (dotted path to the array)}
//   get:    {path}  (with {id})      file: {path}  ("" = no original files)
//   update: {method, path}           create: {method, path, body: json|multipart}
//   gear:   {path}  ("" = no gear)   gear_update: {field}
//   fields: {id, name, sport, start, duration, distance, distance_unit: m|km|mi,
//            description, gear}
// plus `overlap_days` (trailing days re-listed by incremental polls).
// Without a file endpoint every listed activity is `unavailable` with the
// reason "the platform serves no original file" (the engine keeps it as
// metadata). With `create.body: json` the account also creates activities
// from a summary alone (k_create_metadata).
Factory factory();

}  // namespace fitbridge::providers::rest
