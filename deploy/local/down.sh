#!/usr/bin/env bash
# deploy/local/down.sh - stops what deploy/local/up.sh started, by the PIDs it recorded.
set -uo pipefail
STATE=$(cd "$(dirname "$0")/../.." && pwd)/.local
for name in fleetwarden awsemu stunnel redis; do
  pidfile=$STATE/$name.pid
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    echo "stopped $name ($pid)"
  fi
  rm -f "$pidfile"
done
