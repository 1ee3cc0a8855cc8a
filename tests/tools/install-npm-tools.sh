#!/usr/bin/env bash
# tests/tools/install-npm-tools.sh - installs the Node packages the tests use, each folder from its
# own package.json and package-lock.json into its node_modules (gitignored):
#   tests/tools    the Redocly CLI (OpenAPI lint), kubernetes-models (the Kubernetes manifests' schema check)
#   tests/devices  the device simulator's AWS IoT Device SDK v2 for JavaScript (aws-crt ships its
#                  native linux-x64 binary inside the npm package: nothing is built or downloaded
#                  later, so npm's install scripts are not run)
#
# Quick when they are there already; uses npm's cache first (--prefer-offline), so it works
# offline after the first install. Exit 0 when both are installed, 1 when npm is missing or the
# registry cannot be reached and nothing is cached (the tests that need them then fail and say so).
set -uo pipefail
cd "$(dirname "$0")/.."

# Prints nothing when every dependency of package.json in $1 is installed at its pinned version.
missing() {
  /usr/bin/python3 - "$1" <<'PY'
import json, os, sys
d = sys.argv[1]
p = json.load(open(os.path.join(d, "package.json")))
for name, want in {**p.get("dependencies", {}), **p.get("devDependencies", {})}.items():
    try:
        have = json.load(open(os.path.join(d, "node_modules", name, "package.json")))["version"]
    except (OSError, ValueError, KeyError):
        have = ""
    if have != want:
        print(name, want)
PY
}

install_dir() {
  local dir=$1
  [ -z "$(missing "$dir")" ] && return 0
  if ! command -v npm >/dev/null 2>&1; then
    echo "install-npm-tools: npm is not installed (Debian packages nodejs, npm)" >&2
    return 1
  fi
  echo "install-npm-tools: installing $(missing "$dir" | tr '\n' ' ')into $dir/node_modules" >&2
  (cd "$dir" && npm ci --prefer-offline --no-audit --no-fund --ignore-scripts --loglevel=error \
    --fetch-retries=1 --fetch-timeout=60000 >&2) || { echo "install-npm-tools: npm ci failed in $dir" >&2; return 1; }
  [ -z "$(missing "$dir")" ]
}

rc=0
install_dir tools && [ -x tools/node_modules/.bin/redocly ] || rc=1
install_dir devices && [ -f devices/node_modules/aws-crt/dist/bin/linux-x64-glibc/aws-crt-nodejs.node ] || rc=1
exit $rc
