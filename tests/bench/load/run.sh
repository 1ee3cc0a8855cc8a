#!/usr/bin/env bash
# tests/bench/load/run.sh - wrk on the read endpoints (GET /v1/fleets, /v1/claims, /v1/jobs,
# /v1/fleets/{name}) at 64 connections, alone and while a worker runs a bulk rotation of every
# claim, next to the ceiling of a read endpoint measured in the same run (ceiling_mhd.c:
# libmicrohttpd + one Redis GET per request; static JSON for /healthz). Not part of the suite.
#
# usage: tests/bench/load/run.sh [BUILD_DIR] [SECONDS] [CLAIMS] [JSON_OUT]
#        (default: build-release 30 1000)
# Needs wrk (Debian package wrk: installed here with apt-get when missing), redis-server,
# libmicrohttpd-dev and libhiredis-dev (already build dependencies of fleetwarden).
set -euo pipefail
cd "$(dirname "$0")/../../.."
BUILD=${1:-build-release}
SECONDS_=${2:-30}
CLAIMS=${3:-1000}
JSON=${4:-}
if ! command -v wrk >/dev/null; then
  apt-get install -y wrk >/dev/null || { echo "wrk is missing (apt-get install wrk)" >&2; exit 2; }
fi
if [ "$BUILD" = build-release ]; then
  [ -f build-release/build.ninja ] || meson setup build-release -Dbuildtype=release -Dtests=false >/dev/null
  meson compile -C build-release >/dev/null
fi
[ -x "$BUILD/fleetwarden" ] || { echo "missing $BUILD/fleetwarden" >&2; exit 2; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cc -O2 -std=c11 -D_GNU_SOURCE -pthread -o "$TMP/ceiling-mhd" tests/bench/load/ceiling_mhd.c \
  $(pkg-config --cflags --libs libmicrohttpd hiredis)
ARGS=("$BUILD" "$TMP/ceiling-mhd" --seconds "$SECONDS_" --claims "$CLAIMS")
[ -n "$JSON" ] && ARGS+=(--json "$JSON")
/usr/bin/python3 tests/bench/load/bench.py "${ARGS[@]}"
