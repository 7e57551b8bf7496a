#include "engine/originals.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "core/files.hpp"
#include "core/hash.hpp"
#include "support/temp_dir.hpp"

namespace fitbridge::engine {
namespace {

formats::Summary summary_of(const std::string& bytes) {
    formats::Summary s;
    s.format = formats::Format::gpx;
    s.content_sha256 = sha256_hex(bytes);
    return s;
}

TEST(OriginalStore, KeepsAFileUnderItsContentHashOnce) {
    test::TempDir dir("originals");
    OriginalStore store(dir.path());
    const std::string bytes = "<gpx>one ride</gpx>";
    auto path = store.store(bytes, summary_of(bytes), Durability::deferred);
    ASSERT_TRUE(path.ok()) << path.error().message;
    const auto sha = sha256_hex(bytes);
    EXPECT_EQ(*path, (dir.path() / "originals" / sha.substr(0, 2) / (sha + ".gpx")).string());
    EXPECT_EQ(read_file(*path).value(), bytes);
    struct stat first {};
    ASSERT_EQ(::stat(path->c_str(), &first), 0);
    EXPECT_EQ(first.st_mode & 0777, 0600u);
    // Stored again: the same file, untouched.
    auto again = store.store(bytes, summary_of(bytes), Durability::now);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, *path);
    struct stat second {};
    ASSERT_EQ(::stat(path->c_str(), &second), 0);
    EXPECT_EQ(second.st_ino, first.st_ino);
}

TEST(OriginalStore, AFileAPowerCutLeftShortOrEmptyIsWrittenAgain) {
    // A deferred write not yet synced when the power went: the name may be
    // there with nothing (or less) in it, and nothing in the ledger points at
    // it. The next ingest of that content must not trust it.
    test::TempDir dir("originals");
    OriginalStore store(dir.path());
    const std::string bytes = "<gpx>a ride cut short</gpx>";
    auto path = store.store(bytes, summary_of(bytes), Durability::deferred);
    ASSERT_TRUE(path.ok());
    for (const std::string& left : {std::string(), bytes.substr(0, 10)}) {
        std::ofstream(*path, std::ios::binary | std::ios::trunc) << left;
        auto again = store.store(bytes, summary_of(bytes), Durability::deferred);
        ASSERT_TRUE(again.ok()) << again.error().message;
        EXPECT_EQ(*again, *path);
        EXPECT_EQ(read_file(*path).value(), bytes);
    }
}

TEST(OriginalStore, TheFirstFileMakesEveryShardFolderAtOnce) {
    // A fresh state's first ingests must not each make (and sync) a folder:
    // the first store makes all 256, later ones only write their file.
    test::TempDir dir("originals");
    OriginalStore store(dir.path());
    const std::string bytes = "<gpx>first ride</gpx>";
    ASSERT_TRUE(store.store(bytes, summary_of(bytes), Durability::deferred).ok());
    const auto root = dir.path() / "originals";
    size_t folders = 0;
    for (const auto& e : std::filesystem::directory_iterator(root)) {
        ASSERT_TRUE(e.is_directory()) << e.path();
        const auto name = e.path().filename().string();
        EXPECT_EQ(name.size(), 2u) << name;
        EXPECT_EQ(name.find_first_not_of("0123456789abcdef"), std::string::npos) << name;
        ++folders;
    }
    EXPECT_EQ(folders, 256u);
    struct stat st {};
    ASSERT_EQ(::stat((root / "00").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    // A folder removed behind the daemon's back is made again at the next
    // start's first store.
    std::filesystem::remove(root / "ff");
    OriginalStore restarted(dir.path());
    const std::string other = "<gpx>second ride</gpx>";
    ASSERT_TRUE(restarted.store(other, summary_of(other), Durability::deferred).ok());
    EXPECT_TRUE(std::filesystem::is_directory(root / "ff"));
}

TEST(OriginalStore, AFolderThatCannotBeMadeIsATransientErrorNamingIt) {
    test::TempDir dir("originals");
    // A file where the originals folder should be.
    std::ofstream(dir.path() / "originals") << "in the way";
    OriginalStore store(dir.path());
    const std::string bytes = "<gpx>a ride</gpx>";
    auto r = store.store(bytes, summary_of(bytes), Durability::deferred);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "engine.originals");
    EXPECT_EQ(r.error().cls, ErrorClass::transient);
    EXPECT_NE(r.error().message.find((dir.path() / "originals").string()), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace fitbridge::engine
