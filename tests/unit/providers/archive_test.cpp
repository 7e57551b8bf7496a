#include "providers/archive/archive.hpp"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/hash.hpp"
#include "formats/decode.hpp"
#include "formats/gzip.hpp"
#include "net/offload.hpp"
#include "provider_test_util.hpp"

namespace fitbridge::providers::archive {
namespace {

using test::bytes_of;
using test::run;
using test::slurp;
using test::TempDir;
using test::write_text;
namespace fs = std::filesystem;

constexpr std::string_view k_fenix2_sha = "a066d77db247c152c9583bddaecd33d36327bacc0821694ab795fe25671a8327";

config::AccountConfig account(std::map<std::string, std::string> options) {
    config::AccountConfig a;
    a.id = "archive";
    a.provider = "archive";
    a.options = std::move(options);
    return a;
}

// Every regular file under `root`, relative, in name order.
std::vector<std::string> files_under(const fs::path& root) {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(root))
        if (e.is_regular_file()) out.push_back(fs::relative(e.path(), root).string());
    std::sort(out.begin(), out.end());
    return out;
}

class ArchiveTest : public ::testing::Test {
protected:
    fs::path root() const { return m_dir / "archive"; }

    std::unique_ptr<Provider> make(std::map<std::string, std::string> options = {}, net::Offload* offload = nullptr) {
        if (!options.contains("root")) options["root"] = root().string();
        Context ctx{.executor = m_io.get_executor(), .state_dir = m_dir.path(), .offload = offload};
        auto p = factory().create(account(std::move(options)), ctx);
        if (!p) throw std::runtime_error(p.error().message);
        return std::move(*p);
    }

    using File = test::CorpusFile;
    static File corpus(const std::string& rel) { return test::load_corpus(rel); }

    static UploadRequest request(const File& f, std::string name) {
        return UploadRequest{bytes_of(f.bytes), &f.summary, std::move(name), "act-1"};
    }

    TempDir m_dir;
    boost::asio::io_context m_io;
};

TEST(ArchiveSlug, ReducesNamesToShortAsciiSlugs) {
    EXPECT_EQ(slugify("Zwift - Watopia's Figure 8 Reverse"), "zwift-watopia-s-figure-8-reverse");
    EXPECT_EQ(slugify("  Ünïcode ride!! "), "n-code-ride");
    EXPECT_EQ(slugify(""), "activity");
    EXPECT_EQ(slugify("🚴‍♀️"), "activity");
    EXPECT_EQ(slugify(std::string(50, 'a')), std::string(40, 'a'));
    // Stops at a word boundary rather than ending on a dash.
    std::string words;
    for (int i = 0; i < 20; ++i) words += "abc ";
    EXPECT_EQ(slugify(words), "abc-abc-abc-abc-abc-abc-abc-abc-abc-abc");
}

TEST_F(ArchiveTest, WritesTheOriginalByteExactUnderTheDatedName) {
    const auto fit = corpus("fit/garmin-fenix2-run.fit");
    ASSERT_EQ(fit.summary.content_sha256, k_fenix2_sha);
    auto p = make();
    auto r = run(p->upload(request(fit, "Morning Run @ Park")));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->remote_id, "2015/2015-08-15T1445_run_morning-run-park.fit");
    EXPECT_FALSE(r->duplicate);
    EXPECT_EQ(slurp(root() / r->remote_id), fit.bytes);
    EXPECT_EQ(files_under(root()), std::vector<std::string>{"2015/2015-08-15T1445_run_morning-run-park.fit"});

    const auto gpx = corpus("gpx/gpsbabel-cerknicko-jezero.gpx");  // no <type>: family "other"
    auto g = run(p->upload(request(gpx, "")));
    ASSERT_TRUE(g) << g.error().message;
    EXPECT_EQ(g->remote_id, "2010/2010-08-05T1423_other_activity.gpx");
    EXPECT_EQ(slurp(root() / g->remote_id), gpx.bytes);
}

TEST_F(ArchiveTest, BytesWithAnOwnerAreWrittenFromTheOwnersCopyAndAMismatchedOwnerIsIgnored) {
    const auto fit = corpus("fit/garmin-fenix2-run.fit");
    // First an upload answered right here (no pool), then through the pool.
    // Offload gave a caller's work up on the pool thread after the answer
    // had run, so the io_context's count of work could fall below what was
    // still pending: one run in ten lost the last upload's answer.
    {
        auto p0 = make({{"root", (m_dir / "zero").string()}});
        const auto gpx = corpus("gpx/gpsbabel-cerknicko-jezero.gpx");
        auto g = run(p0->upload(request(gpx, "")));
        ASSERT_TRUE(g);
    }
    net::Offload offload(1, 0, 1);
    auto p = make({}, &offload);
    // The engine's case: the request's bytes are the owner's string.
    const auto owner = std::make_shared<const std::string>(fit.bytes);
    UploadRequest shared{bytes_of(*owner), &fit.summary, "Shared", "act-1", owner};
    auto r = run(p->upload(shared));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(slurp(root() / r->remote_id), fit.bytes);
    // An owner that does not hold the request's bytes is not what is written.
    const auto other = std::make_shared<const std::string>("not these bytes");
    auto q = make({{"root", (m_dir / "second").string()}});
    UploadRequest mismatched{bytes_of(fit.bytes), &fit.summary, "Mismatched", "act-2", other};
    auto m = run(q->upload(mismatched));
    ASSERT_TRUE(m) << m.error().message;
    EXPECT_EQ(m->remote_id, "2015/2015-08-15T1445_run_mismatched.fit");
    EXPECT_EQ(slurp(m_dir / "second" / m->remote_id), fit.bytes);
}

TEST_F(ArchiveTest, NamesUseUtcMinuteFormatAndFamily) {
    auto p = make();
    const auto tcx = corpus("tcx/pool-swim.tcx");
    File f = tcx;
    f.summary.start_time = 1700000000.9;  // 2023-11-14T22:13:20.9Z
    f.summary.sport_family.reset();
    auto r = run(p->upload(request(f, "Lunch")));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->remote_id, "2023/2023-11-14T2213_other_lunch.tcx");

    f.summary.start_time.reset();
    auto u = run(p->upload(request(f, "Lunch")));
    ASSERT_TRUE(u);
    EXPECT_EQ(u->remote_id, "undated/undated_other_lunch.tcx");
    EXPECT_TRUE(u->duplicate == false);
}

TEST_F(ArchiveTest, SameContentAgainIsADuplicateAndNothingIsWritten) {
    const auto fit = corpus("fit/garmin-fenix2-run.fit");
    auto p = make();
    auto first = run(p->upload(request(fit, "Run")));
    ASSERT_TRUE(first);
    auto again = run(p->upload(request(fit, "Run")));
    ASSERT_TRUE(again);
    EXPECT_EQ(again->remote_id, first->remote_id);
    EXPECT_TRUE(again->duplicate);

    // The gzipped original of the same content is the same activity.
    const auto gz = corpus("fit/garmin-fenix2-run.fit.gz");
    auto zipped = run(p->upload(request(gz, "Run")));
    ASSERT_TRUE(zipped);
    EXPECT_EQ(zipped->remote_id, first->remote_id);
    EXPECT_TRUE(zipped->duplicate);
    EXPECT_EQ(files_under(root()), std::vector<std::string>{"2015/2015-08-15T1445_run_run.fit"});
}

TEST_F(ArchiveTest, DifferentContentUnderTheSameNameGetsSuffixesAndNothingIsOverwritten) {
    auto p = make();
    // Three different files presented with one start, sport and title.
    std::vector<File> files{corpus("fit/garmin-fenix2-run.fit"), corpus("fit/garmin-fr110-run-2013.fit"),
                            corpus("fit/garmin-fenix5-run.fit")};
    for (auto& f : files) {
        f.summary.start_time = 1439649908;  // 2015-08-15T14:45:08Z
        f.summary.sport_family = "run";
    }
    // Someone else's file already holds the plain name.
    write_text(root() / "2015/2015-08-15T1445_run_run.fit", "not ours");

    std::vector<std::string> ids;
    for (const auto& f : files) {
        auto r = run(p->upload(request(f, "Run")));
        ASSERT_TRUE(r) << r.error().message;
        EXPECT_FALSE(r->duplicate);
        ids.push_back(r->remote_id);
    }
    EXPECT_EQ(ids, (std::vector<std::string>{"2015/2015-08-15T1445_run_run-2.fit", "2015/2015-08-15T1445_run_run-3.fit",
                                             "2015/2015-08-15T1445_run_run-4.fit"}));
    EXPECT_EQ(slurp(root() / "2015/2015-08-15T1445_run_run.fit"), "not ours");
    for (size_t i = 0; i < files.size(); ++i) EXPECT_EQ(slurp(root() / ids[i]), files[i].bytes);

    auto second_again = run(p->upload(request(files[1], "Run")));
    ASSERT_TRUE(second_again);
    EXPECT_TRUE(second_again->duplicate);
    EXPECT_EQ(second_again->remote_id, "2015/2015-08-15T1445_run_run-3.fit");
}

TEST_F(ArchiveTest, GzippedOriginalsStayAsTheyAre) {
    const auto gz = corpus("gpx/gpsbabel-cerknicko-jezero.gpx.gz");
    auto p = make();
    auto r = run(p->upload(request(gz, "Commute")));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->remote_id, "2010/2010-08-05T1423_other_commute.gpx.gz");
    EXPECT_EQ(slurp(root() / r->remote_id), gz.bytes);
}

TEST_F(ArchiveTest, GzipOptionCompressesPlainFilesAndRoundTrips) {
    const auto fit = corpus("fit/garmin-fenix2-run.fit");
    auto p = make({{"gzip", "true"}});
    auto r = run(p->upload(request(fit, "Run")));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->remote_id, "2015/2015-08-15T1445_run_run.fit.gz");
    const auto stored = slurp(root() / r->remote_id);
    EXPECT_LT(stored.size(), fit.bytes.size());
    const auto g = formats::gunzip(bytes_of(stored), 1 << 30);
    EXPECT_EQ(g.error, "");
    EXPECT_EQ(std::string(g.payload.begin(), g.payload.end()), fit.bytes);
    const auto decoded = formats::decode(bytes_of(stored));
    EXPECT_TRUE(decoded.gzipped);
    EXPECT_EQ(decoded.content_sha256, k_fenix2_sha);

    auto again = run(p->upload(request(fit, "Run")));
    ASSERT_TRUE(again);
    EXPECT_TRUE(again->duplicate);
    EXPECT_EQ(again->remote_id, r->remote_id);

    // An already gzipped original is not compressed twice.
    const auto gz = corpus("gpx/gpsbabel-cerknicko-jezero.gpx.gz");
    auto z = run(p->upload(request(gz, "Commute")));
    ASSERT_TRUE(z);
    EXPECT_EQ(slurp(root() / z->remote_id), gz.bytes);

    // Switching the option off later still recognises the gz copy.
    auto plain = make({{"gzip", "false"}});
    auto d = run(plain->upload(request(fit, "Run")));
    ASSERT_TRUE(d);
    EXPECT_TRUE(d->duplicate);
    EXPECT_EQ(d->remote_id, "2015/2015-08-15T1445_run_run.fit.gz");
}

TEST_F(ArchiveTest, FindExistingAfterACrash) {
    const auto fit = corpus("fit/garmin-fenix2-run.fit");
    auto p = make();
    const auto dir = root() / "2015";
    const auto req = request(fit, "Run");
    auto none = run(p->find_existing(req));
    ASSERT_TRUE(none);
    EXPECT_FALSE(none->has_value());  // not even the year folder yet

    // Crashed before the link: only write_file_atomic's temp file remains.
    write_text(dir / "2015-08-15T1445_run_run.fit.tmp-0123456789ab", fit.bytes.substr(0, 1000));
    write_text(dir / "2015-08-15T1445_run_run-2.fit.gz.tmp-aaaaaaaaaaaa", "partial");
    // Other activities' temp files (maybe being written right now) stay.
    write_text(dir / "2015-08-15T1445_run_other.fit.tmp-0123456789ab", "partial");
    auto crashed = run(p->find_existing(req));
    ASSERT_TRUE(crashed);
    EXPECT_FALSE(crashed->has_value());
    EXPECT_EQ(files_under(root()), std::vector<std::string>{"2015/2015-08-15T1445_run_other.fit.tmp-0123456789ab"});

    // Crashed after the link but before recording it: found, and the retried
    // upload is a duplicate.
    auto up = run(p->upload(req));
    ASSERT_TRUE(up);
    auto found = run(p->find_existing(req));
    ASSERT_TRUE(found);
    EXPECT_EQ(found->value_or(""), "2015/2015-08-15T1445_run_run.fit");

    // A suffixed copy is found too; a different file under the name is not it.
    fs::rename(dir / "2015-08-15T1445_run_run.fit", dir / "2015-08-15T1445_run_run-2.fit");
    write_text(dir / "2015-08-15T1445_run_run.fit", "someone else");
    found = run(p->find_existing(req));
    ASSERT_TRUE(found);
    EXPECT_EQ(found->value_or(""), "2015/2015-08-15T1445_run_run-2.fit");
}

TEST_F(ArchiveTest, UploadsListTheirFolderOnlyWhenSomethingElseChangedIt) {
    const auto fit = corpus("fit/garmin-fenix2-run.fit");
    auto p = make();
    const size_t before = folder_listings();
    for (int i = 1; i <= 6; ++i) {
        auto r = run(p->upload(request(fit, fmt::format("Run {}", i))));
        ASSERT_TRUE(r) << r.error().message;
        EXPECT_FALSE(r->duplicate);
    }
    // One listing for six uploads into one folder, and the index it keeps
    // still knows the names it wrote: the same file again is a duplicate.
    EXPECT_EQ(folder_listings() - before, 1u);
    auto again = run(p->upload(request(fit, "Run 3")));
    ASSERT_TRUE(again);
    EXPECT_TRUE(again->duplicate);
    EXPECT_EQ(again->remote_id, "2015/2015-08-15T1445_run_run-3.fit");
    EXPECT_EQ(folder_listings() - before, 1u);

    // A file someone else put there (the folder's mtime moves; the kernel's
    // timestamps are coarse, hence the pause) is seen: listed again.
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    write_text(root() / "2015/2015-08-15T1445_run_walk.fit", fit.bytes);
    auto theirs = run(p->upload(request(fit, "Walk")));
    ASSERT_TRUE(theirs);
    EXPECT_TRUE(theirs->duplicate);
    EXPECT_EQ(theirs->remote_id, "2015/2015-08-15T1445_run_walk.fit");
    EXPECT_EQ(folder_listings() - before, 2u);
    EXPECT_EQ(files_under(root()).size(), 7u);
}

TEST_F(ArchiveTest, ConcurrentUploadsIntoOneFolderShareItsListingAndTheirSyncs) {
    // 24 uploads started one per turn of the io thread while earlier ones
    // are being written: their own links move the folder's mtime, which
    // must not send each later upload back to listing the folder.
    const auto fit = corpus("fit/garmin-fenix2-run.fit");
    net::Offload offload(2, 0, 2);
    auto p = make({}, &offload);
    EXPECT_EQ(p->concurrent_uploads(), 32u);
    const size_t before = folder_listings();
    const int n = 24;
    std::vector<std::optional<Result<UploadResult>>> out(n);
    std::vector<UploadRequest> requests;
    std::vector<std::string> names;
    for (int i = 0; i < n; ++i) names.push_back(fmt::format("Run {}", i));
    for (int i = 0; i < n; ++i) requests.push_back(request(fit, names[i]));
    int finished = 0;
    for (int i = 0; i < n; ++i) {
        boost::asio::post(m_io, [&, i] {
            boost::asio::co_spawn(
                m_io,
                [&, i]() -> boost::asio::awaitable<void> {
                    auto r = co_await p->upload(requests[i]);
                    out[i].emplace(std::move(r));
                },
                [&](std::exception_ptr e) {
                    EXPECT_FALSE(e);
                    ++finished;
                });
        });
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (finished < n && std::chrono::steady_clock::now() < deadline) m_io.run_one_for(std::chrono::seconds(1));
    ASSERT_EQ(finished, n);
    for (int i = 0; i < n; ++i) {
        ASSERT_TRUE(out[i] && *out[i]) << i;
        EXPECT_EQ((*out[i])->remote_id, fmt::format("2015/2015-08-15T1445_run_run-{}.fit", i)) << i;
    }
    EXPECT_EQ(folder_listings() - before, 1u);
    EXPECT_EQ(files_under(root()).size(), size_t(n));
}

TEST_F(ArchiveTest, RejectsUploadsItCannotName) {
    auto p = make();
    File f = corpus("tcx/pool-swim.tcx");
    f.summary.format = formats::Format::unknown;
    auto r = run(p->upload(request(f, "x")));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().cls, ErrorClass::permanent);
    EXPECT_EQ(r.error().message, "cannot archive a file that is not FIT, GPX or TCX");

    UploadRequest bare{bytes_of(f.bytes), nullptr, "x", ""};
    auto n = run(p->upload(bare));
    ASSERT_FALSE(n);
    EXPECT_EQ(n.error().code, "archive.no_summary");
}

// Runs `fn` in a child as an unprivileged user when we are root (root ignores
// permission bits), and returns its "<class>|<message>" line.
std::string as_unprivileged(const std::function<std::string()>& fn) {
    if (::geteuid() != 0) return fn();
    int fds[2];
    if (::pipe(fds) != 0) return "pipe failed";
    pid_t pid = ::fork();
    if (pid == 0) {
        ::close(fds[0]);
        std::string out = (::setgid(65534) == 0 && ::setuid(65534) == 0) ? fn() : "setuid failed";
        (void)!::write(fds[1], out.data(), out.size());
        ::_exit(0);
    }
    ::close(fds[1]);
    std::string out;
    char buf[512];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return out;
}

TEST_F(ArchiveTest, PermissionErrorsArePermanentAndNameThePath) {
    const auto fit = corpus("fit/garmin-fenix2-run.fit");
    auto p = make();
    // Readable and traversable for everyone, writable by the owner only.
    fs::permissions(m_dir.path(), fs::perms(0755));
    fs::permissions(root(), fs::perms(0555));
    auto attempt = [&] {
        auto r = run(p->upload(request(fit, "Run")));
        if (r) return std::string("ok ") + r->remote_id;
        return fmt::format("{}|{}", to_string(r.error().cls), r.error().message);
    };
    EXPECT_EQ(as_unprivileged(attempt),
              fmt::format("permanent|cannot create folder {}/2015: Permission denied", root().string()));

    fs::permissions(root(), fs::perms(0755));
    fs::create_directories(root() / "2015");
    fs::permissions(root() / "2015", fs::perms(0555));
    EXPECT_EQ(as_unprivileged(attempt),
              fmt::format("permanent|cannot write to {}/2015: Permission denied", root().string()));
    fs::permissions(root() / "2015", fs::perms(0755));

    // An existing file of the same name that cannot be read cannot be
    // compared, so nothing is written beside it.
    const auto existing = root() / "2015/2015-08-15T1445_run_run.fit";
    write_text(existing, "someone's private file");
    fs::permissions(existing, fs::perms(0600));
    EXPECT_EQ(as_unprivileged(attempt), fmt::format("permanent|cannot read {}: Permission denied", existing.string()));
}

TEST_F(ArchiveTest, ValidateNamesTheOptionAndCreateMakesTheRoot) {
    auto err = [](std::map<std::string, std::string> o) {
        auto r = factory().validate(account(std::move(o)));
        return r ? std::string("ok") : r.error().message;
    };
    EXPECT_EQ(err({{"root", root().string()}}), "ok");
    EXPECT_EQ(err({}), "root: required (the folder to keep the archive in)");
    EXPECT_EQ(err({{"root", "archive"}}), "root: 'archive' must be an absolute path or start with ~/");
    EXPECT_EQ(err({{"root", root().string()}, {"colour", "red"}}), "unknown option 'colour'");
    EXPECT_EQ(err({{"root", root().string()}, {"gzip", "maybe"}}), "gzip: expected true or false, got 'maybe'");
    write_text(m_dir / "file", "x");
    EXPECT_EQ(err({{"root", (m_dir / "file").string()}}),
              fmt::format("root: {}/file exists and is not a directory", m_dir.path().string()));

    EXPECT_FALSE(fs::exists(root()));
    auto p = make();
    EXPECT_TRUE(fs::is_directory(root()));
    EXPECT_EQ(p->capabilities(), k_upload);
    EXPECT_EQ(factory().name, "archive");
}

}  // namespace
}  // namespace fitbridge::providers::archive
