// gzip handling: caps, truncation, multiple members, corrupt trailers, and
// format detection inside the payload. Expected sizes are computed from the
// inputs the tests build themselves.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>

#include "core/hash.hpp"
#include "formats/decode.hpp"
#include "formats/gzip.hpp"
#include "formats/mapped_file.hpp"
#include "support/temp_dir.hpp"
#include "xml_expect.hpp"

namespace fitbridge::formats {
namespace {

using testing::fixture;
using testing::read_bytes;

std::vector<uint8_t> gzip_bytes(std::span<const uint8_t> data) {
    z_stream zs{};
    EXPECT_EQ(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY), Z_OK);
    std::vector<uint8_t> out(deflateBound(&zs, data.size()) + 64);
    zs.next_in = const_cast<Bytef*>(data.data());
    zs.avail_in = static_cast<uInt>(data.size());
    zs.next_out = out.data();
    zs.avail_out = static_cast<uInt>(out.size());
    EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
    out.resize(zs.total_out);
    deflateEnd(&zs);
    return out;
}

std::span<const uint8_t> as_bytes(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

TEST(Gunzip, RoundTrip) {
    auto gz = gzip_bytes(as_bytes("hello, gzip"));
    Gunzipped g = gunzip(gz, 1024);
    EXPECT_EQ(g.error, "");
    EXPECT_EQ(std::string(g.payload.begin(), g.payload.end()), "hello, gzip");
}

TEST(Gunzip, BombIsCappedNotExpanded) {
    std::vector<uint8_t> zeros(16 << 20, 0);  // 16 MiB of zeros deflate to ~16 KiB
    auto gz = gzip_bytes(zeros);
    ASSERT_LT(gz.size(), 64u << 10);
    Gunzipped g = gunzip(gz, 1 << 20);
    EXPECT_NE(g.error.find("exceeds the 1048576-byte decompression limit"), std::string::npos) << g.error;
    EXPECT_LE(g.payload.size(), 1u << 20);

    DecodeOptions options;
    options.max_decompressed_bytes = 1 << 20;
    Summary s = decode(gz, options);
    EXPECT_FALSE(s.ok);
    EXPECT_NE(s.error.find("decompression bomb"), std::string::npos) << s.error;
}

TEST(Gunzip, PayloadExactlyAtTheCapIsFine) {
    std::vector<uint8_t> data(100000, 'x');
    auto gz = gzip_bytes(data);
    Gunzipped g = gunzip(gz, data.size());
    EXPECT_EQ(g.error, "");
    EXPECT_EQ(g.payload, data);
    EXPECT_NE(gunzip(gz, data.size() - 1).error, "");
}

TEST(Gunzip, TruncatedStreamNamesTheOffset) {
    auto plain = read_bytes(fixture("gpx/gpsbabel-cerknicko-jezero.gpx"));
    auto gz = gzip_bytes(plain);
    gz.resize(gz.size() / 2);
    Gunzipped g = gunzip(gz, 1 << 30);
    EXPECT_NE(g.error.find(fmt::format("gzip stream truncated: input ends at offset {}", gz.size())), std::string::npos)
        << g.error;
    EXPECT_GT(g.payload.size(), 0u);  // what came before the cut is kept

    gz.resize(10);  // header only
    EXPECT_NE(gunzip(gz, 1 << 30).error.find("truncated"), std::string::npos);
}

TEST(Gunzip, MultiMemberIsOnePayload) {
    auto plain = read_bytes(fixture("gpx/gpsbabel-cerknicko-jezero.gpx"));
    const size_t half = plain.size() / 2;
    auto a = gzip_bytes(std::span(plain).first(half));
    auto b = gzip_bytes(std::span(plain).subspan(half));
    std::vector<uint8_t> both(a);
    both.insert(both.end(), b.begin(), b.end());

    Summary s = decode(both);
    Summary p = decode(plain);
    EXPECT_TRUE(s.ok) << s.error;
    EXPECT_EQ(format_name(s.format, s.gzipped), "gpx.gz");
    EXPECT_EQ(s.content_sha256, p.sha256);
    EXPECT_EQ(s.records, p.records);
    EXPECT_EQ(s.total_distance, p.total_distance);
}

TEST(Gunzip, TrailingZeroPaddingIsIgnored) {
    auto gz = gzip_bytes(as_bytes("<gpx/>"));
    gz.insert(gz.end(), 512, 0);
    Gunzipped g = gunzip(gz, 1024);
    EXPECT_EQ(g.error, "");
    EXPECT_EQ(g.payload.size(), 6u);
}

TEST(Gunzip, CrcMismatchIsAnError) {
    auto gz = gzip_bytes(as_bytes("some payload worth checking"));
    gz[gz.size() - 8] ^= 0xff;  // first byte of the CRC-32 trailer
    Gunzipped g = gunzip(gz, 1024);
    EXPECT_NE(g.error.find("corrupt gzip data in member 1"), std::string::npos) << g.error;
    EXPECT_NE(g.error.find("incorrect data check"), std::string::npos) << g.error;
}

TEST(Gunzip, PayloadIsSniffedAgain) {
    Summary nested = decode(gzip_bytes(gzip_bytes(as_bytes("<gpx/>"))));
    EXPECT_FALSE(nested.ok);
    EXPECT_NE(nested.error.find("nested"), std::string::npos) << nested.error;

    Summary junk = decode(gzip_bytes(as_bytes("just text")));
    EXPECT_FALSE(junk.ok);
    EXPECT_EQ(format_name(junk.format, junk.gzipped), "unknown.gz");
    EXPECT_NE(junk.error.find("gzip payload is not a FIT, GPX or TCX file"), std::string::npos) << junk.error;
}

TEST(Gunzip, GzipOfGpxNamedFitIsGpxGz) {
    // Names never decide the format: a .fit file holding gzip'd GPX is gpx.gz.
    auto plain = read_bytes(fixture("gpx/gpsbabel-korita-zbevnica.gpx"));
    test::TempDir dir("gzip");
    auto path = dir / "ride.fit";
    {
        auto gz = gzip_bytes(plain);
        std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(gz.data()), gz.size());
    }
    auto file = MappedFile::open(path);
    ASSERT_TRUE(file.ok()) << file.error().message;
    Summary s = decode(file->bytes());
    EXPECT_TRUE(s.ok) << s.error;
    EXPECT_EQ(format_name(s.format, s.gzipped), "gpx.gz");
    EXPECT_EQ(s.records, 871);  // oracle
    EXPECT_EQ(s.content_sha256, sha256_hex(plain));
}

}  // namespace
}  // namespace fitbridge::formats
