#!/usr/bin/env bash
# tests/tools/check_format.sh [--report] [FILE...] - does the C code obey .clang-format?
#
# Asks clang-format 14 (Debian's clang-format package) what it would change in every C file git
# tracks (or the FILEs given), without changing anything, and prints each file with its count of
# violations (places clang-format would rewrite), then one line
#   "clang-format: N violations in M of K files"
# Exit 1 when there is any violation; with --report, exit 0 all the same (tests/run.sh reads the
# count and fails its check on any violation).
# Fix a file: clang-format -i FILE.
set -uo pipefail
cd "$(dirname "$0")/../.."
REPORT=0
if [ "${1:-}" = "--report" ]; then REPORT=1; shift; fi
CF=$(command -v clang-format-14 || command -v clang-format) ||
  { echo "clang-format: not installed (Debian package clang-format)"; exit 1; }
if [ $# -gt 0 ]; then
  files=("$@")
else
  mapfile -t files < <(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build*')
fi
# One clang-format run over all the files; each violation is a line "FILE:LINE:COL: warning: ...".
counts=$("$CF" --style="file:$PWD/.clang-format" --dry-run "${files[@]}" 2>&1 |
  awk -F: '/clang-format-violations/ { n[$1]++ } END { for (f in n) print f ": " n[f] }' | sort)
total=0
bad=0
if [ -n "$counts" ]; then
  echo "$counts" | sed 's/^/  /'
  total=$(echo "$counts" | awk '{ s += $NF } END { print s }')
  bad=$(echo "$counts" | wc -l)
fi
echo "clang-format: $total violations in $bad of ${#files[@]} files"
[ "$total" -eq 0 ] || [ "$REPORT" -eq 1 ]
