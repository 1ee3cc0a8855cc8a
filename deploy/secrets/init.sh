#!/bin/sh
# deploy/secrets/init.sh [docker|podman] - makes the secrets deploy/docker-compose.yml mounts,
# when missing: kek (the key-encryption key, 64 hex digits) and redis_password (48 hex digits).
# Each is mode 0400 and owned by the image's user, uid 10001 (deploy/Dockerfile): Compose
# bind-mounts secret files with the owner and mode they have on the host.
#   docker   chown 10001:10001 (through sudo when not root)
#   podman   rootless Podman: `podman unshare chown 10001:10001`, so the file belongs to the
#            host uid that the container's uid 10001 maps to
# Back the KEK up before (sealed claim keys in Redis cannot be opened without it): once it is
# owned by 10001 your own user can no longer read it.
set -eu
engine=${1:-docker}
case "$engine" in docker|podman) ;; *) echo "usage: $0 [docker|podman]" >&2; exit 2 ;; esac
cd "$(dirname "$0")"
umask 077
for f in kek redis_password; do
  if [ -e "$f" ]; then
    echo "$f exists: kept"
    continue
  fi
  if [ "$f" = kek ]; then openssl rand -hex 32 > "$f"; else openssl rand -hex 24 > "$f"; fi
  chmod 0400 "$f"
  echo "$f made (0400)"
done
if [ "$engine" = podman ]; then
  podman unshare chown 10001:10001 kek redis_password
elif [ "$(id -u)" = 0 ]; then
  chown 10001:10001 kek redis_password
else
  sudo chown 10001:10001 kek redis_password
fi
ls -ln kek redis_password
