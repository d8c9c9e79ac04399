#!/usr/bin/env bash
# Until the worker exists: initialises the database (TGINVITE_DB, default
# sqlite:./data/tginvite.db), creates a REHEARSAL account and a campaign "sample" when missing,
# imports samples/contacts.csv into it and prints the status. Safe to run again: the second
# import reports the contacts as duplicates.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

tginvite=build/tginvite
umask 077  # the database will hold bot tokens: a new data folder is 700, a new file 600

"$tginvite" init

if ! "$tginvite" account list | awk '$1 == "rehearsal" { found = 1 } END { exit !found }'; then
  "$tginvite" account add rehearsal
fi

if ! "$tginvite" campaign show sample >/dev/null 2>&1; then
  "$tginvite" campaign create sample --account rehearsal --chat -1001234567890 \
    --template-file samples/invitation.html
fi

"$tginvite" import samples/contacts.csv --campaign sample
echo
"$tginvite" status
