#!/usr/bin/env bash
# tests/bench/queue/run.sh - job queue throughput and memory (see bench.py).
#
# Usage: tests/bench/queue/run.sh [BUILD_DIR] [N] [RUNS]
# Needs a built jobs-probe (meson) and redis-server; builds raw-queue (the
# bare hiredis ceiling) into a temp dir. Prints a markdown table.
set -euo pipefail
cd "$(dirname "$0")/../../.."
BUILD=${1:-build}
N=${2:-20000}
RUNS=${3:-3}
[ -x "$BUILD/tests/tools/jobs-probe/jobs-probe" ] || { echo "build $BUILD first (meson)" >&2; exit 2; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cc -O2 -std=c11 -D_GNU_SOURCE -pthread -o "$TMP/raw-queue" tests/bench/queue/raw_queue.c \
  $(pkg-config --cflags --libs hiredis)
FW_BUILD_DIR="$BUILD" /usr/bin/python3 tests/bench/queue/bench.py "$BUILD" "$TMP/raw-queue" "$N" "$RUNS"
