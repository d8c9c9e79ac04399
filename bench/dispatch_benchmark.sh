#!/usr/bin/env bash
# What one worker costs and how precisely it keeps a rate, on SQLite, against the Bot API double
# (bench/fleet_double, C++), as issue 16 measures them:
#  1. efficiency: CONTACTS (6000) shared-link invitations, limits off (the double unlimited,
#     `telegram.rate 1000`, `dispatch.in_flight 16`), sent by `tginvite run --until-idle`, first
#     with 1 bot account (one campaign), then with 8 (one campaign each, the contacts split
#     evenly). Prints invitations/s over the run, the worker's CPU (user + sys, from
#     /usr/bin/time) per invitation, and its peak RSS; then the floor under that CPU: the same
#     invitations' two HTTP requests each over libcurl alone (bench/http_floor).
#  2. precision: RATE_CONTACTS (1800) invitations of one bot at `telegram.rate 30` (60 s); the
#     double counts every request that would put more than 30 into any one second (a strict
#     sliding window, `--window`). Prints the rate between the first and the last delivery, its
#     share of 30/s, and the violations.
#
# usage: bench/dispatch_benchmark.sh [BUILD_DIR]   (default build; needs tginvite and fleet_double,
#        best from a Release build: cmake -DCMAKE_BUILD_TYPE=Release)
# env: CONTACTS (6000), ACCOUNTS ("1 8"), RATE_CONTACTS (1800), DOUBLE_LATENCY_MS (2), SKIP_RATE;
#      KEEP_WORK: keep the databases and logs; PERF_DIR: record each efficiency run's worker with `perf record -g` into
#      PERF_DIR/accountsN.data (the CPU figures then include perf's own overhead)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build=${1:-build}
tginvite=$PWD/$build/tginvite
double_bin=$PWD/$build/bench/fleet_double
[[ -x $tginvite && -x $double_bin ]] || { echo "build tginvite and fleet_double in $build" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
contacts=${CONTACTS:-6000}
rate_contacts=${RATE_CONTACTS:-1800}
latency=${DOUBLE_LATENCY_MS:-2}

work=$(mktemp -d "${TMPDIR:-/tmp}/tginvite-dispatch-bench.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ -n ${KEEP_WORK:-} ]]; then echo "kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
echo "machine: $(nproc) cores, $(git rev-parse --short HEAD 2>/dev/null || echo '?');" \
  "load before: $(cut -d' ' -f1-3 /proc/loadavg)"

# The double's last counter line: "t_ms deliveries violations early conflicts duplicates".
counters() { awk 'NF == 6 && $1 ~ /^[0-9]+$/ {line = $0} END {print line}' "$1"; }

# setup NAME ACCOUNTS CONTACTS RATE [DOUBLE_ARGS...]: a database, a double, ACCOUNTS bots with a
# started shared-link campaign each, CONTACTS contacts split between them.
setup() {
  local name=$1 accounts=$2 n=$3 rate=$4
  shift 4
  dir=$work/$name
  mkdir -p "$dir"
  export TGINVITE_DB="sqlite:$dir/t.db"
  TGINVITE_SECRET_KEY=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
  export TGINVITE_SECRET_KEY
  "$double_bin" --accounts "$accounts" --latency-ms "$latency" "$@" >"$dir/double.out" &
  double_pid=$!
  pids+=("$double_pid")
  for _ in $(seq 100); do grep -q '^port' "$dir/double.out" 2>/dev/null && break; sleep 0.05; done
  local port
  port=$(awk '/^port/ {print $2; exit}' "$dir/double.out")
  (
    cd "$dir"
    "$tginvite" init >/dev/null
    echo 'Hello {first_name}: {link}' >t.html
    for a in $(seq 0 $((accounts - 1))); do
      BOT_TOKEN=$("$double_bin" --print-token "$a")
      export BOT_TOKEN
      "$tginvite" account add "bot$a" --bot-token-env BOT_TOKEN \
        --api-base "http://127.0.0.1:$port" >/dev/null
      "$tginvite" campaign create "c$a" --account "bot$a" --chat -1001234567890 \
        --template-file t.html --link shared >/dev/null
      python3 -c "
import sys
a, accounts, n = map(int, sys.argv[1:])
print('telegram_user_id,first_name')
for i in range(a, n, accounts): print(f'{500000 + i},User{i}')" "$a" "$accounts" "$n" >"c$a.csv"
      "$tginvite" import "c$a.csv" --campaign "c$a" >/dev/null
    done
    for kv in "pacing.batch_size 0" "pacing.delay_min 0s" "pacing.delay_max 0s" \
      "telegram.rate $rate" "dispatch.in_flight 16"; do
      # shellcheck disable=SC2086
      "$tginvite" settings set $kv >/dev/null
    done
    for a in $(seq 0 $((accounts - 1))); do "$tginvite" campaign start "c$a" >/dev/null 2>&1; done
  )
}

# 1. efficiency
efficiency_runs=0
for accounts in ${ACCOUNTS:-1 8}; do
  efficiency_runs=$((efficiency_runs + 1))
  setup "accounts$accounts" "$accounts" "$contacts" 1000
  profile=()
  [[ -n ${PERF_DIR:-} ]] && profile=(perf record -F 1999 -g -o "$PERF_DIR/accounts$accounts.data" --)
  (cd "$dir" && /usr/bin/time -f '%e %U %S %M' -o time.out \
    timeout 600 "${profile[@]}" "$tginvite" run --until-idle >worker.log 2>&1)
  sleep 0.3
  read -r _ deliveries violations _ _ duplicates <<<"$(counters "$dir/double.out")"
  read -r wall user sys rss_kb <"$dir/time.out"
  python3 -c "
accounts, n, wall, user, sys_, rss = $accounts, $deliveries, $wall, $user, $sys, $rss_kb
cpu = user + sys_
print(f'efficiency: {accounts} account(s), {n} invitations in {wall:.2f} s = {n / wall:.0f}/s; '
      f'worker CPU {cpu:.2f} s ({user:.2f} user + {sys_:.2f} sys) = {cpu / n * 1e6:.0f} us an '
      f'invitation; peak RSS {rss / 1024:.1f} MiB')"
  echo "efficiency: duplicates $duplicates, violations $violations"
  kill "$double_pid" 2>/dev/null || true
done

# The floor under the efficiency figures: the same invitations' two requests each (getChatMember,
# sendMessage) over libcurl alone, against a fresh double (bench/http_floor.cpp).
if ((efficiency_runs > 0)) && [[ -x $PWD/$build/bench/http_floor ]]; then
  mkdir -p "$work/floor"
  "$double_bin" --accounts 1 --latency-ms "$latency" >"$work/floor/double.out" &
  double_pid=$!
  pids+=("$double_pid")
  for _ in $(seq 100); do grep -q '^port' "$work/floor/double.out" 2>/dev/null && break; sleep 0.05; done
  floor_port=$(awk '/^port/ {print $2; exit}' "$work/floor/double.out")
  "$PWD/$build/bench/http_floor" "http://127.0.0.1:$floor_port/bot$("$double_bin" --print-token 0)" \
    "$contacts" 16 || echo "floor: failed"
  kill "$double_pid" 2>/dev/null || true
fi

# 2. precision
[[ -n ${SKIP_RATE:-} ]] && exit 0
setup rate 1 "$rate_contacts" 30 --rate 30 --window
(cd "$dir" && timeout 600 "$tginvite" run --until-idle >worker.log 2>&1)
sleep 0.3
read -r _ deliveries violations early _ duplicates <<<"$(counters "$dir/double.out")"
# First and last delivery: the first counter line with deliveries > 0, the first with all of them.
read -r first last <<<"$(awk -v n="$rate_contacts" 'NF == 6 && $1 ~ /^[0-9]+$/ {
  if ($2 > 0 && f == "") f = $1; if ($2 >= n && l == "") l = $1 } END {print f, l}' "$dir/double.out")"
python3 -c "
d, first, last = $deliveries, $first, $last
secs = (last - first) / 1000
rate = (d - 1) / secs if secs > 0 else 0
print(f'precision: {d} deliveries in {secs:.1f} s (100 ms counter lines): {rate:.2f}/s = '
      f'{rate / 30 * 100:.1f} % of 30/s')"
echo "precision: violations $violations (more than 30 in a sliding second), early $early," \
  "duplicates $duplicates"
