#!/usr/bin/env bash
# Whole-process CSV import benchmark (issue #2): imports ROWS generated contacts with
# `tginvite import` and compares it with the floor measured in the same run on the same file —
# the sqlite3 shell's `.import --csv` into a bare table (same columns, all TEXT, no indexes).
# Prints rows/s and peak RSS of both and the time ratio ours/floor. Goal (issue 14): ratio <= 3,
# RSS <= 64 MiB; on PostgreSQL, ratio <= 2 against its own floor.
# A third, informational run shows what SQLite itself needs for tginvite's schema: the same rows
# put into a `tginvite init` database's contacts table (three UNIQUE indexes) by one INSERT ... SELECT
# in the sqlite3 shell, with no validation at all.
#
# With IMPORT_BENCH_PG=1 the same file goes into PostgreSQL 15 instead (TGINVITE_TEST_PG when set,
# else the script runs itself under scripts/with-postgres.sh: a throw-away server with fsync off).
# The floor is psql's `\copy ... (FORMAT csv)` into a bare table; the reference is the same rows
# moved by one INSERT ... SELECT into a migrated database's contacts table; each run gets a fresh
# database. Peak RSS is the client process's (tginvite or psql), not the server's. In this mode,
# IMPORT_BENCH_BASELINE=path/to/another/tginvite also times a second binary on the same file in the
# same run (for example a build of an older commit), reported with its ratio to ours.
#
# usage: bench/import_benchmark.sh [ROWS] [BUILD_DIR]      (defaults: 1000000 build)
# Needs: BUILD_DIR/tginvite and BUILD_DIR/bench/gen_contacts built (Release), sqlite3 (or, for
# PostgreSQL, psql and postgresql-15), GNU time at /usr/bin/time. Exits non-zero if an import fails
# or imports a different count.
set -euo pipefail

postgres=${IMPORT_BENCH_PG:-}
if [[ -n $postgres && -z ${TGINVITE_TEST_PG:-} ]]; then
  exec "$(dirname "${BASH_SOURCE[0]}")/../scripts/with-postgres.sh" "$0" "$@"
fi

rows=${1:-1000000}
build=${2:-build}
tginvite=$build/tginvite
gen=$build/bench/gen_contacts
time_bin=/usr/bin/time

fail() { echo "import_benchmark: $*" >&2; exit 1; }
[[ $rows =~ ^[1-9][0-9]*$ ]] || fail "ROWS must be a positive integer, got \"$rows\""
[[ -x $tginvite ]] || fail "$tginvite not found; build the tginvite target in $build"
[[ -x $gen ]] || fail "$gen not found; build the gen_contacts target in $build"
baseline=${IMPORT_BENCH_BASELINE:-}
[[ -z $baseline || -x $baseline ]] || fail "IMPORT_BENCH_BASELINE: $baseline is not executable"
if [[ -n $postgres ]]; then
  psql_bin=/usr/lib/postgresql/15/bin/psql
  [[ -x $psql_bin ]] || psql_bin=$(command -v psql) || fail "psql is not installed"
else
  command -v sqlite3 >/dev/null || fail "sqlite3 (the shell) is not installed"
fi
[[ -x $time_bin ]] || fail "GNU time ($time_bin) is not installed"

work=$(mktemp -d "${TMPDIR:-/tmp}/tginvite-import-bench.XXXXXX")
export TGINVITE_SECRET_KEY_FILE=$work/secret.key  # init makes it here, not in the caller's folder
trap 'rm -rf "$work"' EXIT
csv=$work/contacts.csv

# Runs "$@" under GNU time; sets `secs` (elapsed), `cpu` (user + system seconds) and `rss_kib`
# (peak RSS). The command's own output goes to $work/$label.out / .err.
measure() {
  local label=$1
  shift
  if ! "$time_bin" -f '%e %M %U %S' -o "$work/$label.time" "$@" >"$work/$label.out" 2>"$work/$label.err"; then
    cat "$work/$label.out" "$work/$label.err" >&2
    fail "$label failed: $*"
  fi
  local user sys
  read -r secs rss_kib user sys <"$work/$label.time"
  cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
}

# What both reports share (awk): a table of runs (rows, wall and CPU seconds, rows/s, peak RSS)
# and ratios. Each report appends its own BEGIN block.
table_awk='
function rate(s) { return s > 0 ? sprintf("%.0f", rows / s) : "inf" }
function ratio(a, b) { return b > 0 ? a / b : 0 }
function line(name, s, c, r) {
  printf "| %-46s | %9s | %7.2f | %7.2f | %9s | %12.1f |\n", name, rows, s, c, rate(s), r / 1024
}
function header() {
  printf "| %-46s | %9s | %7s | %7s | %9s | %12s |\n", "run", "rows", "wall s", "CPU s", "rows/s",
         "peak RSS MiB"
  print "|------------------------------------------------|----------:|--------:|--------:|----------:|-------------:|"
}'

echo "generating $rows contacts ..." >&2
"$gen" "$rows" >"$csv"
cat "$csv" >/dev/null  # warm the page cache so both runs read from memory
csv_mib=$(awk -v b="$(stat -c %s "$csv")" 'BEGIN { printf "%.1f", b / 1048576 }')

# PostgreSQL mode: every run in a fresh database of the server named by TGINVITE_TEST_PG.
if [[ -n $postgres ]]; then
  admin=$TGINVITE_TEST_PG
  # fresh_db NAME: drops and creates database NAME; sets `db` to its URL.
  fresh_db() {
    PGOPTIONS='-c client_min_messages=warning' "$psql_bin" -qX "$admin" \
      -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >/dev/null
    db="${admin%/*}/$1"
  }
  count_contacts() { "$psql_bin" -qXtA "$1" -c 'SELECT count(*) FROM contacts'; }
  # import_with LABEL BINARY: a migrated fresh database, then `BINARY import` alone is timed.
  import_with() {
    local label=$1 bin=$2
    fresh_db "bench_$label"
    "$bin" --db "$db" migrate >/dev/null
    echo "load before $label: $(cat /proc/loadavg)" >&2
    measure "$label" "$bin" --db "$db" import "$csv"
    local imported
    imported=$(count_contacts "$db")
    if [[ $imported != "$rows" ]]; then
      head -n 20 "$work/$label.out" >&2
      fail "$label imported $imported contacts, expected $rows"
    fi
  }

  echo "floor: psql \\copy (FORMAT csv) into a bare table ..." >&2
  fresh_db bench_floor
  "$psql_bin" -qX "$db" -c "CREATE TABLE bare (telegram_user_id TEXT, username TEXT, first_name TEXT, last_name TEXT, phone TEXT, consent TEXT)"
  echo "load before floor: $(cat /proc/loadavg)" >&2
  measure floor "$psql_bin" -qX "$db" -c "\\copy bare FROM '$csv' WITH (FORMAT csv, HEADER true)"
  floor_secs=$secs floor_cpu=$cpu floor_rss=$rss_kib
  floor_rows=$("$psql_bin" -qXtA "$db" -c 'SELECT count(*) FROM bare')
  [[ $floor_rows == "$rows" ]] || fail "floor: psql copied $floor_rows rows, expected $rows"

  echo "tginvite import ..." >&2
  import_with tginvite "$tginvite"
  ours_secs=$secs ours_cpu=$cpu ours_rss=$rss_kib
  summary=$(sed -n "s/^import .*: \([0-9,]* imported.*\)/\1/p" "$work/tginvite.out" | tail -n 1)
  base_secs=0 base_cpu=0 base_rss=0
  if [[ -n $baseline ]]; then
    echo "baseline import ($baseline) ..." >&2
    import_with baseline "$baseline"
    base_secs=$secs base_cpu=$cpu base_rss=$rss_kib
  fi

  # Reference: PostgreSQL alone filling tginvite's contacts table (its primary key, three UNIQUE
  # and four search indexes) with the same rows, no validation: \copy into a temporary table,
  # then one INSERT ... SELECT.
  echo "reference: psql \\copy + INSERT ... SELECT into tginvite's schema ..." >&2
  fresh_db bench_schema
  "$tginvite" --db "$db" migrate >/dev/null
  echo "load before reference: $(cat /proc/loadavg)" >&2
  measure schema "$psql_bin" -qX -v ON_ERROR_STOP=1 "$db" \
    -c "CREATE TEMP TABLE bare (telegram_user_id TEXT, username TEXT, first_name TEXT, last_name TEXT, phone TEXT, consent TEXT)" \
    -c "\\copy bare FROM '$csv' WITH (FORMAT csv, HEADER true)" \
    -c "INSERT INTO contacts (telegram_user_id, username, phone, first_name, last_name, created_at, updated_at) SELECT telegram_user_id::bigint, NULLIF(username, ''), NULLIF(replace(replace(phone, ' ', ''), '-', ''), ''), COALESCE(first_name, ''), COALESCE(last_name, ''), 0, 0 FROM bare"
  schema_secs=$secs schema_cpu=$cpu schema_rss=$rss_kib
  schema_rows=$(count_contacts "$db")
  [[ $schema_rows == "$rows" ]] || fail "reference: psql inserted $schema_rows rows, expected $rows"

  cpu_model=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)
  mem=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
  server=$("$psql_bin" -qXtA "$admin" -c 'SHOW server_version' | cut -d' ' -f1)
  settings=$("$psql_bin" -qXtA "$admin" -c "SELECT string_agg(name || '=' || current_setting(name), ' ' ORDER BY name) FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'shared_buffers', 'full_page_writes')")

  echo
  echo "CSV import benchmark (PostgreSQL): $rows rows, $csv_mib MiB CSV"
  echo "machine: nproc $(nproc), $cpu_model, $mem RAM; PostgreSQL $server ($settings); $(date -u +%Y-%m-%d)"
  echo "tginvite: $summary"
  echo "CPU s and peak RSS are the client process's; the server's work shows in wall time only."
  echo
  awk -v rows="$rows" -v has_base="${baseline:+1}" \
    -v floor_s="$floor_secs" -v floor_c="$floor_cpu" -v floor_r="$floor_rss" \
    -v ours_s="$ours_secs" -v ours_c="$ours_cpu" -v ours_r="$ours_rss" \
    -v base_s="$base_secs" -v base_c="$base_cpu" -v base_r="$base_rss" \
    -v ref_s="$schema_secs" -v ref_c="$schema_cpu" -v ref_r="$schema_rss" "$table_awk"'
BEGIN {
  header()
  line("floor: psql \\copy csv, bare table", floor_s, floor_c, floor_r)
  line("tginvite import", ours_s, ours_c, ours_r)
  if (has_base) line("baseline: IMPORT_BENCH_BASELINE import", base_s, base_c, base_r)
  line("reference: \\copy + INSERT into tginvite schema", ref_s, ref_c, ref_r)
  time_ratio = ratio(ours_s, floor_s)
  printf "\nratio tginvite/floor, wall time: %.2fx   goal <= 2x: %s\n", time_ratio,
         (time_ratio <= 2 ? "met" : "NOT met")
  if (has_base) printf "ratio baseline/tginvite, wall time: %.2fx (baseline/floor %.2fx)\n",
                       ratio(base_s, ours_s), ratio(base_s, floor_s)
  printf "tginvite peak RSS: %.1f MiB\n", ours_r / 1024
  printf "reference/floor, wall time: %.2fx (what the schema alone costs)\n", ratio(ref_s, floor_s)
}'
  echo "load after: $(cat /proc/loadavg)"
  exit 0
fi

# The floor: the sqlite3 shell's CSV import into a bare table, in one process.
echo "floor: sqlite3 .import --csv ..." >&2
echo "load before floor: $(cat /proc/loadavg)" >&2
measure floor sqlite3 "$work/floor.db" \
  "CREATE TABLE bare (telegram_user_id TEXT, username TEXT, first_name TEXT, last_name TEXT, phone TEXT, consent TEXT);" \
  ".import --csv --skip 1 \"$csv\" bare"
floor_secs=$secs floor_cpu=$cpu floor_rss=$rss_kib
floor_rows=$(sqlite3 "$work/floor.db" 'SELECT count(*) FROM bare')
[[ $floor_rows == "$rows" ]] || fail "floor: sqlite3 imported $floor_rows rows, expected $rows"

# Ours: a fresh database, then the import alone is timed.
echo "tginvite import ..." >&2
db="sqlite:$work/t.db"
"$tginvite" --db "$db" init >/dev/null
echo "load before tginvite: $(cat /proc/loadavg)" >&2
measure tginvite "$tginvite" --db "$db" import "$csv"
ours_secs=$secs ours_cpu=$cpu ours_rss=$rss_kib
summary=$(sed -n "s/^import .*: \([0-9,]* imported.*\)/\1/p" "$work/tginvite.out" | tail -n 1)
ours_rows=$(sqlite3 "$work/t.db" 'SELECT count(*) FROM contacts')
if [[ $ours_rows != "$rows" ]]; then
  head -n 20 "$work/tginvite.out" >&2
  fail "tginvite imported $ours_rows contacts, expected $rows"
fi

# Reference (not the goal's floor): SQLite alone filling tginvite's schema with the same rows.
echo "reference: sqlite3 INSERT ... SELECT into tginvite's schema ..." >&2
"$tginvite" --db "sqlite:$work/schema.db" init >/dev/null
echo "load before reference: $(cat /proc/loadavg)" >&2
measure schema sqlite3 "$work/schema.db" \
  "CREATE TEMP TABLE bare (telegram_user_id TEXT, username TEXT, first_name TEXT, last_name TEXT, phone TEXT, consent TEXT);" \
  ".import --csv --skip 1 \"$csv\" bare" \
  "INSERT INTO contacts (telegram_user_id, username, phone, first_name, last_name, created_at, updated_at) SELECT CAST(telegram_user_id AS INTEGER), NULLIF(username, ''), NULLIF(replace(replace(phone, ' ', ''), '-', ''), ''), first_name, last_name, 0, 0 FROM bare;"
schema_secs=$secs schema_cpu=$cpu schema_rss=$rss_kib
schema_rows=$(sqlite3 "$work/schema.db" 'SELECT count(*) FROM contacts')
[[ $schema_rows == "$rows" ]] || fail "reference: sqlite3 inserted $schema_rows rows, expected $rows"

cpu_model=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)
mem=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
sqlite_version=$(sqlite3 --version | cut -d' ' -f1)

echo
echo "CSV import benchmark: $rows rows, $csv_mib MiB CSV"
echo "machine: nproc $(nproc), $cpu_model, $mem RAM; sqlite3 shell $sqlite_version; $(date -u +%Y-%m-%d)"
echo "tginvite: $summary"
echo
awk -v rows="$rows" \
  -v floor_s="$floor_secs" -v floor_c="$floor_cpu" -v floor_r="$floor_rss" \
  -v ours_s="$ours_secs" -v ours_c="$ours_cpu" -v ours_r="$ours_rss" \
  -v ref_s="$schema_secs" -v ref_c="$schema_cpu" -v ref_r="$schema_rss" "$table_awk"'
BEGIN {
  header()
  line("floor: sqlite3 .import --csv, bare table", floor_s, floor_c, floor_r)
  line("tginvite import", ours_s, ours_c, ours_r)
  line("reference: sqlite3 into tginvite schema", ref_s, ref_c, ref_r)
  time_ratio = ratio(ours_s, floor_s)
  printf "\nratio tginvite/floor, wall time: %.2fx (CPU time %.2fx)   goal <= 3x: %s\n", time_ratio,
         ratio(ours_c, floor_c), (time_ratio <= 3 ? "met" : "NOT met")
  printf "tginvite peak RSS: %.1f MiB   goal <= 64 MiB: %s\n", ours_r / 1024,
         (ours_r <= 65536 ? "met" : "NOT met")
  printf "reference/floor, wall time: %.2fx (what the schema alone costs)\n", ratio(ref_s, floor_s)
}'
echo "load after: $(cat /proc/loadavg)"
