#!/usr/bin/env bash
# Runs every test of build/ through CTest next to a throw-away PostgreSQL 15 (scripts/with-postgres.sh:
# started in a temporary folder on a free port, stopped and removed at the end, also when a test
# fails), so the *_pgtest suites (label `pg`) run too. Exits with CTest's code. Extra arguments go
# to ctest (e.g. scripts/test.sh -R Settings, or -LE pg for the hermetic tests alone).
# TGINVITE_BUILD_DIR picks another build folder (default build/).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build_dir=${TGINVITE_BUILD_DIR:-build}
ctest_args=(--test-dir "$build_dir" -j2 --output-on-failure --timeout 300 "$@")
if [[ -n "${TGINVITE_TEST_PG:-}" ]]; then
  # A server chosen by the caller: use it as it is.
  exec ctest "${ctest_args[@]}"
fi
exec scripts/with-postgres.sh ctest "${ctest_args[@]}"
