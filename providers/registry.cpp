// The one table of compiled-in providers. Adding a platform: write
// providers/<name>/, add it to FITBRIDGE_PROVIDERS in CMakeLists.txt, and add
// its factory here.

#include <array>

#include "providers/archive/archive.hpp"
#include "providers/folder/folder.hpp"
#include "providers/provider.hpp"

namespace fitbridge::providers {

std::span<const Factory> registry() {
    static const std::array<Factory, 2> k_registry{{
        folder::factory(),
        archive::factory(),
    }};
    return k_registry;
}

}  // namespace fitbridge::providers
