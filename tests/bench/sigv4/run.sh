#!/usr/bin/env bash
# tests/bench/sigv4/run.sh - our SigV4 signer next to awscrt and botocore.
#
# usage: tests/bench/sigv4/run.sh [BUILD_DIR] [N] [ROUNDS]
#   BUILD_DIR  meson build dir holding tests/unit/aws/sigv4-bench (default: build)
#   N          signatures per timed round for C (Python rounds use N/10, min 2000)
#   ROUNDS     timed rounds per implementation; the median is shown (default 5)
#
# First checks that all implementations give the same signature for the
# fixed date 2024-01-15T09:30:00Z, then prints a table of signatures/s.
# Uses /usr/bin/python3 with the Debian python3-awscrt and python3-botocore.
set -euo pipefail
cd "$(dirname "$0")/../../.."
BUILD=${1:-build}
N=${2:-200000}
ROUNDS=${3:-5}
PY=/usr/bin/python3
BIN="$BUILD/tests/unit/aws/sigv4-bench"
PYB=tests/bench/sigv4/sigv4_py.py
PN=$(( N / 10 < 2000 ? 2000 : N / 10 ))

[ -x "$BIN" ] || { echo "missing $BIN: meson compile -C $BUILD first" >&2; exit 1; }

ours=$("$BIN" check)
crt=$($PY $PYB awscrt check)
boto=$($PY $PYB botocore check)
echo "signature at 20240115T093000Z:"
echo "  fleetwarden sigv4.c  $ours"
echo "  awscrt               $crt"
echo "  botocore SigV4Auth   $boto"
if [ "$ours" != "$crt" ] || [ "$ours" != "$boto" ]; then
  echo "MISMATCH: the implementations disagree" >&2
  exit 1
fi
echo "  all three agree"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# Runs "$@" ROUNDS times; prints "median min max" of the signatures/s column.
rounds() {
  local vals=()
  for _ in $(seq "$ROUNDS"); do vals+=("$("$@" | awk '{print $4}')"); done
  local med min max
  med=$(printf '%s\n' "${vals[@]}" | median)
  min=$(printf '%s\n' "${vals[@]}" | sort -n | head -1)
  max=$(printf '%s\n' "${vals[@]}" | sort -n | tail -1)
  echo "$med $min $max"
}

row() {  # label n "median min max"
  set -- "$1" "$2" $3
  awk -v l="$1" -v n="$2" -v m="$3" -v lo="$4" -v hi="$5" \
    'BEGIN { printf "| %-44s | %8d | %10d | %8.2f | %d-%d |\n", l, n, m, 1e6 / m, lo, hi }'
}

echo
echo "| implementation                               | loop     | sigs/s     | us/sig   | range (n=$ROUNDS) |"
echo "|----------------------------------------------|----------|------------|----------|-----------|"
row "fleetwarden sigv4.c, key cache warm"          "$N"  "$(rounds "$BIN" cached "$N")"
row "fleetwarden sigv4.c, key derived every time"  "$N"  "$(rounds "$BIN" uncached "$N")"
row "awscrt (aws-c-auth), new config each time"    "$PN" "$(rounds $PY $PYB awscrt "$PN")"
row "awscrt, reused config"                        "$PN" "$(rounds $PY $PYB awscrt-reuse "$PN")"
row "botocore SigV4Auth"                           "$PN" "$(rounds $PY $PYB botocore "$PN")"
echo
echo "machine: $(nproc) cores, $(uname -m), $(date -u +%Y-%m-%dT%H:%MZ)"
