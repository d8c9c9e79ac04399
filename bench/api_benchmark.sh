#!/usr/bin/env bash
# REST API latency at ROWS contacts and invitations (issue #4): p50/p99 and requests/s measured
# with wrk for stats, the campaign page's data, a contacts page deep in the list and searches,
# plus the dashboard's first-load size. Goal: p99 <= 20 ms for each route on this machine.
#
# usage: bench/api_benchmark.sh [ROWS] [BUILD_DIR]      (defaults: 1000000 build-bench)
# Builds nothing: needs BUILD_DIR/tginvite and BUILD_DIR/bench/gen_contacts (Release), sqlite3,
# wrk, curl, gzip.
#
# The data: a fresh SQLite database (`tginvite init`), a rehearsal account, a campaign "bench"
# (personal links) and ROWS generated contacts imported into it. Then bench/api_fill.sql makes the
# campaign look as if it had been running for hours: the first API_BENCH_PROCESSED percent of its
# invitations (default 92) are sent/joined/failed/skipped/unknown, with their attempts rows,
# written by bulk SQL that mimics the engine's writes (the schema's triggers keep the counts and
# the per-minute rows). Finally the real worker runs on top for API_BENCH_WORKER_SECONDS (default
# 30) with fast pacing, so the newest rows are the engine's own. The worker is stopped before
# the measurements: the figures are for reads on a quiet database.
#
# Environment:
#   API_BENCH_DB=FILE      reuse this database instead of building one (it is not modified,
#                          except for a new API token); API_BENCH_KEEP=FILE keeps the built one.
#   API_BENCH_DURATION=20s, API_BENCH_THREADS=2, API_BENCH_CONNECTIONS=8   wrk's -d, -t, -c
#   API_BENCH_MAX_LOAD=1.0, API_BENCH_LOAD_WAIT=600   before each wrk run, wait for the 1-minute
#                          load average to fall below the maximum, for at most that many seconds
#                          in all (then measure anyway); the load is printed next to each figure.
#   API_BENCH_ONLY=REGEX   time only the routes whose label matches.
set -euo pipefail

rows=${1:-1000000}
build=${2:-build-bench}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
tginvite=$build/tginvite
gen=$build/bench/gen_contacts
duration=${API_BENCH_DURATION:-20s}
threads=${API_BENCH_THREADS:-2}
connections=${API_BENCH_CONNECTIONS:-8}
max_load=${API_BENCH_MAX_LOAD:-1.0}
load_wait=${API_BENCH_LOAD_WAIT:-600}
processed=${API_BENCH_PROCESSED:-92}
worker_seconds=${API_BENCH_WORKER_SECONDS:-30}

fail() { echo "api_benchmark: $*" >&2; exit 1; }
[[ $rows =~ ^[1-9][0-9]*$ ]] || fail "ROWS must be a positive integer, got \"$rows\""
[[ -x $tginvite ]] || fail "$tginvite not found; build the tginvite target in $build"
for tool in sqlite3 wrk curl gzip; do
  command -v "$tool" >/dev/null || fail "$tool is not installed"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/tginvite-api-bench.XXXXXX")
export TGINVITE_SECRET_KEY_FILE=$work/secret.key  # init makes it here, not in the caller's folder
server_pid=
worker_pid=
cleanup() {
  [[ -n $worker_pid ]] && kill "$worker_pid" 2>/dev/null && wait "$worker_pid" 2>/dev/null
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export TGINVITE_ADMIN_PASSWORD=api-bench-not-a-secret
log() { echo "api_benchmark: $*" >&2; }
now_ms() { date +%s%3N; }

# --- the data -----------------------------------------------------------------------------------

campaign=bench
if [[ -n ${API_BENCH_DB:-} ]]; then
  [[ -f $API_BENCH_DB ]] || fail "API_BENCH_DB=$API_BENCH_DB does not exist"
  dbfile=$API_BENCH_DB
  db="sqlite:$dbfile"
  log "reusing $dbfile"
else
  [[ -x $gen ]] || fail "$gen not found; build the gen_contacts target in $build"
  dbfile=$work/api.db
  db="sqlite:$dbfile"
  log "generating $rows contacts ..."
  "$gen" "$rows" >"$work/contacts.csv"
  "$tginvite" --db "$db" init >/dev/null
  "$tginvite" --db "$db" account add rehearsal >/dev/null
  "$tginvite" --db "$db" campaign create "$campaign" --account rehearsal --chat -1001234567890 \
    --template-file "$repo/samples/invitation.html" >/dev/null
  for setting in "pacing.batch_size 0" "pacing.delay_min 0s" "pacing.delay_max 0s" \
    "telegram.rate 1000" "telegram.chat_interval 0s" "dispatch.in_flight 64"; do
    # shellcheck disable=SC2086
    "$tginvite" --db "$db" settings set $setting --campaign "$campaign" >/dev/null 2>&1 ||
      "$tginvite" --db "$db" settings set $setting >/dev/null
  done
  log "importing into campaign $campaign ..."
  start=$(now_ms)
  "$tginvite" --db "$db" import "$work/contacts.csv" --campaign "$campaign" >"$work/import.out"
  log "import took $(( ($(now_ms) - start) / 1000 )) s"
  rm -f "$work/contacts.csv"

  # The bulk history, ending now, at 30 invitations/s.
  log "writing the history of ${processed}% of the campaign (bench/api_fill.sql) ..."
  start=$(now_ms)
  sqlite3 "$dbfile" <<SQL
PRAGMA foreign_keys = ON;
CREATE TEMP TABLE bench AS
SELECT c.id AS cid, min(i.id) AS first_id,
       min(i.id) + count(*) * $processed / 100 - 1 AS cut_id,
       $(now_ms) AS t_end, 100 AS step_num, 3 AS step_den,
       '$(hostname):$$' AS worker
FROM campaigns c JOIN invitations i ON i.campaign_id = c.id WHERE c.name = '$campaign';
.read $here/api_fill.sql
SQL
  log "history took $(( ($(now_ms) - start) / 1000 )) s"

  if (( worker_seconds > 0 )); then
    log "running the rehearsal worker for ${worker_seconds} s ..."
    "$tginvite" --db "$db" campaign start "$campaign" >/dev/null
    "$tginvite" --db "$db" run >"$work/worker.out" 2>&1 &
    worker_pid=$!
    sleep "$worker_seconds"
    kill -INT "$worker_pid"
    wait "$worker_pid" || true
    worker_pid=
  fi
  # No ANALYZE: tginvite never runs it, so the planner sees what it sees in production.
  sqlite3 "$dbfile" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
  if [[ -n ${API_BENCH_KEEP:-} ]]; then
    cp "$dbfile" "$API_BENCH_KEEP"
    log "kept the database as $API_BENCH_KEEP"
  fi
fi

q() { sqlite3 "$dbfile" "$1"; }
cid=$(q "SELECT id FROM campaigns WHERE name = '$campaign'")
[[ -n $cid ]] || fail "no campaign $campaign in $dbfile"
contacts=$(q "SELECT count(*) FROM contacts")
invitations=$(q "SELECT count(*) FROM invitations")
attempts=$(q "SELECT count(*) FROM attempts")
states=$(q "SELECT group_concat(state || ' ' || n, ', ') FROM (SELECT state, n FROM invitation_counts WHERE campaign_id = $cid AND n > 0 ORDER BY n DESC)")
# Consistency: the trigger-kept counts must equal the rows.
mismatch=$(q "SELECT count(*) FROM (SELECT state, count(*) AS n FROM invitations WHERE campaign_id = $cid GROUP BY 1) r LEFT JOIN invitation_counts k ON k.campaign_id = $cid AND k.state = r.state WHERE k.n IS NOT r.n")
[[ $mismatch == 0 ]] || fail "invitation_counts disagrees with the invitations table"

# The query parameters: an invitation id ~90% into the campaign, a name prefix and a username
# that exist, and an id lookup. Contacts and invitations were created in the same order.
first_inv=$(q "SELECT min(id) FROM invitations WHERE campaign_id = $cid")
deep_after=$(( first_inv + invitations * 9 / 10 ))
deep_contact=$(q "SELECT contact_id FROM invitations WHERE id = $deep_after")
name_prefix=Schn   # "Schneider" is one of gen_contacts' last names
username=$(q "SELECT username FROM contacts WHERE username IS NOT NULL AND id >= $deep_contact ORDER BY id LIMIT 1")
tg_id=$(q "SELECT telegram_user_id FROM contacts WHERE id >= $deep_contact + 7 ORDER BY id LIMIT 1")

# --- the server ---------------------------------------------------------------------------------

port=$(( 20000 + RANDOM % 20000 ))
"$tginvite" --db "$db" serve --listen "127.0.0.1:$port" >"$work/serve.out" 2>&1 &
server_pid=$!
token=$("$tginvite" --db "$db" token create "bench-$$" 2>/dev/null | head -n 1)
[[ -n $token ]] || fail "could not create an API token"
base="http://127.0.0.1:$port"
for _ in $(seq 50); do
  curl -fsS "$base/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "$base/healthz" >/dev/null || { cat "$work/serve.out" >&2; fail "the server did not start"; }

auth="Authorization: Bearer $token"
routes=(
  "stats|/api/v1/stats"
  "campaign|/api/v1/campaigns/$campaign"
  "campaign series 60 min|/api/v1/campaigns/$campaign/series?minutes=60"
  "campaign errors|/api/v1/campaigns/$campaign/errors"
  "campaign attempts|/api/v1/campaigns/$campaign/attempts?limit=50"
  "contacts page ~90% deep|/api/v1/contacts?campaign=$campaign&limit=50&after=$deep_after"
  "contacts page ~90% deep, sent|/api/v1/contacts?campaign=$campaign&limit=50&after=$deep_after&state=sent"
  "all contacts page ~90% deep|/api/v1/contacts?limit=50&after=$deep_contact"
  "search name \"$name_prefix\", campaign|/api/v1/contacts?campaign=$campaign&limit=50&q=$name_prefix"
  "search name \"$name_prefix\", all|/api/v1/contacts?limit=50&q=$name_prefix"
  "search username, campaign|/api/v1/contacts?campaign=$campaign&limit=50&q=$username"
  "search username, all|/api/v1/contacts?limit=50&q=$username"
  "search user id, campaign|/api/v1/contacts?campaign=$campaign&limit=50&q=$tg_id"
  "search user id, all|/api/v1/contacts?limit=50&q=$tg_id"
)
[[ -z ${API_BENCH_ONLY:-} ]] || log "only routes matching /${API_BENCH_ONLY}/"

# Each route must answer 200 with data before it is timed.
for entry in "${routes[@]}"; do
  path=${entry#*|}
  body=$(curl -fsS -H "$auth" "$base$path") || fail "GET $path failed"
  [[ ${#body} -gt 40 ]] || fail "GET $path answered only: $body"
  printf '%s\n' "$body" >"$work/body.$(echo "$path" | md5sum | cut -c1-8)"
done

waited=0
wait_for_quiet() {
  local load
  while :; do
    load=$(cut -d' ' -f1 /proc/loadavg)
    if awk -v l="$load" -v m="$max_load" 'BEGIN { exit !(l < m) }'; then break; fi
    if (( waited >= load_wait )); then
      log "load $load >= $max_load and the ${load_wait} s wait budget is spent; measuring anyway"
      break
    fi
    sleep 5
    waited=$(( waited + 5 ))
  done
  measured_load=$load
}

# wrk's --latency output -> "p50_ms p99_ms req_per_s non2xx timeouts"
parse_wrk() {
  awk '
    function ms(v) {
      if (v ~ /us$/) { sub(/us$/, "", v); return v / 1000 }
      if (v ~ /ms$/) { sub(/ms$/, "", v); return v + 0 }
      if (v ~ /s$/)  { sub(/s$/, "", v);  return v * 1000 }
      return v
    }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    $1 == "Requests/sec:" { rps = $2 }
    /Non-2xx or 3xx responses:/ { bad = $NF }
    /Socket errors:/ { timeouts = $NF }
    END { printf "%.2f %.2f %.0f %d %d\n", p50, p99, rps, bad, timeouts }' "$1"
}

results=$work/results
: >"$results"
for entry in "${routes[@]}"; do
  label=${entry%%|*}
  path=${entry#*|}
  [[ -z ${API_BENCH_ONLY:-} || $label =~ $API_BENCH_ONLY ]] || continue
  # A slow route leaves requests queued in the server's pool after wrk stops; let them finish
  # (the probe queues behind them) so they do not land in the next route's figures.
  curl -fsS -m 120 -o /dev/null "$base/healthz" || fail "the server stopped answering"
  wait_for_quiet
  log "wrk $label (load $measured_load) ..."
  wrk -t"$threads" -c"$connections" -d"$duration" --timeout 30s --latency -H "$auth" "$base$path" \
    >"$work/wrk.out" 2>&1 || { cat "$work/wrk.out" >&2; fail "wrk failed on $path"; }
  read -r p50 p99 rps bad timeouts < <(parse_wrk "$work/wrk.out")
  (( bad == 0 )) || { cat "$work/wrk.out" >&2; fail "$path: $bad responses were not 2xx"; }
  if (( timeouts > 0 )); then  # wrk leaves requests over --timeout out of its percentiles
    p50=timeout p99=">30000 ($timeouts timeouts)"
  elif [[ $rps == 0 ]]; then
    p50="no reply" p99="no reply within $duration"
  fi
  printf '%s|%s|%s|%s|%s|%s\n' "$label" "$path" "$p50" "$p99" "$rps" "$measured_load" >>"$results"
done

# --- the dashboard's first load -----------------------------------------------------------------

# What the browser fetches before the first view renders: the page, its stylesheet and the ES
# module graph from main.js (static imports, followed transitively). uPlot is fetched only when a
# campaign page opens its chart, so it is listed separately.
declare -A seen=()
modules=()
queue=("js/main.js")
while ((${#queue[@]})); do
  mod=${queue[0]}
  queue=("${queue[@]:1}")
  [[ -n ${seen[$mod]:-} ]] && continue
  seen[$mod]=1
  modules+=("$mod")
  dir=$(dirname "$mod")
  while read -r rel; do
    [[ -n $rel ]] || continue
    target=$(realpath -m --relative-to=. "$dir/$rel")
    queue+=("$target")
  done < <(curl -fsS "$base/assets/$mod" |
    sed -n "s/^\(import\|export\)[^'\"]*from ['\"]\(\.[^'\"]*\)['\"].*/\2/p; s/^import ['\"]\(\.[^'\"]*\)['\"].*/\1/p")
done
size_line() {  # label url -> "label|raw bytes|bytes on the wire with Accept-Encoding: gzip|gzip -9"
  local raw wire gz
  curl -fsS "$2" -o "$work/asset"
  raw=$(stat -c %s "$work/asset")
  wire=$(curl -fsS -H 'Accept-Encoding: gzip' -o /dev/null -w '%{size_download}' "$2")
  gz=$(gzip -9 -c "$work/asset" | wc -c)
  printf '%s|%s|%s|%s\n' "$1" "$raw" "$wire" "$gz"
}
sizes=$work/sizes
: >"$sizes"
size_line "/" "$base/" >>"$sizes"
size_line "/assets/app.css" "$base/assets/app.css" >>"$sizes"
for mod in "${modules[@]}"; do size_line "/assets/$mod" "$base/assets/$mod" >>"$sizes"; done
lazy=$work/lazy
: >"$lazy"
size_line "/assets/vendor/uPlot.iife.min.js" "$base/assets/vendor/uPlot.iife.min.js" >>"$lazy"
size_line "/assets/vendor/uPlot.min.css" "$base/assets/vendor/uPlot.min.css" >>"$lazy"
encoding=$(curl -sS -o /dev/null -D - -H 'Accept-Encoding: gzip' "$base/assets/app.css" |
  tr -d '\r' | sed -n 's/^[Cc]ontent-[Ee]ncoding: *//p')

# --- the report ---------------------------------------------------------------------------------

cpu_model=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)
echo
echo "API latency benchmark: $contacts contacts, $invitations invitations ($states), $attempts attempts"
echo "machine: nproc $(nproc), $cpu_model; sqlite3 $(sqlite3 --version | cut -d' ' -f1); $(date -u +%Y-%m-%d)"
echo "wrk -t$threads -c$connections -d$duration --latency; goal p99 <= 20 ms"
echo
echo "| route | p50 ms | p99 ms | req/s | load | goal |"
echo "|-------|-------:|-------:|------:|-----:|------|"
while IFS='|' read -r label path p50 p99 rps load; do
  goal=$(awk -v p="$p99" 'BEGIN { print (p ~ /^[0-9.]+$/ && p <= 20 ? "met" : "**NOT met**") }')
  printf '| %s | %s | %s | %s | %s | %s |\n' "$label" "$p50" "$p99" "$rps" "$load" "$goal"
done <"$results"
echo
echo "paths:"
while IFS='|' read -r label path _; do echo "  $label: GET $path"; done <"$results"
echo
echo "dashboard first load (Content-Encoding for a client that accepts gzip: ${encoding:-none}):"
echo
echo "| file | bytes | served gzip bytes | gzip -9 bytes |"
echo "|------|------:|------------------:|--------------:|"
awk -F'|' '{ printf "| %s | %d | %d | %d |\n", $1, $2, $3, $4; r += $2; w += $3; g += $4 }
  END { printf "| **total, %d files** | **%d** | **%d** | **%d** |\n", NR, r, w, g }' "$sizes"
awk -F'|' '{ printf "| %s (on the first campaign page) | %d | %d | %d |\n", $1, $2, $3, $4 }' "$lazy"
