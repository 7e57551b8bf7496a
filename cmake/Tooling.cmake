# ccache when present; a format target for clang-format.
find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_CXX_COMPILER_LAUNCHER "${CCACHE_PROGRAM}")
endif()

find_program(CLANG_FORMAT_PROGRAM clang-format)
if(CLANG_FORMAT_PROGRAM)
  add_custom_target(format
    COMMAND ${CMAKE_SOURCE_DIR}/scripts/format --fix
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
    COMMENT "clang-format the tree")
endif()

# fitbridge_module(NAME SOURCES... [DEPS ...]): one static library per module.
function(fitbridge_module name)
  cmake_parse_arguments(M "" "" "SOURCES;DEPS" ${ARGN})
  add_library(fitbridge_${name} STATIC ${M_SOURCES})
  target_include_directories(fitbridge_${name} PUBLIC ${CMAKE_SOURCE_DIR}/lib ${CMAKE_SOURCE_DIR})
  target_link_libraries(fitbridge_${name} PUBLIC ${M_DEPS} PRIVATE fitbridge_warnings)
endfunction()
