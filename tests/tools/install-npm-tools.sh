#!/usr/bin/env bash
# tests/tools/install-npm-tools.sh - installs the Node tools the tests use (Redocly CLI, kubernetes-models; pinned in
# package.json and package-lock.json) into tests/tools/node_modules (gitignored).
#
# Quick when they are there already; uses npm's cache first (--prefer-offline), so it works
# offline after the first install. Exit 0 when installed, 1 when npm is missing or the registry
# cannot be reached and nothing is cached (the OpenAPI lint test then fails and says so).
set -uo pipefail
cd "$(dirname "$0")"

# Every devDependency of package.json installed at its pinned version? (Redocly CLI for the
# OpenAPI lint, kubernetes-models for the Kubernetes manifests' schema check.)
missing=$(/usr/bin/python3 -c 'import json
deps = json.load(open("package.json"))["devDependencies"]
for name, want in deps.items():
    try:
        have = json.load(open("node_modules/%s/package.json" % name))["version"]
    except Exception:
        have = ""
    if have != want:
        print("%s@%s" % (name, want))')
if [ -z "$missing" ] && [ -x node_modules/.bin/redocly ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "install-npm-tools: npm is not installed (Debian packages nodejs, npm)" >&2
  exit 1
fi
echo "install-npm-tools: installing" $missing "into tests/tools/node_modules" >&2
npm ci --prefer-offline --no-audit --no-fund --ignore-scripts --loglevel=error \
  --fetch-retries=1 --fetch-timeout=60000 >&2 || { echo "install-npm-tools: npm ci failed" >&2; exit 1; }
[ -x node_modules/.bin/redocly ]
