#pragma once
// Thin helpers over RapidJSON: a compact writer and a parser whose errors say
// what and where.

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace fitbridge::json {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

// Builds one JSON value into a string. Usage:
//   json::Builder b; b.w.StartObject(); b.key("a"); b.w.Int(1); b.w.EndObject(); b.str();
class Builder {
    rapidjson::StringBuffer m_buf;  // declared first: `w` writes into it

public:
    Builder() : w(m_buf) {}
    Writer w;
    void key(std::string_view k) { w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size())); }
    void string(std::string_view s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }
    // Writes a number, printing integral values without a fraction.
    void number(double v);
    void opt_number(const std::optional<double>& v) {
        if (v)
            number(*v);
        else
            w.Null();
    }
    void opt_string(const std::optional<std::string>& v) {
        if (v)
            string(*v);
        else
            w.Null();
    }
    // One member of an object: `field("a", x)` is `key("a")` then `x` as its
    // JSON value (strings, numbers, integers, bools; an empty optional is null).
    template <class T>
    void field(std::string_view k, const T& v) {
        key(k);
        value(v);
    }
    void value(std::string_view s) { string(s); }
    void value(const std::string& s) { string(s); }
    void value(const char* s) { string(s); }
    void value(const std::optional<std::string>& v) { opt_string(v); }
    void value(const std::optional<double>& v) { opt_number(v); }
    void value(double v) { number(v); }
    void value(bool v) { w.Bool(v); }
    template <std::integral I>
    requires(!std::same_as<I, bool>) void value(I v) { w.Int64(static_cast<int64_t>(v)); }
    std::string str() const { return std::string(m_buf.GetString(), m_buf.GetSize()); }
};

// Parses text; the error names the byte offset and RapidJSON's reason.
Result<rapidjson::Document> parse(std::string_view text);

// Typed member lookups that return nullopt on absence or wrong type.
std::optional<std::string> get_string(const rapidjson::Value& obj, const char* key);
std::optional<int64_t> get_int(const rapidjson::Value& obj, const char* key);
std::optional<double> get_number(const rapidjson::Value& obj, const char* key);
std::optional<bool> get_bool(const rapidjson::Value& obj, const char* key);

// Escapes a string for use inside a JSON document (quotes included).
std::string quote(std::string_view s);

}  // namespace fitbridge::json
