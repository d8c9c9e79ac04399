# tginvite_package_version(OUT SOURCE_DIR BASE): the Debian package's version, from git when the
# tree is a git checkout, else BASE (project(... VERSION ...)). Included by cmake/Package.cmake at
# configure time and by packaging/cpack_project_config.cmake.in when cpack runs, so that a package
# built after a commit carries that commit without reconfiguring.
#
#   tag v1.2.0 on HEAD             -> 1.2.0
#   3 commits after tag v1.2.0     -> 1.2.0+git3.g1a2b3c4
#   no tag (BASE 0.1.0), 215 commits, HEAD 1a2b3c4 -> 0.1.0+git215.g1a2b3c4
#   uncommitted changes            -> the same with .dirty appended
#
# The commit count comes before the hash so that a later build of the same branch has a higher
# version for dpkg (hashes do not sort). No hyphen: the package is native (no Debian revision).
function(tginvite_package_version out source_dir base)
  set(version "${base}")
  find_package(Git QUIET)
  if(GIT_FOUND AND EXISTS "${source_dir}/.git")
    execute_process(COMMAND "${GIT_EXECUTABLE}" -C "${source_dir}" describe --tags --always --dirty
                            --match "v[0-9]*"
      OUTPUT_VARIABLE described OUTPUT_STRIP_TRAILING_WHITESPACE
      RESULT_VARIABLE described_rc ERROR_QUIET)
    if(described_rc EQUAL 0 AND NOT described STREQUAL "")
      set(dirty "")
      if(described MATCHES "-dirty$")
        set(dirty ".dirty")
        string(REGEX REPLACE "-dirty$" "" described "${described}")
      endif()
      if(described MATCHES "^v([0-9][0-9.]*)$")
        # On a release tag.
        set(version "${CMAKE_MATCH_1}${dirty}")
      elseif(described MATCHES "^v([0-9][0-9.]*)-([0-9]+)-g([0-9a-f]+)$")
        set(version "${CMAKE_MATCH_1}+git${CMAKE_MATCH_2}.g${CMAKE_MATCH_3}${dirty}")
      elseif(described MATCHES "^[0-9a-f]+$")
        # No release tag yet: the project's version, the number of commits and the commit.
        execute_process(COMMAND "${GIT_EXECUTABLE}" -C "${source_dir}" rev-list --count HEAD
          OUTPUT_VARIABLE count OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
        set(version "${base}+git${count}.g${described}${dirty}")
      endif()
    endif()
  endif()
  if(NOT version MATCHES "^[0-9][A-Za-z0-9.+~]*$")
    message(FATAL_ERROR "not a valid Debian version for the package: '${version}'")
  endif()
  set(${out} "${version}" PARENT_SCOPE)
endfunction()
