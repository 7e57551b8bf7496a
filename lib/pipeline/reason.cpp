#include "pipeline/reason.hpp"

#include <array>

namespace fitbridge::pipeline {

namespace {
struct Row {
    Reason reason;
    std::string_view name;
    std::string_view text;
};
constexpr std::array<Row, 15> k_rows{{
    {Reason::decode_failed, "decode_failed", "the file could not be decoded"},
    {Reason::not_an_activity, "not_an_activity", "the file is not an activity (course, workout, settings, route)"},
    {Reason::unavailable, "unavailable", "the source cannot provide this activity's file"},
    {Reason::download_failed, "download_failed", "downloading the original failed; retried on the next poll"},
    {Reason::before_route_since, "before_route_since", "the activity starts before the route's since date"},
    {Reason::sport_filtered, "sport_filtered", "the route does not carry this sport family"},
    {Reason::already_on_sink, "already_on_sink", "the activity came from this sink account"},
    {Reason::ambiguous_match, "ambiguous_match", "several known activities could be this one; held for review"},
    {Reason::original_missing, "original_missing", "the stored original file is missing"},
    {Reason::sink_transient, "sink_transient", "the sink failed temporarily; retrying with backoff"},
    {Reason::sink_rate_limited, "sink_rate_limited", "the sink's rate limit was reached; retrying after its reset"},
    {Reason::sink_auth, "sink_auth", "the sink rejected the credentials; re-authenticate the account"},
    {Reason::sink_rejected, "sink_rejected", "the sink refused the activity"},
    {Reason::sink_unsupported, "sink_unsupported", "the sink account cannot receive uploads"},
    {Reason::cancelled, "cancelled", "cancelled by a person"},
}};
}  // namespace

std::string_view to_string(Reason r) {
    for (const auto& row : k_rows)
        if (row.reason == r) return row.name;
    return "unknown";
}

std::optional<Reason> reason_from_string(std::string_view s) {
    for (const auto& row : k_rows)
        if (row.name == s) return row.reason;
    return std::nullopt;
}

std::string_view describe(Reason r) {
    for (const auto& row : k_rows)
        if (row.reason == r) return row.text;
    return "";
}

}  // namespace fitbridge::pipeline
