#!/usr/bin/env bash
# tests/bench/multiproc/run.sh - 1 serve + 1 worker vs 2 serve + 2 worker on one Redis: claims
# accepted and created per second, and reads per second; writes RESULTS.md here.
#
# usage: tests/bench/multiproc/run.sh [BUILD_DIR] [bench.py options]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/../../.."
BUILD=${1:-build}
shift || true
[ -x "$BUILD/fleetwarden" ] || { echo "missing $BUILD/fleetwarden: meson compile -C $BUILD first" >&2; exit 2; }
command -v wrk >/dev/null || { echo "wrk is missing (apt-get install wrk)" >&2; exit 2; }
exec /usr/bin/python3 tests/bench/multiproc/bench.py "$BUILD" "$@"
