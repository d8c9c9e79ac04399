# Warnings are set per target, never through the global CMAKE_CXX_FLAGS.
function(tginvite_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wimplicit-fallthrough)
  if(TGINVITE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
