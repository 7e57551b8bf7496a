#include "json/json.hpp"

#include <rapidjson/error/en.h>

#include <fmt/format.h>

#include <cmath>

namespace fitbridge::json {

void Builder::number(double v) {
    if (!std::isfinite(v)) {
        w.Null();
        return;
    }
    if (v == std::trunc(v) && std::fabs(v) < 9.0e15) {
        w.Int64(static_cast<int64_t>(v));
    } else {
        w.Double(v);
    }
}

Result<rapidjson::Document> parse(std::string_view text) {
    rapidjson::Document doc;
    doc.Parse(text.data(), text.size());
    if (doc.HasParseError()) {
        return Error::permanent("json.malformed", fmt::format("malformed JSON at byte {}: {}", doc.GetErrorOffset(),
                                                              rapidjson::GetParseError_En(doc.GetParseError())));
    }
    return doc;
}

std::optional<std::string> get_string(const rapidjson::Value& obj, const char* key) {
    if (!obj.IsObject()) return std::nullopt;
    auto it = obj.FindMember(key);
    if (it == obj.MemberEnd() || !it->value.IsString()) return std::nullopt;
    return std::string(it->value.GetString(), it->value.GetStringLength());
}

std::optional<int64_t> get_int(const rapidjson::Value& obj, const char* key) {
    if (!obj.IsObject()) return std::nullopt;
    auto it = obj.FindMember(key);
    if (it == obj.MemberEnd() || !it->value.IsInt64()) return std::nullopt;
    return it->value.GetInt64();
}

std::optional<double> get_number(const rapidjson::Value& obj, const char* key) {
    if (!obj.IsObject()) return std::nullopt;
    auto it = obj.FindMember(key);
    if (it == obj.MemberEnd() || !it->value.IsNumber()) return std::nullopt;
    return it->value.GetDouble();
}

std::optional<bool> get_bool(const rapidjson::Value& obj, const char* key) {
    if (!obj.IsObject()) return std::nullopt;
    auto it = obj.FindMember(key);
    if (it == obj.MemberEnd() || !it->value.IsBool()) return std::nullopt;
    return it->value.GetBool();
}

std::string quote(std::string_view s) {
    rapidjson::StringBuffer buf;
    Writer w(buf);
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace fitbridge::json
