"""Containers for the integration tests (issue 18): the image of deploy/Dockerfile built by
deploy/container/build-image.sh and run with podman (runc, cgroupfs, the settings of
deploy/container/containers.conf), on the host's network so they reach the test's Redis and AWS
emulator on loopback.

usable() says whether podman can run a container here and, if not, why: the tests then skip
with that reason (the runner prints it in its summary), never silently.
"""
import os
import shutil
import subprocess
import time

import harness

HERE = os.path.join(harness.ROOT, "deploy", "container")
BUILD = os.path.join(HERE, "build-image.sh")
PODMAN = ["podman", "--runtime", "/usr/sbin/runc", "--cgroup-manager", "cgroupfs"]
ENV = dict(os.environ, CONTAINERS_CONF=os.path.join(HERE, "containers.conf"))


def podman(*args, timeout=120, check=True):
    r = subprocess.run(PODMAN + list(args), env=ENV, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError("podman %s: exit %d: %s" % (" ".join(args[:3]), r.returncode, r.stderr[-2000:]))
    return r


def usable():
    """(True, "") or (False, why podman cannot run containers on this machine)."""
    if os.environ.get("FW_SKIP_CONTAINERS"):
        return False, "FW_SKIP_CONTAINERS is set"
    for tool in ("podman", "/usr/sbin/runc", "debootstrap"):
        if not shutil.which(tool):
            return False, "%s is not installed (apt-get install podman runc debootstrap)" % tool
    if os.geteuid() != 0:
        return False, "the container tests build with root's podman storage; run the suite as root"
    r = podman("info", "--format", "{{.Host.OCIRuntime.Name}}", check=False, timeout=60)
    if r.returncode != 0:
        return False, "podman info fails: %s" % r.stderr.strip()[-300:]
    return True, ""


def build(target="runtime"):
    """Builds (or finds, cached) the image; returns (image name, seconds, build-image.sh's stderr)."""
    t0 = time.monotonic()
    r = subprocess.run(["bash", BUILD, target], capture_output=True, text=True, timeout=1500)
    took = time.monotonic() - t0
    if r.returncode != 0:
        raise AssertionError("build-image.sh %s failed (exit %d):\n%s" % (target, r.returncode, r.stderr[-4000:]))
    return r.stdout.strip().splitlines()[-1], took, r.stderr


class Container:
    """One detached container on the host network, removed by stop()."""

    def __init__(self, name, image, args=(), env=None, volumes=(), extra=()):
        self.name = name
        cmd = ["run", "-d", "--name", name, "--network", "host", "--read-only", "--tmpfs", "/tmp",
               "--cap-drop", "ALL", "--security-opt", "no-new-privileges", *extra]
        for k, v in (env or {}).items():
            cmd += ["-e", "%s=%s" % (k, v)]
        for host, inside in volumes:
            cmd += ["-v", "%s:%s:ro" % (host, inside)]
        podman("rm", "-f", name, check=False)
        podman(*cmd, image, *args)

    def running(self):
        return podman("inspect", "--format", "{{.State.Running}}", self.name).stdout.strip() == "true"

    def exec(self, *args, timeout=60):
        return podman("exec", self.name, *args, timeout=timeout)

    def logs(self):
        r = podman("logs", self.name, check=False)
        return r.stdout + r.stderr

    def stop(self, timeout=30):
        """podman stop: SIGTERM (the image's STOPSIGNAL), SIGKILL after timeout. Returns
        (exit code, whether it was killed, logs) and removes the container."""
        t0 = time.monotonic()
        podman("stop", "-t", str(timeout), self.name, check=False, timeout=timeout + 60)
        took = time.monotonic() - t0
        code = podman("inspect", "--format", "{{.State.ExitCode}}", self.name, check=False).stdout.strip()
        logs = self.logs()
        podman("rm", "-f", self.name, check=False)
        return int(code) if code.lstrip("-").isdigit() else None, took >= timeout, logs

    def remove(self):
        podman("rm", "-f", self.name, check=False, timeout=60)
