#pragma once
// `fitbridge open [--no-browser]`: a link that signs a browser in to the
// status page once, printed and, on a desktop, opened.

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "cli/client.hpp"

namespace fitbridge::cli {

// The status page's address for the daemon's listen address:
// "127.0.0.1:8787" -> "http://127.0.0.1:8787/"; a wildcard address becomes
// loopback ("0.0.0.0" -> 127.0.0.1, "[::]" -> [::1]). nullopt for a Unix
// socket, which a browser cannot reach.
std::optional<std::string> page_url(const std::string& listen);

// Asks the daemon for a one-time code (POST /v1/signin-codes) and prints
// page_url + "#code=..." (in the fragment: it never reaches a server log).
// Then tries xdg-open (with a display) or open (macOS) unless --no-browser.
int run_open(std::vector<std::string> args, ClientContext ctx, std::ostream& out, std::ostream& err);

}  // namespace fitbridge::cli
