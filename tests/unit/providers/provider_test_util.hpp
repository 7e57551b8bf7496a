#pragma once
// Shared helpers for provider tests: corpus copies and bytes, with the test
// kit's temp folders and coroutine runner (tests/support).

#include <filesystem>
#include <map>
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

// The `provider: rest` options that map the contract onto tests/fakes'
// `rest_custom` fake: other names, ISO times, km, `data.items` nesting,
// 0-based page/limit paging, a file endpoint, multipart create and gear.
inline std::map<std::string, std::string> rest_custom_mapping(int page_size) {
    return {
        {"list.path", "/api/v2/workouts"},
        {"list.after", "from"},
        {"list.before", "to"},
        {"list.time", "iso8601"},
        {"list.page", "page"},
        {"list.per_page", "limit"},
        {"list.page_size", std::to_string(page_size)},
        {"list.first_page", "0"},
        {"list.items", "data.items"},
        {"get.path", "/api/v2/workouts/{id}"},
        {"file.path", "/api/v2/workouts/{id}/original"},
        {"update.method", "PUT"},
        {"update.path", "/api/v2/workouts/{id}"},
        {"create.path", "/api/v2/uploads"},
        {"create.body", "multipart"},
        {"gear.path", "/api/v2/equipment"},
        {"gear_update.field", "equipment_id"},
        {"fields.id", "workout_id"},
        {"fields.name", "title"},
        {"fields.sport", "activity"},
        {"fields.start", "started_at"},
        {"fields.duration", "elapsed"},
        {"fields.distance", "distance_km"},
        {"fields.distance_unit", "km"},
        {"fields.description", "notes"},
        {"fields.gear", "equipment_id"},
    };
}

}  // namespace fitbridge::providers::test
