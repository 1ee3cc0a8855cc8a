#!/usr/bin/env bash
# deploy/container/build-image.sh - builds the fleetwarden container image with podman from Debian's
# archive alone (no image registry is needed), idempotently; prints the image name as its last line.
#
#   bash deploy/container/build-image.sh            the runtime image  -> localhost/fleetwarden:<hash>
#   bash deploy/container/build-image.sh awsemu     the AWS emulator   -> localhost/fleetwarden-awsemu:<hash>
#   bash deploy/container/build-image.sh stunnel    the TLS tunnel to Redis -> localhost/fleetwarden-stunnel:<hash>
#   bash deploy/container/build-image.sh redis      Redis from Debian (compose here) -> localhost/fleetwarden-redis:<hash>
#
# 1. Base image localhost/debian:bookworm, made once per machine:
#      debootstrap --variant=minbase bookworm DIR $FW_DEBIAN_MIRROR; tar -C DIR -c . | podman import -
# 2. The Redoc bundle for /docs: routes/docs_assets/fetch_redoc.py run on the host, the same step
#    and the same integrity check (redoc.lock.json) as the host build, into deploy/container/redoc/;
#    the image copies it. (npm inside the build would need the host's CA store: the host's
#    TLS checks stay as they are, nothing is switched off.)
# 3. podman build -f deploy/Dockerfile --build-arg DEBIAN_IMAGE=localhost/debian:bookworm
#    --pull=never --network host (apt inside the build), on a context of only the files the image
#    needs, tagged with the sha256 of that context: an unchanged tree is not built again, and a
#    changed one reuses podman's cached layers (the apt-get layers come before the sources).
# Runs as root (podman's rootful storage, /var/lib/containers, is the cache). Two runs at once wait
# for each other (flock). Times of each step go to stderr.
set -euo pipefail
TARGET=${1:-runtime}
case "$TARGET" in runtime) NAME=localhost/fleetwarden ;; awsemu) NAME=localhost/fleetwarden-awsemu ;;
  stunnel) NAME=localhost/fleetwarden-stunnel ;;
  redis) NAME=localhost/fleetwarden-redis ;;
  *) echo "usage: build-image.sh [runtime|awsemu|stunnel|redis]" >&2; exit 2 ;; esac
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=podman.sh
. "$HERE/podman.sh"
BASE=localhost/debian:bookworm
MIRROR=${FW_DEBIAN_MIRROR:-http://deb.debian.org/debian}
STATE=/var/tmp/fleetwarden-container
mkdir -p "$STATE"
exec 9>"$STATE/lock"
flock 9

for tool in podman /usr/sbin/runc debootstrap; do
  command -v "$tool" >/dev/null || { echo "build-image: $tool is missing (apt-get install podman runc debootstrap)" >&2; exit 3; }
done
step() { echo "build-image: $*" >&2; }
t0=$SECONDS

if ! fw_podman image exists "$BASE"; then
  step "making $BASE with debootstrap from $MIRROR (once per machine)"
  root=$(mktemp -d "$STATE/rootfs.XXXXXX")
  debootstrap --variant=minbase bookworm "$root" "$MIRROR" >"$STATE/debootstrap.log" 2>&1 ||
    { tail -20 "$STATE/debootstrap.log" >&2; rm -rf "$root"; exit 1; }
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | fw_podman import - "$BASE" >/dev/null
  rm -rf "$root"
  step "base image made in $((SECONDS - t0)) s"
fi

/usr/bin/python3 "$ROOT/routes/docs_assets/fetch_redoc.py" "$ROOT/routes/docs_assets/redoc.lock.json" \
  "$HERE/redoc" "$STATE/redoc.stamp"
grep -qx ok "$STATE/redoc.stamp" || step "WARNING: no Redoc bundle; the image's /docs will answer 503"

# The build context: only what deploy/Dockerfile copies.
ctx=$(mktemp -d "$STATE/context.XXXXXX")
trap 'rm -rf "$ctx"' EXIT
(cd "$ROOT" && tar -c --exclude=__pycache__ --exclude='*.pyc' meson.build meson_options.txt service aws jobs \
   routes openapi tests/awsemu deploy/Dockerfile deploy/container/redoc deploy/stunnel) | tar -C "$ctx" -x
base_id=$(fw_podman image inspect --format '{{.Id}}' "$BASE")
hash=$( (echo "$TARGET $base_id"; cd "$ctx" && tar -c --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner .) |
  sha256sum | cut -c1-16)
IMAGE=$NAME:$hash
if fw_podman image exists "$IMAGE"; then
  step "$IMAGE is built already"
else
  step "building $IMAGE"
  t1=$SECONDS
  fw_podman build -f "$ctx/deploy/Dockerfile" --target "$TARGET" --build-arg "DEBIAN_IMAGE=$BASE" \
    --pull=never --network host --layers -t "$IMAGE" "$ctx" >"$STATE/build-$TARGET.log" 2>&1 ||
    { tail -40 "$STATE/build-$TARGET.log" >&2; exit 1; }
  step "built in $((SECONDS - t1)) s (log: $STATE/build-$TARGET.log)"
fi
fw_podman tag "$IMAGE" "$NAME:latest"
# Drop the tags of earlier trees (their layers stay while podman's build cache uses them).
for old in $(fw_podman images --format '{{.Repository}}:{{.Tag}}' "$NAME" | grep -v -e ":latest$" -e ":$hash$"); do
  fw_podman untag "$old" "$old" 2>/dev/null || true
done
step "done in $((SECONDS - t0)) s"
echo "$IMAGE"
