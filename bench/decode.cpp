// bench_decode: times decode() (the full path: map, sniff, hash, inflate,
// decode) over every corpus file of fit/ and, separately, gpx/ + tcx/, and in
// the same run times `sha256sum` over the same files. Each measurement is the
// best of --runs passes after one warm-up pass, so both sides read from the
// page cache. Targets: FIT <= 3x sha256sum's time, GPX+TCX <= 4x.
//
//   bench_decode [--runs N] [--corpus DIR] [--check]
// --check makes a missed target an exit status of 1; without it the verdict
// is only printed.

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "formats/decode.hpp"
#include "formats/mapped_file.hpp"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using fitbridge::formats::MappedFile;

struct FileSet {
    std::string name;
    double target_ratio;
    std::vector<std::string> files;
    uint64_t bytes = 0;
};

std::vector<std::string> files_in(const fs::path& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.is_regular_file()) out.push_back(e.path().string());
    std::sort(out.begin(), out.end());
    return out;
}

// One pass of decode() over the set; returns seconds. `sink` keeps the work
// observable so nothing is optimised away.
double decode_pass(const FileSet& set, int64_t& sink) {
    auto t0 = Clock::now();
    for (const auto& f : set.files) {
        auto file = MappedFile::open(f);
        if (!file) {
            fmt::print(stderr, "bench_decode: {}\n", file.error().message);
            std::exit(2);
        }
        auto s = fitbridge::formats::decode(file->bytes());
        sink += s.records + static_cast<int64_t>(s.content_sha256.size()) + (s.ok ? 1 : 0);
    }
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

// One `sha256sum FILES... > /dev/null`; returns seconds including the spawn.
double sha256sum_pass(const FileSet& set) {
    std::vector<char*> argv;
    std::string prog = "sha256sum";
    argv.push_back(prog.data());
    std::vector<std::string> args(set.files);
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    auto t0 = Clock::now();
    pid_t pid = 0;
    if (posix_spawnp(&pid, "sha256sum", &actions, nullptr, argv.data(), environ) != 0) {
        fmt::print(stderr, "bench_decode: cannot run sha256sum\n");
        std::exit(2);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    posix_spawn_file_actions_destroy(&actions);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fmt::print(stderr, "bench_decode: sha256sum failed\n");
        std::exit(2);
    }
    return secs;
}

}  // namespace

int main(int argc, char** argv) {
    int runs = 5;
    bool check = false;
    fs::path corpus = FITBRIDGE_TESTDATA_DIR;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--check") {
            check = true;
        } else if (a == "--runs" && i + 1 < argc) {
            runs = std::max(1, std::atoi(argv[++i]));
        } else if (a == "--corpus" && i + 1 < argc) {
            corpus = argv[++i];
        } else {
            fmt::print(stderr, "usage: bench_decode [--runs N] [--corpus DIR] [--check]\n");
            return 2;
        }
    }

    for (const char* sub : {"fit", "gpx", "tcx"}) {
        if (!fs::is_directory(corpus / sub)) {
            fmt::print(stderr, "bench_decode: no corpus directory {} (use --corpus DIR)\n", (corpus / sub).string());
            return 2;
        }
    }
    std::vector<FileSet> sets{{"FIT", 3.0, files_in(corpus / "fit")}, {"GPX+TCX", 4.0, files_in(corpus / "gpx")}};
    auto tcx = files_in(corpus / "tcx");
    sets[1].files.insert(sets[1].files.end(), tcx.begin(), tcx.end());
    for (auto& s : sets)
        for (const auto& f : s.files) s.bytes += fs::file_size(f);

    int64_t sink = 0;
    bool all_met = true;
    std::string verdict;
    for (const auto& set : sets) {
        decode_pass(set, sink);  // warm-up: page cache, allocator
        sha256sum_pass(set);
        double best_decode = 1e300, best_sha = 1e300;
        for (int r = 0; r < runs; ++r) {
            best_decode = std::min(best_decode, decode_pass(set, sink));
            best_sha = std::min(best_sha, sha256sum_pass(set));
        }
        const double mb = static_cast<double>(set.bytes) / 1e6;
        const double ratio = best_decode / best_sha;
        const bool met = ratio <= set.target_ratio;
        all_met = all_met && met;
        fmt::print(
            "{:8} {:3} files {:7.1f} MB  decode {:8.1f} ms {:7.1f} MB/s  sha256sum {:8.1f} ms {:7.1f} MB/s  "
            "ratio {:.2f}x (target <= {:.0f}x) {}\n",
            set.name, set.files.size(), mb, best_decode * 1e3, mb / best_decode, best_sha * 1e3, mb / best_sha, ratio,
            set.target_ratio, met ? "ok" : "MISSED");
        verdict += fmt::format("{}{} {:.2f}x", verdict.empty() ? "" : ", ", set.name, ratio);
    }
    fmt::print("verdict: {} ({}; best of {} runs, checksum {})\n", all_met ? "PASS" : "FAIL", verdict, runs, sink);
    return check && !all_met ? 1 : 0;
}
