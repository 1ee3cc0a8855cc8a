#!/usr/bin/env bash
# tests/bench/claims_index/run.sh - Redis time per filtered GET /v1/claims with 20,000 claims
# (issue 17, item 7). With two build directories it runs both (before, then after the change).
#
# usage: tests/bench/claims_index/run.sh [BUILD_DIR [BUILD_DIR_AFTER]] [-- bench.py options]
set -euo pipefail
cd "$(dirname "$0")/../../.."
builds=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do builds+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
[ ${#builds[@]} -eq 0 ] && builds=(build)
for b in "${builds[@]}"; do
  [ -x "$b/fleetwarden" ] || { echo "missing $b/fleetwarden" >&2; exit 2; }
  /usr/bin/python3 tests/bench/claims_index/bench.py "$b" "$@"
  echo
done
