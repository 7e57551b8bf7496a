# Builds fitbridge.1.gz from fitbridge.1.in and the binary's own `--help`, so
# the COMMANDS section lists exactly the commands the installed binary has.
# Run at install time (cmake/Packaging.cmake) with:
#   FITBRIDGE_EXE      the built binary
#   FITBRIDGE_MAN_IN   packaging/debian/fitbridge.1.in
#   FITBRIDGE_MAN_OUT  where to write fitbridge.1 (fitbridge.1.gz lands next to it)

foreach(_var FITBRIDGE_EXE FITBRIDGE_MAN_IN FITBRIDGE_MAN_OUT)
  if(NOT ${_var})
    message(FATAL_ERROR "manpage.cmake: ${_var} is not set")
  endif()
endforeach()

execute_process(COMMAND "${FITBRIDGE_EXE}" --help
                OUTPUT_VARIABLE _help ERROR_VARIABLE _help_err RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0 OR _help STREQUAL "")
  message(FATAL_ERROR "manpage.cmake: `fitbridge --help` failed (${_rc}): ${_help_err}")
endif()
execute_process(COMMAND "${FITBRIDGE_EXE}" --version
                OUTPUT_VARIABLE _version OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "manpage.cmake: `fitbridge --version` failed (${_rc})")
endif()
string(REGEX REPLACE "\n.*" "" _version "${_version}") # first line: "fitbridge X.Y.Z"
string(REGEX REPLACE "^fitbridge" "FitBridge" FITBRIDGE_MAN_VERSION "${_version}")

# roff-escape one piece of help text: backslashes, hyphens, and a leading
# dot or quote (which roff would read as a request).
function(_roff out text)
  string(REPLACE "\\" "\\e" text "${text}")
  string(REPLACE "-" "\\-" text "${text}")
  if(text MATCHES "^[.']")
    set(text "\\&${text}")
  endif()
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

# The "Commands:" block: "  SYNOPSIS   DESCRIPTION" lines, a long synopsis
# with its description on the next, deeper-indented line.
string(REPLACE ";" "<semicolon>" _help "${_help}") # list separator
string(REPLACE "\n" ";" _lines "${_help}")
set(_in_commands FALSE)
set(_roff_lines "")
foreach(_line IN LISTS _lines)
  if(_line STREQUAL "Commands:")
    set(_in_commands TRUE)
    continue()
  endif()
  if(NOT _in_commands)
    continue()
  endif()
  if(_line STREQUAL "")
    break()
  endif()
  if(_line MATCHES "^  ([^ ].*[^ ])   +([^ ].*)$")
    _roff(_synopsis "${CMAKE_MATCH_1}")
    _roff(_desc "${CMAKE_MATCH_2}")
    list(APPEND _roff_lines ".TP" ".B ${_synopsis}" "${_desc}")
  elseif(_line MATCHES "^  ([^ ].*)$")
    _roff(_synopsis "${CMAKE_MATCH_1}")
    list(APPEND _roff_lines ".TP" ".B ${_synopsis}")
  elseif(_line MATCHES "^    +([^ ].*)$")
    _roff(_desc "${CMAKE_MATCH_1}")
    list(APPEND _roff_lines "${_desc}")
  endif()
endforeach()
if(NOT _roff_lines)
  message(FATAL_ERROR "manpage.cmake: no \"Commands:\" block in `fitbridge --help`")
endif()
list(JOIN _roff_lines "\n" FITBRIDGE_MAN_COMMANDS)
string(REPLACE "<semicolon>" ";" FITBRIDGE_MAN_COMMANDS "${FITBRIDGE_MAN_COMMANDS}")

configure_file("${FITBRIDGE_MAN_IN}" "${FITBRIDGE_MAN_OUT}" @ONLY)
execute_process(COMMAND gzip -9nc "${FITBRIDGE_MAN_OUT}"
                OUTPUT_FILE "${FITBRIDGE_MAN_OUT}.gz" RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "manpage.cmake: gzip failed")
endif()
