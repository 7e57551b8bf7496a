#pragma once
// Test helper: where activity files for tests come from. tests/data holds the
// small fixture set shipped with the repository (origins and licences in
// tests/data/SOURCES.md); the full shared corpus is optional, and the tests
// that need it carry "Corpus" in their name (ctest label `corpus`) and skip,
// saying why, when it is absent.

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fitbridge::test {

// tests/data/<rel> of the source tree, whether or not it exists.
inline std::filesystem::path fixture(std::string_view rel) {
    return std::filesystem::path(FITBRIDGE_SOURCE_DIR) / "tests" / "data" / rel;
}

// The full activity corpus: $FITBRIDGE_CORPUS when set, else the configured
// FITBRIDGE_TESTDATA_DIR (../shared/testdata/activities); nullopt when that
// directory does not exist.
inline std::optional<std::filesystem::path> corpus_dir() {
    const char* env = std::getenv("FITBRIDGE_CORPUS");
    std::filesystem::path dir = env != nullptr && *env != '\0' ? env : FITBRIDGE_TESTDATA_DIR;
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) return std::nullopt;
    return dir;
}

// Why a corpus test did not run, for GTEST_SKIP.
inline std::string corpus_skip_reason() {
    const char* env = std::getenv("FITBRIDGE_CORPUS");
    if (env != nullptr && *env != '\0') {
        return std::string("corpus suite skipped: FITBRIDGE_CORPUS=") + env + " is not a directory";
    }
    return std::string("corpus suite skipped: no activity corpus at ") + FITBRIDGE_TESTDATA_DIR +
           " (set FITBRIDGE_CORPUS to a copy of testdata/activities to run it)";
}

// The corpus copy of `rel` (e.g. "fit/x.fit"); nullopt without a corpus.
inline std::optional<std::filesystem::path> corpus_file(std::string_view rel) {
    auto dir = corpus_dir();
    if (!dir) return std::nullopt;
    return *dir / rel;
}

// The fixture copy of `rel`, or of `rel`.gz (decoders read either); nullopt
// when tests/data has neither.
inline std::optional<std::filesystem::path> fixture_file(std::string_view rel) {
    std::filesystem::path p = fixture(rel);
    if (std::filesystem::exists(p)) return p;
    p += ".gz";
    if (std::filesystem::exists(p)) return p;
    return std::nullopt;
}

inline std::vector<uint8_t> slurp_bytes(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    EXPECT_TRUE(in.good()) << "cannot open " << p;
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace fitbridge::test

// Skips the current test (with the reason) when the full corpus is absent.
#define FITBRIDGE_REQUIRE_CORPUS()                                   \
    do {                                                             \
        if (!::fitbridge::test::corpus_dir()) {                      \
            GTEST_SKIP() << ::fitbridge::test::corpus_skip_reason(); \
        }                                                            \
    } while (false)
