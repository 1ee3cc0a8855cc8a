#!/usr/bin/env bash
# tests/bench/claims/run.sh - disable latency (idle and with 10,000 bulk jobs queued) and
# claims created per minute against the AWS emulator's quotas; writes RESULTS.md here.
#
# usage: tests/bench/claims/run.sh [BUILD_DIR] [bench.py options]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/../../.."
BUILD=${1:-build}
shift || true
[ -x "$BUILD/fleetwarden" ] || { echo "missing $BUILD/fleetwarden: meson compile -C $BUILD first" >&2; exit 2; }
[ -x "$BUILD/tests/tools/jobs-probe/jobs-probe" ] || { echo "missing jobs-probe in $BUILD" >&2; exit 2; }
exec /usr/bin/python3 tests/bench/claims/bench.py "$BUILD" "$@"
