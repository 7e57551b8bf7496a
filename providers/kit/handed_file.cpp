#include "providers/kit/handed_file.hpp"

#include <cctype>

#include <fmt/format.h>

#include "providers/kit/files.hpp"

namespace fitbridge::providers::kit {

namespace {

std::string printable_prefix(std::string_view body) {
    std::string out;
    for (char c : body.substr(0, 24)) {
        const auto u = static_cast<unsigned char>(c);
        out += std::isprint(u) ? std::string(1, c) : fmt::format("\\x{:02x}", u);
    }
    return out;
}

std::string percent_decode(std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
            std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
            out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
            i += 2;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

}  // namespace

std::string download_name(std::string_view disposition, std::string_view url) {
    if (auto at = disposition.find("filename="); at != std::string_view::npos) {
        auto name = disposition.substr(at + 9);
        name = name.substr(0, name.find(';'));
        if (name.size() >= 2 && name.front() == '"') name = name.substr(1, name.find('"', 1) - 1);
        if (!name.empty()) return std::string(name);
    }
    auto path = url.substr(0, url.find_first_of("?#"));
    if (auto scheme = path.find("://"); scheme != std::string_view::npos) {
        path = path.substr(scheme + 3);
        const auto slash = path.find('/');
        path = slash == std::string_view::npos ? std::string_view() : path.substr(slash);
    }
    return percent_decode(path.substr(path.rfind('/') + 1));
}

Task<HandedFile> fetch_handed(PlatformClient& client, const std::string& url, const std::string& what,
                              net::Priority priority, uint64_t max_bytes) {
    const auto& p = client.platform();
    if (!url.starts_with("https://") && !url.starts_with("http://"))
        co_return Error::permanent(std::string(p.name) + ".bad_answer",
                                   fmt::format("{} gave \"{}\" as the address of {}, which is not an http(s) URL",
                                               p.title, url.substr(0, 120), what));
    Call call{.path = url, .what = "download of " + what, .priority = priority, .authorized = false};
    call.max_response_bytes = max_bytes;
    auto r = co_await client.call(std::move(call));
    if (!r) co_return r.error();
    HandedFile out{.bytes = std::move(r->body), .content_type = r->header("content-type")};
    out.name = download_name(r->header("content-disposition"), url);
    co_return out;
}

Result<std::string> activity_or_unavailable(const Platform& p, HandedFile file, std::string_view what) {
    const size_t size = file.bytes.size();
    const std::string prefix = printable_prefix(file.bytes);
    auto accepted = accept_file(p, std::move(file.bytes), file.content_type, what);
    if (accepted || !accepted.error().code.ends_with(".not_a_file")) return accepted;
    const auto dot = file.name.rfind('.');
    const std::string ext = dot == std::string::npos ? std::string() : file.name.substr(dot);
    const std::string kind = ext.empty() ? std::string("a file") : fmt::format("a {} file", ext);
    const std::string type = file.content_type.empty() ? std::string("unknown type") : file.content_type;
    const std::string detail =
        size == 0 ? std::string("0 bytes") : fmt::format("{} bytes of {} starting \"{}\"", size, type, prefix);
    return Error::permanent(std::string(p.name) + ".unavailable",
                            fmt::format("{} serves {} for {} ({}), not a FIT, TCX or GPX file; it is not uploaded "
                                        "anywhere",
                                        p.title, kind, what, detail));
}

}  // namespace fitbridge::providers::kit
