#include "api/router.hpp"

#include <string_view>

namespace fitbridge::api {

namespace {

std::vector<std::string_view> split(std::string_view path) {
    std::vector<std::string_view> out;
    size_t start = 1;
    while (start <= path.size()) {
        auto slash = path.find('/', start);
        if (slash == std::string_view::npos) slash = path.size();
        out.push_back(path.substr(start, slash - start));
        start = slash + 1;
    }
    return out;
}

bool matches(std::string_view pattern, std::string_view path, std::map<std::string, std::string>& params) {
    auto ps = split(pattern);
    auto xs = split(path);
    if (ps.size() != xs.size()) return false;
    std::map<std::string, std::string> found;
    for (size_t i = 0; i < ps.size(); ++i) {
        if (ps[i].size() >= 2 && ps[i].front() == '{' && ps[i].back() == '}') {
            if (xs[i].empty()) return false;
            found.emplace(std::string(ps[i].substr(1, ps[i].size() - 2)), std::string(xs[i]));
        } else if (ps[i] != xs[i]) {
            return false;
        }
    }
    params = std::move(found);
    return true;
}

}  // namespace

void Router::add(std::string method, std::string pattern, Handler handler, bool public_route, RunsOn runs_on) {
    m_routes.push_back({std::move(method), std::move(pattern), std::move(handler), public_route, runs_on});
}

Router::Match Router::match(const std::string& method, const std::string& path,
                            std::map<std::string, std::string>& params) const {
    Match m;
    for (const auto& r : m_routes) {
        std::map<std::string, std::string> p;
        if (!matches(r.pattern, path, p)) continue;
        if (r.method == method || (method == "HEAD" && r.method == "GET")) {
            params = std::move(p);
            m.route = &r;
            m.allow.clear();
            return m;
        }
        if (m.allow.find(r.method) == std::string::npos) {
            if (!m.allow.empty()) m.allow += ", ";
            m.allow += r.method;
        }
    }
    return m;
}

}  // namespace fitbridge::api
