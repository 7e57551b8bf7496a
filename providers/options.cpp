#include "providers/options.hpp"

#include <cctype>
#include <charconv>

#include <fmt/format.h>

namespace fitbridge::providers {

namespace {

Error invalid(std::string message) { return Error::permanent("config.invalid", std::move(message)); }

std::optional<int64_t> parse_int(std::string_view s) {
    int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    return v;
}

std::string_view type_name(OptionType t) {
    switch (t) {
        case OptionType::string: return "string";
        case OptionType::integer: return "integer";
        case OptionType::boolean: return "bool";
        case OptionType::url: return "url";
        case OptionType::list: return "list";
        case OptionType::duration: return "duration";
    }
    return "string";
}

const OptionSpec* find(std::initializer_list<std::span<const OptionSpec>> tables, std::string_view name) {
    for (auto table : tables)
        for (const auto& spec : table)
            if (spec.name == name) return &spec;
    return nullptr;
}

// "unknown option 'list.pth'", naming the keys a dotted (nested) option's
// mapping does take: "(list takes after, before, path)".
Error unknown_option(std::initializer_list<std::span<const OptionSpec>> tables, const std::string& key) {
    const auto dot = key.rfind('.');
    std::string known;
    if (dot != std::string::npos) {
        const auto group = std::string_view(key).substr(0, dot + 1);
        for (auto table : tables)
            for (const auto& spec : table)
                if (spec.name.starts_with(group))
                    known += (known.empty() ? "" : ", ") + std::string(spec.name.substr(group.size()));
    }
    if (known.empty()) return invalid(fmt::format("unknown option '{}'", key));
    return invalid(fmt::format("unknown option '{}' ({} takes {})", key, key.substr(0, dot), known));
}

// Checks one value and returns it normalised (a URL without trailing slashes,
// a duration in seconds, a boolean as true/false).
Result<std::string> check_value(const OptionSpec& spec, std::string value) {
    if (value.empty() && !spec.empty_error.empty()) {
        std::string message(spec.empty_error);
        if (auto at = message.find("{default}"); at != std::string::npos) message.replace(at, 9, spec.default_value);
        return invalid(fmt::format("{}: {}", spec.name, message));
    }
    auto in_range = [&](int64_t n) { return spec.max <= spec.min || (n >= spec.min && n <= spec.max); };
    switch (spec.type) {
        case OptionType::integer: {
            auto n = parse_int(value);
            if (!n || !in_range(*n)) {
                const std::string_view expect = spec.expect.empty() ? "a whole number" : spec.expect;
                if (spec.max > spec.min)
                    return invalid(
                        fmt::format("{}: expected {} {}..{}, got '{}'", spec.name, expect, spec.min, spec.max, value));
                return invalid(fmt::format("{}: expected {}, got '{}'", spec.name, expect, value));
            }
            break;
        }
        case OptionType::duration: {
            auto n = parse_duration_text(value);
            if (!n || !in_range(*n))
                return invalid(fmt::format("{}: expected a duration such as 90s, 15m, 2h or 1d{}, got '{}'", spec.name,
                                           spec.max > spec.min ? fmt::format(" ({}..{} s)", spec.min, spec.max) : "",
                                           value));
            value = std::to_string(*n);
            break;
        }
        case OptionType::boolean: {
            std::string l = value;
            for (auto& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            if (l == "true" || l == "yes" || l == "on" || l == "1")
                value = "true";
            else if (l == "false" || l == "no" || l == "off" || l == "0")
                value = "false";
            else
                return invalid(fmt::format("{}: expected true or false, got '{}'", spec.name, value));
            break;
        }
        case OptionType::url: {
            std::string u = value;
            while (!u.empty() && u.back() == '/') u.pop_back();
            if (!u.starts_with("https://") && !u.starts_with("http://"))
                return invalid(
                    fmt::format("{}: '{}' must start with https:// (or http:// for a local fake)", spec.name, value));
            value = u;
            break;
        }
        case OptionType::string:
        case OptionType::list: break;
    }
    if (spec.check != nullptr)
        if (auto message = spec.check(value); !message.empty())
            return invalid(fmt::format("{}: {}", spec.name, message));
    return value;
}

}  // namespace

std::string OptionValues::text(std::string_view name) const {
    auto it = m_values.find(std::string(name));
    return it == m_values.end() || it->second.empty() ? std::string() : it->second.front();
}

std::optional<std::string> OptionValues::optional_text(std::string_view name) const {
    if (!has(name)) return std::nullopt;
    return text(name);
}

int64_t OptionValues::integer(std::string_view name) const { return parse_int(text(name)).value_or(0); }

bool OptionValues::boolean(std::string_view name) const { return text(name) == "true"; }

std::vector<std::string> OptionValues::list(std::string_view name) const {
    auto it = m_values.find(std::string(name));
    return it == m_values.end() ? std::vector<std::string>{} : it->second;
}

void OptionValues::set(std::string name, std::vector<std::string> values, bool given) {
    if (given) m_given[name] = true;
    m_values[std::move(name)] = std::move(values);
}

Result<OptionValues> parse_options(const config::AccountConfig& account,
                                   std::initializer_list<std::span<const OptionSpec>> tables) {
    OptionValues out;
    for (const auto& [key, values] : account.list_options) {
        const auto* spec = find(tables, key);
        if (spec == nullptr) return unknown_option(tables, key);
        if (spec->type != OptionType::list) return invalid(fmt::format("{}: expected one value, got a list", key));
        std::vector<std::string> checked;
        for (const auto& v : values) {
            auto r = check_value(*spec, v);
            if (!r) return r.error();
            checked.push_back(std::move(*r));
        }
        out.set(key, std::move(checked), true);
    }
    for (const auto& [key, value] : account.options) {
        const auto* spec = find(tables, key);
        if (spec == nullptr) return unknown_option(tables, key);
        auto r = check_value(*spec, value);
        if (!r) return r.error();
        out.set(key, std::vector<std::string>{std::move(*r)}, true);
    }
    for (auto table : tables)
        for (const auto& spec : table) {
            if (out.has(spec.name) || spec.default_value.empty()) continue;
            auto r = check_value(spec, std::string(spec.default_value));
            if (!r) return r.error();  // a bad default is a bug, but say which
            out.set(std::string(spec.name), std::vector<std::string>{std::move(*r)}, false);
        }
    return out;
}

std::optional<int64_t> parse_duration_text(std::string_view text) {
    if (text.empty()) return std::nullopt;
    int64_t unit = 1;
    switch (text.back()) {
        case 's': unit = 1; break;
        case 'm': unit = 60; break;
        case 'h': unit = 3600; break;
        case 'd': unit = 86400; break;
        default: unit = 0;
    }
    if (unit != 0) text.remove_suffix(1);
    auto n = parse_int(text);
    if (!n || *n < 0) return std::nullopt;
    return *n * (unit == 0 ? 1 : unit);
}

std::string describe_options(std::span<const OptionSpec> table, std::string_view indent) {
    std::string out;
    for (const auto& spec : table) {
        std::string range;
        if (spec.max > spec.min) range = fmt::format(", {}..{}", spec.min, spec.max);
        const std::string def =
            spec.default_value.empty() ? std::string() : fmt::format(", default {}", spec.default_value);
        out += fmt::format("{}{} ({}{}{}): {}\n", indent, spec.name, type_name(spec.type), def, range, spec.help);
    }
    return out;
}

}  // namespace fitbridge::providers
