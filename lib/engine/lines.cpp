#include "engine/lines.hpp"

#include <fmt/format.h>

#include "core/time.hpp"

namespace fitbridge::engine {

std::string log_minute(std::optional<double> unix_seconds) {
    if (!unix_seconds) return "-";
    auto s = format_iso8601(*unix_seconds);  // 2024-10-14T05:04:07Z
    if (s.size() >= 16) return s.substr(0, 16) + "Z";
    return s;
}

std::string log_text(std::string_view text, size_t max) {
    std::string out;
    out.reserve(std::min(text.size(), max));
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        out += u < 0x20 || u == 0x7f ? ' ' : (c == '"' ? '\'' : c);
    }
    if (out.size() <= max) return out;
    size_t cut = max;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;  // not inside a UTF-8 sequence
    return out.substr(0, cut) + "…";
}

std::string ingest_line(std::string_view account, std::optional<double> start, const std::optional<std::string>& sport,
                        std::optional<double> distance_m, std::string_view name, int64_t activity,
                        std::string_view how) {
    const auto km = distance_m ? fmt::format("{:.1f}", *distance_m / 1000.0) : std::string("-");
    return fmt::format("ingest {}: {} {} {} km \"{}\" -> activity {} ({})", account, log_minute(start),
                       sport.value_or("-"), km, log_text(name, 80), activity, how);
}

std::string item_line(std::string_view verb, std::string_view account, std::string_view item, std::string_view reason,
                      std::string_view detail) {
    if (detail.empty()) return fmt::format("{} {} item {}: {}", verb, account, log_text(item, 80), reason);
    return fmt::format("{} {} item {}: {}: {}", verb, account, log_text(item, 80), reason, log_text(detail));
}

std::string delivery_line(int64_t activity, std::string_view sink, std::string_view state,
                          const std::optional<std::string>& remote_id, const std::optional<std::string>& reason,
                          const std::optional<std::string>& message, std::optional<double> retry_at) {
    auto line = fmt::format("deliver activity {} -> {}: ", activity, sink);
    if (state == "delivered" || state == "duplicate") {
        line += fmt::format("{} {}", state == "delivered" ? "new" : "duplicate", log_text(remote_id.value_or("-")));
        if (reason) line += fmt::format(" ({})", *reason);
        return line;
    }
    line += fmt::format("{} {}", state, reason.value_or("-"));
    if (message && !message->empty()) line += ": " + log_text(*message);
    if (retry_at) line += fmt::format(" (retry {})", log_minute(retry_at));
    return line;
}

std::string summary_line(std::string_view what, int64_t listed, int64_t fresh, int64_t skipped, int64_t failed,
                         double seconds, const std::optional<std::string>& error) {
    auto line = fmt::format("{}: listed {}, new {}, skipped {}, failed {} in {:.1f} s", what, listed, fresh, skipped,
                            failed, seconds);
    if (error) line += ", error: " + log_text(*error);
    return line;
}

}  // namespace fitbridge::engine
