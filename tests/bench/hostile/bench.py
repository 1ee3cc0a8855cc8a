#!/usr/bin/env python3
"""Hostile clients without a token, and an admin (issue 17, item 3).

One address (127.0.0.1) keeps 2,000 connections to `fleetwarden serve --no-workers`: 500 idle
TCP connections, 500 that trickle an unfinished request header (a byte every 2 s), 500 event
streams and 500 long polls (?wait=30 on a job that never finishes, asked again when answered),
the last two with a read token. Whatever the server closes or refuses is opened again at once,
so the pressure never lets up. Meanwhile an admin on another address (127.0.0.2) sends
GET /v1/fleets on a new connection every 100 ms; its latency (p50 / p99 / max) and failures
(no answer within 5 s, or not 200) are what this measures, with what the server holds open
(from /metrics), its threads and its resident memory.

Configurations: `defaults` (the shipped limits: 256 connections per address, 16 streams and 64
long polls per token), `open` (no per-address limit, 1,000 streams and long polls per token: all
2,000 held, to show what the design itself costs). The build before the change is run with its
own defaults.

usage: bench.py BUILD_DIR [--config defaults|open] [--seconds N] [--hostile N]
"""
import argparse
import http.client
import os
import re
import selectors
import socket
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import benchlib  # noqa: E402

CONFIGS = {
    "defaults": {},
    "open": {"FLEETWARDEN_MAX_CONNECTIONS_PER_ADDRESS": "0", "FLEETWARDEN_MAX_STREAMS": "5000",
             "FLEETWARDEN_MAX_STREAMS_PER_TOKEN": "1000", "FLEETWARDEN_MAX_LONG_POLLS": "5000",
             "FLEETWARDEN_MAX_LONG_POLLS_PER_TOKEN": "1000"},
}


class Hostile:
    """n connections from 127.0.0.1, four kinds, reopened when the server drops them."""

    def __init__(self, port, token, job, n):
        self.port, self.n = port, n
        self.reqs = [None,
                     b"GET /v1/fleets HTTP/1.1\r\nHost: x\r\nX-Slow: ",
                     b"GET /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n" % token.encode(),
                     b"GET /v1/jobs/%s?wait=30 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n"
                     % (job.encode(), token.encode())]
        self.sel = selectors.DefaultSelector()
        self.socks = {}          # socket -> kind
        self.reopened = 0
        self.stop = False

    def open(self, kind):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.bind(("127.0.0.1", 0))
        try:
            s.connect(("127.0.0.1", self.port))
        except BlockingIOError:
            pass
        self.socks[s] = kind
        self.sel.register(s, selectors.EVENT_WRITE, kind)

    def drop(self, s):
        kind = self.socks.pop(s)
        self.sel.unregister(s)
        s.close()
        self.reopened += 1
        return kind

    def on_event(self, s, ev):
        kind = self.socks[s]
        if ev & selectors.EVENT_WRITE:     # connected: send the request (or nothing)
            self.sel.modify(s, selectors.EVENT_READ, kind)
            try:
                if self.reqs[kind]:
                    s.send(self.reqs[kind])
            except OSError:
                self.open(self.drop(s))
            return
        try:
            data = s.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.open(self.drop(s))
        elif kind == 3 and b"\r\n\r\n" in data and b"\"id\"" in data:   # a long poll answered: ask again
            try:
                s.send(self.reqs[3])
            except OSError:
                self.open(self.drop(s))

    def trickle(self):
        for s, kind in list(self.socks.items()):
            if kind == 1:
                try:
                    s.send(b"z")
                except OSError:
                    pass

    def run(self):
        for i in range(self.n):
            self.open(i % 4)
        last = time.monotonic()
        while not self.stop:
            for key, ev in self.sel.select(timeout=0.2):
                if key.fileobj in self.socks:
                    self.on_event(key.fileobj, ev)
            if time.monotonic() - last >= 2:
                self.trickle()
                last = time.monotonic()
        for s in list(self.socks):
            s.close()


def admin_get(port, token):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5, source_address=("127.0.0.2", 0))
    t0 = time.monotonic()
    try:
        conn.request("GET", "/v1/fleets", headers={"Authorization": "Bearer " + token})
        r = conn.getresponse()
        r.read()
        return r.status, time.monotonic() - t0
    except (OSError, http.client.HTTPException):
        return None, time.monotonic() - t0
    finally:
        conn.close()


def proc_status(pid):
    with open("/proc/%d/status" % pid) as f:
        text = f.read()
    threads = int(re.search(r"Threads:\s+(\d+)", text).group(1))
    rss = int(re.search(r"VmRSS:\s+(\d+)", text).group(1)) // 1024
    return threads, rss


def metrics(port):
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5, source_address=("127.0.0.2", 0))
        conn.request("GET", "/metrics")
        text = conn.getresponse().read().decode()
        conn.close()
    except (OSError, http.client.HTTPException):
        return {}
    out = {}
    for name in ("fleetwarden_http_connections", "fleetwarden_http_streams", "fleetwarden_http_long_polls"):
        m = re.search(r"^%s (\d+)$" % name, text, re.M)
        if m:
            out[name] = int(m.group(1))
    m = re.search(r'^fleetwarden_http_limited_total\{limit="connections_per_address"\} (\d+)$', text, re.M)
    out["refused"] = int(m.group(1)) if m else None
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--config", default="defaults", choices=sorted(CONFIGS))
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--hostile", type=int, default=2000)
    a = ap.parse_args()
    harness = benchlib.harness_for(a.build)

    redis = harness.Redis().start()
    env = dict(CONFIGS[a.config], FLEETWARDEN_LOG_LEVEL="warn")
    fw = harness.Fleetwarden(redis, env=env, args=("serve", "--no-workers")).start()
    hostile = None
    try:
        admin, read = fw.token("admin", "admin"), fw.token("read", "hostile")
        job = fw.request("POST", "/v1/watch/run", token=admin).json["job"]["id"]
        quiet = [admin_get(fw.port, admin)[1] for _ in range(20)]
        hostile = Hostile(fw.port, read, job, a.hostile)
        t = threading.Thread(target=hostile.run, daemon=True)
        t.start()
        time.sleep(5)                       # let the attack build up
        lat, failed, samples = [], 0, []
        end = time.monotonic() + a.seconds
        next_sample = 0
        while time.monotonic() < end:
            status, secs = admin_get(fw.port, admin)
            if status == 200:
                lat.append(secs)
            else:
                failed += 1
            if time.monotonic() >= next_sample:
                samples.append((proc_status(fw.proc.pid), metrics(fw.port)))
                next_sample = time.monotonic() + 2.5
            time.sleep(0.1)
        hostile.stop = True
        t.join(10)
        lat.sort()
        threads = max(t for (t, _), _ in samples)
        rss = max(r for (_, r), _ in samples)
        m = samples[-1][1]
        print("| %s | %s | %d | %.1f ms | %s | %s | %s | %d | %s | %s / %s / %s | %d | %d MiB |" % (
            a.build, a.config, a.hostile, statistics.median(quiet) * 1000,
            "%.1f ms" % (statistics.median(lat) * 1000) if lat else "-",
            "%.1f ms" % (lat[int(0.99 * (len(lat) - 1))] * 1000) if lat else "-",
            "%.1f ms" % (lat[-1] * 1000) if lat else "-", failed, hostile.reopened,
            m.get("fleetwarden_http_connections", "-"), m.get("fleetwarden_http_streams", "-"),
            m.get("fleetwarden_http_long_polls", "-"), threads, rss))
    finally:
        if hostile:
            hostile.stop = True
        try:
            fw.stop()
        finally:
            redis.stop()


if __name__ == "__main__":
    main()
