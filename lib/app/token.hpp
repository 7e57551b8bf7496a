#pragma once
// The control API's bearer token: 32 random bytes, hex, in <state>/api-token
// (mode 0600), created on first start and reused afterwards.

#include <filesystem>
#include <string>

#include "core/error.hpp"

namespace fitbridge::app {

Result<std::string> load_or_create_token(const std::filesystem::path& state_dir);
Result<std::string> read_token(const std::filesystem::path& state_dir);

}  // namespace fitbridge::app
