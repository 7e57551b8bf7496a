#pragma once
// Why something did not (yet) happen: one documented enum for every
// non-delivery, recorded in the ledger and shown by the API.

#include <optional>
#include <string_view>

namespace fitbridge::pipeline {

enum class Reason {
    // Source items that did not become activities.
    decode_failed,    // the file is damaged or not an activity file format
    not_an_activity,  // a course, workout, settings, route-only file, ...
    unavailable,      // the source lists it but cannot provide the file
    download_failed,  // fetching the original failed (retried on the next poll)
    // Deliveries that were not made.
    before_route_since,  // the activity starts before the route's `since`
    sport_filtered,      // the route's `sports` do not include the activity's family
    already_on_sink,     // the activity came from that sink account itself
    ambiguous_match,     // several known activities could be this one; held for a person
    original_missing,    // the stored original file is gone
    sink_transient,      // network, timeout, 5xx: retried with backoff
    sink_rate_limited,   // 429 / budget: retried after the platform's reset
    sink_auth,           // credentials rejected: retried after re-authentication
    sink_rejected,       // the sink refused the file for good (4xx)
    sink_unsupported,    // the sink account cannot receive uploads
    cancelled,           // a person cancelled it
};

std::string_view to_string(Reason r);
std::optional<Reason> reason_from_string(std::string_view s);
// One sentence a person can read, for the API and `fitbridge activity`.
std::string_view describe(Reason r);

}  // namespace fitbridge::pipeline
