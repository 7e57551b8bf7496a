#pragma once
// The control API's routing table: {verb, pattern with named segments,
// handler}. Unknown paths give 404, known paths with another verb 405 + Allow.

#include <functional>
#include <string>
#include <vector>

#include "api/http.hpp"

namespace fitbridge::api {

using Handler = std::function<Response(Request&)>;

struct Route {
    std::string method;
    std::string pattern;  // e.g. "/v1/jobs/{id}"; a segment in braces matches one path segment
    Handler handler;
    bool public_route = false;  // served without the bearer token (only /healthz)
};

class Router {
public:
    void add(std::string method, std::string pattern, Handler handler, bool public_route = false);

    struct Match {
        const Route* route = nullptr;  // set when method and path match
        std::string allow;             // when only the path matches: the methods allowed
    };
    // Finds the route for method and path, filling req.params on success.
    Match match(const std::string& method, const std::string& path, std::map<std::string, std::string>& params) const;

    const std::vector<Route>& routes() const { return m_routes; }

private:
    std::vector<Route> m_routes;
};

}  // namespace fitbridge::api
