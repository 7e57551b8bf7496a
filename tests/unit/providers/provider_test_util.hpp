#pragma once
// Shared helpers for provider tests: sandboxed temp folders, corpus copies,
// and running a provider coroutine to completion on a local io_context.

#include <stdlib.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <exception>
#include <filesystem>
#include <fstream>
#include <optional>
#include <span>
#include <string>
#include <utility>

#include "core/error.hpp"
#include "core/files.hpp"
#include "providers/provider.hpp"

namespace fitbridge::providers::test {

namespace fs = std::filesystem;

// The activity files these tests read: the fixture slice of the shared corpus
// shipped in tests/data (same relative names; tests/data/SOURCES.md).
inline const fs::path k_corpus = fs::path(FITBRIDGE_SOURCE_DIR) / "tests/data";

// A fresh directory under $TMPDIR, removed with everything in it.
class TempDir {
public:
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "fitbridge-provider-XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        m_path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(m_path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const fs::path& path() const { return m_path; }
    fs::path operator/(const fs::path& rel) const { return m_path / rel; }

private:
    fs::path m_path;
};

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

inline void write_text(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << text;
}

inline std::span<const uint8_t> bytes_of(const std::string& s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Runs one provider coroutine to completion on its own io_context. (Result
// has no default constructor, which co_spawn needs for a value-returning
// awaitable, so the value is carried out by a void wrapper.)
template <typename T>
Result<T> run(Task<T> task) {
    boost::asio::io_context io;
    std::optional<Result<T>> out;
    auto wrapper = [&]() -> boost::asio::awaitable<void> { out.emplace(co_await std::move(task)); };
    std::exception_ptr failure;
    boost::asio::co_spawn(io, wrapper(), [&](std::exception_ptr e) { failure = e; });
    io.run();
    if (failure) std::rethrow_exception(failure);
    return std::move(*out);
}

}  // namespace fitbridge::providers::test
