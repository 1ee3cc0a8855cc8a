#!/usr/bin/env bash
# tests/bench/devices/run.sh - devices per minute provisioning through the emulated AWS IoT data plane
# (tests/devices simulators, claims made by fleetwarden), one claim and ten claims, at AWS's quotas;
# writes RESULTS.md here.
#
# usage: tests/bench/devices/run.sh [BUILD_DIR] [bench.py options]   (default: build; --devices 60 for a quick run)
set -euo pipefail
cd "$(dirname "$0")/../../.."
BUILD=${1:-build}
shift || true
[ -x "$BUILD/fleetwarden" ] || { echo "missing $BUILD/fleetwarden: meson compile -C $BUILD first" >&2; exit 2; }
bash tests/tools/install-npm-tools.sh || exit 2
export FW_BUILD_DIR=$PWD/$BUILD FW_PORT_BASE=${FW_PORT_BASE:-0}
exec /usr/bin/python3 tests/bench/devices/bench.py "$@"
