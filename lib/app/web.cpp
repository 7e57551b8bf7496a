#include "app/web.hpp"

#include <string>

namespace fitbridge::app {

namespace {

api::Response serve_asset(const WebAsset& a) {
    api::Response r;
    r.content_type = std::string(a.content_type);
    r.body = std::string(a.bytes);
    r.headers = {
        {"Content-Security-Policy", std::string(k_page_csp)},
        {"X-Frame-Options", "DENY"},
        {"X-Content-Type-Options", "nosniff"},
        {"Referrer-Policy", "no-referrer"},
        {"Cross-Origin-Opener-Policy", "same-origin"},
        {"Cross-Origin-Resource-Policy", "same-origin"},
    };
    return r;
}

}  // namespace

void register_web_routes(api::Router& router) {
    for (const auto& asset : web_assets()) {
        const WebAsset* a = &asset;  // the generated table is static
        auto handler = [a](api::Request&) { return serve_asset(*a); };
        // Static bytes: answered on the API's own thread.
        if (a->name == "index.html") router.add("GET", "/", handler, true, api::RunsOn::server);
        router.add("GET", "/" + std::string(a->name), handler, true, api::RunsOn::server);
    }
}

}  // namespace fitbridge::app
