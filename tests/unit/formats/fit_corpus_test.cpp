// Every FIT file of the shared corpus decodes; every damaged one is rejected
// with a one-line error.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "formats/decode.hpp"
#include "formats/fit_decoder.hpp"

namespace fs = std::filesystem;
using namespace fitbridge::formats;

namespace {

std::vector<uint8_t> read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<fs::path> corpus_fit_files() {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(fs::path(FITBRIDGE_TESTDATA_DIR) / "fit")) {
        const auto ext = e.path().extension().string();
        if (ext == ".fit" || ext == ".FIT") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    return files;
}

}  // namespace

TEST(FitCorpus, EveryPlainFitFileDecodes) {
    const auto files = corpus_fit_files();
    ASSERT_GE(files.size(), 100u);
    for (const auto& f : files) {
        const auto bytes = read_file(f);
        Summary s;
        decode_fit(bytes, s);
        EXPECT_TRUE(s.ok) << f.filename() << ": " << s.error;
        EXPECT_TRUE(s.error.empty()) << f.filename();
    }
}
