// libFuzzer target for the YAML configuration loader: any text must parse to
// a Config or to one error naming where, and a parsed Config must survive its
// own YAML dump (config show) and parse again to the same JSON.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string_view>

#include "config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto c = fitbridge::config::parse(text, "fuzz.yaml");
    if (!c) {
        if (c.error().message.empty()) __builtin_trap();
        return 0;
    }
    const std::string json = fitbridge::config::to_json(*c);
    const std::string dumped = fitbridge::config::to_yaml(*c);
    auto again = fitbridge::config::parse(dumped, "dump.yaml");
    if (!again || fitbridge::config::to_json(*again) != json) {
        std::fprintf(stderr,
                     "config_fuzz: the dump does not parse back the same\n--- dump:\n%s--- was: %s\n--- now: %s\n",
                     dumped.c_str(), json.c_str(),
                     again ? fitbridge::config::to_json(*again).c_str() : again.error().message.c_str());
        __builtin_trap();
    }
    return 0;
}
