# Warnings are set per target, never through the global CMAKE_CXX_FLAGS.
function(tginvite_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wimplicit-fallthrough)
  if(TGINVITE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
    # GCC 12 at -O3 (Release) reports std::variant<..., std::string> parameters in initializer
    # lists as "maybe uninitialized" and std::string appends as overlapping memcpy ("restrict"):
    # known false positives of its inliner. Still shown, never fatal.
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_GREATER_EQUAL 12)
      target_compile_options(${target} PRIVATE -Wno-error=maybe-uninitialized -Wno-error=restrict)
    endif()
  endif()
endfunction()
