#pragma once
// The MyWhoosh provider (provider "mywhoosh"), a source over the unofficial
// API of MyWhoosh's own apps (provider-apis.md §6.2, seed 004: the history
// Intervals.icu's MyWhoosh connection never backfills). It logs in with the
// app's JSON login, lists the rider's activities page by page (newest first)
// and fetches each activity's file from the link MyWhoosh hands out, without
// the MyWhoosh token. A .dms or any other payload that is not an activity
// file is recorded as unavailable, saying what it was, and never uploaded.

#include "providers/provider.hpp"

namespace fitbridge::providers::mywhoosh {

// The registry entry, built on the platform kit. Options: `username` +
// `password_file` (the app's login), or `credentials: stored` with
// {"kind":"token", ...} (a session token); `auth_url` (default
// https://services.mywhoosh.com, the login), `base_url` (default
// https://service14.mywhoosh.com, the activities); `page_size` (activities
// per list request, default 20); `overlap_days` (trailing days re-listed by
// incremental polls, default 3). The first listing of an account goes back
// through the whole history; later ones start at the newest ride seen.
Factory factory();

}  // namespace fitbridge::providers::mywhoosh
