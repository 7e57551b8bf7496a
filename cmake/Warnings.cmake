# One INTERFACE target carries the warning set; every FitBridge target links it.
add_library(fitbridge_warnings INTERFACE)
target_compile_options(fitbridge_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow)
if(DEFINED ENV{CI} OR FITBRIDGE_WERROR)
  target_compile_options(fitbridge_warnings INTERFACE -Werror)
endif()
# GCC 12 reports a false -Wmismatched-new-delete inside Boost.Asio's coroutine
# frame allocator (awaitable_frame_base pairs aligned_new/aligned_delete
# correctly); keep the rest of the warning set strict.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(fitbridge_warnings INTERFACE -Wno-mismatched-new-delete)
endif()
