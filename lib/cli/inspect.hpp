#pragma once
// `fitbridge inspect [--json] PATH...`: decode activity files and print their
// summaries (activity-summary.md).

#include <ostream>
#include <string>
#include <vector>

namespace fitbridge::cli {

// Runs the command on `args` (the words after "inspect"). Prints a table, or
// one contract JSON line per file with --json, in argument order; directories
// are walked recursively, in path order, for *.fit/*.gpx/*.tcx[.gz] files.
// Returns 0 when every file decoded ok, 1 when any did not, 2 on a usage
// error (unknown option, no or missing path).
int run_inspect(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace fitbridge::cli
