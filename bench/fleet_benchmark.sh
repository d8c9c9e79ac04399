#!/usr/bin/env bash
# Whole-process fleet benchmark (issue #5): `tginvite up` workers against the Bot API test double
# (bench/fleet_double), every figure measured in the same run on the same machine.
#
#  1. Limits raised (double unlimited, telegram.rate 1000, dispatch.in_flight 16, 10 accounts):
#     invitations/s for 1, 2 and 4 workers on PostgreSQL and on SQLite (one file, WAL), and the
#     claim latency p50/p99 from the workers' tginvite_claim_duration_seconds histograms.
#  2. Limits on: 10 accounts at 30/s (double: 30/s per token, 50 ms tolerance; telegram.rate 30)
#     served by 3 workers on PostgreSQL: the steady aggregate rate (between 10 % and 90 % of the
#     deliveries) against 300/s, and the violations the double counted.
#
# usage: bench/fleet_benchmark.sh [BUILD_DIR]      (default build-pg)
# env:   RAISED_CONTACTS (default 12000), LIMITED_CONTACTS (default 15000; 0: no limits-on run),
#        WORKERS ("1 2 4"), SQLITE_WORKERS (default: WORKERS; empty: none), DOUBLE_LATENCY_MS (the
#        double's answer time; default 2), IN_FLIGHT (dispatch.in_flight of the limits-raised runs; default 16)
# Needs BUILD_DIR/tginvite and BUILD_DIR/bench/fleet_double, python3, and PostgreSQL 15: uses
# TGINVITE_TEST_PG when set, else runs itself under scripts/with-postgres.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build=${1:-build-pg}
if [[ -z "${TGINVITE_TEST_PG:-}" ]]; then
  exec scripts/with-postgres.sh "$0" "$@"
fi
tginvite=$PWD/$build/tginvite
double_bin=$PWD/$build/bench/fleet_double
[[ -x $tginvite && -x $double_bin ]] || { echo "build tginvite and fleet_double in $build" >&2; exit 1; }
psql_bin=/usr/lib/postgresql/15/bin/psql
[[ -x $psql_bin ]] || psql_bin=psql
accounts=10
raised_contacts=${RAISED_CONTACTS:-12000}
limited_contacts=${LIMITED_CONTACTS:-15000}
worker_counts=${WORKERS:-"1 2 4"}
latency_ms=${DOUBLE_LATENCY_MS:-2}
raised_in_flight=${IN_FLIGHT:-16}
sqlite_worker_counts=${SQLITE_WORKERS-$worker_counts}

work=$(mktemp -d "${TMPDIR:-/tmp}/tginvite-fleet-bench.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ -n ${KEEP_WORK:-} ]]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

echo "load before: $(cat /proc/loadavg)"

# CPU time (clock ticks, user + system) the given processes have used so far; gone ones count 0.
cpu_ticks() {
  local total=0 pid stat
  for pid in "$@"; do
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
    stat=${stat##*) }  # the fields after the command name (which may hold spaces)
    read -r -a fields <<<"$stat"
    total=$((total + fields[11] + fields[12]))
  done
  echo "$total"
}
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"

# run NAME BACKEND WORKERS CONTACTS DOUBLE_RATE ENGINE_RATE IN_FLIGHT
run() {
  local name=$1 backend=$2 workers=$3 contacts=$4 double_rate=$5 engine_rate=$6 in_flight=$7
  local dir=$work/$name
  mkdir -p "$dir"
  local db database=""
  if [[ $backend == sqlite ]]; then
    db="sqlite:$dir/t.db"
  else
    database="bench_${name//-/_}"
    "$psql_bin" -q "$TGINVITE_TEST_PG" -c "DROP DATABASE IF EXISTS $database" -c "CREATE DATABASE $database" >/dev/null
    db="${TGINVITE_TEST_PG%/*}/$database"
  fi
  export TGINVITE_DB=$db
  # Bot tokens are sealed: every process of the run has the same key, as a fleet's would.
  TGINVITE_SECRET_KEY=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
  export TGINVITE_SECRET_KEY
  "$double_bin" --accounts $accounts --rate "$double_rate" --latency-ms "$latency_ms" --threads 1000 >"$dir/double.out" &
  local double_pid=$!
  pids+=("$double_pid")
  for _ in $(seq 100); do grep -q '^port' "$dir/double.out" 2>/dev/null && break; sleep 0.05; done
  local port
  port=$(awk '/^port/ {print $2; exit}' "$dir/double.out")
  (
    cd "$dir"
    "$tginvite" migrate >/dev/null
    echo 'Hello {first_name}: {link}' >t.html
    local per=$((contacts / accounts))
    for a in $(seq 0 $((accounts - 1))); do
      export "BOT_TOKEN_$a=$("$double_bin" --print-token "$a")"
      "$tginvite" account add "bot$a" --bot-token-env "BOT_TOKEN_$a" --api-base "http://127.0.0.1:$port" >/dev/null
      "$tginvite" campaign create "c$a" --account "bot$a" --chat "-100123456$(printf %04d "$a")" --template-file t.html >/dev/null
      python3 -c "
import sys
a, per = int(sys.argv[1]), int(sys.argv[2])
print('telegram_user_id,first_name')
for i in range(a * per, (a + 1) * per): print(f'{500000 + i},User{i}')" "$a" "$per" >"c$a.csv"
      "$tginvite" import "c$a.csv" --campaign "c$a" >/dev/null
    done
    "$tginvite" settings set pacing.batch_size 0 >/dev/null
    "$tginvite" settings set pacing.delay_min 0s >/dev/null
    "$tginvite" settings set pacing.delay_max 0s >/dev/null
    "$tginvite" settings set telegram.rate "$engine_rate" >/dev/null
    "$tginvite" settings set dispatch.in_flight "$in_flight" >/dev/null
    "$tginvite" token create bench >token 2>/dev/null
  )
  local token
  token=$(cat "$dir/token")
  local started_ms
  started_ms=$(tail -n1 "$dir/double.out" | awk '{print $1}')
  local worker_pids=()
  for w in $(seq 1 "$workers"); do
    (cd "$dir" && exec "$tginvite" up --listen "127.0.0.1:$((port + w))" >"worker$w.log" 2>&1) &
    worker_pids+=($!)
    pids+=($!)
  done
  for a in $(seq 0 $((accounts - 1))); do (cd "$dir" && "$tginvite" campaign start "c$a" >/dev/null); done
  # PostgreSQL's own counters for the run's database: transactions, rows read (returned by scans)
  # and rows written.
  pg_counters() {
    [[ -n $database ]] || { echo "0 0 0"; return; }
    "$psql_bin" -qAt -F ' ' "$TGINVITE_TEST_PG" -c "SELECT xact_commit + xact_rollback, \
      tup_returned, tup_inserted + tup_updated + tup_deleted FROM pg_stat_database \
      WHERE datname = '$database'"
  }
  local cpu_before pg_before counters_before
  counters_before=$(pg_counters)
  cpu_before=$(head -n1 /proc/stat)
  pg_before=$(cpu_ticks $(pgrep -x postgres || true))
  # Until every contact was delivered, or nothing more was for 30 s (the double's last full
  # counter line: "ms delivered violations early conflicts duplicates").
  local delivered=0 before=-1 still=0
  while ((delivered < contacts && still < 300)); do
    sleep 0.1
    delivered=$(awk 'NF == 6 && $1 ~ /^[0-9]+$/ {d = $2} END {print d + 0}' "$dir/double.out")
    if ((delivered == before)); then still=$((still + 1)); else still=0; fi
    before=$delivered
  done
  if ((delivered < contacts)); then
    echo "$name: only $delivered of $contacts delivered (nothing more for 30 s); its files stay in $dir" >&2
    KEEP_WORK=1
  fi
  for w in $(seq 1 "$workers"); do
    curl -s -H "Authorization: Bearer $token" "http://127.0.0.1:$((port + w))/metrics" >"$dir/metrics$w.txt" || true
  done
  local cpu_after
  cpu_after=$(head -n1 /proc/stat)
  # Where the CPU went: the workers, the double, PostgreSQL's processes (SQLite runs inside the
  # workers), in ticks of 1/CLK_TCK s.
  local cpu_split
  cpu_split="$(cpu_ticks "${worker_pids[@]}") $(cpu_ticks "$double_pid") $(($(cpu_ticks $(pgrep -x postgres || true)) - pg_before)) $(getconf CLK_TCK)"
  for pid in "${worker_pids[@]}" "$double_pid"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${worker_pids[@]}" "$double_pid"; do wait "$pid" 2>/dev/null || true; done
  sleep 0.6  # the backends' statistics reach pg_stat_database within 500 ms of their exit
  local counters
  counters="$counters_before $(pg_counters)"
  python3 - "$dir" "$name" "$backend" "$workers" "$contacts" "$started_ms" "$double_rate" "$accounts" \
    "$cpu_before" "$cpu_after" "$cpu_split" "$counters" <<'PY'
import glob, re, sys
(d, name, backend, workers, contacts, started, double_rate, accounts, cpu0, cpu1, split,
 counters) = sys.argv[1:]
worker_ticks, double_ticks, pg_ticks, hz = map(int, split.split())
# How busy the machine's cores were while the workers sent (everything on it: workers, the
# double, PostgreSQL, and whatever else ran): 100 % means the run was CPU-bound.
t0, t1 = [list(map(int, c.split()[1:])) for c in (cpu0, cpu1)]
delta = [b - a for a, b in zip(t0, t1)]
busy = 100.0 * (1 - (delta[3] + delta[4]) / max(sum(delta[:8]), 1))
contacts, started, workers = int(contacts), int(started), int(workers)
rows = [list(map(int, l.split())) for l in open(f"{d}/double.out") if not l.startswith("port")]
last = rows[-1]
def when(n):  # first time (ms) the double had at least n deliveries
    return next((r[0] for r in rows if r[1] >= n), None)
first, done = when(1), when(contacts)
lo, hi = when(contacts // 10), when(contacts * 9 // 10)
steady = (contacts * 9 // 10 - contacts // 10) / ((hi - lo) / 1000) if lo is not None and hi and hi > lo else 0
total = contacts / ((done - first) / 1000) if first is not None and done and done > first else 0
buckets, given_back, reslotted = {}, {"late": 0, "paused": 0}, 0
for path in glob.glob(f"{d}/metrics*.txt"):
    for line in open(path):
        m = re.match(r'tginvite_requests_reslotted_total (\d+)', line)
        if m:
            reslotted += int(m.group(1))
        m = re.match(r'tginvite_requests_given_back_total\{reason="(\w+)"\} (\d+)', line)
        if m:
            given_back[m.group(1)] = given_back.get(m.group(1), 0) + int(m.group(2))
        m = re.match(r'tginvite_claim_duration_seconds_bucket\{le="([^"]+)"\} (\d+)', line)
        if m:
            le = float("inf") if m.group(1) == "+Inf" else float(m.group(1))
            buckets[le] = buckets.get(le, 0) + int(m.group(2))
def quantile(q):
    items = sorted(buckets.items())
    if not items or items[-1][1] == 0: return float("nan")
    target, prev_le, prev_n = q * items[-1][1], 0.0, 0
    for le, n in items:
        if n >= target:
            if le == float("inf"): return prev_le
            return prev_le + (le - prev_le) * (target - prev_n) / max(n - prev_n, 1)
        prev_le, prev_n = le, n
claims = max(buckets.values()) if buckets else 0
limit = f"{float(double_rate) * int(accounts):.0f}/s limit" if float(double_rate) > 0 else "no limit"
print(f"{name:14} {backend:6} workers={workers} ({limit}): {last[1]} delivered, "
      f"{total:7.1f}/s first-to-last, {steady:7.1f}/s steady (10-90 %), claims={claims} "
      f"p50={quantile(0.5)*1000:.1f} ms p99={quantile(0.99)*1000:.1f} ms, "
      f"violations={last[2]} early={last[3]} conflicts={last[4]} duplicates={last[5]}, "
      f"cpu busy {busy:.0f} %, given back late={given_back['late']} paused={given_back['paused']}, "
      f"new slots={reslotted}")
# CPU per delivered invitation, by process: what adding workers costs on a saturated machine.
per = lambda ticks: 1000.0 * ticks / hz / max(last[1], 1)
line = (f"{'':14} cpu ms per invitation: workers {per(worker_ticks):.2f}, double "
        f"{per(double_ticks):.2f}, postgres {per(pg_ticks):.2f}")
c = list(map(int, counters.split()))
if backend == "postgres" and len(c) == 6:
    n = max(last[1], 1)
    line += (f"; postgres per invitation: {(c[3] - c[0]) / n:.1f} transactions, "
             f"{(c[4] - c[1]) / n:.0f} rows read, {(c[5] - c[2]) / n:.1f} rows written")
print(line)
PY
  unset TGINVITE_DB TGINVITE_SECRET_KEY
}

echo "== double answers after $latency_ms ms"
echo "== limits raised: double unlimited, telegram.rate 1000, in_flight $raised_in_flight, $accounts accounts, $raised_contacts contacts"
for n in $sqlite_worker_counts; do run "sqlite-$n" sqlite "$n" "$raised_contacts" 0 1000 "$raised_in_flight"; done
for n in $worker_counts; do run "pg-$n" postgres "$n" "$raised_contacts" 0 1000 "$raised_in_flight"; done
if ((limited_contacts > 0)); then
  echo "== limits on: $accounts accounts at 30/s (double 30/s, 50 ms tolerance), telegram.rate 30, 3 workers, $limited_contacts contacts"
  run limited-pg-3 postgres 3 "$limited_contacts" 30 30 16
fi
echo "load after: $(cat /proc/loadavg)"
