# Instrumented builds, each in a build folder of its own:
#   TGINVITE_SANITIZE  AddressSanitizer + UndefinedBehaviorSanitizer on every target, tests and the
#                      tginvite binary included (scripts/sanitize.sh, `make sanitize`);
#   TGINVITE_FUZZ      the same with clang and libFuzzer's coverage instrumentation, for the
#                      targets under tests/fuzz (scripts/fuzz.sh).
# Both stop at the first finding (-fno-sanitize-recover=all), so a test or a fuzz run fails on it.
# _GLIBCXX_ASSERTIONS adds libstdc++'s cheap precondition checks (operator[] in range, front() of a
# non-empty container); it does not change the ABI, so the system's libraries still link.
if(TGINVITE_SANITIZE AND TGINVITE_FUZZ)
  message(FATAL_ERROR "TGINVITE_SANITIZE and TGINVITE_FUZZ are separate builds: turn one off")
endif()

set(tginvite_instrumented_flags
  -fno-omit-frame-pointer -fno-sanitize-recover=all -D_GLIBCXX_ASSERTIONS)

# GCC's -fsanitize=undefined leaves out float-cast-overflow (a double outside the integer it is
# converted to), which clang's includes; both builds check it.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  list(APPEND tginvite_instrumented_flags -fsanitize=float-cast-overflow)
endif()

if(TGINVITE_SANITIZE)
  add_compile_options(-fsanitize=address,undefined ${tginvite_instrumented_flags})
  add_link_options(-fsanitize=address,undefined)
  # For the few tests that must know (tests/e2e/fleet_pgtest.cpp: timing measured against limits).
  add_compile_definitions(TGINVITE_SANITIZED_BUILD)
endif()

if(TGINVITE_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "TGINVITE_FUZZ needs clang and its libFuzzer runtime "
      "(apt-get install clang libclang-rt-dev): configure with -DCMAKE_CXX_COMPILER=clang++")
  endif()
  # Libraries get the coverage hooks only; the fuzz targets add -fsanitize=fuzzer, which links
  # libFuzzer's main (tests/fuzz/CMakeLists.txt).
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined ${tginvite_instrumented_flags})
  add_link_options(-fsanitize=address,undefined)
endif()
