#pragma once
// Sport families: FitBridge's normalised sport used for matching and routing.

#include <optional>
#include <string_view>

namespace fitbridge {

enum class SportFamily { ride, run, swim, walk, hike, row, ski, strength, yoga, other };

std::string_view to_string(SportFamily f);
std::optional<SportFamily> sport_family_from_string(std::string_view name);

}  // namespace fitbridge
