#pragma once
// The status page: the files of web/ embedded at build time
// (cmake/EmbedWeb.cmake) and the routes that serve them. The page holds no
// data; it reads everything through the /v1 API with the bearer token.

#include <span>
#include <string_view>

#include "api/router.hpp"

namespace fitbridge::app {

struct WebAsset {
    std::string_view name;          // file name under web/, e.g. "app.js"
    std::string_view content_type;  // e.g. "text/javascript; charset=utf-8"
    std::string_view bytes;
};

// Every embedded file, in the order web/ lists them (generated code).
std::span<const WebAsset> web_assets();

// What the page may load: its own scripts, styles and API, nothing inline,
// no other site, never inside a frame.
inline constexpr std::string_view k_page_csp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

// GET / (index.html) and GET /<name> for each asset, served without the
// token (Host and Origin checks still apply) with the page's security headers.
void register_web_routes(api::Router& router);

}  // namespace fitbridge::app
