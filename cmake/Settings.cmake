# Language level, build type, options.
set(CMAKE_CXX_STANDARD 20)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(CMAKE_CXX_EXTENSIONS OFF)
set(CMAKE_EXPORT_COMPILE_COMMANDS ON)

if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
  set(CMAKE_BUILD_TYPE RelWithDebInfo CACHE STRING "Build type" FORCE)
endif()

option(FITBRIDGE_BUILD_TESTS "Build the test suite" ON)
option(FITBRIDGE_BUILD_BENCH "Build the benchmarks" ON)
option(FITBRIDGE_BUILD_FUZZ "Build libFuzzer targets (clang only)" OFF)
option(FITBRIDGE_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
# Optional: the corpus suite (tests labelled `corpus`) and the benchmarks use it
# when it exists; $FITBRIDGE_CORPUS overrides it when the tests run. Without
# it those tests skip and the fixtures in tests/data cover the formats.
set(FITBRIDGE_TESTDATA_DIR "${CMAKE_SOURCE_DIR}/../shared/testdata/activities"
    CACHE PATH "The full shared activity corpus (optional)")

if(FITBRIDGE_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

include(GNUInstallDirs)
