#!/usr/bin/env bash
# Runs a command next to a throw-away PostgreSQL 15: initdb in a temporary folder, a free port on
# 127.0.0.1, its unix socket in the same folder, fsync off (test data only). The command sees
#   TGINVITE_TEST_PG          a libpq URL of the server's `postgres` database (superuser, trust)
#   TGINVITE_TEST_PG_RESTART  a script that restarts the server (fast shutdown, waits until up)
# and the server is stopped and its folder removed when the command ends — also when it fails or
# the script is interrupted. The server refuses to run as root, so under root it runs as the
# `postgres` user (created by Debian's postgresql package).
#
#   scripts/with-postgres.sh ctest --test-dir build
# Exits with the command's code; 1 when the server cannot be started.
set -euo pipefail

pg_bin=${TGINVITE_PG_BIN:-/usr/lib/postgresql/15/bin}
if [[ ! -x "$pg_bin/initdb" ]]; then
  echo "with-postgres: $pg_bin/initdb not found (apt-get install postgresql-15)" >&2
  exit 1
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/tginvite-pg-XXXXXX")
as_owner=()
if [[ $(id -u) -eq 0 ]]; then
  chown postgres: "$dir"
  as_owner=(runuser -u postgres --)
fi
chmod 700 "$dir"

stop() {
  local code=$?
  if [[ -f "$dir/pg/postmaster.pid" ]]; then
    "${as_owner[@]}" "$pg_bin/pg_ctl" -D "$dir/pg" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
  exit "$code"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"${as_owner[@]}" "$pg_bin/initdb" -D "$dir/pg" -A trust -U postgres -E UTF8 --locale=C \
  --no-sync >"$dir/initdb.log" 2>&1 || {
  cat "$dir/initdb.log" >&2
  echo "with-postgres: initdb failed" >&2
  exit 1
}

# A free port: try random ones until the server starts (another process may take a port between
# a check and the start, so the start itself is the check).
started=false
for _ in $(seq 1 20); do
  port=$((20000 + RANDOM % 40000))
  if "${as_owner[@]}" "$pg_bin/pg_ctl" -D "$dir/pg" -l "$dir/pg.log" -w -t 30 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 -c shared_buffers=128MB" \
    start >/dev/null 2>&1; then
    started=true
    break
  fi
done
if [[ "$started" != true ]]; then
  tail -n 20 "$dir/pg.log" >&2 || true
  echo "with-postgres: the server did not start" >&2
  exit 1
fi

cat >"$dir/restart.sh" <<RESTART
#!/usr/bin/env bash
exec ${as_owner[*]} "$pg_bin/pg_ctl" -D "$dir/pg" -l "$dir/pg.log" -m fast -w -t 60 restart
RESTART
chmod 755 "$dir/restart.sh"

export TGINVITE_TEST_PG="postgresql://postgres@127.0.0.1:$port/postgres"
export TGINVITE_TEST_PG_RESTART="$dir/restart.sh"
echo "with-postgres: PostgreSQL 15 on 127.0.0.1:$port (data in $dir)" >&2
set +e
"$@"
exit $?
