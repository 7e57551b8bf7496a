#pragma once
// Client commands for the sync engine: `sync`, `backfill`, `plan`,
// `activities`, `activity`.

#include <ostream>
#include <string>
#include <vector>

#include "cli/client.hpp"

namespace fitbridge::cli {

int run_sync(std::vector<std::string> args, ClientContext ctx, std::ostream& out, std::ostream& err);
int run_backfill(std::vector<std::string> args, ClientContext ctx, std::ostream& out, std::ostream& err);
int run_plan(std::vector<std::string> args, ClientContext ctx, std::ostream& out, std::ostream& err);
int run_activities(std::vector<std::string> args, ClientContext ctx, std::ostream& out, std::ostream& err);
int run_activity(std::vector<std::string> args, ClientContext ctx, std::ostream& out, std::ostream& err);

}  // namespace fitbridge::cli
