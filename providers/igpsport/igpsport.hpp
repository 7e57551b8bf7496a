#pragma once
// The iGPSport provider (provider "igpsport"), a source over the unofficial
// API of iGPSport's web app (provider-apis.md §6.3, seed 004: a platform
// Intervals.icu has no connection to). It logs in with the web login, lists
// the rider's rides page by page (newest first), asks each ride's detail for
// its FIT link and fetches the file there without the iGPSport token.
//
// The list gives only a ride's date ("YYYY.MM.DD", the rider's local day), so
// a listed ride carries no start time: windows keep every ride whose day can
// overlap them (a local day lies within 14 h before and 12 h after its UTC
// day), the exact start comes from the file, and incremental listings start
// `overlap_days` before the newest day seen.

#include "providers/provider.hpp"

namespace fitbridge::providers::igpsport {

// The registry entry, built on the platform kit. Options: `username` +
// `password_file` (the web login; the session, about 7 days, is renewed when
// it expires or is refused); `base_url` (default
// https://prod.en.igpsport.com/service, the international site; the Chinese
// site is another base_url); `page_size` (rides per list request, default
// 20); `overlap_days` (trailing days re-listed by incremental polls, default 7).
// The first listing of an account goes back through the whole history.
Factory factory();

// Unix seconds of a list date "YYYY.MM.DD" at 00:00 UTC, or nullopt.
std::optional<double> day_of(std::string_view date);

}  // namespace fitbridge::providers::igpsport
