#include "cli/inspect.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <system_error>

#include "core/time.hpp"
#include "formats/decode.hpp"
#include "formats/mapped_file.hpp"

namespace fitbridge::cli {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view k_usage =
    "usage: fitbridge inspect [--json] PATH...\n"
    "  Decodes FIT, GPX and TCX files (plain or gzipped) and prints their summaries.\n"
    "  A directory is walked recursively for *.fit, *.gpx, *.tcx (and .gz of them,\n"
    "  any case); the format is then detected from the bytes. --json prints one\n"
    "  JSON object per file.\n"
    "  Exit status: 0 all files ok, 1 some file not ok, 2 usage error.\n";

struct Target {
    fs::path path;      // what to open
    std::string label;  // the contract's `file`
};

// Which files a directory walk picks up. Names only select candidates (so a
// README next to the activities is not reported); the format itself is always
// detected from the content.
bool looks_like_activity_file(const fs::path& p) {
    std::string name = p.filename().string();
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    if (name.ends_with(".gz")) name.resize(name.size() - 3);
    return name.ends_with(".fit") || name.ends_with(".gpx") || name.ends_with(".tcx");
}

// One input argument expanded to files: the path itself, or every regular
// file below a directory sorted by path, labelled relative to the directory.
std::vector<Target> expand(const std::string& arg, std::string& error) {
    std::vector<Target> out;
    std::error_code ec;
    fs::path p(arg);
    auto st = fs::status(p, ec);
    if (ec || !fs::exists(st)) {
        error = fmt::format("fitbridge inspect: cannot access '{}': {}", arg,
                            ec ? ec.message() : std::string("No such file or directory"));
        return out;
    }
    if (!fs::is_directory(st)) {
        out.push_back({p, arg});
        return out;
    }
    fs::recursive_directory_iterator it(p, fs::directory_options::skip_permission_denied, ec);
    if (ec) {
        error = fmt::format("fitbridge inspect: cannot read directory '{}': {}", arg, ec.message());
        return out;
    }
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) break;
        std::error_code fec;
        if (it->is_regular_file(fec) && looks_like_activity_file(it->path()))
            out.push_back({it->path(), it->path().lexically_relative(p).generic_string()});
    }
    if (ec) {
        error = fmt::format("fitbridge inspect: error walking '{}': {}", arg, ec.message());
        return {};
    }
    std::sort(out.begin(), out.end(), [](const Target& a, const Target& b) { return a.label < b.label; });
    return out;
}

formats::Summary decode_path(const fs::path& path) {
    auto file = formats::MappedFile::open(path);
    if (!file) {
        formats::Summary s;
        s.format = formats::Format::unknown;
        s.ok = false;
        s.error = file.error().message;
        return s;
    }
    return formats::decode(file->bytes());
}

std::string format_duration(const std::optional<double>& seconds) {
    if (!seconds) return "-";
    auto total = static_cast<int64_t>(std::llround(*seconds));
    const char* sign = total < 0 ? "-" : "";
    total = std::llabs(total);
    return fmt::format("{}{}:{:02}:{:02}", sign, total / 3600, (total / 60) % 60, total % 60);
}

std::vector<std::string> table_row(const formats::Summary& s, const std::string& label) {
    std::string status;
    if (!s.ok) {
        status = "ERROR: " + s.error;
    } else if (!s.is_activity) {
        status = "ok (" + s.not_activity_reason + ")";
    } else {
        status = "ok";
    }
    return {label,
            std::string(formats::format_name(s.format, s.gzipped)),
            s.sport.value_or("-"),
            s.start_time ? format_iso8601(*s.start_time) : "-",
            format_duration(s.total_elapsed_time ? s.total_elapsed_time : s.total_timer_time),
            s.total_distance ? fmt::format("{:.2f} km", *s.total_distance / 1000.0) : "-",
            std::to_string(s.records),
            status};
}

void print_table(const std::vector<std::vector<std::string>>& rows, std::ostream& out) {
    if (rows.empty()) return;
    std::vector<size_t> width(rows.front().size(), 0);
    for (const auto& r : rows)
        for (size_t i = 0; i + 1 < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
    for (const auto& r : rows) {
        std::string line;
        for (size_t i = 0; i < r.size(); ++i) {
            line += r[i];
            if (i + 1 < r.size()) line.append(width[i] - r[i].size() + 2, ' ');
        }
        out << line << '\n';
    }
}

}  // namespace

int run_inspect(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
    bool json = false;
    bool options_done = false;
    std::vector<std::string> paths;
    for (const auto& a : args) {
        if (!options_done && a == "--") {
            options_done = true;
        } else if (!options_done && a == "--json") {
            json = true;
        } else if (!options_done && (a == "-h" || a == "--help")) {
            out << k_usage;
            return 0;
        } else if (!options_done && a.size() > 1 && a[0] == '-') {
            err << "fitbridge inspect: unknown option '" << a << "'\n" << k_usage;
            return 2;
        } else {
            paths.push_back(a);
        }
    }
    if (paths.empty()) {
        err << "fitbridge inspect: no PATH given\n" << k_usage;
        return 2;
    }
    // Expand everything first so that a typo fails before any output.
    std::vector<Target> targets;
    for (const auto& p : paths) {
        std::string error;
        auto expanded = expand(p, error);
        if (!error.empty()) {
            err << error << '\n';
            return 2;
        }
        targets.insert(targets.end(), expanded.begin(), expanded.end());
    }

    bool all_ok = true;
    std::vector<std::vector<std::string>> rows;
    if (!json) rows.push_back({"FILE", "FORMAT", "SPORT", "START", "DURATION", "DISTANCE", "RECORDS", "STATUS"});
    for (const auto& t : targets) {
        formats::Summary s = decode_path(t.path);  // one file mapped at a time
        all_ok = all_ok && s.ok;
        if (json) {
            out << formats::to_json(s, t.label) << '\n';
        } else {
            rows.push_back(table_row(s, t.label));
        }
    }
    if (!json) print_table(rows, out);
    out.flush();
    return all_ok ? 0 : 1;
}

}  // namespace fitbridge::cli
