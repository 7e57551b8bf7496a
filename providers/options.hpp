#pragma once
// A typed table of a provider's options: one row per option (name, type,
// default, range, help). The same table parses and validates an account's
// options, fills in defaults and prints the help that `fitbridge --version`
// shows, so no platform writes its own option parser.

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "core/error.hpp"

namespace fitbridge::providers {

enum class OptionType {
    string,
    integer,
    boolean,   // true/false, yes/no, on/off, 1/0 (any case)
    url,       // http(s)://..., trailing slashes dropped
    list,      // one value or a YAML list; each entry checked by `check`
    duration,  // "90", "90s", "15m", "2h", "1d" -> seconds
};

struct OptionSpec {
    std::string_view name{};
    OptionType type = OptionType::string;
    std::string_view default_value{};  // empty: no default
    std::string_view help{};           // one line for --version
    // Range of integer and duration (seconds) values, checked when max > min.
    int64_t min = 0;
    int64_t max = 0;
    // How an integer outside the range is described: "{name}: expected {expect}
    // {min}..{max}, got '{value}'". Default "a whole number".
    std::string_view expect{};
    // When set, an empty value is refused with "{name}: {empty_error}"
    // ("{default}" in it stands for the default value).
    std::string_view empty_error{};
    // Extra check of a value (each entry of a list): the error message
    // (without the option name) or empty when the value is fine.
    std::string (*check)(std::string_view value) = nullptr;
};

// Rows of the common shapes, one line each in a table.
constexpr OptionSpec text_option(std::string_view name, std::string_view default_value, std::string_view help,
                                 std::string_view empty_error = {}) {
    return OptionSpec{.name = name, .default_value = default_value, .help = help, .empty_error = empty_error};
}
constexpr OptionSpec integer_option(std::string_view name, std::string_view default_value, int64_t min, int64_t max,
                                    std::string_view help, std::string_view expect = {}) {
    return OptionSpec{.name = name,
                      .type = OptionType::integer,
                      .default_value = default_value,
                      .help = help,
                      .min = min,
                      .max = max,
                      .expect = expect};
}

// An account's options after parsing: every option of the table with a value
// or a default, lists as lists.
class OptionValues {
public:
    bool has(std::string_view name) const { return m_values.contains(std::string(name)); }
    // Set in the account's config (not a default).
    bool given(std::string_view name) const { return m_given.contains(std::string(name)); }
    std::string text(std::string_view name) const;
    std::optional<std::string> optional_text(std::string_view name) const;
    int64_t integer(std::string_view name) const;  // also a duration's seconds
    bool boolean(std::string_view name) const;
    std::vector<std::string> list(std::string_view name) const;

    void set(std::string name, std::vector<std::string> values, bool given);

private:
    std::map<std::string, std::vector<std::string>> m_values;
    std::map<std::string, bool> m_given;
};

// Parses `account`'s options against `tables` (concatenated; the first row
// with a name wins). Errors name the option: unknown options, a list where
// one value is expected, values of the wrong type or out of range.
Result<OptionValues> parse_options(const config::AccountConfig& account,
                                   std::initializer_list<std::span<const OptionSpec>> tables);

// "90s", "15m", "2h", "1d" or plain seconds; nullopt when malformed.
std::optional<int64_t> parse_duration_text(std::string_view text);

// The help lines of a table, "  name (type, default X): help", for --version.
std::string describe_options(std::span<const OptionSpec> table, std::string_view indent = "    ");

}  // namespace fitbridge::providers
