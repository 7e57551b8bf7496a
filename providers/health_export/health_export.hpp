#pragma once
// The health-export source (provider "health_export"): the workouts of a
// phone's health export, Apple Health's "Export All Health Data" archive
// (export.zip, or its unzipped folder) or Samsung Health's personal-data
// export, or a folder where such exports are dropped (watched). Each workout
// is one activity: a workout with a GPS route becomes a TCX file of the route
// with the workout's sport and heart rate; one without is kept as metadata.
// A newer export of the same phone lists the same workouts under the same
// ids, so only its new workouts are taken.

#include <filesystem>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "providers/health_export/workout.hpp"
#include "providers/provider.hpp"

namespace fitbridge::providers::health_export {

Factory factory();

// The exports at `path`: the path itself when it is an archive or an export
// folder, else the archives and export folders directly inside it.
std::vector<std::filesystem::path> find_exports(const std::filesystem::path& path);

}  // namespace fitbridge::providers::health_export
