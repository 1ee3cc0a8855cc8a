#!/usr/bin/env bash
# tests/bench/watch/run.sh - watch-cycle time and CloudWatch calls per cycle for
# 100, 1,000 and 10,000 active claims, next to the minimum (ceil(queries/500)) and the
# naive one call per claim. See bench.py for the method.
#
# usage: tests/bench/watch/run.sh [BUILD_DIR] [N...]   (default: build 100 1000 10000)
set -euo pipefail
cd "$(dirname "$0")/../../.."
BUILD=${1:-build}
shift || true
[ -x "$BUILD/fleetwarden" ] || { echo "missing $BUILD/fleetwarden: meson compile -C $BUILD first" >&2; exit 2; }
if [ $# -eq 0 ]; then set -- 100 1000 10000; fi
exec /usr/bin/python3 tests/bench/watch/bench.py "$BUILD" "$@"
