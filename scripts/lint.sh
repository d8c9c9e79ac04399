#!/usr/bin/env bash
# The lint `make test` runs before the tests. Three checks, each printed with what it found:
#  1. includes   scripts/check_includes.sh: no #include crosses into another module's internal/
#                folder (the rule is written out at the top of that script);
#  2. invariants scripts/check_invariants_doc.sh: every test docs/invariants.md names exists;
#  3. clang-tidy the checks of .clang-tidy (bugprone, performance, a few cppcoreguidelines and
#                modernize checks, naming) on the code under src/ and the headers it includes
#                from src/, using build/compile_commands.json (CMAKE_EXPORT_COMPILE_COMMANDS).
#
# Usage: scripts/lint.sh [--all] [--no-tidy] [-j N]
#   (default)  clang-tidy only the files changed since a base commit: where HEAD left $LINT_BASE
#              (git merge-base) if set, else
#              `git merge-base HEAD origin/main` (when that is HEAD itself, HEAD~1), else HEAD~1;
#              plus uncommitted and untracked changes. A changed header is checked through the
#              translation unit of the same name, or else one that includes it.
#   --all      clang-tidy every translation unit under src/ (slower: see the README's Quick start).
#   --no-tidy  the include and invariants checks alone (no build needed).
#   -j N       clang-tidy processes at once (default 2), run under `nice`.
# TGINVITE_BUILD_DIR picks the build folder (default build/); it must have been built once, since
# clang-tidy reads the headers the build generates. CLANG_TIDY names the binary (default
# clang-tidy). Exits 1 when any check has findings, 2 on bad usage or a missing prerequisite.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD

mode=changed
tidy=true
jobs=2
while (($# > 0)); do
  case $1 in
    --all) mode=all ;;
    --no-tidy) tidy=false ;;
    -j) shift; jobs=${1:?-j needs a number} ;;
    -j*) jobs=${1#-j} ;;
    -h|--help) sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "lint: unknown argument $1 (see scripts/lint.sh --help)" >&2; exit 2 ;;
  esac
  shift
done
[[ $jobs =~ ^[1-9][0-9]*$ ]] || { echo "lint: -j wants a positive number, not $jobs" >&2; exit 2; }

failed=()
started=$SECONDS

echo "lint 1/3: includes into internal/ folders (scripts/check_includes.sh)"
scripts/check_includes.sh "$root" || failed+=(includes)

echo "lint 2/3: tests named in docs/invariants.md (scripts/check_invariants_doc.sh)"
scripts/check_invariants_doc.sh || failed+=(invariants)

if [[ $tidy == true ]]; then
  build_dir=${TGINVITE_BUILD_DIR:-build}
  db=$build_dir/compile_commands.json
  clang_tidy=${CLANG_TIDY:-clang-tidy}
  if ! command -v "$clang_tidy" >/dev/null 2>&1; then
    echo "lint: $clang_tidy not found; scripts/setup.sh installs it (Debian package clang-tidy)" >&2
    exit 2
  fi
  if [[ ! -f $db ]]; then
    echo "lint: $db is missing: configure and build first (make build)" >&2
    exit 2
  fi

  # Every translation unit under src/ that the compilation database knows, relative to the root.
  mapfile -t units < <(grep -oE '"file": *"[^"]*"' "$db" | sed -E 's/"file": *"(.*)"/\1/' |
    sed "s|^$root/||" | grep -E '^src/.*\.(cpp|cc)$' | sort -u)
  if ((${#units[@]} == 0)); then
    echo "lint: $db lists no file under src/ (was it generated from this checkout, $root?)" >&2
    exit 2
  fi
  in_units() {
    local file=$1 unit
    for unit in "${units[@]}"; do [[ $unit == "$file" ]] && return 0; done
    return 1
  }

  files=()
  if [[ $mode == all ]]; then
    files=("${units[@]}")
    echo "lint 3/3: clang-tidy on all ${#files[@]} translation units under src/ (-j$jobs)"
  else
    base=""
    if [[ -n ${LINT_BASE:-} ]]; then
      base=$(git merge-base HEAD "$LINT_BASE") ||
        { echo "lint: LINT_BASE=$LINT_BASE is not a commit of this repository" >&2; exit 2; }
    else
      if git rev-parse -q --verify origin/main >/dev/null; then
        base=$(git merge-base HEAD origin/main)
        [[ $base == "$(git rev-parse HEAD)" ]] && base=""
      fi
      if [[ -z $base ]] && git rev-parse -q --verify 'HEAD~1' >/dev/null; then
        base=$(git rev-parse 'HEAD~1')
      fi
    fi
    if [[ -z $base ]]; then
      echo "lint 3/3: clang-tidy: no base commit to compare with (one commit only?): checking" \
        "every translation unit; LINT_BASE=REV picks a base"
      files=("${units[@]}")
    else
      mapfile -t changed < <({
        git diff --name-only --diff-filter=d "$base" -- src
        git ls-files --others --exclude-standard -- src
      } | grep -E '\.(cpp|cc|h|hpp)$' | sort -u)
      declare -A chosen=()
      for file in "${changed[@]+"${changed[@]}"}"; do
        case $file in
          *.cpp|*.cc)
            in_units "$file" && chosen[$file]=1 ;;
          *)
            # A header: the unit of the same name, or else the first unit that includes it.
            stem=${file%.*}
            if in_units "$stem.cpp"; then
              chosen[$stem.cpp]=1
            else
              rel=${file#src/}
              for unit in "${units[@]}"; do
                if grep -qF "#include \"$rel\"" "$unit"; then
                  chosen[$unit]=1
                  break
                fi
              done
            fi ;;
        esac
      done
      files=("${!chosen[@]}")
      echo "lint 3/3: clang-tidy on ${#files[@]} translation unit(s) for the files under src/" \
        "changed since $(git rev-parse --short "$base") (--all checks all ${#units[@]}; -j$jobs)"
    fi
  fi

  if ((${#files[@]} > 0)); then
    out=$(mktemp -d)
    trap 'rm -rf "$out"' EXIT
    # One clang-tidy per unit, its output kept apart and shown only when it found something.
    # -Wno-unknown-warning-option: the database holds g++'s flags, which clang partly does not know.
    printf '%s\n' "${files[@]}" | sort |
      xargs -P "$jobs" -I{} bash -c '
        file=$1; out=$2; db_dir=$3; tidy=$4; root=$5
        log=$out/$(echo "$file" | tr / _).log
        if nice "$tidy" -p "$db_dir" --quiet --header-filter="^$root/src/" \
            --extra-arg=-Wno-unknown-warning-option "$file" >"$log" 2>&1 &&
          ! grep -qE ": (warning|error): " "$log"; then
          rm -f "$log"
        fi' _ {} "$out" "$build_dir" "$clang_tidy" "$root"
    logs=("$out"/*.log)
    if [[ -e ${logs[0]} ]]; then
      # clang-tidy reports a header's finding once per unit that includes it: print each once.
      cat "${logs[@]}" | grep -vE '^[0-9]+ warnings? (and [0-9]+ errors? )?generated\.$' |
        grep -vE '^Suppressed [0-9]+ warnings|^Use -header-filter|^Error while processing' |
        awk '/^[^ ].*: (warning|error): / { seen_block = ($0 in seen); seen[$0] = 1 }
             !seen_block { print }'
      echo "lint: clang-tidy found something in ${#logs[@]} of ${#files[@]} unit(s) (above)"
      failed+=(clang-tidy)
    else
      echo "lint: clang-tidy: no findings"
    fi
  fi
fi

elapsed=$((SECONDS - started))
if ((${#failed[@]} > 0)); then
  echo "lint: FAILED (${failed[*]}) in ${elapsed}s" >&2
  exit 1
fi
echo "lint: passed in ${elapsed}s"
