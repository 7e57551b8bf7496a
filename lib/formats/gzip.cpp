#include "formats/gzip.hpp"

#include <zlib.h>

#include <fmt/format.h>

#include <algorithm>
#include <limits>

namespace fitbridge::formats {

namespace {

// RAII for a z_stream so every exit path calls inflateEnd.
class Inflater {
public:
    Inflater() { m_ok = inflateInit2(&m_zs, 16 + MAX_WBITS) == Z_OK; }
    ~Inflater() {
        if (m_ok) inflateEnd(&m_zs);
    }
    Inflater(const Inflater&) = delete;
    Inflater& operator=(const Inflater&) = delete;
    bool ok() const { return m_ok; }
    z_stream& zs() { return m_zs; }

private:
    z_stream m_zs{};
    bool m_ok = false;
};

// First guess at the payload size: a single-member file's trailer holds the
// size mod 2^32 (ISIZE). It is only a hint (multi-member files, or >4 GiB),
// bounded by deflate's maximum ratio (~1032:1) and by the cap.
size_t initial_capacity(std::span<const uint8_t> bytes, uint64_t max_output) {
    uint64_t guess = 4 * static_cast<uint64_t>(bytes.size());
    if (bytes.size() >= 18) {
        const uint8_t* t = bytes.data() + bytes.size() - 4;
        uint64_t isize = uint64_t{t[0]} | uint64_t{t[1]} << 8 | uint64_t{t[2]} << 16 | uint64_t{t[3]} << 24;
        if (isize > 0 && isize <= 1032 * static_cast<uint64_t>(bytes.size()) + 64) guess = isize;
    }
    guess = std::max<uint64_t>(guess, 4096);
    return static_cast<size_t>(std::min(guess, max_output));
}

}  // namespace

Gunzipped gunzip(std::span<const uint8_t> bytes, uint64_t max_output) {
    Gunzipped out;
    Inflater inflater;
    if (!inflater.ok()) {
        out.error = "gzip: cannot initialise zlib";
        return out;
    }
    z_stream& zs = inflater.zs();
    out.payload.resize(initial_capacity(bytes, max_output));
    size_t produced = 0;
    size_t consumed = 0;  // input offset of zs.next_in
    size_t member = 1;
    size_t member_start = 0;
    uint8_t probe = 0;  // one byte of room past the cap: lives as long as zs points at it

    while (true) {
        if (produced == out.payload.size()) {
            if (produced >= max_output) {
                // At the cap: the payload is too big unless the stream ends
                // without producing another byte.
                zs.next_out = &probe;
                zs.avail_out = 1;
            } else {
                size_t grow = std::max<size_t>(out.payload.size(), 4096);
                out.payload.resize(static_cast<size_t>(std::min<uint64_t>(out.payload.size() + grow, max_output)));
                zs.next_out = out.payload.data() + produced;
                zs.avail_out = static_cast<uInt>(
                    std::min<size_t>(out.payload.size() - produced, std::numeric_limits<uInt>::max()));
            }
        } else {
            zs.next_out = out.payload.data() + produced;
            zs.avail_out =
                static_cast<uInt>(std::min<size_t>(out.payload.size() - produced, std::numeric_limits<uInt>::max()));
        }
        const bool probing = produced >= max_output;
        zs.next_in = const_cast<Bytef*>(bytes.data() + consumed);  // zlib's API is not const-correct
        zs.avail_in = static_cast<uInt>(std::min<size_t>(bytes.size() - consumed, std::numeric_limits<uInt>::max()));
        const uInt avail_in_before = zs.avail_in;
        const uInt avail_out_before = zs.avail_out;

        int rc = inflate(&zs, Z_NO_FLUSH);
        consumed += avail_in_before - zs.avail_in;
        size_t written = avail_out_before - zs.avail_out;
        if (probing) {
            if (written > 0) {
                out.payload.resize(produced);
                out.error = fmt::format(
                    "gzip payload exceeds the {}-byte decompression limit (input offset {}); refusing a "
                    "decompression bomb",
                    max_output, consumed);
                return out;
            }
        } else {
            produced += written;
        }

        if (rc == Z_STREAM_END) {
            // Another member may follow; anything else after the last member
            // (zero padding from some tools) is ignored, as gzip(1) does.
            if (bytes.size() - consumed >= 2 && bytes[consumed] == 0x1f && bytes[consumed + 1] == 0x8b) {
                inflateReset(&zs);
                ++member;
                member_start = consumed;
                continue;
            }
            break;
        }
        if (rc == Z_OK) continue;
        if (rc == Z_BUF_ERROR && consumed == bytes.size()) {
            out.payload.resize(produced);
            out.error = fmt::format(
                "gzip stream truncated: input ends at offset {} inside member {} (started at offset {}) after {} "
                "decompressed bytes",
                bytes.size(), member, member_start, produced);
            return out;
        }
        // Z_BUF_ERROR with input left means "no room to write": the loop
        // grows the buffer. Any other stall would loop forever, so it is an error.
        if (rc == Z_BUF_ERROR && avail_out_before == 0) continue;
        out.payload.resize(produced);
        out.error = fmt::format("corrupt gzip data in member {} near input offset {}: {}", member, consumed,
                                zs.msg ? zs.msg : "zlib error");
        return out;
    }
    out.payload.resize(produced);
    return out;
}

}  // namespace fitbridge::formats
