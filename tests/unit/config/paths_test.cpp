#include "config/paths.hpp"

#include <gtest/gtest.h>

#include <map>

namespace fitbridge::config {
namespace {

Env fake(std::map<std::string, std::string> vars) {
    return [vars = std::move(vars)](const char* name) -> std::optional<std::string> {
        auto it = vars.find(name);
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
}

TEST(Paths, CommandLineWins) {
    auto p = resolve_paths("/etc/x.yaml", "/var/x", fake({{"FITBRIDGE_CONFIG", "/nope"}, {"HOME", "/home/a"}}));
    EXPECT_EQ(p.config, "/etc/x.yaml");
    EXPECT_EQ(p.config_from, "--config");
    EXPECT_EQ(p.state_dir, "/var/x");
    EXPECT_EQ(p.data_dir, "/var/x");
}

TEST(Paths, OrderOfVariables) {
    auto env = std::map<std::string, std::string>{{"HOME", "/home/a"},
                                                  {"XDG_CONFIG_HOME", "/xdg/c"},
                                                  {"XDG_STATE_HOME", "/xdg/s"},
                                                  {"CONFIGURATION_DIRECTORY", "/etc/fitbridge:/etc/other"},
                                                  {"STATE_DIRECTORY", "/var/lib/fitbridge"},
                                                  {"FITBRIDGE_CONFIG", "/f/c.yaml"},
                                                  {"FITBRIDGE_STATE_DIR", "/f/s"}};
    auto p = resolve_paths(std::nullopt, std::nullopt, fake(env));
    EXPECT_EQ(p.config, "/f/c.yaml");
    EXPECT_EQ(p.state_dir, "/f/s");
    env.erase("FITBRIDGE_CONFIG");
    env.erase("FITBRIDGE_STATE_DIR");
    p = resolve_paths(std::nullopt, std::nullopt, fake(env));
    EXPECT_EQ(p.config, "/etc/fitbridge/fitbridge.yaml");
    EXPECT_EQ(p.config_from, "CONFIGURATION_DIRECTORY");
    EXPECT_EQ(p.state_dir, "/var/lib/fitbridge");
    env.erase("CONFIGURATION_DIRECTORY");
    env.erase("STATE_DIRECTORY");
    p = resolve_paths(std::nullopt, std::nullopt, fake(env));
    EXPECT_EQ(p.config, "/xdg/c/fitbridge/fitbridge.yaml");
    EXPECT_EQ(p.state_dir, "/xdg/s/fitbridge");
    env.erase("XDG_CONFIG_HOME");
    env.erase("XDG_STATE_HOME");
    p = resolve_paths(std::nullopt, std::nullopt, fake(env));
    EXPECT_EQ(p.config, "/home/a/.config/fitbridge/fitbridge.yaml");
    EXPECT_EQ(p.state_dir, "/home/a/.local/state/fitbridge");
    env["FITBRIDGE_DATA_DIR"] = "/srv/fit";
    EXPECT_EQ(resolve_paths(std::nullopt, std::nullopt, fake(env)).data_dir, "/srv/fit");
}

}  // namespace
}  // namespace fitbridge::config
