# Run when cpack installs (an install(CODE) of cmake/Package.cmake): writes the package's
# /usr/share/doc/tginvite/copyright (with TDLib's licence when the library is shipped) and
# changelog.gz (one entry, for the version being built) into the build folder's packaging/.
include("${TGINVITE_SOURCE_DIR}/cmake/PackageVersion.cmake")
tginvite_package_version(version "${TGINVITE_SOURCE_DIR}" "${TGINVITE_BASE_VERSION}")
set(out "${TGINVITE_BINARY_DIR}/packaging")
file(MAKE_DIRECTORY "${out}")

set(TDLIB_COPYRIGHT "")
if(EXISTS "${TGINVITE_PACKAGE_TDJSON}")
  set(TDLIB_VERSION "")
  get_filename_component(tdjson_dir "${TGINVITE_PACKAGE_TDJSON}" DIRECTORY)
  if(EXISTS "${tdjson_dir}/package.json")
    file(READ "${tdjson_dir}/package.json" package_json)
    string(JSON TDLIB_VERSION ERROR_VARIABLE ignored GET "${package_json}" tdlib version)
  endif()
  configure_file("${TGINVITE_SOURCE_DIR}/packaging/tdlib_copyright.in" "${out}/tdlib_copyright"
    @ONLY)
  file(READ "${out}/tdlib_copyright" TDLIB_COPYRIGHT)
endif()
# TDLib's official build links zlib and OpenSSL in, which lintian reports as an error
# (embedded-library): there is no Debian TDLib to depend on instead, so the package says so.
if(EXISTS "${TGINVITE_PACKAGE_TDJSON}")
  file(WRITE "${out}/lintian-overrides"
"# TDLib's official prebuilt library (npm @prebuilt-tdlib/linux-x64-glibc) has zlib and OpenSSL
# linked in; Debian has no TDLib package to use instead.
tginvite: embedded-library zlib [usr/lib/tginvite/libtdjson.so]
")
else()
  file(REMOVE "${out}/lintian-overrides")
endif()

# The years of the commits, for the copyright notice.
set(TGINVITE_YEARS "")
find_package(Git QUIET)
if(GIT_FOUND)
  execute_process(COMMAND "${GIT_EXECUTABLE}" -C "${TGINVITE_SOURCE_DIR}" log --format=%ad
                          --date=format:%Y
    OUTPUT_VARIABLE years OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  string(REPLACE "\n" ";" years "${years}")
  list(REMOVE_DUPLICATES years)
  list(SORT years)
  list(LENGTH years count)
  if(count GREATER 1)
    list(GET years 0 first)
    list(GET years -1 last)
    set(TGINVITE_YEARS "${first}-${last}")
  elseif(count EQUAL 1)
    set(TGINVITE_YEARS "${years}")
  endif()
endif()
if(TGINVITE_YEARS STREQUAL "")
  string(TIMESTAMP TGINVITE_YEARS "%Y")
endif()
configure_file("${TGINVITE_SOURCE_DIR}/packaging/copyright.in" "${out}/copyright" @ONLY)

# The date of the commit, in the RFC 5322 form Debian changelogs use (reproducible).
set(commit "unknown")
set(date "")
if(GIT_FOUND)
  execute_process(COMMAND "${GIT_EXECUTABLE}" -C "${TGINVITE_SOURCE_DIR}" log -1 --format=%h%n%aD
    OUTPUT_VARIABLE git_out OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(git_out MATCHES "^([0-9a-f]+)\n(.+)$")
    set(commit "${CMAKE_MATCH_1}")
    set(date "${CMAKE_MATCH_2}")
  endif()
endif()
if(date STREQUAL "")
  execute_process(COMMAND date -R OUTPUT_VARIABLE date OUTPUT_STRIP_TRAILING_WHITESPACE)
endif()
file(WRITE "${out}/changelog"
"tginvite (${version}) unstable; urgency=medium

  * Built from tginvite's source at commit ${commit}. The changes are in the
    project's git history.

 -- ${TGINVITE_PACKAGE_MAINTAINER}  ${date}
")
execute_process(COMMAND gzip -9nf "${out}/changelog" RESULT_VARIABLE gzip_rc)
if(NOT gzip_rc EQUAL 0)
  message(FATAL_ERROR "gzip of ${out}/changelog failed")
endif()
