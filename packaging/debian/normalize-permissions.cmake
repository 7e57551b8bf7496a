# Run by CPack (CPACK_PRE_BUILD_SCRIPTS) after staging, before the .deb is
# made: the directories a package ships are 0755 whatever the umask of the
# shell that ran cpack (Debian policy 10.9; lintian non-standard-dir-perm).
set(_root "${CPACK_TEMPORARY_INSTALL_DIRECTORY}")
if(_root STREQUAL "" OR NOT IS_DIRECTORY "${_root}")
  message(FATAL_ERROR "normalize-permissions: no staging directory")
endif()
file(GLOB_RECURSE _entries LIST_DIRECTORIES true "${_root}/*")
foreach(_entry IN LISTS _entries)
  if(IS_DIRECTORY "${_entry}" AND NOT IS_SYMLINK "${_entry}")
    file(CHMOD "${_entry}" PERMISSIONS
         OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
  endif()
endforeach()
