#!/usr/bin/env bash
# Runs every test of build/ through CTest; exits with CTest's code. Extra arguments go to ctest
# (e.g. scripts/test.sh -R Settings).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec ctest --test-dir build -j2 --output-on-failure --timeout 300 "$@"
