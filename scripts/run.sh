#!/usr/bin/env bash
# The main job on a fresh machine: initialises the database (TGINVITE_DB, default
# sqlite:./data/tginvite.db; on a terminal it asks for the dashboard's admin password the first
# time, or takes TGINVITE_ADMIN_PASSWORD) and the secret key that seals bot tokens
# (./data/secret.key, unless TGINVITE_SECRET_KEY is set; tginvite makes its files owner-only
# itself, whatever the umask), creates REHEARSAL accounts (a bot, and a user account) with campaigns "sample" and "sample-user"
# over samples/contacts.csv when missing, starts the campaign and runs the worker and the web
# dashboard in the foreground (`tginvite up`, http://127.0.0.1:8080, or TGINVITE_LISTEN).
# A REHEARSAL account simulates Telegram: nothing is sent to anyone.
# Stop it with Ctrl-C (a second Ctrl-C exits at once). Safe to run again.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

tginvite=build/tginvite

"$tginvite" init

if ! "$tginvite" account list | awk '$1 == "rehearsal" { found = 1 } END { exit !found }'; then
  "$tginvite" account add rehearsal
fi

if ! "$tginvite" campaign show sample >/dev/null 2>&1; then
  "$tginvite" campaign create sample --account rehearsal --chat -1001234567890 \
    --template-file samples/invitation.html
  # The demo goes faster than the gentle defaults (5 a cycle, 2-3 min apart, 10 min cycles).
  "$tginvite" settings set pacing.batch_size 0 --campaign sample >/dev/null
  "$tginvite" settings set pacing.delay_min 1s --campaign sample >/dev/null
  "$tginvite" settings set pacing.delay_max 2s --campaign sample >/dev/null
fi

# The same contacts invited by a REHEARSAL user account: added to the group where their privacy
# allows, sent their personal link where it does not.
if ! "$tginvite" account list | awk '$1 == "rehearsal-staff" { found = 1 } END { exit !found }'; then
  "$tginvite" account add rehearsal-staff --user
fi
if ! "$tginvite" campaign show sample-user >/dev/null 2>&1; then
  "$tginvite" campaign create sample-user --account rehearsal-staff --chat -1001234567891 \
    --template-file samples/invitation.html --method add-then-message
  "$tginvite" settings set pacing.batch_size 0 --campaign sample-user >/dev/null
  "$tginvite" settings set pacing.delay_min 2s --campaign sample-user >/dev/null
  "$tginvite" settings set pacing.delay_max 4s --campaign sample-user >/dev/null
fi

"$tginvite" import samples/contacts.csv --campaign sample
"$tginvite" import samples/contacts.csv --campaign sample-user
if "$tginvite" campaign show sample-user | awk '$1 == "state" && $2 == "draft" { found = 1 } END { exit !found }'; then
  "$tginvite" campaign start sample-user
fi
if "$tginvite" campaign show sample | awk '$1 == "state" && $2 == "draft" { found = 1 } END { exit !found }'; then
  "$tginvite" campaign start sample
fi
echo
"$tginvite" status
echo
listen=${TGINVITE_LISTEN:-127.0.0.1:8080}
echo "starting the worker and the dashboard (REHEARSAL: nothing is sent); Ctrl-C stops both"
echo "dashboard: http://$listen (log in with the admin password set by tginvite init)"
exec "$tginvite" up --listen "$listen"
