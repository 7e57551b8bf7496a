#pragma once
// Helpers shared by the GPX and TCX decoders (internal to lib/formats).

#include <pugixml.hpp>

#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace fitbridge::formats::xml {

// The element's name without its namespace prefix: GPX/TCX writers use any
// prefix (or none) for the same namespace, so matching is on local names.
inline std::string_view local_name(const pugi::xml_node& n) {
    const char* name = n.name();
    const char* colon = std::strchr(name, ':');
    return colon ? std::string_view(colon + 1) : std::string_view(name);
}

// True when `n` has no element children (a leaf carrying a value).
inline bool is_leaf(const pugi::xml_node& n) {
    for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling())
        if (c.type() == pugi::node_element) return false;
    return true;
}

// First child element whose local name is `name`, or an empty node.
inline pugi::xml_node child(const pugi::xml_node& n, std::string_view name) {
    for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling())
        if (c.type() == pugi::node_element && local_name(c) == name) return c;
    return {};
}

// Text of an element with surrounding whitespace removed.
std::string_view trimmed_text(const pugi::xml_node& n);

// A finite decimal number (surrounding whitespace allowed), else nullopt.
std::optional<double> parse_number(std::string_view text);

// Parses `payload` into `doc` with the options both decoders use. On failure
// returns one line naming line, column and byte offset of the problem.
std::optional<std::string> load(pugi::xml_document& doc, std::span<const uint8_t> payload, std::string_view what);

}  // namespace fitbridge::formats::xml
