#!/usr/bin/env bash
# Fuzzes tginvite with libFuzzer: builds every tests/fuzz/<name>_fuzz.cpp with clang, ASan and UBSan
# into build-fuzz/ (configured on first use; only the libraries the targets need) and runs each
# target for SECONDS seconds, one after the other.
#
#   scripts/fuzz.sh SECONDS [NAME...]      e.g. scripts/fuzz.sh 60, or scripts/fuzz.sh 300 csv
#
# Each target works on build-fuzz/corpus/<name>/: the committed seeds of tests/fuzz/corpus/<name>/
# copied in, plus what earlier runs found (delete the folder to start from the seeds alone). The
# committed corpus never changes by itself: add an input to it by hand, e.g. a fixed crash.
# A crash, failed check, leak, timeout (one input over 10 s) or out-of-memory input is saved under
# build-fuzz/artifacts/<name>/; replay one with build-fuzz/fuzz/<name>_fuzz FILE. Logs are in
# build-fuzz/logs/. Prints the executions per target and exits 1 if any target found something.
# A new tests/fuzz/*_fuzz.cpp is picked up without changing this script.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

usage="usage: scripts/fuzz.sh SECONDS [NAME...]"
seconds=${1:?$usage}
shift
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
  echo "$usage (SECONDS: a whole number above 0)" >&2
  exit 2
fi

build_dir=build-fuzz
max_len=${FUZZ_MAX_LEN:-4096}  # bytes per input
timeout_seconds=10             # one input running longer is a hang
rss_limit_mb=2048

# clang with libFuzzer and the sanitizer runtimes, llvm-symbolizer for readable stack traces.
scripts/setup.sh clang libclang-rt-dev llvm

targets=()
if (($# > 0)); then
  for name in "$@"; do
    if [[ ! -f tests/fuzz/${name}_fuzz.cpp ]]; then
      echo "fuzz: no target '$name' (tests/fuzz/${name}_fuzz.cpp)" >&2
      exit 2
    fi
    targets+=("$name")
  done
else
  for source in tests/fuzz/*_fuzz.cpp; do
    name=$(basename "$source" .cpp)
    targets+=("${name%_fuzz}")
  done
fi

if [[ ! -f $build_dir/build.ninja ]]; then
  werror=OFF
  [[ -z "${CI:-}" ]] || werror=ON
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_COMPILER=clang++ -DTGINVITE_FUZZ=ON -DTGINVITE_BUILD_TESTS=OFF \
    -DTGINVITE_BUILD_BENCHMARKS=OFF -DTGINVITE_WERROR="$werror"
fi
build_targets=()
for name in "${targets[@]}"; do build_targets+=("${name}_fuzz"); done
cmake --build "$build_dir" -j2 --target "${build_targets[@]}"

export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
if symbolizer=$(command -v llvm-symbolizer); then
  export ASAN_SYMBOLIZER_PATH=$symbolizer
fi

mkdir -p "$build_dir/logs"
summary=()
failed=0
for name in "${targets[@]}"; do
  corpus=$build_dir/corpus/$name
  artifacts=$build_dir/artifacts/$name
  log=$build_dir/logs/$name.log
  mkdir -p "$corpus" "$artifacts"
  if [[ -d tests/fuzz/corpus/$name ]]; then
    cp -n tests/fuzz/corpus/"$name"/* "$corpus"/ 2>/dev/null || true
  else
    echo "fuzz: $name: no seed corpus (tests/fuzz/corpus/$name/): starting from nothing" >&2
  fi
  before=$(find "$artifacts" -type f | wc -l)
  echo "fuzz: $name for ${seconds}s (log: $log)"
  set +e
  "$build_dir/fuzz/${name}_fuzz" "$corpus" -max_total_time="$seconds" -timeout="$timeout_seconds" \
    -rss_limit_mb="$rss_limit_mb" -max_len="$max_len" -print_final_stats=1 \
    -artifact_prefix="$artifacts/" >"$log" 2>&1
  code=$?
  set -e
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  per_second=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  after=$(find "$artifacts" -type f | wc -l)
  if ((code != 0 || after > before)); then
    failed=1
    result="FOUND SOMETHING (exit $code): see $log and $artifacts/"
    grep -E '^(==[0-9]+==ERROR|SUMMARY|.*FUZZ_CHECK failed|.*runtime error)' "$log" | head -n 5 >&2 || true
  else
    result="ok"
  fi
  summary+=("$(printf '%-12s %12s %10s  %s' "$name" "${executions:-?}" "${per_second:-?}" "$result")")
done

echo
printf 'fuzz: %-12s %12s %10s  %s\n' target executions exec/s result
for line in "${summary[@]}"; do echo "fuzz: $line"; done
exit "$failed"
