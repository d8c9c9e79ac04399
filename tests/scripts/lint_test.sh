#!/usr/bin/env bash
# The lint's own checks can fail: scripts/check_includes.sh on a made-up tree with crossing
# includes, and scripts/check_invariants_doc.sh on a made-up doc that names a missing test. Each
# must fail naming exactly the bad lines, and pass once they are gone. Needs bash, perl, git-free.
set -euo pipefail
checkout="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
put() {  # put FILE LINE...: writes the lines to $work/tree/FILE
  mkdir -p "$(dirname "$work/tree/$1")"
  local file=$1
  shift
  printf '%s\n' "$@" >"$work/tree/$file"
}

# --- includes ----------------------------------------------------------------------------------
put src/a/internal/x.h '#pragma once'
put src/a/sub/internal/p.h '#pragma once'
put src/a/y.cpp '#include "a/internal/x.h"'                # own module: fine
put src/a/sub/w.cpp '#include "a/internal/x.h"'            # a subfolder of the module: fine
put src/a/sub/v.cpp '#include "internal/p.h"'              # relative, own module: fine
put src/a/q.cpp '#include <vector>' '#include "a/sub/internal/p.h"'  # the parent: crossing
put src/b/z.cpp '// other module' '#include "a/internal/x.h"'      # another module: crossing
put src/b/r.cpp '#  include "../a/internal/x.h"'                    # relative, other: crossing
put tests/a/t_test.cpp '#include "a/sub/internal/p.h"'     # the module's own tests: fine
put tests/fuzz/f_fuzz.cpp '#include "a/internal/x.h"'      # a fuzz target: fine
put tests/e2e/e_test.cpp '#include "a/internal/x.h"'       # end-to-end tests: crossing
put bench/b_benchmark.cpp '#include <a/internal/x.h>'      # a benchmark: crossing

set +e
output=$(CHECK_INCLUDES_NO_EXCEPTIONS=1 "$checkout/scripts/check_includes.sh" "$work/tree" 2>&1)
status=$?
set -e
[[ $status -eq 1 ]] || fail "check_includes exited $status on crossing includes, not 1: $output"
for expected in src/a/q.cpp:2: src/b/z.cpp:2: src/b/r.cpp:1: tests/e2e/e_test.cpp:1: \
  bench/b_benchmark.cpp:1:; do
  grep -q "^$expected" <<<"$output" || fail "check_includes did not report $expected: $output"
done
for fine in src/a/y.cpp src/a/sub/w.cpp src/a/sub/v.cpp tests/a/t_test.cpp tests/fuzz/f_fuzz.cpp; do
  grep -q "^$fine:" <<<"$output" && fail "check_includes reported $fine, which may include it"
done
[[ $(grep -c ': includes ' <<<"$output") -eq 5 ]] || fail "expected 5 findings: $output"

rm "$work/tree/src/a/q.cpp" "$work/tree/src/b/z.cpp" "$work/tree/src/b/r.cpp" \
  "$work/tree/tests/e2e/e_test.cpp" "$work/tree/bench/b_benchmark.cpp"
CHECK_INCLUDES_NO_EXCEPTIONS=1 "$checkout/scripts/check_includes.sh" "$work/tree" >/dev/null ||
  fail "check_includes failed on a tree without crossing includes"

# --- docs/invariants.md ------------------------------------------------------------------------
put tests/core/thing_test.cpp 'TEST(ThingTest, Works) {}' 'TEST_F(ThingTest,' '    AlsoWorks) {}'
put tests/browser/page.test.js "  test('shows the page', async () => {});"
put tests/proxy/proxy_test.sh 'exit 0'
write_doc() {  # write_doc NAME...: one invariant naming these tests
  {
    echo '# Invariants'
    echo 'Written as `Suite.Test` (an example, not checked).'
    echo '## I1 Something'
    echo 'Kept by `Thing::Do` in `src/core/thing.cpp`.'
    for name in "$@"; do echo "- \`$name\`"; done
  } >"$work/invariants.md"
}
check_doc() { "$checkout/scripts/check_invariants_doc.sh" "$work/invariants.md" "$work/tree/tests"; }

write_doc ThingTest.Works ThingTest.AlsoWorks 'tests/browser/page.test.js: shows the page' \
  tests/proxy/proxy_test.sh
check_doc >/dev/null || fail "check_invariants_doc failed on a doc whose tests all exist: $(check_doc)"

for missing in ThingTest.Gone 'tests/browser/page.test.js: shows another page' \
  tests/proxy/gone_test.sh; do
  write_doc ThingTest.Works "$missing"
  set +e
  output=$(check_doc 2>&1)
  status=$?
  set -e
  [[ $status -eq 1 ]] || fail "check_invariants_doc exited $status for a missing $missing"
  grep -q "line 6:" <<<"$output" || fail "check_invariants_doc did not name line 6: $output"
done

write_doc  # an invariant that names no test
check_doc >/dev/null 2>&1 && fail "check_invariants_doc passed an invariant without tests"

write_doc ThingTest.Works
put tests/core/other_test.cpp '// Invariant I2 (docs/invariants.md)' 'TEST(OtherTest, X) {}'
check_doc >/dev/null 2>&1 && fail "check_invariants_doc passed a comment pointing to a missing I2"

if ((failures > 0)); then
  echo "$failures failure(s)"
  exit 1
fi
echo "the include and invariants checks fail where they should and pass where they should"
