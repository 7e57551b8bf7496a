#pragma once
// The program's version (from CMake's project() version).

#include <string_view>

namespace fitbridge {
std::string_view version();
}
