#!/usr/bin/env bash
# tests/bench/hostile/run.sh - an admin's GET /v1/fleets from one address while another holds
# 2,000 hostile connections (idle, unfinished headers, event streams, long polls); issue 17, item 3.
#
# usage: tests/bench/hostile/run.sh [BUILD_DIR [BUILD_DIR_BEFORE]] [-- bench.py options]
#   BUILD_DIR is run with the shipped limits and with them opened (all 2,000 held);
#   BUILD_DIR_BEFORE (optional) with its own defaults, for the before/after table.
set -euo pipefail
cd "$(dirname "$0")/../../.."
builds=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do builds+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
[ ${#builds[@]} -eq 0 ] && builds=(build)
echo "| binary | limits | hostile connections | admin p50 without attack | admin p50 | p99 | max | admin failures (no 200 in 5 s) | hostile reconnects | held: connections / streams / long polls | server threads | server RSS |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
/usr/bin/python3 tests/bench/hostile/bench.py "${builds[0]}" --config defaults "$@" | grep '^|'
/usr/bin/python3 tests/bench/hostile/bench.py "${builds[0]}" --config open "$@" | grep '^|'
if [ ${#builds[@]} -gt 1 ]; then
  /usr/bin/python3 tests/bench/hostile/bench.py "${builds[1]}" --config defaults "$@" | grep '^|'
fi
