#!/usr/bin/env bash
# Keeps docs/invariants.md true to the tests. Usage: scripts/check_invariants_doc.sh [DOC [TESTS]]
# (default: docs/invariants.md and tests/ of the checkout). Fails (exit 1), naming each problem,
# when:
# - a GoogleTest named in the doc as `Suite.Test` is defined nowhere under TESTS by TEST, TEST_F,
#   TEST_P or TYPED_TEST (a macro call may span lines);
# - a browser test named as `tests/browser/FILE: title` is not a test('title', ...) of that file;
# - a test file named as a path (`tests/...`) does not exist;
# - an invariant (a "## I<n> ..." heading) names no test at all;
# - a comment "Invariant I<n> (docs/invariants.md)" in TESTS points to an id the doc lacks.
# Everything the doc writes between backticks below the first "## I<n>" heading is read; only the
# three shapes above are checked (code such as `Dispatcher::RunOnce` is not a test name and is
# left alone; the introduction above the headings may show the shapes as examples).
set -euo pipefail
checkout="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
doc=${1:-$checkout/docs/invariants.md}
tests=${2:-$checkout/tests}
# Paths in the doc are relative to the folder that holds tests/.
base=$(dirname "$tests")

[[ -f $doc ]] || { echo "check_invariants_doc: $doc: no such file" >&2; exit 2; }
[[ -d $tests ]] || { echo "check_invariants_doc: $tests: no such folder" >&2; exit 2; }

defined=$(mktemp)
trap 'rm -f "$defined"' EXIT
# Every Suite.Test defined under tests/, one a line.
find "$tests" -type f \( -name '*.cpp' -o -name '*.h' -o -name '*.cc' \) -print0 |
  xargs -0 -r perl -0777 -ne \
    'while (/\b(?:TEST|TEST_F|TEST_P|TYPED_TEST|TYPED_TEST_P)\s*\(\s*(\w+)\s*,\s*(\w+)\s*\)/g) {
       print "$1.$2\n";
     }' | sort -u >"$defined"
if [[ ! -s $defined ]]; then
  echo "check_invariants_doc: found no GoogleTest under $tests" >&2
  exit 2
fi

problems=0
problem() {
  echo "$doc: $*"
  problems=$((problems + 1))
}

# One line per backticked token, as "SECTION<TAB>LINE<TAB>TOKEN", SECTION being the invariant id of
# the "## I<n>" heading above it, and one line "SECTION<TAB>LINE<TAB>" per heading.
tokens=$(perl -ne '
  if (/^##\s+(I\d+)\b/) { $section = $1; print "$section\t$.\t\n"; next; }
  next unless defined $section;
  while (/`([^`]+)`/g) { print "$section\t$.\t$1\n"; }' "$doc")

declare -A named_in=()   # invariant id -> how many tests it names
declare -A ids=()
names=0
while IFS=$'\t' read -r section line token; do
  if [[ -z $token ]]; then
    ids[$section]=1
    named_in[$section]=${named_in[$section]:-0}
    continue
  fi
  if [[ $token =~ ^[A-Z][A-Za-z0-9]*\.[A-Z][A-Za-z0-9_]*$ ]]; then
    names=$((names + 1))
    named_in[$section]=$((${named_in[$section]:-0} + 1))
    grep -qxF "$token" "$defined" ||
      problem "line $line: no test $token under $tests (renamed or removed? update the doc)"
  elif [[ $token =~ ^(tests/browser/[^:]+):\ (.+)$ ]]; then
    names=$((names + 1))
    named_in[$section]=$((${named_in[$section]:-0} + 1))
    file=$base/${BASH_REMATCH[1]}
    title=${BASH_REMATCH[2]}
    if [[ ! -f $file ]]; then
      problem "line $line: no browser test file ${BASH_REMATCH[1]}"
    elif ! grep -qF -e "test('$title'" -e "test(\"$title\"" -e "test(\`$title\`" "$file"; then
      problem "line $line: ${BASH_REMATCH[1]} has no test '$title'"
    fi
  elif [[ $token =~ ^tests/[^[:space:]]+$ ]]; then
    names=$((names + 1))
    named_in[$section]=$((${named_in[$section]:-0} + 1))
    [[ -e $base/$token ]] || problem "line $line: no test file $token"
  fi
done <<<"$tokens"

if ((${#ids[@]} == 0)); then
  problem "no invariant headings (\"## I<n> Name\") found"
fi
for id in "${!ids[@]}"; do
  ((${named_in[$id]} > 0)) || problem "invariant $id names no test"
done

# Comments in the tests that point back here must name an id the doc has.
while IFS= read -r hit; do
  [[ -z $hit ]] && continue
  id=${hit##*Invariant }  # FILE:LINE:Invariant I12 (docs/invariants.md)
  id=${id%% *}
  [[ -n ${ids[$id]:-} ]] || {
    echo "${hit%:Invariant *}: points to invariant $id, which docs/invariants.md does not have"
    problems=$((problems + 1))
  }
done < <(grep -rnoE 'Invariant I[0-9]+ \(docs/invariants\.md\)' "$tests" || true)

if ((problems > 0)); then
  echo "check_invariants_doc: $problems problem(s)" >&2
  exit 1
fi
echo "check_invariants_doc: ${#ids[@]} invariants name tests $names times, and each of those tests exists"
