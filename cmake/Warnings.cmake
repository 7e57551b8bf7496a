# One INTERFACE target carries the warning set; every FitBridge target links it.
add_library(fitbridge_warnings INTERFACE)
target_compile_options(fitbridge_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow)
if(DEFINED ENV{CI} OR FITBRIDGE_WERROR)
  target_compile_options(fitbridge_warnings INTERFACE -Werror)
endif()
