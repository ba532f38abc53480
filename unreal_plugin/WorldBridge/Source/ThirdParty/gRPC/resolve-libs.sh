#!/usr/bin/env bash
# Matches the static libraries in a vcpkg lib folder against link-libraries.txt (next to this script)
# and prints the ones to link, one file name per line, in link order. Exits 1, naming the culprits,
# when a required library is missing or an installed library matches no line of the list.
#
# Usage: resolve-libs.sh <lib folder> <extension: a | lib> [<list file>]
# build.sh calls it; build.ps1 implements the same rules for Windows (Resolve-LinkLibraries).
set -euo pipefail

LIB_DIR="${1:?usage: resolve-libs.sh <lib folder> <a|lib> [list]}"
EXT="${2:?usage: resolve-libs.sh <lib folder> <a|lib> [list]}"
LIST="${3:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/link-libraries.txt}"

[[ -d "$LIB_DIR" ]] || { echo "resolve-libs.sh: no folder $LIB_DIR" >&2; exit 1; }
[[ -f "$LIST" ]] || { echo "resolve-libs.sh: no list $LIST" >&2; exit 1; }
LIST_NAME="$(basename "$LIST")"

# Installed libraries, sorted by file name: NAMES[i] is FILES[i] without "lib" and the extension.
# Plain indexed arrays only: macOS's /bin/bash is 3.2.
NAMES=()
FILES=()
CLAIMED=()
while IFS= read -r file; do
  name="${file%."$EXT"}"
  FILES+=("$file")
  NAMES+=("${name#lib}")
  CLAIMED+=(0)
done < <(find "$LIB_DIR" -maxdepth 1 -type f -name "*.$EXT" -exec basename {} \; | LC_ALL=C sort)

ORDER=()
ERRORS=()
while IFS= read -r line || [[ -n "$line" ]]; do
  line="${line%%#*}"
  line="${line//[[:space:]]/}"
  [[ -z "$line" ]] && continue
  exclude=0
  optional=0
  if [[ "$line" == !* ]]; then exclude=1; line="${line#!}"; fi
  if [[ "$line" == *\? ]]; then optional=1; line="${line%\?}"; fi
  matched=0
  for ((i = 0; i < ${#NAMES[@]}; ++i)); do
    [[ ${CLAIMED[i]} == 1 ]] && continue
    # Unquoted right-hand side: the list's '*' is a glob.
    # shellcheck disable=SC2053
    if [[ "${NAMES[i]}" == $line ]]; then
      CLAIMED[i]=1
      matched=1
      if [[ $exclude == 0 ]]; then ORDER+=("${FILES[i]}"); fi
    fi
  done
  if [[ $matched == 0 && $exclude == 0 && $optional == 0 ]]; then
    ERRORS+=("required by $LIST_NAME but not installed: $line")
  fi
done < "$LIST"

for ((i = 0; i < ${#NAMES[@]}; ++i)); do
  if [[ ${CLAIMED[i]} != 1 ]]; then
    ERRORS+=("installed but not in $LIST_NAME (add it to the link list or to the '!' lines): ${FILES[i]}")
  fi
done

if [[ ${#ERRORS[@]} -gt 0 ]]; then
  printf 'resolve-libs.sh: %s\n' "${ERRORS[@]}" >&2
  exit 1
fi
printf '%s\n' "${ORDER[@]}"
