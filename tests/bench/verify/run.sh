#!/usr/bin/env bash
# tests/bench/verify/run.sh - fleet verifications end to end against the emulator; writes RESULTS.md here.
#
# usage: tests/bench/verify/run.sh [verify_bench.py options]   (e.g. --n 5 for a quick run)
set -euo pipefail
cd "$(dirname "$0")/../../.."
exec /usr/bin/python3 tests/bench/verify/verify_bench.py --out tests/bench/verify/RESULTS.md "$@"
