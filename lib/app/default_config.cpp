#include "app/default_config.hpp"

namespace fitbridge::app {

config::Config embedded_default(const config::ResolvedPaths& paths) {
    config::Config c;
    (void)paths;
    return c;
}

}  // namespace fitbridge::app
