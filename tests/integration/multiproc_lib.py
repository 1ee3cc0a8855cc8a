"""Several fleetwarden processes on one Redis (issue 18), for tests/integration/test_multiprocess.py
and the benchmark tests/bench/multiproc.

MultiEnv: one redis-server, the AWS emulator, N `serve --no-workers` processes (the APIs) and M
`worker` processes, all with the same key-encryption key, as a deployment with several pods
runs. create_claims() posts claims through every API in turn from several client threads, each
POST with an Idempotency-Key, retried with the same key after a dropped connection or a 503 (what
a careful client does while a process restarts): a claim is never made twice by a retry.
"""
import http.client
import itertools
import os
import signal
import threading
import time
import uuid

import claims_lib as cl
import harness


class MultiEnv(cl.ClaimsEnv):
    def __init__(self, apis=2, workers=2, env=None, emu_args=()):
        self.redis = harness.Redis(appendonly=True).start()
        self.emu = harness.Emulator(extra_args=emu_args).start()
        self.env = dict(self.emu.aws_env(), FLEETWARDEN_LOG_LEVEL="warn", **(env or {}))
        self.apis = []
        first = harness.Fleetwarden(self.redis, env=self.env, args=("serve", "--no-workers")).start()
        self.kek = first.kek_file()
        self.env["FLEETWARDEN_KEK_FILE"] = self.kek
        self.apis.append(first)
        for _ in range(apis - 1):
            self.apis.append(harness.Fleetwarden(self.redis, env=self.env, args=("serve", "--no-workers")).start())
        self.fw = first
        self.workers = [self.start_worker() for _ in range(workers)]
        self.admin = first.token("admin", "admin")
        self.operate = first.token("operate", "operator")
        self.read = first.token("read", "reader")
        self.killed = []

    def start_worker(self):
        return harness.Fleetwarden(self.redis, env=self.env, args=("worker",)).start(wait=False)

    def kill9_worker(self, i):
        w = self.workers.pop(i)
        w.proc.send_signal(signal.SIGKILL)
        w.proc.wait()
        w.proc = None
        w.log.close()
        self.killed.append(w)

    def restart_api(self, i):
        """SIGTERM (graceful: requests in flight are answered), then the same port again."""
        old = self.apis[i]
        code = old.stop()
        assert code == 0, "serve exited %s on SIGTERM: %s" % (code, old.logs()[-2000:])
        new = harness.Fleetwarden(self.redis, env=self.env, args=("serve", "--no-workers"), workdir=old.dir)
        new.port = old.port
        self.apis[i] = new.start()
        return new

    def all_logs(self):
        return "".join(p.logs() for p in self.apis + self.workers + self.killed)

    def stop(self):
        for a in self.apis[1:]:
            code = a.stop()
            assert code in (0, None), "serve exited %s" % code
        harness.stop_stack(self.fw, self.workers, self.emu, self.redis)


def post_claim(api, token, fleet, key, deadline):
    """POST a claim with Idempotency-Key key until it is answered 202 (or 4xx: returned). A 409
    with Retry-After is the key's first request still running (or killed mid-request, until its
    lease runs out): the same key again."""
    while True:
        try:
            r = api.request("POST", "/v1/fleets/%s/claims" % fleet, token=token, body={},
                            headers={"Idempotency-Key": key}, timeout=30)
            if r.status != 503 and not (r.status == 409 and r.header("Retry-After")):
                return r
        except (OSError, http.client.HTTPException):
            pass                  # the process is restarting: same key again, maybe elsewhere
        if time.monotonic() > deadline:
            raise AssertionError("claim %s not accepted before the deadline" % key)
        time.sleep(0.2)


def create_claims(env, fleet, n, threads=8, during=None, timeout=600):
    """Posts n claims through env.apis in turn; during(k) is called after the k-th 202 (in one
    thread at a time). Returns (claim ids in order of acceptance, unexpected answers)."""
    ids, wrong, lock = [], [], threading.Lock()
    counter = itertools.count()
    deadline = time.monotonic() + timeout

    def run():
        while True:
            k = next(counter)
            if k >= n:
                return
            api = env.apis[k % len(env.apis)]
            r = post_claim(api, env.operate, fleet, uuid.uuid4().hex, deadline)
            with lock:
                if r.status == 202:
                    ids.append(r.json["claim"]["id"])
                    if during:
                        during(len(ids))
                else:
                    wrong.append((r.status, r.body[:200]))
    ts = [threading.Thread(target=run) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return ids, wrong


def states(env, fleet, ids):
    """{state: count} of the claims in ids, read page by page (each id must be listed once)."""
    want, counts, seen, cursor = set(ids), {}, set(), None
    while True:
        q = "/v1/claims?fleet=%s&limit=500%s" % (fleet, "&cursor=" + cursor if cursor else "")
        page = env.req("GET", q, token=env.read).json
        for c in page["items"]:
            assert c["id"] not in seen, "listed twice: %s" % c["id"]
            seen.add(c["id"])
            if c["id"] in want:
                counts[c["state"]] = counts.get(c["state"], 0) + 1
        cursor = page["nextCursor"]
        if not cursor:
            return counts


def wait_all(env, fleet, ids, timeout=300):
    deadline = time.monotonic() + timeout
    counts = {}
    while time.monotonic() < deadline:
        counts = states(env, fleet, ids)
        if counts.get("active", 0) + counts.get("failed", 0) >= len(ids):
            break
        time.sleep(1)
    return counts


def per_second(calls, op):
    """Calls of op that the emulator let through, counted per second of its clock:
    {second: count}."""
    out = {}
    for c in calls:
        if c.get("operation") == op and c.get("status") == 200:
            sec = c["time"][:19]
            out[sec] = out.get(sec, 0) + 1
    return out


