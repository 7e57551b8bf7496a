#include "api/http.hpp"

#include "json/json.hpp"

namespace fitbridge::api {

Response error_response(int status, std::string_view code, std::string_view message) {
    json::Builder b;
    b.w.StartObject();
    b.key("error");
    b.w.StartObject();
    b.key("code");
    b.string(code);
    b.key("message");
    b.string(message);
    b.w.EndObject();
    b.w.EndObject();
    Response r;
    r.status = status;
    r.body = b.str();
    return r;
}

Response json_response(int status, std::string body) {
    Response r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

namespace {
int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool decode(std::string_view in, std::string& out, bool plus_is_space) {
    out.clear();
    out.reserve(in.size());
    for (size_t i = 0; i < in.size(); ++i) {
        char c = in[i];
        if (c == '%') {
            if (i + 2 >= in.size()) return false;
            int h = hex(in[i + 1]), l = hex(in[i + 2]);
            if (h < 0 || l < 0) return false;
            char d = static_cast<char>(h * 16 + l);
            if (d == '\0') return false;
            out += d;
            i += 2;
        } else if (c == '+' && plus_is_space) {
            out += ' ';
        } else {
            out += c;
        }
    }
    return true;
}
}  // namespace

bool parse_target(const std::string& target, std::string& path, std::map<std::string, std::string>& query) {
    if (target.empty() || target[0] != '/') return false;
    auto q = target.find('?');
    if (!decode(std::string_view(target).substr(0, q), path, false)) return false;
    if (q == std::string::npos) return true;
    std::string_view rest = std::string_view(target).substr(q + 1);
    while (!rest.empty()) {
        auto amp = rest.find('&');
        auto part = rest.substr(0, amp);
        auto eq = part.find('=');
        std::string k, v;
        if (!decode(part.substr(0, eq), k, true)) return false;
        if (eq != std::string_view::npos && !decode(part.substr(eq + 1), v, true)) return false;
        if (!k.empty()) query[k] = v;
        if (amp == std::string_view::npos) break;
        rest.remove_prefix(amp + 1);
    }
    return true;
}

}  // namespace fitbridge::api
