// Default activity folders of the indoor-training apps (provider-apis.md
// §6.1–6.2). On Linux both apps run only under Wine or Proton, so the folders
// live inside a Windows prefix whose location depends on the launcher.

#include <fnmatch.h>

#include <algorithm>
#include <system_error>

#include <fmt/format.h>

#include "providers/folder/folder.hpp"

namespace fitbridge::providers::folder {

namespace fs = std::filesystem;

namespace {

// Where Windows prefixes are found for a Linux user, relative to $HOME, each
// ending at the prefix's drive_c/users/<user>. Wine names the user after the
// Linux login; Proton always uses "steamuser"; Lutris keeps prefixes in ~/Games.
constexpr std::string_view k_wine_users[] = {
    ".wine/drive_c/users/*",
    ".local/share/Steam/steamapps/compatdata/*/pfx/drive_c/users/steamuser",
    ".steam/steam/steamapps/compatdata/*/pfx/drive_c/users/steamuser",
    ".var/app/com.valvesoftware.Steam/.local/share/Steam/steamapps/compatdata/*/pfx/drive_c/users/steamuser",
    "Games/*/drive_c/users/*",
};

constexpr std::string_view k_zwift_in_user = "Documents/Zwift/Activities";
// The Store package folder carries a publisher hash after the app name.
constexpr std::string_view k_mywhoosh_in_user =
    "AppData/Local/Packages/*MyWhoosh*/LocalCache/Local/MyWhoosh/Content/Data";
constexpr std::string_view k_mywhoosh_macos =
    "Library/Containers/com.whoosh.whooshgame/Data/Library/Application Support/Epic/MyWhoosh/Content/Data";

bool is_dir(const fs::path& p) {
    std::error_code ec;
    return fs::is_directory(p, ec);
}

// Expands a pattern component by component; only whole components hold `*`.
// "Public" is Wine's shared profile, never where an app writes.
void expand(const fs::path& base, std::vector<std::string>::const_iterator part,
            std::vector<std::string>::const_iterator end, std::vector<fs::path>& out) {
    if (part == end) {
        if (is_dir(base)) out.push_back(base);
        return;
    }
    if (part->find('*') == std::string::npos) {
        expand(base / *part, part + 1, end, out);
        return;
    }
    std::error_code ec;
    std::vector<fs::path> matches;
    for (fs::directory_iterator it(base, ec), stop; !ec && it != stop; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (name == "Public" || name.starts_with('.')) continue;
        if (::fnmatch(part->c_str(), name.c_str(), FNM_CASEFOLD) == 0) matches.push_back(it->path());
    }
    std::sort(matches.begin(), matches.end());
    for (const auto& m : matches) expand(m, part + 1, end, out);
}

}  // namespace

HostOs host_os() {
#ifdef __APPLE__
    return HostOs::macos;
#else
    return HostOs::gnu_linux;
#endif
}

Result<std::vector<std::string>> preset_candidates(std::string_view preset, const fs::path& home, HostOs os) {
    std::vector<std::string> out;
    auto add = [&](std::string_view rel) { out.push_back((home / fs::path(rel)).string()); };
    if (preset == "zwift") {
        if (os == HostOs::macos) {
            add(k_zwift_in_user);
        } else {
            for (auto user : k_wine_users) add(fmt::format("{}/{}", user, k_zwift_in_user));
            // Wine links each user's Documents to ~/Documents by default, and
            // people who set a custom WINEPREFIX usually keep that link.
            add(k_zwift_in_user);
        }
    } else if (preset == "mywhoosh") {
        if (os == HostOs::macos) {
            add(k_mywhoosh_macos);
        } else {
            for (auto user : k_wine_users) add(fmt::format("{}/{}", user, k_mywhoosh_in_user));
        }
    } else {
        return Error::permanent("config.invalid", fmt::format("unknown '{}' (zwift, mywhoosh)", preset));
    }
    return out;
}

Result<fs::path> resolve_preset(std::string_view preset, const fs::path& home, HostOs os) {
    auto candidates = preset_candidates(preset, home, os);
    if (!candidates) return candidates.error();
    for (const auto& pattern : *candidates) {
        std::vector<std::string> parts;
        fs::path p(pattern);
        for (const auto& c : p.relative_path()) parts.push_back(c.string());
        std::vector<fs::path> found;
        expand(p.root_path(), parts.cbegin(), parts.cend(), found);
        if (!found.empty()) return found.front();
    }
    std::string tried;
    for (const auto& c : *candidates) tried += (tried.empty() ? "" : ", ") + c;
    return Error::permanent("config.invalid",
                            fmt::format("no {} activity folder found (tried: {}); set path instead", preset, tried));
}

}  // namespace fitbridge::providers::folder
