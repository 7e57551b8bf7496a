#include "providers/folder/folder.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdlib>
#include <map>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "core/hash.hpp"
#include "formats/decode.hpp"
#include "provider_test_util.hpp"

namespace fitbridge::providers::folder {
namespace {

using namespace std::chrono_literals;
using test::copy_corpus;
using test::run;
using test::run_until;
using test::slurp;
using test::TempDir;
using test::write_text;
namespace fs = std::filesystem;

// `sha256sum` of the plain corpus files (the gz copies hold the same bytes).
constexpr std::string_view k_fenix2_sha = "a066d77db247c152c9583bddaecd33d36327bacc0821694ab795fe25671a8327";
constexpr std::string_view k_lake_gpx_sha = "8bad699d4c32633dd65d98c0c8ae6372da5ed01c24f7e3afd9f6b642a9976671";

config::AccountConfig account(std::map<std::string, std::string> options) {
    config::AccountConfig a;
    a.id = "inbox";
    a.provider = "folder";
    a.options = std::move(options);
    return a;
}

// Sets $HOME for one test and restores it.
class ScopedHome {
public:
    explicit ScopedHome(const fs::path& home) {
        if (const char* h = std::getenv("HOME")) m_old = h;
        ::setenv("HOME", home.c_str(), 1);
    }
    ~ScopedHome() {
        if (m_old)
            ::setenv("HOME", m_old->c_str(), 1);
        else
            ::unsetenv("HOME");
    }

private:
    std::optional<std::string> m_old;
};

class FolderTest : public ::testing::Test {
protected:
    std::unique_ptr<Provider> make(std::map<std::string, std::string> options) {
        if (!options.contains("path")) options["path"] = m_dir.path().string();
        Context ctx{.executor = m_io.get_executor(), .clock = &m_clock, .state_dir = m_dir.path()};
        auto p = factory().create(account(std::move(options)), ctx);
        if (!p) throw std::runtime_error(p.error().message);
        return std::move(*p);
    }

    std::vector<RemoteActivity> list(Provider& p) {
        auto page = run(p.list({}));
        if (!page) throw std::runtime_error(page.error().message);
        EXPECT_FALSE(page->next_cursor.has_value());
        return page->items;
    }

    static std::map<std::string, std::string> reasons(const Provider& p) {
        std::map<std::string, std::string> out;
        for (const auto& i : p.ignored()) out[fs::path(i.origin).filename().string()] = i.reason;
        return out;
    }

    TempDir m_dir;
    boost::asio::io_context m_io;
    ManualClock m_clock{SysTime(std::chrono::milliseconds(1'700'000'000'000))};
};

TEST_F(FolderTest, IdIsSha256OfDecompressedContentAndCopiesAreOneActivity) {
    copy_corpus("fit/garmin-fenix2-run.fit", m_dir / "a/Morning Run.fit");
    copy_corpus("fit/garmin-fenix2-run.fit", m_dir / "b/renamed-copy.bin");  // content decides, not the name
    copy_corpus("fit/garmin-fenix2-run.fit.gz", m_dir / "c/zipped.fit.gz");
    copy_corpus("gpx/gpsbabel-cerknicko-jezero.gpx.gz", m_dir / "d/lake.gpx.gz");
    auto p = make({{"settle_time", "0"}});

    auto items = list(*p);
    ASSERT_EQ(items.size(), 2u);
    EXPECT_EQ(items[0].remote_id, k_fenix2_sha);
    EXPECT_EQ(items[0].origin, (m_dir / "a/Morning Run.fit").string());  // first path in name order
    EXPECT_EQ(items[0].name, "Morning Run");
    EXPECT_EQ(items[1].remote_id, k_lake_gpx_sha);
    EXPECT_EQ(items[1].origin, (m_dir / "d/lake.gpx.gz").string());
    EXPECT_EQ(items[1].name, "lake");
    EXPECT_TRUE(p->ignored().empty());

    // The id is the one the decoder reports for the gz copy as stored.
    const auto gz = slurp(m_dir / "c/zipped.fit.gz");
    EXPECT_EQ(formats::decode(test::bytes_of(gz)).content_sha256, k_fenix2_sha);
    EXPECT_EQ(sha256_hex(slurp(m_dir / "a/Morning Run.fit")), k_fenix2_sha);

    // Moving the first copy away leaves the same activity under another path.
    fs::remove(m_dir / "a/Morning Run.fit");
    items = list(*p);
    ASSERT_EQ(items.size(), 2u);
    EXPECT_EQ(items[0].remote_id, k_fenix2_sha);
    EXPECT_EQ(items[0].origin, (m_dir / "b/renamed-copy.bin").string());
    EXPECT_EQ(items[0].name, "renamed-copy");
}

TEST_F(FolderTest, EachSkippedFileHasAReason) {
    copy_corpus("fit/garmin-fenix2-run.fit", m_dir / "ride.fit");
    copy_corpus("fit/garmin-fenix2-run.fit", m_dir / ".hidden.fit");
    copy_corpus("fit/garmin-fenix2-run.fit", m_dir / ".sync/inside.fit");
    copy_corpus("fit/garmin-fenix2-run.fit", m_dir / "ride2.fit.part");
    copy_corpus("fit/garmin-fenix2-run.fit", m_dir / "ride3.fit.tmp");
    copy_corpus("fit/garmin-fenix2-run.fit", m_dir / "ride4.fit.crdownload");
    copy_corpus("fit/garmin-fenix2-run.fit", m_dir / "ride5.fit~");
    copy_corpus("fit/garmin-fenix2-run.fit", m_dir / "ride6.fit.tmp-0123456789ab");
    copy_corpus("fit/garmin-fenix2-run.fit", m_dir / "sub/inProgressActivity.fit");
    copy_corpus("bad/header-only.fit", m_dir / "header-only.fit");
    write_text(m_dir / "notes.fit", std::string(2000, 'x'));
    write_text(m_dir / "zipped-text.fit.gz", std::string(2000, 'y'));  // named gz, is not
    fs::create_symlink(m_dir / "nowhere.fit", m_dir / "dangling.fit");
    ASSERT_EQ(::mkfifo((m_dir / "pipe.fit").c_str(), 0600), 0);
    auto p = make({{"settle_time", "0"}});

    auto items = list(*p);
    ASSERT_EQ(items.size(), 1u);
    EXPECT_EQ(items[0].origin, (m_dir / "ride.fit").string());
    const std::map<std::string, std::string> expected{
        {".hidden.fit", "dotfile"},
        {".sync", "dotfile"},
        {"ride2.fit.part", "temporary"},
        {"ride3.fit.tmp", "temporary"},
        {"ride4.fit.crdownload", "temporary"},
        {"ride5.fit~", "temporary"},
        {"ride6.fit.tmp-0123456789ab", "temporary"},
        {"inProgressActivity.fit", "in_progress"},
        {"header-only.fit", "too_small"},
        {"notes.fit", "not_activity_format"},
        {"zipped-text.fit.gz", "not_activity_format"},
        {"dangling.fit", "unreadable"},
        {"pipe.fit", "unreadable"},
    };
    EXPECT_EQ(reasons(*p), expected);
    std::map<std::string, std::string> details;
    for (const auto& i : p->ignored()) details[fs::path(i.origin).filename().string()] = i.detail;
    EXPECT_EQ(details["header-only.fit"], "14 bytes, under min_bytes 1024");
    EXPECT_EQ(details[".sync"], "hidden folder, not scanned");
    EXPECT_EQ(details["pipe.fit"], "not a regular file");
    EXPECT_EQ(details["dangling.fit"], "No such file or directory");
    EXPECT_EQ(details["zipped-text.fit.gz"],
              "content is not FIT, GPX or TCX (files are recognised by content, not by name)");
}

TEST_F(FolderTest, NameRulesAloneDecideSomeReasons) {
    EXPECT_EQ(name_ignore_reason("ride.fit"), "");
    EXPECT_EQ(name_ignore_reason(".DS_Store"), "dotfile");
    EXPECT_EQ(name_ignore_reason("INPROGRESSACTIVITY.FIT"), "in_progress");
    EXPECT_EQ(name_ignore_reason("ride.FIT.PART"), "temporary");
    EXPECT_EQ(name_ignore_reason("ride.fit.partial"), "temporary");
    EXPECT_EQ(name_ignore_reason("ride.fit.tmp-0123456789ag"), "");  // not hex: not our temp name
    EXPECT_EQ(name_ignore_reason("ride.tmp.fit"), "");
}

TEST_F(FolderTest, MinBytesAndRecursiveOptions) {
    copy_corpus("fit/garmin-fenix2-run.fit", m_dir / "top.fit");                         // 121839 bytes
    copy_corpus("gpx/gpsbabel-cerknicko-jezero.gpx", m_dir / "nested/deeper/lake.gpx");  // 36362 bytes
    auto flat = make({{"settle_time", "0"}, {"recursive", "false"}, {"min_bytes", "121840"}});
    EXPECT_TRUE(list(*flat).empty());
    ASSERT_EQ(flat->ignored().size(), 1u);
    EXPECT_EQ(flat->ignored()[0].reason, "too_small");
    EXPECT_EQ(flat->ignored()[0].detail, "121839 bytes, under min_bytes 121840");

    auto deep = make({{"settle_time", "0"}, {"recursive", "yes"}, {"min_bytes", "0"}});
    auto items = list(*deep);
    ASSERT_EQ(items.size(), 2u);
    EXPECT_EQ(items[0].remote_id, k_lake_gpx_sha);
    EXPECT_EQ(items[1].remote_id, k_fenix2_sha);
}

TEST_F(FolderTest, FileIsTakenOnlyAfterSizeAndMtimeHoldForTheSettleTime) {
    const fs::path f = m_dir / "ride.fit";
    copy_corpus("fit/garmin-fenix2-run.fit", f);
    auto p = make({{"settle_time", "5"}});

    EXPECT_TRUE(list(*p).empty());  // first seen now
    ASSERT_EQ(p->ignored().size(), 1u);
    EXPECT_EQ(p->ignored()[0].reason, "unstable");
    EXPECT_EQ(p->ignored()[0].detail, "changed in the last 5 s (settle_time); taken once unchanged that long");
    m_clock.advance(4999ms);
    EXPECT_TRUE(list(*p).empty());
    m_clock.advance(1ms);
    ASSERT_EQ(list(*p).size(), 1u);
    EXPECT_TRUE(p->ignored().empty());

    // Growing restarts the clock; so does a new mtime at the same size.
    {
        std::ofstream out(f, std::ios::app | std::ios::binary);
        out << "trailing";
    }
    EXPECT_TRUE(list(*p).empty());
    m_clock.advance(5s);
    auto items = list(*p);
    ASSERT_EQ(items.size(), 1u);
    EXPECT_NE(items[0].remote_id, k_fenix2_sha);
    EXPECT_EQ(items[0].remote_id, sha256_hex(slurp(f)));

    timespec times[2] = {{0, UTIME_OMIT}, {1'600'000'000, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, f.c_str(), times, 0), 0);
    EXPECT_TRUE(list(*p).empty());
    m_clock.advance(5s);
    EXPECT_EQ(list(*p).size(), 1u);
}

TEST_F(FolderTest, SettleTimeDefaultsToTheConfigsSyncSettleTime) {
    copy_corpus("fit/garmin-fenix2-run.fit", m_dir / "ride.fit");
    config::Config cfg;
    cfg.sync.settle_time_s = 2;
    Context ctx{.executor = m_io.get_executor(), .clock = &m_clock, .state_dir = m_dir.path(), .config = &cfg};
    auto p = factory().create(account({{"path", m_dir.path().string()}}), ctx);
    ASSERT_TRUE(p);
    EXPECT_TRUE(list(**p).empty());
    m_clock.advance(2s);
    EXPECT_EQ(list(**p).size(), 1u);
}

// Rewrites byte 5000 of `f` in place and puts its mtime back: new bytes
// behind the same size, mtime and inode. `mtime` gets that mtime.
bool change_one_byte_keeping_size_mtime_and_inode(const fs::path& f, timespec* mtime) {
    struct stat before {};
    if (::stat(f.c_str(), &before) != 0) return false;
    {
        std::fstream io(f, std::ios::in | std::ios::out | std::ios::binary);
        io.seekp(5000);
        io.put('\x55');
    }
    timespec times[2] = {{0, UTIME_OMIT}, before.st_mtim};
    *mtime = before.st_mtim;
    return ::utimensat(AT_FDCWD, f.c_str(), times, 0) == 0;
}

TEST_F(FolderTest, UnchangedFilesAreNotHashedAgain) {
    // Same size, mtime and inode with different bytes: only a cache explains
    // the old id still being reported.
    const fs::path f = m_dir / "ride.fit";
    copy_corpus("fit/garmin-fenix2-run.fit", f);
    auto p = make({{"settle_time", "0"}});
    ASSERT_EQ(list(*p)[0].remote_id, k_fenix2_sha);

    timespec mtime{};
    ASSERT_TRUE(change_one_byte_keeping_size_mtime_and_inode(f, &mtime));
    EXPECT_EQ(list(*p)[0].remote_id, k_fenix2_sha);
}

TEST_F(FolderTest, DownloadReturnsTheBytesAsStoredAndNoticesChanges) {
    copy_corpus("fit/garmin-fenix2-run.fit.gz", m_dir / "zipped.fit.gz");
    copy_corpus("gpx/gpsbabel-cerknicko-jezero.gpx", m_dir / "lake.gpx");
    auto p = make({{"settle_time", "0"}});
    auto items = list(*p);
    ASSERT_EQ(items.size(), 2u);
    const auto& gz = items[1];
    ASSERT_EQ(gz.origin, (m_dir / "zipped.fit.gz").string());

    auto bytes = run(p->download(gz));
    ASSERT_TRUE(bytes);
    EXPECT_EQ(*bytes, slurp(test::k_corpus / "fit/garmin-fenix2-run.fit.gz"));  // still gzipped

    write_text(m_dir / "lake.gpx", "<gpx></gpx>" + std::string(2000, ' '));
    auto changed = run(p->download(items[0]));
    ASSERT_FALSE(changed);
    EXPECT_EQ(changed.error().cls, ErrorClass::transient);
    EXPECT_EQ(changed.error().message,
              fmt::format("{} changed since it was listed (content {}…, listed as {}…)", items[0].origin,
                          sha256_hex(slurp(m_dir / "lake.gpx")).substr(0, 12), k_lake_gpx_sha.substr(0, 12)));

    fs::remove(m_dir / "zipped.fit.gz");
    auto gone = run(p->download(gz));
    ASSERT_FALSE(gone);
    EXPECT_EQ(gone.error().cls, ErrorClass::transient);
    EXPECT_EQ(gone.error().message, gz.origin + " vanished since it was listed");
}

TEST_F(FolderTest, ADownloadOfAFileUnchangedSinceItsListingIsNotHashedAgain) {
    // Like the listing, a download trusts an unchanged size, mtime and inode:
    // different bytes behind the same three can only pass unhashed.
    const fs::path f = m_dir / "ride.fit";
    copy_corpus("fit/garmin-fenix2-run.fit", f);
    auto p = make({{"settle_time", "0"}});
    auto items = list(*p);
    ASSERT_EQ(items.size(), 1u);
    ASSERT_EQ(items[0].remote_id, k_fenix2_sha);
    timespec mtime{};
    ASSERT_TRUE(change_one_byte_keeping_size_mtime_and_inode(f, &mtime));
    auto bytes = run(p->download(items[0]));
    ASSERT_TRUE(bytes) << bytes.error().message;
    EXPECT_EQ(*bytes, slurp(f));
    EXPECT_NE(sha256_hex(*bytes), k_fenix2_sha);
    // A new mtime: hashed, and the change found.
    timespec later[2] = {{0, UTIME_OMIT}, {mtime.tv_sec + 10, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, f.c_str(), later, 0), 0);
    auto changed = run(p->download(items[0]));
    ASSERT_FALSE(changed);
    EXPECT_EQ(changed.error().code, "folder.changed");
}

TEST_F(FolderTest, ListFailsTransientlyWhenTheFolderDisappears) {
    const fs::path inbox = m_dir / "inbox";
    fs::create_directories(inbox);
    auto p = make({{"path", inbox.string()}});
    fs::remove(inbox);
    auto page = run(p->list({}));
    ASSERT_FALSE(page);
    EXPECT_EQ(page.error().cls, ErrorClass::transient);
    EXPECT_EQ(page.error().message, inbox.string() + " does not exist or is not a directory");
}

TEST_F(FolderTest, ValidateNamesTheOption) {
    auto err = [](std::map<std::string, std::string> o) {
        auto r = factory().validate(account(std::move(o)));
        return r ? std::string("ok") : r.error().message;
    };
    const std::string dir = m_dir.path().string();
    EXPECT_EQ(err({{"path", dir}}), "ok");
    EXPECT_EQ(err({{"path", "/x/does-not-exist"}}), "path: /x/does-not-exist does not exist or is not a directory");
    EXPECT_EQ(err({{"path", "inbox"}}), "path: 'inbox' must be an absolute path or start with ~/");
    EXPECT_EQ(err({{"path", dir}, {"colour", "red"}}), "unknown option 'colour'");
    EXPECT_EQ(err({{"preset", "foo"}}), "preset: unknown 'foo' (zwift, mywhoosh)");
    EXPECT_EQ(err({}), "path: required (a folder of activity files), unless preset: zwift | mywhoosh is set");
    EXPECT_EQ(err({{"path", dir}, {"recursive", "maybe"}}), "recursive: expected true or false, got 'maybe'");
    EXPECT_EQ(err({{"path", dir}, {"settle_time", "-1"}}),
              "settle_time: expected seconds between 0 and 86400, got '-1'");
    EXPECT_EQ(err({{"path", dir}, {"settle_time", "2.5"}}), "ok");
    EXPECT_EQ(err({{"path", dir}, {"min_bytes", "1k"}}), "min_bytes: expected a whole number of bytes, got '1k'");

    auto a = account({{"path", dir}});
    a.list_options["path"] = {"/a", "/b"};
    EXPECT_EQ(factory().validate(a).error().message, "path: expected one value, got a list");

    // A config with a folder account goes through the registry.
    config::Config cfg;
    cfg.accounts.push_back(account({{"path", "/x/does-not-exist"}}));
    cfg.accounts.back().line = 7;
    EXPECT_EQ(validate_accounts(cfg).error().message,
              "config:7: accounts 'inbox': path: /x/does-not-exist does not exist or is not a directory");
}

TEST_F(FolderTest, TildeExpandsToHome) {
    fs::create_directories(m_dir / "Rides");
    copy_corpus("fit/garmin-fenix2-run.fit", m_dir / "Rides/r.fit");
    ScopedHome home(m_dir.path());
    auto p = make({{"path", "~/Rides"}, {"settle_time", "0"}});
    auto items = list(*p);
    ASSERT_EQ(items.size(), 1u);
    EXPECT_EQ(items[0].origin, (m_dir / "Rides/r.fit").string());
}

TEST(FolderPresets, CandidatesPerOs) {
    const fs::path h = "/home/ann";
    EXPECT_EQ(*preset_candidates("zwift", h, HostOs::macos),
              std::vector<std::string>{"/home/ann/Documents/Zwift/Activities"});
    EXPECT_EQ(*preset_candidates("mywhoosh", h, HostOs::macos),
              std::vector<std::string>{"/home/ann/Library/Containers/com.whoosh.whooshgame/Data/Library/"
                                       "Application Support/Epic/MyWhoosh/Content/Data"});
    const std::vector<std::string> zwift_linux{
        "/home/ann/.wine/drive_c/users/*/Documents/Zwift/Activities",
        "/home/ann/.local/share/Steam/steamapps/compatdata/*/pfx/drive_c/users/steamuser/Documents/Zwift/Activities",
        "/home/ann/.steam/steam/steamapps/compatdata/*/pfx/drive_c/users/steamuser/Documents/Zwift/Activities",
        "/home/ann/.var/app/com.valvesoftware.Steam/.local/share/Steam/steamapps/compatdata/*/pfx/drive_c/users/"
        "steamuser/Documents/Zwift/Activities",
        "/home/ann/Games/*/drive_c/users/*/Documents/Zwift/Activities",
        "/home/ann/Documents/Zwift/Activities",
    };
    EXPECT_EQ(*preset_candidates("zwift", h, HostOs::gnu_linux), zwift_linux);
    EXPECT_EQ(preset_candidates("rouvy", h, HostOs::gnu_linux).error().message, "unknown 'rouvy' (zwift, mywhoosh)");
}

TEST(FolderPresets, ResolvesTheFirstExistingCandidate) {
    TempDir home;
    const auto os = HostOs::gnu_linux;
    // Nothing there: the error lists what was tried.
    auto none = resolve_preset("mywhoosh", home.path(), os);
    ASSERT_FALSE(none);
    const std::string h = home.path().string();
    EXPECT_EQ(none.error().message,
              fmt::format("no mywhoosh activity folder found (tried: "
                          "{0}/.wine/drive_c/users/*/AppData/Local/Packages/*MyWhoosh*/LocalCache/Local/MyWhoosh/"
                          "Content/Data, "
                          "{0}/.local/share/Steam/steamapps/compatdata/*/pfx/drive_c/users/steamuser/AppData/Local/"
                          "Packages/*MyWhoosh*/LocalCache/Local/MyWhoosh/Content/Data, "
                          "{0}/.steam/steam/steamapps/compatdata/*/pfx/drive_c/users/steamuser/AppData/Local/Packages/"
                          "*MyWhoosh*/LocalCache/Local/MyWhoosh/Content/Data, "
                          "{0}/.var/app/com.valvesoftware.Steam/.local/share/Steam/steamapps/compatdata/*/pfx/drive_c/"
                          "users/steamuser/AppData/Local/Packages/*MyWhoosh*/LocalCache/Local/MyWhoosh/Content/Data, "
                          "{0}/Games/*/drive_c/users/*/AppData/Local/Packages/*MyWhoosh*/LocalCache/Local/MyWhoosh/"
                          "Content/Data); set path instead",
                          h));

    // Proton prefix; the package folder's case and publisher hash vary.
    const fs::path proton = home /
                            ".local/share/Steam/steamapps/compatdata/2280/pfx/drive_c/users/steamuser/AppData/"
                            "Local/Packages/MYWHOOSH.Game_8x7abc/LocalCache/Local/MyWhoosh/Content/Data";
    fs::create_directories(proton);
    EXPECT_EQ(*resolve_preset("mywhoosh", home.path(), os), proton);

    // Wine's shared "Public" profile is never the app's; a real user is.
    fs::create_directories(home / ".wine/drive_c/users/Public/Documents/Zwift/Activities");
    EXPECT_FALSE(resolve_preset("zwift", home.path(), os));
    fs::create_directories(home / "Games/zwift/drive_c/users/ann/Documents/Zwift/Activities");
    EXPECT_EQ(*resolve_preset("zwift", home.path(), os),
              home / "Games/zwift/drive_c/users/ann/Documents/Zwift/Activities");
    fs::create_directories(home / ".wine/drive_c/users/ann/Documents/Zwift/Activities");
    EXPECT_EQ(*resolve_preset("zwift", home.path(), os), home / ".wine/drive_c/users/ann/Documents/Zwift/Activities");
}

TEST_F(FolderTest, PresetAccountReadsHomeFromTheEnvironment) {
    const fs::path zwift = m_dir / ".wine/drive_c/users/ann/Documents/Zwift/Activities";
    copy_corpus("fit/garmin-fenix2-run.fit", zwift / "2024-05-01-18-30-12.fit");
    copy_corpus("fit/garmin-fenix2-run.fit", zwift / "inProgressActivity.fit");
    ScopedHome home(m_dir.path());
    EXPECT_TRUE(factory().validate(account({{"preset", "zwift"}})));
    Context ctx{.executor = m_io.get_executor(), .clock = &m_clock, .state_dir = m_dir.path()};
    auto p = factory().create(account({{"preset", "zwift"}, {"settle_time", "0"}}), ctx);
    ASSERT_TRUE(p);
    auto items = list(**p);
    ASSERT_EQ(items.size(), 1u);
    EXPECT_EQ(items[0].origin, (zwift / "2024-05-01-18-30-12.fit").string());
    EXPECT_EQ(items[0].name, "2024-05-01-18-30-12");
    EXPECT_EQ(reasons(**p), (std::map<std::string, std::string>{{"inProgressActivity.fit", "in_progress"}}));

    TempDir empty_home;
    ScopedHome other(empty_home.path());
    auto r = factory().validate(account({{"preset", "zwift"}}));
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().message.starts_with("preset: no zwift activity folder found (tried: " +
                                              empty_home.path().string() + "/.wine/drive_c/users/*/Documents/"))
        << r.error().message;
}

TEST_F(FolderTest, WatchCallsBackWhenFilesAreWrittenOrMovedIn) {
    fs::create_directories(m_dir / "inbox");
    TempDir outside;
    auto p = make({{"path", (m_dir / "inbox").string()}, {"settle_time", "0"}});
    int changes = 0;
    p->watch([&] { ++changes; });

    // Quiet folder: nothing happens.
    EXPECT_FALSE(run_until(
        m_io, [&] { return changes > 0; }, 400ms));

    copy_corpus("fit/garmin-fenix2-run.fit", m_dir / "inbox/written.fit");
    ASSERT_TRUE(run_until(
        m_io, [&] { return changes == 1; }, 3s));
    EXPECT_EQ(list(*p).size(), 1u);

    // A rename into the folder (how browsers and sync tools finish a file).
    copy_corpus("gpx/gpsbabel-cerknicko-jezero.gpx", outside / "moved.gpx");
    fs::rename(outside / "moved.gpx", m_dir / "inbox/moved.gpx");
    ASSERT_TRUE(run_until(
        m_io, [&] { return changes == 2; }, 3s));

    // A new subfolder gets its own watch; a file written into it is seen.
    fs::create_directories(m_dir / "inbox/2024");
    ASSERT_TRUE(run_until(
        m_io, [&] { return changes == 3; }, 3s));
    copy_corpus("fit/garmin-fr110-run-2013.fit", m_dir / "inbox/2024/ride.fit");
    ASSERT_TRUE(run_until(
        m_io, [&] { return changes == 4; }, 3s));
    EXPECT_EQ(list(*p).size(), 3u);

    // Dotfiles (editor swap files, sync metadata) are not news.
    write_text(m_dir / "inbox/.hidden", "x");
    EXPECT_FALSE(run_until(
        m_io, [&] { return changes > 4; }, 600ms));

    // After shutdown nothing calls back and no work keeps the loop alive.
    p->shutdown();
    copy_corpus("fit/garmin-fenix2-run.fit", m_dir / "inbox/late.fit");
    m_io.restart();
    const auto start = std::chrono::steady_clock::now();
    m_io.run_for(2s);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
    EXPECT_EQ(changes, 4);
}

TEST_F(FolderTest, WatchComesBackForFilesThatWereStillSettling) {
    // Real time here: the watcher's timers run on the io_context.
    Context ctx{.executor = m_io.get_executor(), .state_dir = m_dir.path()};
    auto created = factory().create(account({{"path", m_dir.path().string()}, {"settle_time", "0.5"}}), ctx);
    ASSERT_TRUE(created);
    auto& p = **created;
    int changes = 0;
    p.watch([&] { ++changes; });

    copy_corpus("fit/garmin-fenix2-run.fit", m_dir / "ride.fit");
    ASSERT_TRUE(run_until(
        m_io, [&] { return changes == 1; }, 3s));
    EXPECT_TRUE(list(p).empty());  // first seen: still settling
    ASSERT_EQ(p.ignored().size(), 1u);
    EXPECT_EQ(p.ignored()[0].reason, "unstable");

    ASSERT_TRUE(run_until(
        m_io, [&] { return changes == 2; }, 3s));
    auto items = list(p);
    ASSERT_EQ(items.size(), 1u);
    EXPECT_EQ(items[0].remote_id, k_fenix2_sha);
    p.shutdown();
}

TEST_F(FolderTest, FactoryDescribesTheProvider) {
    const Factory f = factory();
    EXPECT_EQ(f.name, "folder");
    EXPECT_EQ(f.capabilities, k_list_window | k_download | k_watch);
    // registry() named here also keeps the static link order working:
    // provider_base's find_factory() needs it from fitbridge_providers.
    // folder, archive, intervals_icu, rest, strava, sweatstack, trainitall, sporttracks, mywhoosh, igpsport,
    // zwift, trainingpeaks, garmin_connect, ridewithgps
    ASSERT_EQ(registry().size(), 15u);
    EXPECT_EQ(registry()[0].name, "folder");
    EXPECT_EQ(find_factory("folder"), &registry()[0]);
    auto p = make({});
    EXPECT_EQ(p->account_id(), "inbox");
    EXPECT_EQ(p->capabilities(), k_list_window | k_download | k_watch);
}

}  // namespace
}  // namespace fitbridge::providers::folder
