#include "net/url.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace fitbridge::net {

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

uint16_t default_port(std::string_view scheme) { return scheme == "https" ? 443 : 80; }

Error bad_url(std::string_view text, std::string_view why) {
    return Error::permanent("net.bad_url", fmt::format("bad URL '{}': {}", text, why));
}

}  // namespace

std::string Url::host_header() const {
    std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    if (port != default_port(scheme)) h += fmt::format(":{}", port);
    return h;
}

std::string Url::origin() const {
    std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    return fmt::format("{}://{}:{}", scheme, h, port);
}

std::string Url::str() const { return fmt::format("{}://{}{}", scheme, host_header(), target); }

Result<Url> parse_url(std::string_view text) {
    auto sep = text.find("://");
    if (sep == std::string_view::npos) return bad_url(text, "not absolute");
    Url url;
    url.scheme = lower(text.substr(0, sep));
    if (url.scheme != "http" && url.scheme != "https") return bad_url(text, "scheme must be http or https");
    auto rest = text.substr(sep + 3);
    auto path_start = rest.find_first_of("/?#");
    auto authority = rest.substr(0, path_start);
    std::string_view target = path_start == std::string_view::npos ? std::string_view() : rest.substr(path_start);
    if (auto hash = target.find('#'); hash != std::string_view::npos) target = target.substr(0, hash);
    if (authority.find('@') != std::string_view::npos) return bad_url(text, "credentials in URLs are not supported");
    std::string_view host = authority;
    std::string_view port;
    if (!authority.empty() && authority.front() == '[') {
        auto close = authority.find(']');
        if (close == std::string_view::npos) return bad_url(text, "unterminated IPv6 literal");
        host = authority.substr(1, close - 1);
        auto after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return bad_url(text, "junk after IPv6 literal");
            port = after.substr(1);
        }
    } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
        host = authority.substr(0, colon);
        port = authority.substr(colon + 1);
    }
    if (host.empty()) return bad_url(text, "no host");
    url.host = lower(host);
    url.port = default_port(url.scheme);
    if (!port.empty()) {
        unsigned value = 0;
        auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
        if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535)
            return bad_url(text, "bad port");
        url.port = static_cast<uint16_t>(value);
    }
    url.target = target.empty() ? "/" : std::string(target);
    if (url.target.front() == '?') url.target.insert(0, "/");
    return url;
}

Result<Url> resolve_url(const Url& base, std::string_view location) {
    if (location.find("://") != std::string_view::npos) return parse_url(location);
    if (location.starts_with("//")) return parse_url(base.scheme + ":" + std::string(location));
    Url out = base;
    if (location.starts_with("/")) {
        out.target = std::string(location);
    } else {
        auto path = base.target.substr(0, base.target.find('?'));
        out.target = path.substr(0, path.rfind('/') + 1) + std::string(location);
    }
    if (auto hash = out.target.find('#'); hash != std::string::npos) out.target.resize(hash);
    if (out.target.empty()) out.target = "/";
    return out;
}

std::string url_encode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~')
            out += static_cast<char>(c);
        else
            out += fmt::format("%{:02X}", c);
    }
    return out;
}

std::string url_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '+') {
            out += ' ';
        } else if (c == '%' && i + 2 < text.size()) {
            unsigned value = 0;
            auto [end, ec] = std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16);
            if (ec == std::errc() && end == text.data() + i + 3) {
                out += static_cast<char>(value);
                i += 2;
            } else {
                out += c;
            }
        } else {
            out += c;
        }
    }
    return out;
}

std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields) {
    std::string out;
    for (const auto& [k, v] : fields) {
        if (!out.empty()) out += '&';
        out += url_encode(k);
        out += '=';
        out += url_encode(v);
    }
    return out;
}

std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query) {
    std::vector<std::pair<std::string, std::string>> out;
    while (!query.empty()) {
        auto amp = query.find('&');
        auto part = query.substr(0, amp);
        if (!part.empty()) {
            auto eq = part.find('=');
            out.emplace_back(url_decode(part.substr(0, eq)),
                             eq == std::string_view::npos ? std::string() : url_decode(part.substr(eq + 1)));
        }
        if (amp == std::string_view::npos) break;
        query = query.substr(amp + 1);
    }
    return out;
}

}  // namespace fitbridge::net
