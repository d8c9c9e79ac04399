#!/usr/bin/env bash
# Installs the Debian 12 packages tginvite needs (only the missing ones) and configures build/
# with CMake + Ninja (only if it is not configured yet). Idempotent; quick when all is present.
# Needs root or sudo only when a package is missing. With CI set, warnings are errors.
# Arguments name more packages a caller needs (scripts/fuzz.sh: clang and its libFuzzer runtime).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

packages=(
  make cmake ninja-build g++ pkg-config ca-certificates
  libsqlite3-dev sqlite3 libcurl4-openssl-dev nlohmann-json3-dev libspdlog-dev libfmt-dev
  libcli11-dev libpqxx-dev libsodium-dev libhowardhinnant-date-dev libphonenumber-dev
  libcpp-httplib-dev libboost-dev zlib1g-dev libgtest-dev libgmock-dev googletest libbenchmark-dev tzdata time
  libpq-dev postgresql-15 chromium
  libqrencode-dev  # the QR codes of contacts' start links (src/web/qr.h)
  nginx-light openssl curl  # the README's nginx example is a test (tests/proxy)
  clang-tidy  # scripts/lint.sh, which make test runs
  help2man lintian systemd dpkg-dev  # the Debian package: its man page and its test (tests/package)
  "$@"
)
# Node.js (for the dashboard's chart library and the browser tests): Debian's nodejs + npm, unless
# a node with npm is already installed.
if ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for package in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
    [[ "$status" == "install ok installed" ]] || missing+=("$package")
  done
else
  echo "setup: dpkg-query not found (not Debian?): skipping package installation;" \
    "make sure these are installed: ${packages[*]}" >&2
fi

if ((${#missing[@]} > 0)); then
  echo "setup: installing ${missing[*]}"
  if [[ $(id -u) -eq 0 ]]; then
    as_root=()
  elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
  else
    echo "setup: these Debian packages are missing: ${missing[*]}" >&2
    echo "setup: installing them needs root, and sudo is not available;" \
      "run this script as root, or install them yourself with apt-get" >&2
    exit 1
  fi
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  # Installing a server package starts its service; nginx is here only for a test of the README's
  # proxy example (tests/proxy), so service starts are refused while installing (Debian's
  # policy-rc.d convention), unless the machine has a policy of its own.
  policy=/usr/sbin/policy-rc.d
  own_policy=false
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' | "${as_root[@]}" tee "$policy" >/dev/null
    "${as_root[@]}" chmod 755 "$policy"
    own_policy=true
  fi
  status=0
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}" || status=$?
  [[ $own_policy == true ]] && "${as_root[@]}" rm -f "$policy"
  ((status == 0)) || exit "$status"
fi

# The npm packages (package.json: the chart library embedded in the binary, the official TDLib
# build that user accounts load at run time, and playwright-core for the browser tests, which
# drives Debian's chromium and never downloads one).
# Installed again only when package.json or package-lock.json changed.
if [[ -f package.json ]]; then
  stamp=node_modules/.tginvite-installed
  if [[ ! -f $stamp || package.json -nt $stamp || ( -f package-lock.json && package-lock.json -nt $stamp ) ]]; then
    echo "setup: installing npm packages"
    export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
    if [[ -f package-lock.json ]]; then
      npm ci --no-audit --no-fund --loglevel=error
    else
      npm install --no-audit --no-fund --loglevel=error
    fi
    touch "$stamp"
  fi
fi

cmake_args=(-S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo)
configure=false
[[ -f build/build.ninja ]] || configure=true
if [[ -n "${CI:-}" ]]; then
  cmake_args+=(-DTGINVITE_WERROR=ON)
  # A build/ configured outside CI is reconfigured once so that warnings are errors.
  grep -q '^TGINVITE_WERROR:BOOL=ON$' build/CMakeCache.txt 2>/dev/null || configure=true
fi
if [[ "$configure" == true ]]; then
  cmake "${cmake_args[@]}"
fi
