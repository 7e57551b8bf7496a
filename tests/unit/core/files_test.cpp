#include "core/files.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <memory>
#include <string>

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

TEST(WriteNewFiles, WritesAGroupWithItsBytesAndModesAndOneResultPerFileInOrder) {
    test::TempDir dir("files");
    std::filesystem::create_directories(dir.path() / "2025" / "01");
    std::filesystem::create_directories(dir.path() / "2025" / "02");
    ASSERT_TRUE(write_file_atomic(dir.path() / "2025" / "02" / "taken.fit", "first", 0600, false).ok());
    std::vector<NewFile> files{
        {dir.path() / "2025" / "01" / "a.fit", "ride a", 0644},
        {dir.path() / "2025" / "02" / "taken.fit", "second", 0644},  // the name exists
        {dir.path() / "2025" / "03" / "c.fit", "ride c", 0644},      // no such folder
        {dir.path() / "2025" / "02" / "b.gpx.gz", std::string(70000, 'b'), 0600},
    };
    const auto out = write_new_files(files);
    ASSERT_EQ(out.size(), 4u);
    EXPECT_TRUE(out[0].ok()) << out[0].error().message;
    ASSERT_FALSE(out[1].ok());
    EXPECT_EQ(out[1].error().code, "io.exists");
    EXPECT_EQ(out[1].error().cls, ErrorClass::permanent);
    ASSERT_FALSE(out[2].ok());
    EXPECT_EQ(out[2].error().code, "io.write");
    EXPECT_EQ(out[2].error().cls, ErrorClass::transient);
    EXPECT_NE(out[2].error().message.find((dir.path() / "2025" / "03").string()), std::string::npos)
        << out[2].error().message;
    EXPECT_TRUE(out[3].ok()) << out[3].error().message;

    EXPECT_EQ(read_file(dir.path() / "2025" / "01" / "a.fit").value(), "ride a");
    EXPECT_EQ(read_file(dir.path() / "2025" / "02" / "taken.fit").value(), "first");  // kept
    EXPECT_EQ(read_file(dir.path() / "2025" / "02" / "b.gpx.gz").value(), std::string(70000, 'b'));
    struct stat st {};
    ASSERT_EQ(::stat((dir.path() / "2025" / "01" / "a.fit").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0644u);
    ASSERT_EQ(::stat((dir.path() / "2025" / "02" / "b.gpx.gz").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    // Nothing but the named files: no temporary name was made.
    EXPECT_EQ(names_in(dir.path() / "2025" / "01"), (std::vector<std::string>{"a.fit"}));
    EXPECT_EQ(names_in(dir.path() / "2025" / "02"), (std::vector<std::string>{"b.gpx.gz", "taken.fit"}));
    EXPECT_TRUE(write_new_files({}).empty());
}

TEST(WriteNewFiles, SharedBytesAreWrittenInsteadOfTheOwnedOnes) {
    test::TempDir dir("files");
    const auto shared = std::make_shared<const std::string>(std::string(200000, 's') + "end");
    std::vector<NewFile> files{{dir.path() / "shared.fit", "", 0600, shared}, {dir.path() / "own.fit", "own", 0600}};
    const auto out = write_new_files(files);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_TRUE(out[0].ok()) << out[0].error().message;
    EXPECT_TRUE(out[1].ok()) << out[1].error().message;
    EXPECT_EQ(read_file(dir.path() / "shared.fit").value(), *shared);
    EXPECT_EQ(read_file(dir.path() / "own.fit").value(), "own");
    EXPECT_EQ(files[0].data().size(), 200003u);
    EXPECT_EQ(files[1].data(), "own");
}

TEST(WriteNewFiles, TwoFilesOfAGroupUnderOneNameGiveTheNameToTheFirst) {
    test::TempDir dir("files");
    const auto out = write_new_files({{dir.path() / "same.fit", "one", 0600}, {dir.path() / "same.fit", "two", 0600}});
    ASSERT_EQ(out.size(), 2u);
    EXPECT_TRUE(out[0].ok());
    ASSERT_FALSE(out[1].ok());
    EXPECT_EQ(out[1].error().code, "io.exists");
    EXPECT_EQ(read_file(dir.path() / "same.fit").value(), "one");
    EXPECT_EQ(names_in(dir.path()), (std::vector<std::string>{"same.fit"}));
}

TEST(ReadFile, GivesEveryByteOfFilesOfAnySizeAndSaysWhatAndWhereWhenItCannot) {
    test::TempDir dir("read-file");
    std::string big(200'000, '\0');
    for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 + i / 251);
    ASSERT_TRUE(write_file_atomic(dir.path() / "big.fit", big, 0600, true, Durability::deferred));
    ASSERT_TRUE(write_file_atomic(dir.path() / "empty.gpx", "", 0600, true, Durability::deferred));
    EXPECT_EQ(read_file(dir.path() / "big.fit").value(), big);
    EXPECT_EQ(read_file(dir.path() / "empty.gpx").value(), "");
    // A file whose size stat cannot tell is read to its end all the same.
    auto status = read_file("/proc/self/status");
    ASSERT_TRUE(status);
    EXPECT_TRUE(status->starts_with("Name:\t")) << status->substr(0, 40);
    auto missing = read_file(dir.path() / "missing.fit");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, "io.open");
    EXPECT_EQ(missing.error().message,
              "cannot open " + (dir.path() / "missing.fit").string() + ": No such file or directory");
    auto folder = read_file(dir.path());
    ASSERT_FALSE(folder);
    EXPECT_EQ(folder.error().message, "cannot read " + dir.path().string() + ": is a folder");
}

}  // namespace
}  // namespace fitbridge
