#include "formats/decode.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "core/hash.hpp"
#include "core/metrics.hpp"
#include "formats/gzip.hpp"

namespace fitbridge::formats {

namespace {

constexpr std::string_view k_utf8_bom = "\xEF\xBB\xBF";

bool is_xml_space(uint8_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool starts_with(std::span<const uint8_t> b, size_t pos, std::string_view s) {
    return b.size() >= pos && b.size() - pos >= s.size() && std::memcmp(b.data() + pos, s.data(), s.size()) == 0;
}

// Offset just past the first occurrence of `s` at or after `pos`, or npos.
size_t skip_past(std::span<const uint8_t> b, size_t pos, std::string_view s) {
    auto it = std::search(b.begin() + static_cast<ptrdiff_t>(pos), b.end(), s.begin(), s.end());
    if (it == b.end()) return std::string_view::npos;
    return static_cast<size_t>(it - b.begin()) + s.size();
}

// Skips a DOCTYPE declaration, including an internal subset in [...].
size_t skip_doctype(std::span<const uint8_t> b, size_t pos) {
    bool in_subset = false;
    uint8_t quote = 0;
    for (size_t i = pos; i < b.size(); ++i) {
        uint8_t c = b[i];
        if (quote) {
            if (c == quote) quote = 0;
        } else if (c == '"' || c == '\'') {
            quote = c;
        } else if (c == '[') {
            in_subset = true;
        } else if (c == ']') {
            in_subset = false;
        } else if (c == '>' && !in_subset) {
            return i + 1;
        }
    }
    return std::string_view::npos;
}

// The root element's name (with any prefix), skipping what XML allows before
// it; empty when the bytes do not look like XML.
std::string_view xml_root_name(std::span<const uint8_t> b) {
    size_t pos = starts_with(b, 0, k_utf8_bom) ? k_utf8_bom.size() : 0;
    while (pos < b.size()) {
        while (pos < b.size() && is_xml_space(b[pos])) ++pos;
        if (pos >= b.size() || b[pos] != '<') return {};
        if (starts_with(b, pos, "<?")) {
            pos = skip_past(b, pos + 2, "?>");
        } else if (starts_with(b, pos, "<!--")) {
            pos = skip_past(b, pos + 4, "-->");
        } else if (starts_with(b, pos, "<!DOCTYPE")) {
            pos = skip_doctype(b, pos + 9);
        } else {
            size_t start = pos + 1;
            size_t end = start;
            while (end < b.size() && !is_xml_space(b[end]) && b[end] != '>' && b[end] != '/') ++end;
            return {reinterpret_cast<const char*>(b.data()) + start, end - start};
        }
        if (pos == std::string_view::npos) return {};
    }
    return {};
}

std::string_view local_part(std::string_view name) {
    size_t colon = name.find(':');
    return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

// Says why bytes are none of the formats, in a way a person can act on.
std::string describe_unknown(std::span<const uint8_t> b, std::string_view where) {
    if (b.empty()) return fmt::format("{} is empty (0 bytes): not a FIT, GPX or TCX file", where);
    std::string_view root = xml_root_name(b);
    if (!root.empty()) {
        return fmt::format("{} is XML whose root element is <{}>, not <gpx> or <TrainingCenterDatabase>", where, root);
    }
    if (b.size() >= 12 && std::memcmp(b.data() + 8, ".FIT", 4) == 0) {
        return fmt::format("{} has a \".FIT\" signature but header size {} at offset 0 (expected 12 or 14)", where,
                           static_cast<int>(b[0]));
    }
    std::string head;
    for (size_t i = 0; i < std::min<size_t>(b.size(), 4); ++i) head += fmt::format("{:02x} ", b[i]);
    if (!head.empty()) head.pop_back();
    return fmt::format(
        "{} is not a FIT, GPX or TCX file: no FIT header, gzip magic or XML root element at offset 0 (starts {})",
        where, head);
}

void dispatch(Sniffed kind, std::span<const uint8_t> payload, Summary& s) {
    switch (kind) {
        case Sniffed::fit:
            s.format = Format::fit;
            decode_fit(payload, s);
            break;
        case Sniffed::gpx:
            s.format = Format::gpx;
            decode_gpx(payload, s);
            break;
        case Sniffed::tcx:
            s.format = Format::tcx;
            decode_tcx(payload, s);
            break;
        case Sniffed::gzip:
        case Sniffed::unknown: break;
    }
}

// Observes one decode's duration, by the format it turned out to be, when the
// decode returns (whichever return it takes).
class DecodeTimer {
public:
    explicit DecodeTimer(const Summary& s) : m_summary(s) {}
    ~DecodeTimer() {
        metrics::global().observe("fitbridge_decode_duration_seconds", "Time to decode one activity file.",
                                  metrics::k_decode_buckets,
                                  {{"format", std::string(format_name(m_summary.format, m_summary.gzipped))}},
                                  std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count());
    }
    DecodeTimer(const DecodeTimer&) = delete;
    DecodeTimer& operator=(const DecodeTimer&) = delete;

private:
    const Summary& m_summary;
    std::chrono::steady_clock::time_point m_start = std::chrono::steady_clock::now();
};

}  // namespace

Sniffed sniff(std::span<const uint8_t> b) {
    if (b.size() >= 12 && (b[0] == 12 || b[0] == 14) && std::memcmp(b.data() + 8, ".FIT", 4) == 0) return Sniffed::fit;
    if (b.size() >= 2 && b[0] == 0x1f && b[1] == 0x8b) return Sniffed::gzip;
    std::string_view root = local_part(xml_root_name(b));
    if (root == "gpx") return Sniffed::gpx;
    if (root == "TrainingCenterDatabase") return Sniffed::tcx;
    return Sniffed::unknown;
}

Summary decode(std::span<const uint8_t> bytes, const DecodeOptions& options) {
    Summary s;
    const DecodeTimer timer(s);
    s.bytes = bytes.size();
    s.sha256 = sha256_hex(bytes);
    const Sniffed kind = sniff(bytes);
    if (kind != Sniffed::gzip) {
        s.content_sha256 = s.sha256;  // plain file: the payload is the file
        if (kind == Sniffed::unknown) {
            s.format = Format::unknown;
            s.ok = false;
            s.error = describe_unknown(bytes, "file");
            return s;
        }
        dispatch(kind, bytes, s);
        return s;
    }

    s.gzipped = true;
    Gunzipped g = gunzip(bytes, options.max_decompressed_bytes);
    s.content_sha256 = sha256_hex(std::span<const uint8_t>(g.payload));
    const Sniffed inner = sniff(g.payload);
    if (inner == Sniffed::gzip) {
        s.format = Format::unknown;
        s.ok = false;
        s.error = "gzip payload is itself gzip-compressed (nested compression is not supported)";
        return s;
    }
    if (inner == Sniffed::unknown) {
        s.format = Format::unknown;
        s.ok = false;
        s.error = g.error.empty() ? describe_unknown(g.payload, "gzip payload") : g.error;
        return s;
    }
    // A damaged stream still yields the payload up to the damage: decode it
    // for what it holds, but the gzip error is the one to report.
    dispatch(inner, g.payload, s);
    if (!g.error.empty()) {
        s.ok = false;
        s.error = g.error;
    }
    return s;
}

}  // namespace fitbridge::formats
