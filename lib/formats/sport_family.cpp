// Sport family tables: FIT profile sport/sub_sport names and the free text of
// TCX `Sport` / GPX `<type>` mapped onto FitBridge's ten families.
//
// Decisions worth knowing (they affect matching across providers):
// - `row` is the paddle-sports family: rowing, indoor rowing, paddling,
//   kayaking, canoeing and stand-up paddleboarding all map to it, because
//   providers file them together and a kayak never matches a ride anyway.
// - `yoga` takes yoga and pilates (FIT sub_sports 43/44 under `training`).
// - `hike` takes hiking, mountaineering and snowshoeing; `ski` takes cross-
//   country, alpine, backcountry, roller skiing and snowboarding.
// - Generic FIT sports (`generic`, `training`, `fitness_equipment`) are
//   refined by sub_sport (strength_training -> strength, treadmill -> run,
//   indoor_cycling -> ride, indoor_rowing -> row, ...); a specific sport is
//   never overridden by its sub_sport (cycling/virtual_activity stays ride,
//   running/treadmill stays run).

#include <algorithm>
#include <array>
#include <cctype>
#include <string>
#include <string_view>
#include <utility>

#include "formats/decode.hpp"

namespace fitbridge::formats {

namespace {

using Entry = std::pair<std::string_view, std::string_view>;

// FIT profile `sport` enum names (FIT SDK 21.x Profile.xlsx, type `sport`).
constexpr std::array k_fit_sports{
    Entry{"cycling", "ride"},
    Entry{"e_biking", "ride"},
    Entry{"running", "run"},
    Entry{"swimming", "swim"},
    Entry{"walking", "walk"},
    Entry{"hiking", "hike"},
    Entry{"mountaineering", "hike"},
    Entry{"snowshoeing", "hike"},
    Entry{"rowing", "row"},
    Entry{"paddling", "row"},
    Entry{"kayaking", "row"},
    Entry{"stand_up_paddleboarding", "row"},
    Entry{"cross_country_skiing", "ski"},
    Entry{"alpine_skiing", "ski"},
    Entry{"snowboarding", "ski"},
};

// FIT profile `sub_sport` names that refine the generic sports only.
constexpr std::array k_fit_sub_sports{
    Entry{"strength_training", "strength"},
    Entry{"yoga", "yoga"},
    Entry{"pilates", "yoga"},
    Entry{"treadmill", "run"},
    Entry{"indoor_running", "run"},
    Entry{"indoor_cycling", "ride"},
    Entry{"spin", "ride"},
    Entry{"indoor_rowing", "row"},
    Entry{"indoor_walking", "walk"},
    Entry{"indoor_skiing", "ski"},
};

constexpr std::array<std::string_view, 3> k_fit_generic_sports{"generic", "training", "fitness_equipment"};

// Strava's numeric activity types as Strava writes them in exported GPX
// `<type>` (Strava's legacy activity-type enumeration: 1 Ride ... 16 Swim,
// 17 VirtualRide, 18 EBikeRide). Facts from the Stack Overflow question
// "What do the Strava GPX <type></type> elements mean" (61903437) and public
// client tables that reproduce it; published lists disagree above 18, so
// higher codes fall to `other` rather than guess.
constexpr std::array<std::string_view, 19> k_strava_codes{
    "",       // 0: unused
    "ride",   // 1 Ride
    "ski",    // 2 AlpineSki
    "ski",    // 3 BackcountrySki
    "hike",   // 4 Hike
    "other",  // 5 IceSkate
    "other",  // 6 InlineSkate
    "ski",    // 7 NordicSki
    "ski",    // 8 RollerSki
    "run",    // 9 Run
    "walk",   // 10 Walk
    "other",  // 11 Workout
    "ski",    // 12 Snowboard
    "hike",   // 13 Snowshoe
    "other",  // 14 Kitesurf
    "other",  // 15 Windsurf
    "swim",   // 16 Swim
    "ride",   // 17 VirtualRide
    "ride",   // 18 EBikeRide
};

// Whole words after normalisation (lower case, no spaces/underscores/dashes):
// TCX Sport values (Running, Biking, Other), Garmin/Strava GPX words, Strava
// API type names.
constexpr std::array k_text_words{
    Entry{"biking", "ride"},
    Entry{"cycling", "ride"},
    Entry{"ride", "ride"},
    Entry{"bike", "ride"},
    Entry{"roadbiking", "ride"},
    Entry{"mountainbiking", "ride"},
    Entry{"virtualride", "ride"},
    Entry{"ebikeride", "ride"},
    Entry{"handcycle", "ride"},
    Entry{"velomobile", "ride"},
    Entry{"running", "run"},
    Entry{"run", "run"},
    Entry{"trailrun", "run"},
    Entry{"virtualrun", "run"},
    Entry{"treadmill", "run"},
    Entry{"swimming", "swim"},
    Entry{"swim", "swim"},
    Entry{"walking", "walk"},
    Entry{"walk", "walk"},
    Entry{"hiking", "hike"},
    Entry{"hike", "hike"},
    Entry{"snowshoe", "hike"},
    Entry{"rowing", "row"},
    Entry{"row", "row"},
    Entry{"kayaking", "row"},
    Entry{"canoeing", "row"},
    Entry{"standuppaddling", "row"},
    Entry{"alpineski", "ski"},
    Entry{"nordicski", "ski"},
    Entry{"backcountryski", "ski"},
    Entry{"rollerski", "ski"},
    Entry{"snowboard", "ski"},
    Entry{"weighttraining", "strength"},
    Entry{"strength", "strength"},
    Entry{"strengthtraining", "strength"},
    Entry{"yoga", "yoga"},
    Entry{"pilates", "yoga"},
    Entry{"other", "other"},
};

// Substring fallbacks for free text not in the word table, checked in order
// (e.g. "Afternoon Trail Running" -> run, "cross_country_skiing" -> ski).
constexpr std::array k_text_fragments{
    Entry{"run", "run"},    Entry{"jog", "run"},       Entry{"cycl", "ride"},         Entry{"bik", "ride"},
    Entry{"ride", "ride"},  Entry{"swim", "swim"},     Entry{"walk", "walk"},         Entry{"hik", "hike"},
    Entry{"rowing", "row"}, Entry{"kayak", "row"},     Entry{"canoe", "row"},         Entry{"paddl", "row"},
    Entry{"skiing", "ski"}, Entry{"snowboard", "ski"}, Entry{"strength", "strength"}, Entry{"weight", "strength"},
    Entry{"yoga", "yoga"},  Entry{"pilates", "yoga"},
};

template <size_t N>
std::optional<std::string_view> lookup(const std::array<Entry, N>& table, std::string_view key) {
    for (const auto& [name, family] : table)
        if (name == key) return family;
    return std::nullopt;
}

}  // namespace

std::optional<std::string> family_for_fit(std::string_view sport, std::string_view sub_sport) {
    if (sport.empty()) return std::nullopt;
    if (auto f = lookup(k_fit_sports, sport)) return std::string(*f);
    if (std::find(k_fit_generic_sports.begin(), k_fit_generic_sports.end(), sport) != k_fit_generic_sports.end()) {
        if (auto f = lookup(k_fit_sub_sports, sub_sport)) return std::string(*f);
    }
    return std::string("other");
}

std::optional<std::string> family_for_text(std::string_view sport) {
    std::string norm;
    norm.reserve(sport.size());
    for (char c : sport) {
        auto u = static_cast<unsigned char>(c);
        if (std::isspace(u) || c == '_' || c == '-') continue;
        norm.push_back(static_cast<char>(std::tolower(u)));
    }
    if (norm.empty()) return std::nullopt;
    if (std::all_of(norm.begin(), norm.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        if (norm.size() <= 2) {
            size_t code = std::stoul(norm);
            if (code >= 1 && code < k_strava_codes.size()) return std::string(k_strava_codes[code]);
        }
        return std::string("other");
    }
    if (auto f = lookup(k_text_words, norm)) return std::string(*f);
    for (const auto& [fragment, family] : k_text_fragments)
        if (norm.find(fragment) != std::string::npos) return std::string(family);
    return std::string("other");
}

}  // namespace fitbridge::formats
