#!/usr/bin/env bash
# tests/bench/claims_index/run.sh - Redis time per filtered GET /v1/claims with 20,000 claims
# (issue 17, item 7), for each build directory given (e.g. the build before the change, then after).
#
# usage: tests/bench/claims_index/run.sh [BUILD_DIR...]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/../../.."
for b in "${@:-build}"; do
  [ -x "$b/fleetwarden" ] || { echo "missing $b/fleetwarden" >&2; exit 2; }
  /usr/bin/python3 tests/bench/claims_index/bench.py "$b"
  echo
done
