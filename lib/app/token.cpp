#include "app/token.hpp"

#include <fmt/format.h>
#include <array>

#include "core/files.hpp"
#include "core/hash.hpp"

namespace fitbridge::app {

Result<std::string> read_token(const std::filesystem::path& state_dir) {
    auto path = state_dir / "api-token";
    auto text = read_file(path);
    if (!text) return Error::auth("api.token", text.error().message);
    auto t = std::move(*text);
    while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.pop_back();
    if (t.size() != 64 || t.find_first_not_of("0123456789abcdef") != std::string::npos)
        return Error{"api.token",
                     ErrorClass::auth,
                     fmt::format("{} does not hold a FitBridge token (64 hex characters); delete it to get a new one",
                                 path.string()),
                     {}};
    return t;
}

Result<std::string> load_or_create_token(const std::filesystem::path& state_dir) {
    auto path = state_dir / "api-token";
    if (std::filesystem::exists(path)) return read_token(state_dir);
    std::array<uint8_t, 32> raw{};
    random_bytes(raw);
    std::string hex;
    for (auto b : raw) hex += fmt::format("{:02x}", b);
    auto w = write_file_atomic(path, hex + "\n", 0600, /*overwrite=*/false);
    if (!w) {
        // Another process created it first: use theirs.
        if (w.error().code == "io.exists") return read_token(state_dir);
        return w.error();
    }
    return hex;
}

}  // namespace fitbridge::app
