#!/usr/bin/env bash
# deploy/local/up.sh - fleetwarden on this machine, on the local defaults, in one command.
#
# Installs what is missing (Debian packages), builds, and starts in the background:
#   redis-server   127.0.0.1:6379 (append-only file in .local/redis)   unless one already answers there
#   AWS emulator   127.0.0.1:4566 (tests/awsemu, state kept in .local/awsemu), its IoT data plane
#                  for devices on localhost: MQTT 8883, credentials provider 8443, server CA in
#                  .local/awsemu/server-ca.pem (bundles carry it: FLEETWARDEN_ROOT_CA_FILE)
#   fleetwarden    127.0.0.1:8080 (serve with workers)
# then prints an admin token and a few curl lines to try. Stop everything with deploy/local/down.sh.
# Logs: .local/*.log. Nothing listens beyond 127.0.0.1.
#
# A Redis that speaks TLS with an ACL user (ElastiCache, or redis-server --tls-port) instead of the
# local one: REDIS_TLS_ENDPOINT=host:port FLEETWARDEN_REDIS_USER=... FLEETWARDEN_REDIS_PASSWORD=...
# (percent-encoded) [REDIS_TLS_CA_FILE=... REDIS_TLS_NAME=...] bash deploy/local/up.sh starts
# deploy/stunnel/redis-tunnel.sh on 127.0.0.1:6380 and points fleetwarden at it.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
STATE=$ROOT/.local
mkdir -p "$STATE/redis" "$STATE/awsemu"

bash deploy/local/install-packages.sh
bash tests/tools/install-npm-tools.sh || echo "WARNING: Node packages not installed; tests/devices (the device simulator) will not run" >&2

echo "== building"
[ -f build/build.ninja ] || meson setup build -Dbuildtype=debugoptimized >/dev/null
meson compile -C build >/dev/null

running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() {
  for _ in $(seq 100); do port_open "$1" && return 0; sleep 0.1; done
  echo "nothing listens on port $1; see $STATE/*.log" >&2; return 1
}

REDIS_URL=redis://127.0.0.1:6379/0
if [ -n "${REDIS_TLS_ENDPOINT:-}" ]; then
  : "${FLEETWARDEN_REDIS_PASSWORD:?with REDIS_TLS_ENDPOINT, set FLEETWARDEN_REDIS_PASSWORD (and FLEETWARDEN_REDIS_USER)}"
  if ! running "$STATE/stunnel.pid"; then
    echo "== starting the TLS tunnel to $REDIS_TLS_ENDPOINT on 127.0.0.1:6380"
    REDIS_TLS_LISTEN=127.0.0.1:6380 REDIS_TLS_RUN_DIR=$STATE sh deploy/stunnel/redis-tunnel.sh >"$STATE/stunnel.log" 2>&1 &
    echo $! >"$STATE/stunnel.pid"
    wait_port 6380
  fi
  REDIS_URL="redis://${FLEETWARDEN_REDIS_USER:-fleetwarden}:$FLEETWARDEN_REDIS_PASSWORD@127.0.0.1:6380/0"
elif port_open 6379; then
  echo "== redis: using the server already on 127.0.0.1:6379"
elif ! running "$STATE/redis.pid"; then
  echo "== starting redis-server on 127.0.0.1:6379"
  redis-server --bind 127.0.0.1 --port 6379 --dir "$STATE/redis" --appendonly yes --save '' \
    --daemonize no >"$STATE/redis.log" 2>&1 &
  echo $! >"$STATE/redis.pid"
  wait_port 6379
fi

# Devices reach the emulator's data plane on localhost: bundles name these ports and this CA.
MQTT_PORT=8883 CRED_PORT=8443 SERVER_CA=$STATE/awsemu/server-ca.pem
if ! running "$STATE/awsemu.pid"; then
  echo "== starting the AWS emulator on 127.0.0.1:4566"
  /usr/bin/python3 tests/awsemu/awsemu.py --host 127.0.0.1 --port 4566 --state-dir "$STATE/awsemu" \
    --endpoint-host localhost --mqtt-port "$MQTT_PORT" --credentials-port "$CRED_PORT" \
    --server-ca-file "$SERVER_CA" >"$STATE/awsemu.log" 2>&1 &
  echo $! >"$STATE/awsemu.pid"
  wait_port 4566
fi

[ -f "$STATE/kek" ] || { umask 077; openssl rand -hex 32 >"$STATE/kek"; }

# The administrator's once-per-account step of deploy/iam/README.md: the two permissions boundaries
# every role fleetwarden creates must carry, made here with the AWS CLI in the emulator's account.
seed_boundaries() {
  local name file doc
  for name in FleetwardenTokenExchangeBoundary:boundary-token-exchange.json \
              FleetwardenProvisioningBoundary:boundary-provisioning.json; do
    file=${name#*:} name=${name%%:*} doc=$STATE/$file
    sed -e "s/ACCOUNT_ID/123456789012/g" -e "s/REGION/us-east-1/g" -e "s/ARTIFACT_BUCKET_PREFIX/fw-artifacts-/g" \
      "deploy/iam/$file" >"$doc"
    aws --region us-east-1 --endpoint-url http://127.0.0.1:4566 iam get-policy \
      --policy-arn "arn:aws:iam::123456789012:policy/$name" >/dev/null 2>&1 && continue
    aws --region us-east-1 --endpoint-url http://127.0.0.1:4566 iam create-policy --policy-name "$name" \
      --policy-document "file://$doc" >/dev/null || { echo "could not create $name in the emulator" >&2; return 1; }
  done
}

export FLEETWARDEN_LISTEN=127.0.0.1:8080 FLEETWARDEN_REDIS_URL=$REDIS_URL
export FLEETWARDEN_KEK_FILE=$STATE/kek FLEETWARDEN_CORS_ORIGINS=http://localhost:3000
export AWS_ENDPOINT_URL=http://127.0.0.1:4566 AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY
export AWS_EC2_METADATA_DISABLED=true
seed_boundaries || exit 1
export FLEETWARDEN_ROOT_CA_FILE=$SERVER_CA FLEETWARDEN_IOT_MQTT_PORT=$MQTT_PORT
export FLEETWARDEN_IOT_CREDENTIALS_PORT=$CRED_PORT
# Fleet verification against the same data plane (docs/FLEETS.md): its endpoint name and the
# loopback address that name resolves to are allowed.
export FLEETWARDEN_IOT_ENDPOINT_HOSTS=localhost FLEETWARDEN_IOT_ALLOW_ADDRESSES=127.0.0.1,::1

if ! running "$STATE/fleetwarden.pid"; then
  echo "== starting fleetwarden on 127.0.0.1:8080"
  build/fleetwarden serve >"$STATE/fleetwarden.log" 2>&1 &
  echo $! >"$STATE/fleetwarden.pid"
  wait_port 8080
fi

build/fleetwarden check || true
TOKEN=$(build/fleetwarden token create --scope admin --name "local-$(date +%s)")

cat <<MSG

fleetwarden is running on http://127.0.0.1:8080 (logs in .local/, stop with deploy/local/down.sh)

Your admin token (shown once):
  export TOKEN=$TOKEN

Try the whole AWS setup against the local emulator (jq is optional; everything answers JSON):
  H="Authorization: Bearer \$TOKEN"; API=http://127.0.0.1:8080
  curl -s -H "\$H" -d '{"name":"demo"}' \$API/v1/fleets                 # 202: the fleet.setup job
  curl -s -H "\$H" "\$API/v1/jobs/JOB_ID?wait=30"                       # waits until the setup is done
  curl -s -H "\$H" \$API/v1/fleets/demo                                  # every resource with its ARN
  curl -s -H "\$H" -X POST \$API/v1/fleets/demo/verify                   # a throwaway device provisions through it
  curl -s -H "\$H" "\$API/v1/claims?fleet=demo"                          # the first claim certificate
  curl -s -H "\$H" \$API/v1/claims/CLAIM_ID/bundle >bundle.json         # cert + private key + config, once
  node tests/devices/simulate.js --bundle bundle.json --devices 3       # 3 devices provision through it
  curl -s -H "\$H" -d '{}' \$API/v1/fleets/demo/claims                   # another claim
  curl -s -H "\$H" -d '{"reason":"leaked"}' \$API/v1/claims/CLAIM_ID/disable
  curl -s -H "\$H" \$API/v1/fleets/demo/greengrass-config                # nucleus config.yaml
  curl -s -H "\$H" \$API/v1/audit                                       # who did what
  open http://127.0.0.1:8080/docs                                        # the API reference
MSG
