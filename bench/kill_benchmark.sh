#!/usr/bin/env bash
# Crash precision of one bot on SQLite, against the Bot API double (bench/fleet_double), as issue
# 16 measures it (its rate precision is bench/dispatch_benchmark.sh's):
#  1. kills: a shared-link campaign of CONTACTS (3000) contacts at telegram.rate 30 and
#     dispatch.in_flight 16; the worker (`tginvite run`) is killed with SIGKILL KILLS (12) times at
#     random moments (1-8 s after it starts) and restarted, then finishes with --until-idle.
#     Prints the duplicates the double saw and the `unknown` rows whose contact got no message
#     (sent + unknown - deliveries: nobody got two messages, so the messages beyond those recorded
#     as sent went to unknown rows), in all and per kill.
#
# usage: bench/kill_benchmark.sh [BUILD_DIR]      (default build; needs tginvite and fleet_double)
# env: CONTACTS (3000), KILLS (12), SEED (20261203)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build=${1:-build}
tginvite=$PWD/$build/tginvite
double_bin=$PWD/$build/bench/fleet_double
[[ -x $tginvite && -x $double_bin ]] || { echo "build tginvite and fleet_double in $build" >&2; exit 1; }
contacts=${CONTACTS:-3000}
kills=${KILLS:-12}
RANDOM=${SEED:-20261203}

work=$(mktemp -d "${TMPDIR:-/tmp}/tginvite-kill-bench.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
echo "machine: $(nproc) cores; load before: $(cut -d' ' -f1-3 /proc/loadavg)"

# The double's last counter line: "t_ms deliveries violations early conflicts duplicates".
counters() { awk 'NF == 6 && $1 ~ /^[0-9]+$/ {line = $0} END {print line}' "$1"; }

# setup NAME CONTACTS LINK_MODE: a database, a double (strict 30/s), a bot and a started campaign.
setup() {
  local name=$1 n=$2 mode=$3
  dir=$work/$name
  mkdir -p "$dir"
  export TGINVITE_DB="sqlite:$dir/t.db"
  TGINVITE_SECRET_KEY=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
  export TGINVITE_SECRET_KEY
  "$double_bin" --accounts 1 --rate 30 --window --latency-ms 2 --threads 64 >"$dir/double.out" &
  double_pid=$!
  pids+=("$double_pid")
  for _ in $(seq 100); do grep -q '^port' "$dir/double.out" 2>/dev/null && break; sleep 0.05; done
  local port
  port=$(awk '/^port/ {print $2; exit}' "$dir/double.out")
  (
    cd "$dir"
    "$tginvite" init >/dev/null
    BOT_TOKEN=$("$double_bin" --print-token 0)
    export BOT_TOKEN
    "$tginvite" account add bot --bot-token-env BOT_TOKEN --api-base "http://127.0.0.1:$port" >/dev/null
    echo 'Hello {first_name}: {link}' >t.html
    "$tginvite" campaign create c --account bot --chat -1001234567890 --template-file t.html \
      --link "$mode" >/dev/null
    python3 -c "
import sys
print('telegram_user_id,first_name')
for i in range(int(sys.argv[1])): print(f'{500000 + i},User{i}')" "$n" >c.csv
    "$tginvite" import c.csv --campaign c >/dev/null
    for kv in "pacing.batch_size 0" "pacing.delay_min 0s" "pacing.delay_max 0s" \
      "telegram.rate 30" "dispatch.in_flight 16" "dispatch.lease 5s"; do
      # shellcheck disable=SC2086
      "$tginvite" settings set $kv >/dev/null
    done
    "$tginvite" campaign start c >/dev/null
  )
}

# A campaign state's count from `status --json`.
count() {
  "$tginvite" status --json | python3 -c "
import json, sys
print(json.load(sys.stdin)['campaigns'][0]['counts'].get(sys.argv[1], 0))" "$1"
}

# 1. kills
setup kills "$contacts" shared
for k in $(seq 1 "$kills"); do
  (cd "$dir" && exec "$tginvite" run >>worker.log 2>&1) &
  worker=$!
  pids+=("$worker")
  sleep "$((1 + RANDOM % 7)).$((RANDOM % 10))"
  kill -9 "$worker"
  wait "$worker" 2>/dev/null || true
done
(cd "$dir" && timeout 600 "$tginvite" run --until-idle >>worker.log 2>&1)
sleep 0.3
read -r _ deliveries _ _ _ duplicates <<<"$(counters "$dir/double.out")"
sent=$(cd "$dir" && count sent)
unknown=$(cd "$dir" && count unknown)
never_left=$((sent + unknown - deliveries))
echo "kills: $kills SIGKILLs, $contacts contacts: sent $sent, unknown $unknown, deliveries $deliveries, duplicates $duplicates"
echo "kills: unknown rows whose contact got no message: $never_left ($(python3 -c "print(round($never_left / $kills, 2))") a kill)"
kill "$double_pid" 2>/dev/null || true

