# tginvite_module(NAME name [DEPS ...] [PRIVATE_DEPS ...])
# One static library per folder under src/; its link line is the layering. Sources are the
# .cpp files of the folder and its backend subfolders (for example storage/sqlite), except main.cpp.
function(tginvite_module)
  cmake_parse_arguments(M "" "NAME" "DEPS;PRIVATE_DEPS;SUBDIRS" ${ARGN})
  set(globs ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  foreach(sub ${M_SUBDIRS})
    list(APPEND globs ${CMAKE_CURRENT_SOURCE_DIR}/${sub}/*.cpp)
  endforeach()
  file(GLOB sources CONFIGURE_DEPENDS ${globs})
  list(FILTER sources EXCLUDE REGEX "/main\\.cpp$")  # a program's entry point is not library code
  add_library(tginvite_${M_NAME} STATIC ${sources})
  target_include_directories(tginvite_${M_NAME} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(tginvite_${M_NAME} PUBLIC ${M_DEPS} PRIVATE ${M_PRIVATE_DEPS})
  tginvite_warnings(tginvite_${M_NAME})
endfunction()
