#include "core/version.hpp"

namespace fitbridge {
std::string_view version() { return FITBRIDGE_VERSION; }
}  // namespace fitbridge
