#!/usr/bin/env bash
# Whole-process CSV import benchmark (issue #2): imports ROWS generated contacts with
# `tginvite import` and compares it with the floor measured in the same run on the same file —
# the sqlite3 shell's `.import --csv` into a bare table (same columns, all TEXT, no indexes).
# Prints rows/s and peak RSS of both and the time ratio ours/floor. Goal: ratio <= 2, RSS <= 64 MiB.
# A third, informational run shows what SQLite itself needs for tginvite's schema: the same rows
# put into a `tginvite init` database's contacts table (three UNIQUE indexes) by one INSERT ... SELECT
# in the sqlite3 shell, with no validation at all.
#
# usage: bench/import_benchmark.sh [ROWS] [BUILD_DIR]      (defaults: 1000000 build)
# Needs: BUILD_DIR/tginvite and BUILD_DIR/bench/gen_contacts built (Release), sqlite3,
# GNU time at /usr/bin/time. Exits non-zero if the import fails or imports a different count.
set -euo pipefail

rows=${1:-1000000}
build=${2:-build}
tginvite=$build/tginvite
gen=$build/bench/gen_contacts
time_bin=/usr/bin/time

fail() { echo "import_benchmark: $*" >&2; exit 1; }
[[ $rows =~ ^[1-9][0-9]*$ ]] || fail "ROWS must be a positive integer, got \"$rows\""
[[ -x $tginvite ]] || fail "$tginvite not found; build the tginvite target in $build"
[[ -x $gen ]] || fail "$gen not found; build the gen_contacts target in $build"
command -v sqlite3 >/dev/null || fail "sqlite3 (the shell) is not installed"
[[ -x $time_bin ]] || fail "GNU time ($time_bin) is not installed"

work=$(mktemp -d "${TMPDIR:-/tmp}/tginvite-import-bench.XXXXXX")
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

echo "generating $rows contacts ..." >&2
"$gen" "$rows" >"$csv"
cat "$csv" >/dev/null  # warm the page cache so both runs read from memory
csv_mib=$(awk -v b="$(stat -c %s "$csv")" 'BEGIN { printf "%.1f", b / 1048576 }')

# The floor: the sqlite3 shell's CSV import into a bare table, in one process.
echo "floor: sqlite3 .import --csv ..." >&2
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
  -v ref_s="$schema_secs" -v ref_c="$schema_cpu" -v ref_r="$schema_rss" '
function rate(s) { return s > 0 ? sprintf("%.0f", rows / s) : "inf" }
function ratio(a, b) { return b > 0 ? a / b : 0 }
function line(name, s, c, r) {
  printf "| %-46s | %9s | %7.2f | %7.2f | %9s | %12.1f |\n", name, rows, s, c, rate(s), r / 1024
}
BEGIN {
  printf "| %-46s | %9s | %7s | %7s | %9s | %12s |\n", "run", "rows", "wall s", "CPU s", "rows/s",
         "peak RSS MiB"
  print "|------------------------------------------------|----------:|--------:|--------:|----------:|-------------:|"
  line("floor: sqlite3 .import --csv, bare table", floor_s, floor_c, floor_r)
  line("tginvite import", ours_s, ours_c, ours_r)
  line("reference: sqlite3 into tginvite schema", ref_s, ref_c, ref_r)
  time_ratio = ratio(ours_s, floor_s)
  printf "\nratio tginvite/floor, wall time: %.2fx (CPU time %.2fx)   goal <= 2x: %s\n", time_ratio,
         ratio(ours_c, floor_c), (time_ratio <= 2 ? "met" : "NOT met")
  printf "tginvite peak RSS: %.1f MiB   goal <= 64 MiB: %s\n", ours_r / 1024,
         (ours_r <= 65536 ? "met" : "NOT met")
  printf "reference/floor, wall time: %.2fx (what the schema alone costs)\n", ratio(ref_s, floor_s)
}'
