"""Shared pieces of the fault, security and load tests (test_faults.py, test_security.py,
test_load.py) and of tests/bench/load.

FaultEnv: a redis-server (optionally append-only), the AWS emulator, `fleetwarden serve`
(with or without workers) and any number of separate `fleetwarden worker` processes, every one
of them restartable in place (same port, same directory, same KEK) after a kill -9.
Clients post with Idempotency-Key and retry on connection errors and 503, as a real client does.
"""
import http.client
import json
import os
import random
import signal
import socket
import threading
import time
import uuid

import harness

STATES = ("queued", "scheduled", "running", "failed", "succeeded", "dead", "canceled")


def kill9(p):
    """SIGKILL a harness.Fleetwarden (by its PID) and forget the process."""
    if p.proc is not None:
        p.proc.send_signal(signal.SIGKILL)
        p.proc.wait()
        p.proc = None
        p.log.close()


class FaultEnv(harness.ApiHelpers):
    def __init__(self, env=None, workers_in_api=False, worker_procs=2, emu_args=("--no-quotas",),
                 appendonly=False, workers=4):
        self.redis = harness.Redis(appendonly=appendonly).start()
        self.emu = harness.Emulator(extra_args=list(emu_args)).start()
        e = dict(self.emu.aws_env())
        e.update({"FLEETWARDEN_WORKERS": str(workers), "FLEETWARDEN_LOG_LEVEL": "warn",
                  "FLEETWARDEN_RATE_IOT_CERT_CREATE": "2000", "FLEETWARDEN_RATE_IOT_CERT_UPDATE": "2000",
                  "FLEETWARDEN_RATE_IOT_POLICY_ATTACH": "2000"})
        e.update(env or {})
        self.env = e
        args = ("serve",) if workers_in_api else ("serve", "--no-workers")
        self.fw = harness.Fleetwarden(self.redis, env=e, args=args).start()
        self.kek = self.fw.kek_file()
        self.workers = [self.new_worker() for _ in range(worker_procs)]
        self.admin = self.fw.token("admin", "admin")
        self.read = self.fw.token("read", "reader")
        self.dead_logs = []           # logs of processes killed on purpose (scanned for secrets)

    def new_worker(self):
        w = harness.Fleetwarden(self.redis, env=dict(self.env, FLEETWARDEN_KEK_FILE=self.kek), args=("worker",))
        return w.start(wait=False)

    def restart(self, p, wait=True):
        """Starts a killed or stopped process again in place (same port, directory and log).
        Retries for a few seconds: in a shared checkout the binary may be relinked meanwhile."""
        for i in range(20):
            try:
                p.start(wait=wait)
                return
            except OSError:
                if p.proc is not None:
                    kill9(p)
                elif not p.log.closed:
                    p.log.close()
                if i == 19:
                    raise
                time.sleep(0.5)

    def all_logs(self):
        out = self.fw.logs()
        for w in self.workers:
            out += w.logs()
        return out

    def stop(self):
        harness.stop_stack(self.fw, self.workers, self.emu, self.redis)

    # ---- HTTP ----
    def req_retry(self, method, path, body=None, token=None, timeout=120, key=None):
        """A client that survives restarts: retries connection errors and 503 with the same
        Idempotency-Key (POST), and a 409 with Retry-After (the key's first request is still
        running, or died mid-request and its lease has not run out), until timeout."""
        h = {}
        if method == "POST":
            h["Idempotency-Key"] = key or uuid.uuid4().hex
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                r = self.fw.request(method, path, token=token or self.admin, body=body, headers=h, timeout=30)
                if r.status != 503 and not (r.status == 409 and r.header("Retry-After")):
                    return r
                last = r
            except (OSError, http.client.HTTPException) as e:
                last = e
            time.sleep(0.1 + random.random() * 0.2)
        raise AssertionError("%s %s never answered: %r" % (method, path, last))

    def poll(self, method, path, token=None):
        return self.req_retry(method, path, token=token)

    def paged(self, path, token=None):
        items, cursor = [], None
        sep = "&" if "?" in path else "?"
        while True:
            q = path + sep + "limit=500" + ("&cursor=" + cursor if cursor else "")
            r = self.req_retry("GET", q, token=token or self.read)
            assert r.status == 200, r
            items += r.json["items"]
            cursor = r.json["nextCursor"]
            if not cursor:
                return items

    def jobs_by_state(self):
        return {s: self.paged("/v1/jobs?state=" + s) for s in STATES}

    def wait_quiet(self, timeout=120, allow_failed=False):
        """Waits until no job is queued, scheduled, running or failed (retry due). Returns jobs by state.

        The state lists are read one after another, so a job that moves while they are read (failed
        when the failed list is read, running again when the succeeded list is) is in none of them:
        quiet means two readings in a row that are quiet and list the same jobs in the same states."""
        deadline = time.monotonic() + timeout
        by, last = {}, None
        while time.monotonic() < deadline:
            by = self.jobs_by_state()
            # recurring schedule jobs (autorotate, watch) may sit scheduled: ignore those
            busy = [j for s in ("queued", "running", "failed") for j in by[s]]
            # and so may follow-up jobs due later (claim.retire after the grace period, claim.delete after the retention)
            busy += [j for j in by["scheduled"] if not j["id"].startswith("s_")
                     and j["type"] not in ("claim.delete", "claim.retire")]
            seen = {(j["id"], s) for s, v in by.items() for j in v}
            if not busy and seen == last:
                return by
            last = None if busy else seen
            time.sleep(0.5)
        counts = {s: len(v) for s, v in by.items()}
        raise AssertionError("jobs did not settle in %ss: %s" % (timeout, counts))

    def setup_fleet(self, name, timeout=120):
        r = self.req_retry("POST", "/v1/fleets", body={"name": name, "region": "us-east-1"})
        assert r.status == 202, r
        return r.json["job"]["id"]

    def emu_state(self):
        return self.emu.control("GET", "state")

    def emu_certs(self):
        return self.emu_state()["iot"]["certificates"]


def post_claims(env, fleet, n, threads=8, errors=None, body=None):
    """Posts n claims from `threads` clients, each retrying with its Idempotency-Key.
    Returns [(claim id, job id)]."""
    out, lock = [], threading.Lock()
    errors = errors if errors is not None else []

    def client(k):
        for _ in range(k):
            try:
                r = env.req_retry("POST", "/v1/fleets/%s/claims" % fleet, body=body or {}, timeout=180)
            except AssertionError as e:
                with lock:
                    errors.append(str(e))
                continue
            with lock:
                if r.status == 202 and "claim" in r.json:
                    out.append((r.json["claim"]["id"], r.json["job"]["id"]))
                else:
                    errors.append(r)
    per = [n // threads + (1 if i < n % threads else 0) for i in range(threads)]
    ts = [threading.Thread(target=client, args=(k,)) for k in per]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return out


class Killer(threading.Thread):
    """Kills (SIGKILL) a random target at random moments and starts it again, until stopped."""

    def __init__(self, env, targets, min_s=0.3, max_s=1.2, down_s=0.2, seed=None):
        super().__init__(daemon=True)
        self.env, self.targets = env, targets
        self.min_s, self.max_s, self.down_s = min_s, max_s, down_s
        self.rand = random.Random(seed)
        self.halt = threading.Event()
        self.kills = []
        self.error = None

    def run(self):
        try:
            while not self.halt.wait(self.rand.uniform(self.min_s, self.max_s)):
                name = self.rand.choice(self.targets)
                p = self.env.fw if name == "serve" else self.env.workers[int(name[len("worker"):])]
                kill9(p)
                self.kills.append(name)
                time.sleep(self.down_s)
                self.env.restart(p, wait=(name == "serve"))
        except Exception as e:      # noqa: BLE001 - reported by the test
            import traceback
            self.error = "".join(traceback.format_exception(e))

    def stop(self):
        self.halt.set()
        self.join(60)


def raw_http(port, data, timeout=10):
    """Sends raw bytes; returns (status line or None, bytes received, error name or None)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    got, err = b"", None
    try:
        s.sendall(data)
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += b
    except OSError as e:
        err = type(e).__name__
    finally:
        s.close()
    line = got.split(b"\r\n", 1)[0].decode(errors="replace") if got else None
    return line, got, err


def dump_redis(redis, prefix="fw:"):
    """Every fw:* key's value as text (strings, hashes, lists, sets, zsets, streams)."""
    out = []
    for k in redis.command("KEYS", prefix + "*") or []:
        t = redis.command("TYPE", k)
        if t == "string":
            v = redis.command("GET", k)
        elif t == "hash":
            v = redis.command("HGETALL", k)
        elif t == "list":
            v = redis.command("LRANGE", k, 0, -1)
        elif t == "set":
            v = redis.command("SMEMBERS", k)
        elif t == "zset":
            v = redis.command("ZRANGE", k, 0, -1)
        elif t == "stream":
            v = redis.command("XRANGE", k, "-", "+")
        else:
            v = None
        out.append("%s %s" % (k, json.dumps(v)))
    return "\n".join(out)


def run_wrk(url, token=None, seconds=5, conns=64, threads=2, timeout_s=10):
    """Runs wrk; returns {"rps", "p50", "p99", "requests", "non2xx", "socket_errors", "out"}."""
    import re
    import subprocess
    args = ["wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % seconds, "--timeout", "%ds" % timeout_s, "--latency"]
    if token:
        args += ["-H", "Authorization: Bearer " + token]
    out = subprocess.run(args + [url], capture_output=True, text=True, timeout=seconds + 60).stdout

    def num(pat, default=0.0):
        m = re.search(pat, out)
        return float(m.group(1)) if m else default

    def lat(q):
        m = re.search(r"^\s*%s%%\s+([\d.]+)(us|ms|s)\s*$" % q, out, re.M)
        if not m:
            return None
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]

    se = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {"rps": num(r"Requests/sec:\s+([\d.]+)"), "p50": lat(50), "p99": lat(99),
            "requests": int(num(r"(\d+) requests in")), "non2xx": int(num(r"Non-2xx or 3xx responses: (\d+)")),
            "socket_errors": sum(int(x) for x in se.groups()) if se else 0, "out": out}
