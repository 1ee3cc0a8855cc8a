# deploy/container/podman.sh - sourced: `fw_podman ARGS...` runs podman with the settings that work
# on a machine without systemd (runc, cgroupfs, no default ulimits; containers.conf beside this file).
FW_CONTAINER_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export CONTAINERS_CONF="$FW_CONTAINER_DIR/containers.conf"
fw_podman() {
  podman --runtime /usr/sbin/runc --cgroup-manager cgroupfs "$@"
}
