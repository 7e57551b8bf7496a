#include "core/files.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "support/temp_dir.hpp"

namespace fitbridge {
namespace {

std::vector<std::string> names_in(const std::filesystem::path& dir) {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

TEST(WriteFileAtomic, ANewFileGetsItsBytesAndModeAndNothingElseIsLeftInTheFolder) {
    test::TempDir dir("files");
    for (auto durability : {Durability::now, Durability::deferred}) {
        const auto name = durability == Durability::now ? "now.fit" : "deferred.fit";
        ASSERT_TRUE(write_file_atomic(dir.path() / name, "ride", 0640, /*overwrite=*/false, durability).ok());
        EXPECT_EQ(read_file(dir.path() / name).value(), "ride");
        struct stat st {};
        ASSERT_EQ(::stat((dir.path() / name).c_str(), &st), 0);
        EXPECT_EQ(st.st_mode & 0777, 0640u);
    }
    // No temporary name was ever made (and none is left behind).
    EXPECT_EQ(names_in(dir.path()), (std::vector<std::string>{"deferred.fit", "now.fit"}));
}

TEST(WriteFileAtomic, WithoutOverwriteAnExistingNameIsRefusedAndKept) {
    test::TempDir dir("files");
    ASSERT_TRUE(write_file_atomic(dir.path() / "a.gpx", "first", 0600, false).ok());
    auto again = write_file_atomic(dir.path() / "a.gpx", "second", 0600, false, Durability::deferred);
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().code, "io.exists");
    EXPECT_EQ(read_file(dir.path() / "a.gpx").value(), "first");
    ASSERT_TRUE(write_file_atomic(dir.path() / "a.gpx", "third", 0600, true).ok());
    EXPECT_EQ(read_file(dir.path() / "a.gpx").value(), "third");
    EXPECT_EQ(names_in(dir.path()), (std::vector<std::string>{"a.gpx"}));
}

TEST(WriteFileAtomic, AMissingFolderIsAnErrorNamingIt) {
    test::TempDir dir("files");
    auto r = write_file_atomic(dir.path() / "nope" / "a.fit", "x", 0600, false);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find((dir.path() / "nope").string()), std::string::npos) << r.error().message;
}

TEST(SyncFiles, SyncsEveryFileAndFolderOfABatch) {
    test::TempDir dir("files");
    std::vector<std::filesystem::path> files;
    for (int i = 0; i < 20; ++i) {
        auto sub = dir.path() / std::to_string(i % 3);
        std::filesystem::create_directories(sub);
        files.push_back(sub / ("f" + std::to_string(i)));
        ASSERT_TRUE(
            write_file_atomic(files.back(), std::string(1000, 'a' + i), 0600, false, Durability::deferred).ok());
    }
    EXPECT_TRUE(sync_files(files).ok());
    EXPECT_TRUE(sync_files({}).ok());
}

TEST(SyncFiles, AFileThatIsGoneFailsTheBatchNamingIt) {
    test::TempDir dir("files");
    ASSERT_TRUE(write_file_atomic(dir.path() / "here", "x", 0600, false, Durability::deferred).ok());
    auto r = sync_files({dir.path() / "here", dir.path() / "gone"});
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find((dir.path() / "gone").string()), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace fitbridge
