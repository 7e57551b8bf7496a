# What `cmake --install` puts where, and the Debian package (CPack DEB).
#
#   cmake --install <build> [--prefix /usr/local]      binary, units, man page, docs
#   cpack -G DEB --config <build>/CPackConfig.cmake    fitbridge_<version>-1_<arch>.deb
#
# The .deb always installs under /usr whatever CMAKE_INSTALL_PREFIX the build
# was configured with (the systemd units are configured at install time, see
# systemd/CMakeLists.txt). scripts/check-deploy builds it, runs lintian on it,
# installs it, verifies the installed unit and purges it.

set(FITBRIDGE_SOURCE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
set(FITBRIDGE_BINARY_DIR "${CMAKE_CURRENT_BINARY_DIR}/packaging")
set(_deb "${FITBRIDGE_SOURCE_DIR}/packaging/debian")

# The binary's own install rule is in daemon/CMakeLists.txt.

# The man page is installed gzipped (Debian policy 12.1). It is made at install
# time, with its COMMANDS section taken from the built binary's --help, so
# that building the `fitbridge` target alone is enough to package.
if(TARGET fitbridge)
  install(CODE "
    set(FITBRIDGE_EXE \"$<TARGET_FILE:fitbridge>\")
    set(FITBRIDGE_MAN_IN \"${_deb}/fitbridge.1.in\")
    set(FITBRIDGE_MAN_OUT \"${FITBRIDGE_BINARY_DIR}/fitbridge.1\")
    include(\"${_deb}/manpage.cmake\")
  ")
  install(FILES "${FITBRIDGE_BINARY_DIR}/fitbridge.1.gz" DESTINATION "${CMAKE_INSTALL_MANDIR}/man1")
endif()
install(FILES docs/install.md config/fitbridge.example.yaml DESTINATION "${CMAKE_INSTALL_DOCDIR}")

# ---------------------------------------------------------------- CPack DEB
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME fitbridge)
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_CONTACT "FitBridge maintainers <fitbridge@example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "fitness-activity sync daemon")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "FitBridge keeps workouts flowing between the places they live. It polls
cloud platforms and local folders of FIT, GPX and TCX files, matches the
copies of one workout and delivers each activity once to the sinks its
routes name, keeping every original file in a local store.
.
The package runs it as a hardened systemd service under the system user
fitbridge, configured in /etc/fitbridge/fitbridge.yaml, with its state in
/var/lib/fitbridge. A per-user unit is included as well.")
# Library dependencies come from dpkg-shlibdeps on the stripped binary; the
# maintainer scripts need adduser where systemd-sysusers is missing.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "ca-certificates")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${_deb}/conffiles;${_deb}/postinst;${_deb}/prerm;${_deb}/postrm")

# Files that belong to the package only (conffile, copyright, changelog,
# lintian overrides), staged by a script CPack runs.
string(TIMESTAMP FITBRIDGE_CHANGELOG_DATE "%a, %d %b %Y %H:%M:%S +0000" UTC)
configure_file("${_deb}/changelog.Debian.in" "${FITBRIDGE_BINARY_DIR}/changelog.Debian" @ONLY)
configure_file("${_deb}/install-debian-files.cmake.in"
               "${FITBRIDGE_BINARY_DIR}/install-debian-files.cmake" @ONLY)
set(CPACK_INSTALL_SCRIPTS "${FITBRIDGE_BINARY_DIR}/install-debian-files.cmake")
set(CPACK_PRE_BUILD_SCRIPTS "${_deb}/normalize-permissions.cmake")

include(CPack)
