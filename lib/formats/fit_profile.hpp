#pragma once
// Names from the public FIT SDK profile (21.217) for the values the FIT decoder
// reports. The table is generated: see scripts/gen_fit_profile.py.

#include <cstdint>
#include <string_view>

namespace fitbridge::formats::fit_profile {

// Each returns the profile's snake_case name of the value, or an empty view when
// the profile does not name it (callers then print the number).
std::string_view message_name(uint16_t global_message_number);
std::string_view file_name(uint8_t file_type);
std::string_view sport_name(uint8_t sport);
std::string_view sub_sport_name(uint8_t sub_sport);
std::string_view manufacturer_name(uint16_t manufacturer);

}  // namespace fitbridge::formats::fit_profile
