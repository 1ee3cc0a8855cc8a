#!/bin/sh
# deploy/stunnel/redis-tunnel.sh - TLS to Redis for fleetwarden, whose hiredis (0.14, Debian 12)
# speaks clear text only: stunnel (Debian stunnel4) listens on a local port in clear text and
# connects to Redis's TLS port, checking the server's certificate chain AND its name. This is
# what AWS's ElastiCache guide shows for clients without TLS. The same script runs on a host
# (deploy/local), as the stunnel container in deploy/docker-compose.yml and as the sidecar of
# each pod in deploy/k8s (image target `stunnel` of deploy/Dockerfile).
#
# Environment:
#   REDIS_TLS_ENDPOINT   host:port of Redis's TLS endpoint (required), e.g. the ElastiCache
#                        primary endpoint master.NAME.xxxxxx.use1.cache.amazonaws.com:6379
#   REDIS_TLS_LISTEN     where fleetwarden connects (default 127.0.0.1:6380; point
#                        FLEETWARDEN_REDIS_URL=redis://USER:PASSWORD@127.0.0.1:6380/0 at it)
#   REDIS_TLS_CA_FILE    CAs to trust (default Debian's store, which holds the Amazon roots
#                        ElastiCache's certificates chain to)
#   REDIS_TLS_NAME       the name the certificate must carry (default the endpoint's host;
#                        an IP address is checked as an IP SAN)
#   REDIS_TLS_RUN_DIR    where the generated stunnel.conf goes (default /tmp: a read-only root
#                        file system is fine)
# stunnel resolves the endpoint at every connection (delay = yes), so a failover that moves the
# DNS name to a new primary is followed, and it closes the client side when Redis's side drops,
# so fleetwarden sees the failover as a dropped connection and reconnects.
set -eu
: "${REDIS_TLS_ENDPOINT:?REDIS_TLS_ENDPOINT=host:port of the Redis TLS endpoint is required}"
LISTEN=${REDIS_TLS_LISTEN:-127.0.0.1:6380}
CA=${REDIS_TLS_CA_FILE:-/etc/ssl/certs/ca-certificates.crt}
HOST=${REDIS_TLS_ENDPOINT%:*}
NAME=${REDIS_TLS_NAME:-$HOST}
RUN=${REDIS_TLS_RUN_DIR:-/tmp}
[ -r "$CA" ] || { echo "redis-tunnel: REDIS_TLS_CA_FILE $CA is not readable" >&2; exit 2; }
case "$NAME" in
  *[!0-9.]*) check="checkHost = $NAME" ;;   # a DNS name
  *) check="checkIP = $NAME" ;;              # an IPv4 address
esac
mkdir -p "$RUN"
CONF=$RUN/stunnel-redis.conf
cat >"$CONF" <<CONF
foreground = yes
pid =
syslog = no
debug = notice
[redis]
client = yes
accept = $LISTEN
connect = $REDIS_TLS_ENDPOINT
delay = yes
CAfile = $CA
verifyChain = yes
$check
sslVersionMin = TLSv1.2
CONF
exec stunnel "$CONF"
