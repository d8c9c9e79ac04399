#!/usr/bin/env bash
# The Debian package (cmake/Package.cmake, packaging/): builds it with the `deb` target (cpack),
# then checks what `make package` hands to an admin:
#   - the file name and the version (a valid Debian version, the same in the name and the control);
#   - dpkg-deb --contents: the binary, both units, the env file, the man page, copyright and
#     changelog, TDLib when node_modules has it; everything owned by root;
#   - the control fields: Depends from dpkg-shlibdeps plus adduser, the conffile, maintainer
#     scripts that create the user and never start the service on a first install;
#   - the units' hardening and settings line by line, and that the env file's defaults are the
#     units' and the variables are ones tginvite reads (its --help);
#   - the packaged binary, run from an extracted tree, finds the packaged libtdjson.so;
#   - lintian: no E: line (the warnings are printed);
#   - systemd-analyze verify of both units inside the extracted tree (--root): no complaint at all;
#   - as root, dpkg -i, -i again and -P under throw-away overlays in a private mount namespace.
# Exits 77 (CTest: skipped) when a tool is missing, naming it. TGINVITE_BUILD_DIR: the build folder.
set -uo pipefail

source_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build_dir=${TGINVITE_BUILD_DIR:-$source_dir/build}
failures=0
skipped=()
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

for tool in dpkg-deb dpkg cmake; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "SKIPPED: $tool is not installed (not Debian?): the package cannot be built or read"
    exit 77
  fi
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# --- build -------------------------------------------------------------------------------------
echo "building the package (cmake --build $build_dir --target deb)"
if ! cmake --build "$build_dir" --target deb >"$work/build.log" 2>&1; then
  cat "$work/build.log"
  echo "FAIL: the deb target failed"
  exit 1
fi
deb=$(sed -n 's/^CPack: - package: \(.*\) generated\.$/\1/p' "$work/build.log" | tail -1)
if [[ -z $deb || ! -f $deb ]]; then
  cat "$work/build.log"
  echo "FAIL: cpack named no package"
  exit 1
fi
echo "package: $deb ($(du -h "$deb" | cut -f1))"

# --- name and version --------------------------------------------------------------------------
version=$(dpkg-deb --field "$deb" Version)
if [[ $(basename "$deb") == "tginvite_${version}_amd64.deb" && $(dirname "$deb") -ef $build_dir ]]; then
  ok "file name $(basename "$deb") in the build folder"
else
  fail "file name $(basename "$deb") in $(dirname "$deb"), expected tginvite_${version}_amd64.deb in $build_dir"
fi
if dpkg --validate-version "$version" 2>/dev/null && [[ $version != *-* ]]; then
  ok "version $version (a native Debian version)"
else
  fail "version '$version' is not a valid native Debian version"
fi
base=$(sed -n 's/^project(tginvite VERSION \([0-9.]*\).*/\1/p' "$source_dir/CMakeLists.txt")
if [[ $version == "$base" || $version == "$base"+git* ]] || git -C "$source_dir" describe --tags \
    --match 'v[0-9]*' >/dev/null 2>&1; then
  ok "version from CMakeLists.txt's $base and git"
else
  fail "version $version does not start with CMakeLists.txt's $base"
fi

# --- contents ----------------------------------------------------------------------------------
dpkg-deb --contents "$deb" >"$work/contents"
expected=(
  ./usr/bin/tginvite
  ./lib/systemd/system/tginvite.service
  ./lib/systemd/system/tginvite-worker@.service
  ./etc/tginvite/tginvite.env
  ./usr/share/man/man1/tginvite.1.gz
  ./usr/share/doc/tginvite/copyright
  ./usr/share/doc/tginvite/changelog.gz
)
tdjson="$source_dir/node_modules/@prebuilt-tdlib/linux-x64-glibc/libtdjson.so"
if [[ -f $tdjson ]]; then
  expected+=(./usr/lib/tginvite/libtdjson.so ./usr/share/lintian/overrides/tginvite)
elif grep -q ' \./usr/lib/tginvite/libtdjson.so$' "$work/contents"; then
  fail "libtdjson.so is in the package although node_modules has none"
fi
for path in "${expected[@]}"; do
  if grep -q " ${path//./\\.}\$" "$work/contents"; then ok "contains ${path#.}"; else fail "missing ${path#.}"; fi
done
if awk '$2 != "root/root"' "$work/contents" | grep -q .; then
  fail "files not owned by root: $(awk '$2 != "root/root" {print $6}' "$work/contents" | head -3)"
fi
if grep -q ' \./usr/bin/tginvite$' "$work/contents" &&
    ! grep ' \./usr/bin/tginvite$' "$work/contents" | grep -q '^-rwxr-xr-x'; then
  fail "/usr/bin/tginvite is not 0755"
fi

# --- control -----------------------------------------------------------------------------------
depends=$(dpkg-deb --field "$deb" Depends)
echo "Depends: $depends"
for dep in libc6 libstdc++6 libsqlite3-0 libcurl4 libpq5 libsodium23 adduser; do
  if [[ ", $depends," == *", $dep "* || ", $depends," == *", $dep,"* ]]; then
    ok "Depends on $dep"
  else
    fail "Depends lacks $dep (dpkg-shlibdeps or CPACK_DEBIAN_PACKAGE_DEPENDS)"
  fi
done
[[ $(dpkg-deb --field "$deb" Architecture) == amd64 ]] || fail "Architecture is not amd64"
[[ -n $(dpkg-deb --field "$deb" Maintainer) ]] || fail "no Maintainer"
mkdir -p "$work/control"
dpkg-deb --control "$deb" "$work/control"
if [[ $(cat "$work/control/conffiles" 2>/dev/null) == "/etc/tginvite/tginvite.env" ]]; then
  ok "conffile /etc/tginvite/tginvite.env"
else
  fail "conffiles is not exactly /etc/tginvite/tginvite.env"
fi
for script in postinst prerm postrm; do
  if [[ ! -x $work/control/$script ]]; then fail "no executable $script"; continue; fi
  sh -n "$work/control/$script" || fail "$script: shell syntax"
done
grep -q 'adduser --system --group --home /var/lib/tginvite' "$work/control/postinst" ||
  fail "postinst does not create the tginvite system user"
# Never started on a first install: only try-restart (an upgrade of what runs) is allowed.
if grep -Eq 'deb-systemd-invoke +(start|restart)|systemctl .*(start|enable)' "$work/control/postinst"; then
  fail "postinst starts or enables a unit"
else
  ok "postinst creates the user and starts nothing"
fi

# --- the units and the env file ----------------------------------------------------------------
root="$work/root"
dpkg-deb --extract "$deb" "$root"
units="$root/lib/systemd/system"
common=(User=tginvite Group=tginvite StateDirectory=tginvite
  EnvironmentFile=/etc/tginvite/tginvite.env WorkingDirectory=/var/lib/tginvite
  ProtectSystem=strict ProtectHome=yes NoNewPrivileges=yes PrivateTmp=yes KillSignal=SIGTERM
  WantedBy=multi-user.target)
check_unit() {  # unit, then the lines it must have besides the common ones
  local unit=$1 line
  shift
  for line in "${common[@]}" "$@"; do
    grep -qxF "$line" "$units/$unit" || fail "$unit lacks the line $line"
  done
  local stop
  stop=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s\{0,1\}$/\1/p' "$units/$unit")
  # The graceful stop: http.timeout (15 s) + a minute of database retries + the long poll (5 s).
  if [[ -z $stop ]] || ((stop < 80)); then
    fail "$unit: TimeoutStopSec '${stop}' is shorter than the graceful stop (80 s)"
  fi
  ok "$unit: user, state folder, env file, hardening, stop signal and timeout"
}
check_unit tginvite.service 'ExecStart=/usr/bin/tginvite up --listen ${TGINVITE_LISTEN}' \
  Restart=on-failure
check_unit tginvite-worker@.service 'ExecStart=/usr/bin/tginvite run' Restart=always

"$root/usr/bin/tginvite" --help >"$work/help" 2>&1 || fail "the packaged tginvite --help failed"
# Each default of the env file (commented VAR=value) is the one the units set, and each variable
# the units set is one tginvite reads (listed in --help), but TGINVITE_LISTEN, the units' own.
env_file="$root/etc/tginvite/tginvite.env"
while IFS='=' read -r name value; do
  name=${name#\#}
  unit_value=$(sed -n "s/^Environment=$name=//p" "$units/tginvite.service")
  if [[ -n $unit_value && $unit_value != "$value" ]]; then
    fail "tginvite.env's default $name=$value is not the unit's $unit_value"
  fi
done < <(grep -E '^#TGINVITE_[A-Z_]+=.' "$env_file")
for name in $(sed -n 's/^Environment=\(TGINVITE_[A-Z_]*\)=.*/\1/p' "$units"/*.service | sort -u); do
  [[ $name == TGINVITE_LISTEN ]] && continue
  grep -q "Env:$name)" "$work/help" || fail "the units set $name, which tginvite --help does not list"
  grep -q "^#$name=" "$env_file" || fail "tginvite.env does not show $name's default"
done
ok "the env file's defaults are the units'; the variables are tginvite's"

# --- the binary finds the packaged TDLib --------------------------------------------------------
if [[ -f $tdjson ]]; then
  if (unset TGINVITE_TDJSON; "$root/usr/bin/tginvite" --version) 2>&1 |
      grep -qF "($root/usr/lib/tginvite/libtdjson.so)"; then
    ok "the packaged binary loads <prefix>/lib/tginvite/libtdjson.so"
  else
    fail "the packaged binary does not find its libtdjson.so: $("$root/usr/bin/tginvite" --version 2>&1 | tail -1)"
  fi
fi

# --- the man page ------------------------------------------------------------------------------
man="$root/usr/share/man/man1/tginvite.1.gz"
if gzip -t "$man" 2>/dev/null && zcat "$man" | grep -q '^\.TH TGINVITE "1"' &&
    zcat "$man" | grep -q 'ENVIRONMENT' && zcat "$man" | grep -q 'TGINVITE_DB'; then
  ok "man page tginvite(1) from --help"
else
  fail "the man page is not a gzipped tginvite(1) with the ENVIRONMENT section"
fi

# --- lintian -----------------------------------------------------------------------------------
if command -v lintian >/dev/null 2>&1; then
  # --show-overrides: the overridden tags (O:) are printed too, with the package's reasons.
  lintian --tag-display-limit 0 --display-info --show-overrides "$deb" >"$work/lintian" 2>&1
  echo "lintian says:"
  sed 's/^/  /' "$work/lintian"
  if grep -q '^E:' "$work/lintian"; then
    fail "lintian reports errors"
  else
    ok "lintian: no errors ($(grep -c '^W:' "$work/lintian") warnings)"
  fi
else
  skipped+=("lintian (not installed: run make setup)")
fi

# --- systemd-analyze verify ----------------------------------------------------------------------
# In the extracted tree, so that ExecStart's /usr/bin/tginvite is the packaged binary; the tree
# gets the host's targets (the units' dependencies) and /bin/sh (the worker's ExecStartPre).
if command -v systemd-analyze >/dev/null 2>&1; then
  mkdir -p "$root/usr/lib/systemd/system" "$root/bin"
  cp /lib/systemd/system/*.target "$root/usr/lib/systemd/system/"
  cp "$(readlink -f /bin/sh)" "$root/bin/sh"
  # --man=no: man:tginvite(1) is checked above, and man-db need not be installed here.
  systemd-analyze verify --man=no --root="$root" tginvite.service tginvite-worker@1.service \
    >"$work/verify" 2>&1
  verify_rc=$?
  if [[ $verify_rc -eq 0 && ! -s $work/verify ]]; then
    ok "systemd-analyze verify: both units accepted, no warnings"
  else
    sed 's/^/  /' "$work/verify"
    fail "systemd-analyze verify (exit $verify_rc) complains"
  fi
else
  skipped+=("systemd-analyze (not installed: run make setup)")
fi

# --- dpkg -i, again, -P, in a private mount namespace ---------------------------------------------
# As root, with /etc, /usr and /var under throw-away overlays that only this namespace sees: the
# maintainer scripts really run (the user, its folder, the env file's mode), and the host is left
# as it was. Not run (said so) where namespaces or overlays are not allowed.
if [[ $(id -u) -eq 0 ]] && unshare -m --propagation private true 2>/dev/null; then
  cat >"$work/install.sh" <<'INSTALL'
set -e
for d in etc usr var; do
  mkdir -p "$WORK/ns/$d/upper" "$WORK/ns/$d/work"
  mount -t overlay overlay \
    -o "lowerdir=/$d,upperdir=$WORK/ns/$d/upper,workdir=$WORK/ns/$d/work" "/$d"
done
dpkg -i "$DEB" >/dev/null
[ "$(getent passwd tginvite | cut -d: -f6,7)" = /var/lib/tginvite:/usr/sbin/nologin ]
[ "$(stat -c %U:%a /var/lib/tginvite)" = tginvite:750 ]
[ "$(stat -c %U:%G:%a /etc/tginvite/tginvite.env)" = root:tginvite:640 ]
cd /var/lib/tginvite
TGINVITE_ADMIN_PASSWORD='correct horse battery staple' \
  setpriv --reuid=tginvite --regid=tginvite --init-groups tginvite init >/dev/null
[ "$(stat -c %U:%a data/tginvite.db)" = tginvite:600 ]
dpkg -i "$DEB" >/dev/null   # the upgrade path
dpkg -P tginvite >/dev/null
[ ! -e /etc/tginvite/tginvite.env ] && [ -f /var/lib/tginvite/data/tginvite.db ]
INSTALL
  if WORK=$work DEB=$deb unshare -m --propagation private bash "$work/install.sh" \
      >"$work/install.log" 2>&1; then
    ok "dpkg -i, again, -P (overlays): user, folder 750, env file 640, init as tginvite, data kept"
  elif grep -q 'mount: ' "$work/install.log"; then
    echo "not run: dpkg -i in a private namespace (overlay mounts refused: $(head -1 "$work/install.log"))"
  else
    sed 's/^/  /' "$work/install.log"
    fail "dpkg -i / -P in a private namespace"
  fi
else
  echo "not run: dpkg -i in a private namespace (needs root and unshare -m)"
fi

if ((failures > 0)); then
  echo "$failures check(s) failed"
  exit 1
fi
if ((${#skipped[@]} > 0)); then
  printf 'SKIPPED: %s\n' "${skipped[@]}"
  exit 77
fi
echo "the package is as expected"
