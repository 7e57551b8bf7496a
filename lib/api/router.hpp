#pragma once
// The control API's routing table: {verb, pattern with named segments,
// handler}. Unknown paths give 404, known paths with another verb 405 + Allow.

#include <functional>
#include <string>
#include <vector>

#include "api/http.hpp"

namespace fitbridge::api {

using Handler = std::function<Response(Request&)>;

// Which thread a handler runs on when the server has an owner (see Server):
// `owner`, the default, hands it to the owner's thread, where whatever it
// touches lives; `server` runs it on the server's own thread, beside the
// owner's work, so it answers while the owner is busy. A `server` handler may
// only use state that is safe to use from any thread.
enum class RunsOn { owner, server };

struct Route {
    std::string method;
    std::string pattern;  // e.g. "/v1/jobs/{id}"; a segment in braces matches one path segment
    Handler handler;
    bool public_route = false;  // served without the bearer token (only /healthz)
    RunsOn runs_on = RunsOn::owner;
};

class Router {
public:
    void add(std::string method, std::string pattern, Handler handler, bool public_route = false,
             RunsOn runs_on = RunsOn::owner);

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
