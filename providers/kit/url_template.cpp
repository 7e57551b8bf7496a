#include "providers/kit/url_template.hpp"

#include <fmt/format.h>

#include "net/url.hpp"

namespace fitbridge::providers::kit {

std::vector<std::string> template_names(std::string_view t) {
    std::vector<std::string> out;
    for (size_t at = t.find('{'); at != std::string_view::npos; at = t.find('{', at + 1)) {
        const auto end = t.find('}', at);
        if (end == std::string_view::npos) break;
        out.emplace_back(t.substr(at + 1, end - at - 1));
    }
    return out;
}

Result<std::string> fill_url_template(std::string_view t,
                                      const std::vector<std::pair<std::string, std::string>>& values,
                                      std::string_view code) {
    std::string out;
    size_t i = 0;
    while (i < t.size()) {
        const auto open = t.find('{', i);
        if (open == std::string_view::npos) {
            out.append(t.substr(i));
            break;
        }
        const auto close = t.find('}', open);
        if (close == std::string_view::npos) {
            out.append(t.substr(i));
            break;
        }
        out.append(t.substr(i, open - i));
        const auto name = t.substr(open + 1, close - open - 1);
        const std::string* value = nullptr;
        for (const auto& [k, v] : values)
            if (k == name) value = &v;
        if (value == nullptr || value->empty())
            return Error::permanent(std::string(code), fmt::format("no {} to put in {}", name, t));
        if (value->find("..") != std::string::npos)
            return Error::permanent(std::string(code),
                                    fmt::format("refusing the {} '{}' (it climbs up)", name, *value));
        std::string encoded;
        size_t from = 0;
        for (size_t slash = value->find('/'); slash != std::string::npos; slash = value->find('/', from)) {
            encoded += net::url_encode(std::string_view(*value).substr(from, slash - from)) + "/";
            from = slash + 1;
        }
        encoded += net::url_encode(std::string_view(*value).substr(from));
        out += encoded;
        i = close + 1;
    }
    if (!net::parse_url(out)) return Error::permanent(std::string(code), fmt::format("'{}' is not a URL", out));
    return out;
}

}  // namespace fitbridge::providers::kit
