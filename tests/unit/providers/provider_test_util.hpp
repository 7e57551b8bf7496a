#pragma once
// Shared helpers for provider tests: corpus copies and bytes, with the test
// kit's temp folders and coroutine runner (tests/support).

#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/files.hpp"
#include "formats/decode.hpp"
#include "providers/provider.hpp"
#include "support/run.hpp"
#include "support/temp_dir.hpp"

namespace fitbridge::providers::test {

namespace fs = std::filesystem;

// The activity files these tests read: the fixture slice of the shared corpus
// shipped in tests/data (same relative names; tests/data/SOURCES.md).
inline const fs::path k_corpus = fs::path(FITBRIDGE_SOURCE_DIR) / "tests/data";

// The kit's helpers, under the names these tests use.
using fitbridge::test::run;
using fitbridge::test::run_until;
using fitbridge::test::TempDir;
using fitbridge::test::write_text;

// Copies a fixture file to `to`, writable.
inline void copy_corpus(const fs::path& rel, const fs::path& to) {
    fs::create_directories(to.parent_path());
    fs::copy_file(k_corpus / rel, to, fs::copy_options::overwrite_existing);
    fs::permissions(to,
                    fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
}

inline std::string slurp(const fs::path& p) {
    auto r = read_file(p);
    if (!r) throw std::runtime_error(r.error().message);
    return *r;
}

inline std::span<const uint8_t> bytes_of(const std::string& s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// A corpus file with its real decoded summary (an UploadRequest points into
// both, so it must outlive the request).
struct CorpusFile {
    std::string bytes;
    formats::Summary summary;
};
inline CorpusFile load_corpus(const fs::path& rel) {
    CorpusFile f{slurp(k_corpus / rel), {}};
    f.summary = formats::decode(bytes_of(f.bytes));
    return f;
}

// Every page of a listing from `q` on, each list call run by `run` (a
// function from Task<ListPage> to Result<ListPage>); throws on an error or
// when the pages do not end.
template <typename Run>
std::vector<RemoteActivity> list_all(Provider& p, ListQuery q, Run&& run) {
    std::vector<RemoteActivity> all;
    for (int guard = 0; guard < 100; ++guard) {
        auto page = run(p.list(q));
        if (!page) throw std::runtime_error(page.error().message);
        for (auto& i : page->items) all.push_back(std::move(i));
        if (!page->next_cursor) return all;
        q.cursor = page->next_cursor;
    }
    throw std::runtime_error("listing did not end");
}

}  // namespace fitbridge::providers::test
