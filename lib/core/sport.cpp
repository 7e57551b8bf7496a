#include "core/sport.hpp"

#include <array>
#include <utility>

namespace fitbridge {

namespace {
constexpr std::array<std::pair<SportFamily, std::string_view>, 10> k_names{{
    {SportFamily::ride, "ride"},
    {SportFamily::run, "run"},
    {SportFamily::swim, "swim"},
    {SportFamily::walk, "walk"},
    {SportFamily::hike, "hike"},
    {SportFamily::row, "row"},
    {SportFamily::ski, "ski"},
    {SportFamily::strength, "strength"},
    {SportFamily::yoga, "yoga"},
    {SportFamily::other, "other"},
}};
}  // namespace

std::string_view to_string(SportFamily f) {
    for (const auto& [family, name] : k_names)
        if (family == f) return name;
    return "other";
}

std::optional<SportFamily> sport_family_from_string(std::string_view name) {
    for (const auto& [family, n] : k_names)
        if (n == name) return family;
    return std::nullopt;
}

}  // namespace fitbridge
