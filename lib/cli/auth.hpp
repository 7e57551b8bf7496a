#pragma once
// `fitbridge auth ACCOUNT`: the OAuth2 authorization-code flow with PKCE and a
// loopback redirect. Prints the platform's authorize URL, waits on 127.0.0.1
// for the browser's redirect (state checked), exchanges the code and hands the
// tokens to the running daemon (POST /v1/accounts/{id}/credentials).

#include <ostream>
#include <string>
#include <vector>

#include "cli/client.hpp"

namespace fitbridge::cli {

int run_auth(std::vector<std::string> args, ClientContext ctx, std::ostream& out, std::ostream& err);

}  // namespace fitbridge::cli
