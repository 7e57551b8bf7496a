// The one table of compiled-in providers. Adding a platform: write
// providers/<name>/, add it to FITBRIDGE_PROVIDERS in CMakeLists.txt, and add
// its factory here.

#include <fmt/format.h>
#include <array>

#include "providers/archive/archive.hpp"
#include "providers/folder/folder.hpp"
#include "providers/garmin_connect/garmin_connect.hpp"
#include "providers/health_export/health_export.hpp"
#include "providers/igpsport/igpsport.hpp"
#include "providers/intervals_icu/intervals_icu.hpp"
#include "providers/mywhoosh/mywhoosh.hpp"
#include "providers/provider.hpp"
#include "providers/rest/rest.hpp"
#include "providers/ridewithgps/ridewithgps.hpp"
#include "providers/sporttracks/sporttracks.hpp"
#include "providers/strava/strava.hpp"
#include "providers/sweatstack/sweatstack.hpp"
#include "providers/trainingpeaks/trainingpeaks.hpp"
#include "providers/trainitall/trainitall.hpp"
#include "providers/zwift/zwift.hpp"

namespace fitbridge::providers {

std::span<const Factory> registry() {
    static const std::array<Factory, 15> k_registry{{
        folder::factory(),
        archive::factory(),
        intervals_icu::factory(),
        rest::factory(),
        strava::factory(),
        sweatstack::factory(),
        trainitall::factory(),
        sporttracks::factory(),
        mywhoosh::factory(),
        igpsport::factory(),
        zwift::factory(),
        trainingpeaks::factory(),
        garmin_connect::factory(),
        ridewithgps::factory(),
        health_export::factory(),
    }};
    return k_registry;
}

const Factory* find_factory(std::string_view name) {
    for (const auto& f : registry())
        if (f.name == name) return &f;
    return nullptr;
}

Result<void> validate_accounts(const config::Config& config) {
    const std::string where = config.source.empty() ? std::string("config") : config.source.string();
    for (const auto& a : config.accounts) {
        const auto* f = find_factory(a.provider);
        if (f == nullptr) {
            std::string known;
            for (const auto& k : registry()) known += (known.empty() ? "" : ", ") + std::string(k.name);
            return Error::permanent(
                "config.invalid", fmt::format("{}:{}: accounts '{}': unknown provider '{}' (known: {})", where, a.line,
                                              a.id, a.provider, known));
        }
        if (auto r = f->validate(a); !r) {
            // Point at the option the error names ("<option>: ..." or
            // "unknown option '<option>'") when the config says where it is.
            const auto& msg = r.error().message;
            std::string key = msg.substr(0, msg.find(": "));
            if (msg.starts_with("unknown option '")) key = msg.substr(16, msg.find('\'', 16) - 16);
            const auto mark = a.option_marks.find(key);
            const std::string pos = mark == a.option_marks.end()
                                        ? std::to_string(a.line)
                                        : fmt::format("{}:{}", mark->second.line, mark->second.column);
            return Error::permanent("config.invalid", fmt::format("{}:{}: accounts '{}': {}", where, pos, a.id, msg));
        }
    }
    return {};
}

}  // namespace fitbridge::providers
