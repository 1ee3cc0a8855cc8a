#!/usr/bin/env bash
# Installs the Debian packages of deploy/local/packages.txt that are missing (needs root or sudo).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
missing=()
while read -r p; do
  case "$p" in ''|'#'*) continue ;; esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done < "$here/packages.txt"
# npm comes with some Node.js builds (e.g. NodeSource's, which conflicts with Debian's npm package):
# ask for Debian's npm only where no npm command exists.
command -v npm >/dev/null 2>&1 || missing+=(npm)
# kubectl (for `kubectl kustomize` in tests/integration/test_deploy_k8s.py): some machine images
# bring their own (a cloud SDK's package, which Debian's kubernetes-client would clash with).
command -v kubectl >/dev/null 2>&1 || missing+=(kubernetes-client)
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
# Another apt run (a second checkout's suite) may hold the lock: wait for it rather than fail.
$sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}" >/dev/null
