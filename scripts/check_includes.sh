#!/usr/bin/env bash
# Fails on an #include that crosses into another module's internal/ folder (STYLE.md: "a header
# under internal/ is for its own module only"). Usage: scripts/check_includes.sh [ROOT]
# (default: the checkout). Prints one line per crossing include, file:line: what, and exits 1 if
# there is any; exits 0 and prints a one-line summary otherwise.
#
# The rule, precisely:
# - A module is a folder under src/ that holds code, named by its path below src/: core, storage,
#   storage/sqlite, telegram/bot_api, ... A folder named internal/ belongs to the module that holds
#   it: src/storage/sqlite/internal/ belongs to storage/sqlite, and only to it.
# - Includes are rooted at src/ ("storage/sqlite/internal/rows.h"); a quoted include that names a
#   file next to the including file ("internal/rows.h", "../sqlite/internal/rows.h") is resolved
#   from there first. An include whose resolved path (below src/) has an internal/ folder in it is
#   checked; any other include is not (system and third-party headers have no internal/ below src/).
# - Code under src/: src/M/... may include M/internal/... when the file is in src/M/ or in a
#   subfolder of it. A parent is not its subfolder's module: src/storage/x.cpp may not include
#   storage/sqlite/internal/ (code both engines share does not live in one engine's internal/).
# - Tests (tests/T/..., T a top-level module such as telegram or storage) are white-box tests of
#   module T: they may include the internal/ headers of T and of its subfolders (tests/telegram/ may
#   include telegram/bot_api/internal/). Fuzz targets (tests/fuzz/) drive one parser at its
#   narrowest seam and may include any module's internal/ headers. Everything else - tests/e2e/,
#   tests/fakes/, bench/, another module's tests - may not.
# - Files checked: *.h *.hpp *.cpp *.cc under src/, tests/ and bench/.
set -euo pipefail
root=${1:-"$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"}
cd "$root"

# Temporary exceptions, "file include" (both as written above); each one names the issue that
# removes it. A listed include that no longer exists is reported, so the list cannot outlive it.
# CHECK_INCLUDES_NO_EXCEPTIONS=1 checks without them (the script's own test, on a made-up tree).
allowed=()
[[ -z ${CHECK_INCLUDES_NO_EXCEPTIONS:-} ]] || allowed=()

# The module that owns an internal/ header: the path below src/ up to its first internal/ folder.
owner_of() {  # storage/sqlite/internal/rows.h -> storage/sqlite
  local path=$1
  path=${path%%/internal/*}
  [[ $path == internal/* ]] && path=""
  printf '%s' "$path"
}

# May `file` (relative to the root) include a header of module `owner`?
may_include() {
  local file=$1 owner=$2
  case $file in
    src/*)
      [[ -n $owner && ( $file == "src/$owner/"* ) ]] ;;
    tests/fuzz/*)
      return 0 ;;
    tests/*)
      local rest=${file#tests/}
      local top=${rest%%/*}
      [[ $rest == */* && -n $owner && ( $owner == "$top" || $owner == "$top/"* ) ]] ;;
    *)
      return 1 ;;
  esac
}

findings=0
used_exceptions=()
dirs=()
for dir in src tests bench; do
  [[ -d $dir ]] && dirs+=("$dir")
done
if ((${#dirs[@]} == 0)); then
  echo "check_includes: nothing to check under $root (no src/, tests/ or bench/)" >&2
  exit 2
fi

# Only the lines that name an internal/ folder are resolved; that keeps this to a few processes.
while IFS= read -r hit; do
  file=${hit%%:*}
  rest=${hit#*:}
  line=${rest%%:*}
  text=${rest#*:}
  included=$(sed -E 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]([^">]*)[">].*/\1/' <<<"$text")
  # Resolve against the including file's folder first, then against src/.
  resolved=""
  if [[ -e "$(dirname "$file")/$included" ]]; then
    resolved=$(realpath -m --relative-to=src "$(dirname "$file")/$included")
  else
    resolved=$(realpath -m --relative-to=src "src/$included")
  fi
  [[ $resolved == ../* ]] && continue  # not below src/: not a module's header
  [[ $resolved == internal/* || $resolved == */internal/* ]] || continue
  owner=$(owner_of "$resolved")
  if may_include "$file" "$owner"; then
    continue
  fi
  exception=""
  for entry in "${allowed[@]+"${allowed[@]}"}"; do
    if [[ $entry == "$file $included" ]]; then
      exception=$entry
    fi
  done
  if [[ -n $exception ]]; then
    used_exceptions+=("$exception")
    continue
  fi
  echo "$file:$line: includes $included, inside the internal/ folder of module ${owner:-<src root>}" \
    "(only src/${owner:+$owner/}... may include it; see the rule at the top of scripts/check_includes.sh)"
  findings=$((findings + 1))
done < <(grep -rnE --include='*.h' --include='*.hpp' --include='*.cpp' --include='*.cc' \
  '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"][^">]*internal/' "${dirs[@]}" || true)

# An exception that matched nothing is stale: say so, so that it is removed with its include.
for entry in "${allowed[@]+"${allowed[@]}"}"; do
  stale=true
  for used in "${used_exceptions[@]+"${used_exceptions[@]}"}"; do
    [[ $used == "$entry" ]] && stale=false
  done
  if [[ $stale == true ]]; then
    echo "scripts/check_includes.sh: the exception \"$entry\" matches no include any more;" \
      "remove it from the list"
    findings=$((findings + 1))
  fi
done

if ((findings > 0)); then
  echo "check_includes: $findings finding(s)" >&2
  exit 1
fi
echo "check_includes: no include crosses into another module's internal/ folder" \
  "(${#used_exceptions[@]} listed exception(s))"
