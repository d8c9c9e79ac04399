#!/usr/bin/env bash
# `make sanitize`: builds the whole project (libraries, tests and the tginvite binary the end-to-end
# and browser tests start; not the benchmarks) with AddressSanitizer, LeakSanitizer and
# UndefinedBehaviorSanitizer into build-sanitize/ (CMake option TGINVITE_SANITIZE, g++), then runs
# the whole suite there with scripts/test.sh, next to a throw-away PostgreSQL. Any finding stops
# the process that made it with a stack trace, so the test that ran it fails. Installs what it
# needs first (scripts/setup.sh). Extra arguments go to ctest (e.g. scripts/sanitize.sh -R Csv).
# Prints how long the build and the tests took; exits with CTest's code.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build_dir=build-sanitize
scripts/setup.sh

if [[ ! -f $build_dir/build.ninja ]]; then
  werror=OFF
  [[ -z "${CI:-}" ]] || werror=ON
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTGINVITE_SANITIZE=ON \
    -DTGINVITE_BUILD_BENCHMARKS=OFF -DTGINVITE_WERROR="$werror"
fi
build_start=$SECONDS
cmake --build "$build_dir" -j2
build_seconds=$((SECONDS - build_start))

# halt_on_error/abort_on_error: the first finding ends the process with SIGABRT (UBSan's checks
# are compiled with -fno-sanitize-recover=all as well), which no test expects of a process it
# starts; detect_leaks: LeakSanitizer checks every process that exits normally, the tginvite
# binaries the end-to-end tests start included, and a leak makes it exit 23 (exitcode), a code
# tginvite never uses. Options the caller set win.
asan=halt_on_error=1:abort_on_error=1:print_stacktrace=1:detect_leaks=1:exitcode=23
asan+=:strict_string_checks=1
asan+=:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1
export ASAN_OPTIONS=$asan${ASAN_OPTIONS:+:$ASAN_OPTIONS}
export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}
# TDLib from npm is loaded with dlopen and not built with the sanitizers: its own leaks are
# suppressed by name (tests/sanitizers/lsan.supp), nothing of ours.
export LSAN_OPTIONS=suppressions=$PWD/tests/sanitizers/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}

test_start=$SECONDS
set +e
TGINVITE_BUILD_DIR=$build_dir scripts/test.sh "$@"
code=$?
set -e
test_seconds=$((SECONDS - test_start))
echo "sanitize: build ${build_seconds}s, tests ${test_seconds}s (exit $code)"
exit "$code"
