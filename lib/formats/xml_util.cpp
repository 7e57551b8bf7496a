#include "formats/xml_util.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>

namespace fitbridge::formats::xml {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Parse options chosen for speed: no comments, PIs, declaration or doctype
// nodes and no end-of-line or attribute-whitespace normalisation (values are
// trimmed numbers and times); escapes are kept so that names such as sport
// types read as written, CDATA because some writers wrap <type> in it, and
// PCDATA is embedded in its element to save a node per value.
// Errors this close to the end of the payload are reported as truncation.
constexpr size_t k_truncation_hint_bytes = 256;

constexpr unsigned k_parse_options = pugi::parse_cdata | pugi::parse_escapes | pugi::parse_embed_pcdata;

}  // namespace

std::string_view trimmed_text(const pugi::xml_node& n) {
    std::string_view s = n.child_value();
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

std::optional<double> parse_number(std::string_view s) {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    if (!s.empty() && s.front() == '+') s.remove_prefix(1);
    if (s.empty()) return std::nullopt;
    double v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
    return v;
}

std::optional<std::string> load(pugi::xml_document& doc, std::span<const uint8_t> payload, std::string_view what) {
    pugi::xml_parse_result r = doc.load_buffer(payload.data(), payload.size(), k_parse_options, pugi::encoding_auto);
    if (r) return std::nullopt;
    // pugixml reports a byte offset; people and editors want line:column.
    auto offset = static_cast<size_t>(std::max<ptrdiff_t>(r.offset, 0));
    offset = std::min(offset, payload.size());
    size_t line = 1;
    size_t line_start = 0;
    for (size_t i = 0; i < offset; ++i) {
        if (payload[i] == '\n') {
            ++line;
            line_start = i + 1;
        }
    }
    const size_t column = offset - line_start + 1;
    if (r.status == pugi::status_no_document_element) {
        return fmt::format("malformed {} XML: no root element (byte {})", what, offset);
    }
    // pugixml points at the construct it could not finish; when that is at
    // the very end, the likely cause is a cut-off file, which is worth saying.
    const size_t left = payload.size() - offset;
    if (left <= k_truncation_hint_bytes) {
        return fmt::format(
            "malformed {} XML at line {}, column {} (byte {} of {}): {}; only {} byte{} before the end of the file, "
            "so the file is probably truncated",
            what, line, column, offset, payload.size(), r.description(), left, left == 1 ? "" : "s");
    }
    return fmt::format("malformed {} XML at line {}, column {} (byte {}): {}", what, line, column, offset,
                       r.description());
}

}  // namespace fitbridge::formats::xml
