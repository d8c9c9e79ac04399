# The Debian package: `make package` (the `deb` target) builds build/tginvite_<version>_amd64.deb
# with CPack's DEB generator. What goes in, and why, is in packaging/: the systemd units, the
# environment file (a conffile), the maintainer scripts, the man page's extra sections. The
# version comes from git when cpack runs (cmake/PackageVersion.cmake). tests/package checks the
# result with dpkg-deb, lintian and systemd-analyze.
include(${CMAKE_CURRENT_LIST_DIR}/PackageVersion.cmake)

set(TGINVITE_PACKAGE_MAINTAINER "tginvite maintainers <maintainers@tginvite.invalid>"
  CACHE STRING "The Maintainer field of the Debian package")
# The official TDLib build that user accounts load (package.json); shipped in the package as
# /usr/lib/tginvite/libtdjson.so when it is there when cpack runs, where the binary looks for it
# (src/telegram/tdlib/td_json.h).
set(TGINVITE_PACKAGE_TDJSON
  "${PROJECT_SOURCE_DIR}/node_modules/@prebuilt-tdlib/linux-x64-glibc/libtdjson.so")

# The man page, from `tginvite --help` and packaging/tginvite.h2m (help2man, from `make setup`).
find_program(HELP2MAN_EXECUTABLE help2man)
find_program(GZIP_EXECUTABLE gzip)
set(man_page ${CMAKE_BINARY_DIR}/packaging/tginvite.1.gz)
if(HELP2MAN_EXECUTABLE AND GZIP_EXECUTABLE)
  add_custom_command(OUTPUT ${man_page}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/packaging
    # The TDLib line of --version is not wanted here: the version string is given.
    COMMAND ${HELP2MAN_EXECUTABLE} --no-info --no-discard-stderr
      --name "invite opted-in contacts to a Telegram group, once each"
      --version-string "${PROJECT_VERSION}"
      --include ${PROJECT_SOURCE_DIR}/packaging/tginvite.h2m
      --output ${CMAKE_BINARY_DIR}/packaging/tginvite.1
      $<TARGET_FILE:tginvite>
    # -n: no name or timestamp in the gzip header (reproducible, and what lintian asks).
    COMMAND ${GZIP_EXECUTABLE} -9nf ${CMAKE_BINARY_DIR}/packaging/tginvite.1
    DEPENDS tginvite ${PROJECT_SOURCE_DIR}/packaging/tginvite.h2m
    COMMENT "Generating the man page tginvite.1.gz"
    VERBATIM)
  add_custom_target(tginvite_man_page DEPENDS ${man_page})
else()
  add_custom_target(tginvite_man_page
    COMMAND ${CMAKE_COMMAND} -E echo "help2man not found: run make setup (scripts/setup.sh)"
    COMMAND ${CMAKE_COMMAND} -E false)
endif()

install(TARGETS tginvite RUNTIME DESTINATION bin)
install(FILES ${TGINVITE_PACKAGE_TDJSON} DESTINATION lib/tginvite OPTIONAL)
install(FILES ${man_page} DESTINATION share/man/man1)
install(FILES packaging/tginvite.service packaging/tginvite-worker@.service
  DESTINATION /lib/systemd/system)
install(FILES packaging/tginvite.env DESTINATION /etc/tginvite)
# /usr/share/doc/tginvite: copyright (with TDLib's when it is shipped) and changelog.gz, made
# when cpack installs, so that they carry the version of that moment; with TDLib, lintian's
# override for it.
install(CODE "
  set(TGINVITE_SOURCE_DIR \"${PROJECT_SOURCE_DIR}\")
  set(TGINVITE_BINARY_DIR \"${CMAKE_BINARY_DIR}\")
  set(TGINVITE_BASE_VERSION \"${PROJECT_VERSION}\")
  set(TGINVITE_PACKAGE_TDJSON \"${TGINVITE_PACKAGE_TDJSON}\")
  set(TGINVITE_PACKAGE_MAINTAINER \"${TGINVITE_PACKAGE_MAINTAINER}\")
  include(\"${PROJECT_SOURCE_DIR}/packaging/package_docs.cmake\")")
install(FILES ${CMAKE_BINARY_DIR}/packaging/copyright ${CMAKE_BINARY_DIR}/packaging/changelog.gz
  DESTINATION share/doc/tginvite)
# Only with TDLib in the package (packaging/package_docs.cmake says why).
install(FILES ${CMAKE_BINARY_DIR}/packaging/lintian-overrides DESTINATION share/lintian/overrides
  RENAME tginvite OPTIONAL)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME tginvite)
set(CPACK_PACKAGE_VENDOR tginvite)
set(CPACK_PACKAGE_CONTACT "${TGINVITE_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
  OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
set(CMAKE_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS ${CPACK_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS})
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${TGINVITE_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The libraries' packages from dpkg-shlibdeps; adduser for postinst; the CA certificates for the
# HTTPS to Telegram.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, ca-certificates")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "postgresql")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
  "invites opted-in contacts to a Telegram group or channel
tginvite invites a list of people who opted in (bot users, customers who gave
their Telegram handle) to a Telegram group or channel: exactly one invitation
per person, at the pace Telegram allows, surviving crashes, bad data and a
flaky network. Bot accounts send personal invite links; user accounts (TDLib)
are supported too. It keeps its state in SQLite, or in PostgreSQL for a fleet
of workers, and has a CLI, a REST API and a web dashboard.
.
The service (tginvite.service) is not started on install: set the admin
password and add an account first.")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${PROJECT_SOURCE_DIR}/packaging/postinst
  ${PROJECT_SOURCE_DIR}/packaging/prerm
  ${PROJECT_SOURCE_DIR}/packaging/postrm
  ${PROJECT_SOURCE_DIR}/packaging/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# The version and the file name are set when cpack runs (from git then).
configure_file(${PROJECT_SOURCE_DIR}/packaging/cpack_project_config.cmake.in
  ${CMAKE_BINARY_DIR}/packaging/cpack_project_config.cmake @ONLY)
set(CPACK_PROJECT_CONFIG_FILE ${CMAKE_BINARY_DIR}/packaging/cpack_project_config.cmake)
# `cmake --build build --target package` must not build the tests and benchmarks: the `deb`
# target below builds what the package holds, then runs cpack.
set(CMAKE_SKIP_PACKAGE_ALL_DEPENDENCY ON)
include(CPack)

add_custom_target(deb
  COMMAND ${CMAKE_CPACK_COMMAND} --config ${CMAKE_BINARY_DIR}/CPackConfig.cmake
  WORKING_DIRECTORY ${CMAKE_BINARY_DIR}
  COMMENT "Building the Debian package (cpack)"
  VERBATIM)
add_dependencies(deb tginvite tginvite_man_page)
