// Format detection by content and decode()'s identity fields. Hashes were
// computed with coreutils sha256sum / `zcat | sha256sum` over the files.

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "formats/decode.hpp"
#include "xml_expect.hpp"

namespace fitbridge::formats {
namespace {

using testing::decode_corpus;
using testing::decode_fixture;
using testing::read_bytes;

Sniffed sniff_text(std::string_view s) {
    return sniff(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
}

std::string fit_header(uint8_t size) {
    std::string h(size, '\0');
    h[0] = static_cast<char>(size);
    h[1] = 0x20;
    h.replace(8, 4, ".FIT");
    return h;
}

TEST(Sniff, FitHeaders) {
    EXPECT_EQ(sniff_text(fit_header(12)), Sniffed::fit);
    EXPECT_EQ(sniff_text(fit_header(14)), Sniffed::fit);
    std::string odd = fit_header(14);
    odd[0] = 13;  // header size must be 12 or 14
    EXPECT_EQ(sniff_text(odd), Sniffed::unknown);
    EXPECT_EQ(sniff_text(fit_header(12).substr(0, 11)), Sniffed::unknown);
}

TEST(Sniff, GzipMagic) {
    EXPECT_EQ(sniff_text("\x1f\x8b\x08\x00"), Sniffed::gzip);
    EXPECT_EQ(sniff_text("\x1f"), Sniffed::unknown);
}

TEST(Sniff, XmlRootAfterPrologue) {
    EXPECT_EQ(sniff_text("<gpx/>"), Sniffed::gpx);
    EXPECT_EQ(sniff_text("\xEF\xBB\xBF<?xml version=\"1.0\"?>\n<gpx version=\"1.1\">"), Sniffed::gpx);
    EXPECT_EQ(sniff_text("  \r\n\t<?xml version=\"1.0\"?><!-- a <gpx> in a comment --><TrainingCenterDatabase>"),
              Sniffed::tcx);
    EXPECT_EQ(sniff_text("<?xml version=\"1.0\"?><!DOCTYPE gpx [ <!ENTITY a \"<kml>\"> ]><gpx>"), Sniffed::gpx);
    EXPECT_EQ(sniff_text("<?xml-stylesheet href=\"x\"?><tcx:TrainingCenterDatabase xmlns:tcx=\"x\">"), Sniffed::tcx);
    EXPECT_EQ(sniff_text("<?xml version=\"1.0\"?><kml>"), Sniffed::unknown);
    EXPECT_EQ(sniff_text("<gpxx>"), Sniffed::unknown);
    EXPECT_EQ(sniff_text("<!-- unterminated"), Sniffed::unknown);
    EXPECT_EQ(sniff_text(""), Sniffed::unknown);
    EXPECT_EQ(sniff_text("PK\x03\x04"), Sniffed::unknown);
}

void expect_sniffed_by_directory(const std::filesystem::path& root) {
    namespace fs = std::filesystem;
    int files = 0;
    for (const char* dir : {"fit", "gpx", "tcx"}) {
        for (const auto& entry : fs::directory_iterator(root / dir)) {
            ++files;
            auto bytes = read_bytes(entry.path().string());
            Sniffed s = sniff(bytes);
            Sniffed want = std::string_view(dir) == "fit"   ? Sniffed::fit
                           : std::string_view(dir) == "gpx" ? Sniffed::gpx
                                                            : Sniffed::tcx;
            if (entry.path().extension() == ".gz") want = Sniffed::gzip;
            EXPECT_EQ(s, want) << entry.path();
        }
    }
    EXPECT_GT(files, 30) << root;
}

TEST(Sniff, EveryFixtureFileByContent) { expect_sniffed_by_directory(fitbridge::test::fixture("")); }

TEST(SniffCorpus, EveryFileByContent) {
    FITBRIDGE_REQUIRE_CORPUS();
    expect_sniffed_by_directory(*fitbridge::test::corpus_dir());
}

TEST(Decode, PlainFileHashesOnceAndContentEqualsStored) {
    Summary s = decode_fixture("gpx/gpsbabel-cerknicko-jezero.gpx");
    EXPECT_EQ(s.bytes, 36362u);
    EXPECT_EQ(s.sha256, "8bad699d4c32633dd65d98c0c8ae6372da5ed01c24f7e3afd9f6b642a9976671");
    EXPECT_EQ(s.content_sha256, s.sha256);
    EXPECT_FALSE(s.gzipped);
}

TEST(Decode, GzipContentHashIsThePayloads) {
    Summary s = decode_fixture("gpx/gpsbabel-cerknicko-jezero.gpx.gz");
    EXPECT_TRUE(s.ok) << s.error;
    EXPECT_EQ(s.bytes, 5541u);
    EXPECT_EQ(s.sha256, "9b3bde548631f7da955222760c0a55533dda3b653c528bf947913256caa683da");
    EXPECT_EQ(s.content_sha256, "8bad699d4c32633dd65d98c0c8ae6372da5ed01c24f7e3afd9f6b642a9976671");
    EXPECT_TRUE(s.gzipped);
    EXPECT_EQ(format_name(s.format, s.gzipped), "gpx.gz");

    // gzip -9n of the FIT: identity does not depend on the FIT decoder.
    Summary f = decode_fixture("fit/garmin-fenix2-run.fit.gz");
    EXPECT_EQ(f.sha256, "1a4c3dce8f9fa2ec6e76fa960d401c1cd301eec0769ab17b3e8f1b8a78f54570");
    EXPECT_EQ(f.content_sha256, "a066d77db247c152c9583bddaecd33d36327bacc0821694ab795fe25671a8327");
    EXPECT_EQ(format_name(f.format, f.gzipped), "fit.gz");

    Summary t = decode_fixture("tcx/course-brighton-beach.tcx.gz");
    EXPECT_EQ(t.content_sha256, "366fed55aa174828cd1e986b37a77bb2dd3b1bdbd6ab8c027af6881e5c251407");
    EXPECT_EQ(format_name(t.format, t.gzipped), "tcx.gz");
}

TEST(DecodeCorpus, GzipTcxContentHashIsThePayloads) {
    FITBRIDGE_REQUIRE_CORPUS();
    Summary t = decode_corpus("tcx/rwgps-ride.tcx.gz");
    EXPECT_EQ(t.content_sha256, "642fbf7bf6422706ad798ea4d3cd15fe4f7c0b822bfbf32c4b3542d47e47967e");
    EXPECT_EQ(format_name(t.format, t.gzipped), "tcx.gz");
}

// bad/ files that are not FIT content (the FIT ones belong to the FIT tests).
TEST(DecodeCorpus, BadGpxContentNamedFitIsReadAsGpx) {
    FITBRIDGE_REQUIRE_CORPUS();
    // The contract detects formats from bytes only: this is a valid GPX file
    // (byte-identical to gpx/garmin-connect-sample.gpx) under a .fit name.
    Summary s = decode_corpus("bad/gpx-content-named.fit");
    EXPECT_EQ(s.format, Format::gpx);
    EXPECT_TRUE(s.ok) << s.error;
    EXPECT_EQ(s.sha256, "b39d8378ae376c8366292287255f268090871a1e431755f3c06bcd099ab44a24");
    EXPECT_EQ(s.records, 217);
}

TEST(Decode, BadZeroBytes) {
    Summary s = decode_fixture("bad/zero-bytes.fit");
    EXPECT_FALSE(s.ok);
    EXPECT_EQ(s.format, Format::unknown);
    EXPECT_EQ(s.error, "file is empty (0 bytes): not a FIT, GPX or TCX file");
    EXPECT_EQ(s.sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(s.bytes, 0u);
}

TEST(Decode, BadTruncatedGzip) {
    // The first 25813 of the 51627 bytes of fit/garmin-fenix2-run.fit.gz;
    // `zcat` recovers 61803 bytes before "unexpected end of file".
    Summary s = decode_fixture("bad/trunc-gz-fenix2-run.fit.gz");
    EXPECT_FALSE(s.ok);
    EXPECT_EQ(format_name(s.format, s.gzipped), "fit.gz");
    EXPECT_EQ(s.error,
              "gzip stream truncated: input ends at offset 25813 inside member 1 (started at offset 0) after 61803 "
              "decompressed bytes");
}

TEST(DecodeCorpus, BadTruncatedGzip) {
    FITBRIDGE_REQUIRE_CORPUS();
    Summary s = decode_corpus("bad/trunc-gz-edge1030plus.fit.gz");
    EXPECT_FALSE(s.ok);
    EXPECT_EQ(format_name(s.format, s.gzipped), "fit.gz");  // the partial payload is still recognisably FIT
    // `zcat` recovers 42528 bytes before "unexpected end of file".
    EXPECT_EQ(s.error,
              "gzip stream truncated: input ends at offset 14401 inside member 1 (started at offset 0) after 42528 "
              "decompressed bytes");
}

TEST(Decode, BadTruncatedXml) {
    EXPECT_NE(decode_fixture("bad/trunc-korita-zbevnica.gpx").error.find("line 1940"), std::string::npos);
    EXPECT_NE(decode_fixture("bad/trunc-tcxparser-run.tcx").error.find("line 2332"), std::string::npos);
}

TEST(DecodeCorpus, BadTruncatedXml) {
    FITBRIDGE_REQUIRE_CORPUS();
    EXPECT_NE(decode_corpus("bad/trunc-strava-sample.gpx").error.find("line 942"), std::string::npos);
}

TEST(Decode, UnknownContentSaysWhatItIs) {
    auto d = [](std::string_view text) {
        return decode(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
    };
    Summary kml = d("<?xml version=\"1.0\"?><kml xmlns=\"http://www.opengis.net/kml/2.2\"/>");
    EXPECT_FALSE(kml.ok);
    EXPECT_EQ(kml.format, Format::unknown);
    EXPECT_EQ(kml.error, "file is XML whose root element is <kml>, not <gpx> or <TrainingCenterDatabase>");
    Summary zip = d("PK\x03\x04rest");
    EXPECT_EQ(zip.error,
              "file is not a FIT, GPX or TCX file: no FIT header, gzip magic or XML root element at offset 0 (starts "
              "50 4b 03 04)");
    EXPECT_EQ(zip.content_sha256, zip.sha256);
}

}  // namespace
}  // namespace fitbridge::formats
