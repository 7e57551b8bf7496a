#pragma once
// The embedded default configuration used when no config file exists.

#include "config/config.hpp"
#include "config/paths.hpp"

namespace fitbridge::app {

config::Config embedded_default(const config::ResolvedPaths& paths);

}  // namespace fitbridge::app
