"""Outages without a token, and the audit trail under an anonymous flood (issue 17, items 3 and 4),
through the real binary and a real Redis.

- connections: a client address holds at most FLEETWARDEN_MAX_CONNECTIONS_PER_ADDRESS (the rest are
  refused at accept, counted in /metrics) while another address is served; more than 1,024 open
  connections do not stop the server (epoll, no FD_SETSIZE ceiling); a connection that sends no
  request header is closed after FLEETWARDEN_IDLE_TIMEOUT, while a body may take
  FLEETWARDEN_CONN_TIMEOUT;
- event streams and long polls: capped per token (429) and per process (503), both with
  Retry-After and counted in /metrics, a place freed when its request ends; every stream of a
  process is fed by one Redis connection; a long poll is woken by its job's end; with streams,
  long polls and idle connections held open, other clients are answered;
- requests answered 401 never reach the audit trail: a flood of anonymous POSTs with long paths
  leaves every real entry in place and Redis' memory where it was; they are sampled into a record
  of at most 1,000 entries;
- rate limits per client address and per token answer 429 with Retry-After, and are shared by
  every process on the same Redis.

Behaviour only: the timings (an admin's answer under 2,000 hostile connections) are measured in
tests/bench/hostile.
"""
import http.client
import json
import os
import re
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402
import sse  # noqa: E402
from harness import ServiceTestCase  # noqa: E402


def req_from(fw, source, method, path, token=None, body=None, timeout=20):
    """A request from another loopback address (127.0.0.2, ...): (status, headers dict, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", fw.port, timeout=timeout, source_address=(source, 0))
    h = {"Authorization": "Bearer " + token} if token else {}
    data = json.dumps(body).encode() if body is not None else None
    if data:
        h["Content-Type"] = "application/json"
    try:
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def metric(fw, name, labels=""):
    text = fw.request("GET", "/metrics").body.decode()
    m = re.search(r"^%s%s (\d+)$" % (re.escape(name), re.escape(labels)), text, re.M)
    return int(m.group(1)) if m else None


def closed_by_server(s, wait=2.0):
    """True when the server closed (or reset) the connection within `wait` seconds."""
    s.settimeout(wait)
    try:
        return s.recv(1) == b""
    except socket.timeout:
        return False
    except OSError:
        return True


def connect(fw, source="127.0.0.1"):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((source, 0))
    s.connect(("127.0.0.1", fw.port))
    return s


class Connections(ServiceTestCase):
    fw_env = {"FLEETWARDEN_MAX_CONNECTIONS_PER_ADDRESS": "20", "FLEETWARDEN_HTTP_THREADS": "2",
              "FLEETWARDEN_IDLE_TIMEOUT": "30"}

    def test_per_address_limit_refuses_at_accept_and_serves_others(self):
        socks = [connect(self.fw, "127.0.0.3") for _ in range(40)]
        try:
            time.sleep(0.5)
            kept = [s for s in socks if not closed_by_server(s, 0.5)]
            # at most the limit, plus one accept per event-loop thread racing the count
            self.assertLessEqual(len(kept), 20 + 2)
            self.assertGreaterEqual(len(kept), 18)
            status, _, _ = req_from(self.fw, "127.0.0.2", "GET", "/v1/fleets", token=self.admin)
            self.assertEqual(status, 200)
            self.assertGreaterEqual(metric(self.fw, "fleetwarden_http_limited_total",
                                           '{limit="connections_per_address"}'), 40 - len(kept))
        finally:
            for s in socks:
                s.close()
        # the address's places are free again once its connections are gone
        harness.wait_until(lambda: req_from(self.fw, "127.0.0.3", "GET", "/healthz")[0] == 200, timeout=5,
                           what="127.0.0.3 served again")


class ManyConnections(ServiceTestCase):
    fw_env = {"FLEETWARDEN_MAX_CONNECTIONS_PER_ADDRESS": "0", "FLEETWARDEN_IDLE_TIMEOUT": "60",
              "FLEETWARDEN_CONN_TIMEOUT": "60"}

    def test_more_than_1024_open_connections(self):
        """select() refused descriptors past FD_SETSIZE (1,024); epoll has no such ceiling."""
        socks = []
        try:
            for i in range(1100):
                socks.append(connect(self.fw, "127.0.0.%d" % (4 + i % 8)))
            time.sleep(1)
            self.assertEqual(self.fw.request("GET", "/v1/fleets", token=self.admin).status, 200)
            # and a request on one of the last (highest-numbered) connections is answered
            s = socks[-1]
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            s.settimeout(10)
            self.assertTrue(s.recv(64).startswith(b"HTTP/1.1 200"))
            self.assertGreaterEqual(metric(self.fw, "fleetwarden_http_connections"), 1000)
        finally:
            for s in socks:
                s.close()


class IdleTimeout(ServiceTestCase):
    fw_env = {"FLEETWARDEN_IDLE_TIMEOUT": "1", "FLEETWARDEN_CONN_TIMEOUT": "20"}

    def test_idle_connection_is_closed_long_before_a_request_would_be(self):
        idle = connect(self.fw)
        half = connect(self.fw)
        half.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")          # a header never finished
        try:
            self.assertTrue(closed_by_server(idle, 6), "an idle connection was kept")
            self.assertTrue(closed_by_server(half, 6), "a half-sent header was kept")
        finally:
            idle.close()
            half.close()

    def test_a_slow_body_has_the_request_timeout(self):
        body = b'{"name": "slow-body", "scope": "read"}'
        s = connect(self.fw)
        try:
            s.sendall(b"POST /v1/tokens HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + self.admin.encode() +
                      b"\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body[:5])
            time.sleep(2.5)                   # past the idle timeout: the header is in, the body may take longer
            s.sendall(body[5:])
            s.settimeout(10)
            self.assertTrue(s.recv(64).startswith(b"HTTP/1.1 201"))
        finally:
            s.close()


class Waiting(ServiceTestCase):
    """Event streams and long polls: per-token and per-process caps, one Redis connection."""
    fw_env = {"FLEETWARDEN_MAX_STREAMS": "3", "FLEETWARDEN_MAX_STREAMS_PER_TOKEN": "2",
              "FLEETWARDEN_MAX_LONG_POLLS": "3", "FLEETWARDEN_MAX_LONG_POLLS_PER_TOKEN": "2"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tok = [cls.fw.token("read", "reader-%d" % i) for i in range(3)]

    def assertLimited(self, r, status):
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.header("Content-Type"), "application/problem+json", r)
        self.assertGreaterEqual(int(r.header("Retry-After")), 1)

    def stream(self, token):
        """An open stream: (socket, first bytes of the answer)."""
        s = connect(self.fw)
        s.sendall(b"GET /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token.encode() + b"\r\n\r\n")
        s.settimeout(10)
        return s, s.recv(4096)

    def test_streams_are_capped_per_token_and_per_process(self):
        a1, h1 = self.stream(self.tok[0])
        a2, h2 = self.stream(self.tok[0])
        opened = [a1, a2]
        try:
            self.assertTrue(h1.startswith(b"HTTP/1.1 200") and h2.startswith(b"HTTP/1.1 200"), (h1, h2))
            self.assertLimited(self.fw.request("GET", "/v1/events", token=self.tok[0]), 429)
            b1, hb = self.stream(self.tok[1])
            opened.append(b1)
            self.assertTrue(hb.startswith(b"HTTP/1.1 200"), hb)
            self.assertLimited(self.fw.request("GET", "/v1/events", token=self.tok[2]), 503)
            self.assertGreaterEqual(metric(self.fw, "fleetwarden_http_limited_total", '{limit="streams_per_token"}'), 1)
            self.assertGreaterEqual(metric(self.fw, "fleetwarden_http_limited_total", '{limit="streams"}'), 1)
            self.assertEqual(metric(self.fw, "fleetwarden_http_streams"), 3)
            # other requests are served meanwhile
            self.assertEqual(self.fw.request("GET", "/v1/fleets", token=self.admin).status, 200)
            # a closed stream frees its place (the watchdog looks at waiting sockets every second)
            a1.close()
            opened.remove(a1)
            harness.wait_until(lambda: metric(self.fw, "fleetwarden_http_streams") == 2, timeout=10,
                               what="the closed stream's place")
            c1, hc = self.stream(self.tok[2])
            opened.append(c1)
            self.assertTrue(hc.startswith(b"HTTP/1.1 200"), hc)
        finally:
            for s in opened:
                s.close()

    def test_long_polls_are_capped_and_woken_by_the_job(self):
        job = self.fw.request("POST", "/v1/watch/run", token=self.admin).json["job"]["id"]  # no workers: stays queued
        out, threads = [], []

        def poll(token):
            t0 = time.monotonic()
            r = self.fw.request("GET", "/v1/jobs/%s?wait=30" % job, token=token, timeout=40)
            out.append((token, r, time.monotonic() - t0))

        for token in (self.tok[0], self.tok[0], self.tok[1]):
            threads.append(threading.Thread(target=poll, args=(token,)))
            threads[-1].start()
        harness.wait_until(lambda: metric(self.fw, "fleetwarden_http_long_polls") == 3, timeout=10,
                           what="three long polls waiting")
        self.assertLimited(self.fw.request("GET", "/v1/jobs/%s?wait=30" % job, token=self.tok[0]), 429)
        self.assertLimited(self.fw.request("GET", "/v1/jobs/%s?wait=30" % job, token=self.tok[2]), 503)
        # without ?wait a read is no long poll: answered at once
        self.assertEqual(self.fw.request("GET", "/v1/jobs/" + job, token=self.tok[2]).status, 200)
        self.assertEqual(out, [])
        # the job ends: every waiting poll answers with it, long before its 30 s
        self.assertIn(self.fw.request("POST", "/v1/jobs/%s/cancel" % job, token=self.admin).status, (200, 202))
        for t in threads:
            t.join(20)
        self.assertEqual(sorted(r.status for _, r, _ in out), [200, 200, 200])
        self.assertEqual({r.json["state"] for _, r, _ in out}, {"canceled"})
        self.assertLess(max(secs for _, _, secs in out), 25)
        self.assertEqual(metric(self.fw, "fleetwarden_http_long_polls"), 0)


class SharedReader(ServiceTestCase):
    fw_env = {"FLEETWARDEN_MAX_STREAMS_PER_TOKEN": "100", "FLEETWARDEN_HTTP_THREADS": "2"}

    def redis_clients(self):
        return len([l for l in self.redis.command("CLIENT", "LIST").splitlines() if l.strip()])

    def test_event_streams_share_one_redis_connection(self):
        for _ in range(10):   # both event-loop threads have their own Redis connection
            self.fw.request("GET", "/v1/fleets", token=self.admin)
        before = self.redis_clients()
        streams = [sse.open_events(self.fw.port, self.admin) for _ in range(30)]
        for (status, code, _), _ in streams:
            self.assertEqual(code, 200)
        after = self.redis_clients()
        self.assertLessEqual(after - before, 1, "a Redis connection per event stream")
        # and they all see an event
        job = self.fw.request("POST", "/v1/watch/run", token=self.admin).json["job"]["id"]
        for _, q in streams:
            while True:
                ev_id, name, data = q.get(timeout=10)
                if name == "job" and data["id"] == job:
                    break


class HostileMix(ServiceTestCase):
    """Idle connections, unfinished headers, event streams and long polls held open from one
    address: an admin on another address is answered (timings: tests/bench/hostile)."""
    fw_env = {"FLEETWARDEN_MAX_CONNECTIONS_PER_ADDRESS": "400", "FLEETWARDEN_MAX_STREAMS_PER_TOKEN": "200",
              "FLEETWARDEN_MAX_LONG_POLLS_PER_TOKEN": "200", "FLEETWARDEN_HTTP_THREADS": "2"}

    def test_others_are_served(self):
        read = self.fw.token("read", "hostile")
        job = self.fw.request("POST", "/v1/watch/run", token=self.admin).json["job"]["id"]
        socks = []
        try:
            for i in range(400):
                s = connect(self.fw, "127.0.0.5")
                kind = i % 4
                if kind == 1:
                    s.sendall(b"GET /v1/fleets HTTP/1.1\r\nHost: x\r\n")
                elif kind == 2:
                    s.sendall(b"GET /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n" % read.encode())
                elif kind == 3:
                    s.sendall(b"GET /v1/jobs/%s?wait=30 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n"
                              % (job.encode(), read.encode()))
                socks.append(s)
            harness.wait_until(lambda: metric(self.fw, "fleetwarden_http_streams") == 100 and
                               metric(self.fw, "fleetwarden_http_long_polls") == 100, timeout=20,
                               what="100 streams and 100 long polls held")
            for _ in range(20):
                status, _, body = req_from(self.fw, "127.0.0.2", "GET", "/v1/fleets", token=self.admin)
                self.assertEqual(status, 200, body)
        finally:
            for s in socks:
                s.close()
        # Their places are freed within seconds of the clients leaving (the watchdog looks every
        # second), not at the long polls' 30 s deadline: a long poll resumed for its departed
        # client used to find its job still queued and park again.
        harness.wait_until(lambda: metric(self.fw, "fleetwarden_http_streams") == 0 and
                           metric(self.fw, "fleetwarden_http_long_polls") == 0, timeout=10,
                           what="the places of the departed streams and long polls freed")


class AuditFlood(ServiceTestCase):
    """Anonymous POSTs never reach the audit trail: with a trail of 100 entries, 3,000 of them
    leave the real entries in place (they used to push them out)."""
    fw_env = {"FLEETWARDEN_AUDIT_MAX": "100"}
    FLOOD = 3000

    def flood(self, n, path_len=1000, threads=8):
        """n anonymous POSTs (no token, a malformed one, an unknown well-formed one) with long
        paths (the router takes paths up to 1 KiB), on keep-alive connections."""
        path = "/v1/fleets/" + "x" * (path_len - len("/v1/fleets//claims")) + "/claims"
        heads = [{}, {"Authorization": "Bearer nope"},
                 {"Authorization": "Bearer fw_" + "A" * 43}]
        done = []

        def run(k):
            conn = http.client.HTTPConnection("127.0.0.1", self.fw.port, timeout=30)
            for i in range(k, n, threads):
                h = dict(heads[i % 3], **{"Content-Type": "application/json"})
                conn.request("POST", path, body=b"{}", headers=h)
                r = conn.getresponse()
                r.read()
                done.append(r.status)
            conn.close()
        ts = [threading.Thread(target=run, args=(k,)) for k in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        return done

    def used_memory(self):
        info = self.redis.command("INFO", "memory")
        return int(re.search(r"used_memory:(\d+)", info).group(1))

    def check_sampled(self, n):
        self.assertGreaterEqual(metric(self.fw, "fleetwarden_http_unauthenticated_total"), n)
        self.assertLessEqual(int(self.redis.command("XLEN", "fw:authfail")), 1100)
        anon = self.fw.request("GET", "/v1/audit/unauthenticated?limit=500", token=self.admin).json["items"]
        self.assertTrue(anon, "no 401 sampled")
        self.assertLessEqual(max(len(e["path"]) for e in anon), 200)
        self.assertLessEqual(sum(e["skipped"] for e in anon) + len(anon), n)

    def test_anonymous_flood_leaves_every_audit_entry(self):
        real = []
        for i in range(5):
            rid = "real-%d" % i
            r = self.fw.request("POST", "/v1/tokens", token=self.admin, body={"name": rid},
                                headers={"X-Request-Id": rid})
            self.assertEqual(r.status, 201)
            real.append(rid)
        self.assertEqual(set(self.flood(self.FLOOD)), {401})
        items = self.fw.request("GET", "/v1/audit?limit=500", token=self.admin).json["items"]
        ids = [e["requestId"] for e in items]
        self.assertEqual([rid for rid in real if rid not in ids], [], "real audit entries were pushed out")
        self.assertNotIn(401, {e["status"] for e in items})
        self.check_sampled(self.FLOOD)


class AuditFloodMemory(AuditFlood):
    """With the trail's default cap (100,000), 10,000 anonymous POSTs with 1 KiB paths used to
    add ~10 MB to Redis; now only the sampled record's at most 1,000 short entries."""
    fw_env = {}
    FLOOD = 10000

    def test_anonymous_flood_leaves_every_audit_entry(self):
        before = self.used_memory()
        self.assertEqual(set(self.flood(self.FLOOD)), {401})
        after = self.used_memory()
        self.assertLess(after - before, 2 * 1024 * 1024, (before, after))
        self.check_sampled(self.FLOOD)


class RateLimits(unittest.TestCase):
    """Two serve processes on one Redis: the token's limit is counted by both together."""
    WINDOW = 3600

    @classmethod
    def setUpClass(cls):
        cls.redis = harness.Redis().start()
        env = {"FLEETWARDEN_RATE_LIMIT_TOKEN": "10/%d" % cls.WINDOW, "FLEETWARDEN_RATE_LIMIT_ADDRESS": "0"}
        cls.a = harness.Fleetwarden(cls.redis, env=env, args=("serve", "--no-workers")).start()
        cls.b = harness.Fleetwarden(cls.redis, env=env, args=("serve", "--no-workers")).start()
        cls.c = harness.Fleetwarden(cls.redis, args=("serve", "--no-workers"),
                                    env={"FLEETWARDEN_RATE_LIMIT_ADDRESS": "10/%d" % cls.WINDOW}).start()

    @classmethod
    def tearDownClass(cls):
        codes = []
        try:
            for fw in (cls.a, cls.b, cls.c):
                codes.append(fw.stop())
        finally:
            cls.redis.stop()
        assert codes == [0, 0, 0], codes

    def window(self):
        """The index of the window Redis's clock is in (the one every process counts in)."""
        return int(self.redis.command("TIME")[0]) // self.WINDOW

    def test_token_limit_is_shared_by_every_process(self):
        for _ in range(2):   # once more if a window boundary passed meanwhile
            w = self.window()
            tok = self.a.token("read", "rl-%d" % time.monotonic_ns())
            statuses = [(fw.request("GET", "/v1/fleets", token=tok).status) for fw in (self.a, self.b) * 8]
            if self.window() == w:
                break
        self.assertEqual(statuses.count(200), 10, statuses)
        self.assertEqual(statuses[10:], [429] * 6, statuses)
        r = self.b.request("GET", "/v1/fleets", token=tok)
        self.assertEqual(r.status, 429)
        self.assertEqual(r.header("Content-Type"), "application/problem+json")
        self.assertTrue(1 <= int(r.header("Retry-After")) <= self.WINDOW, r.header("Retry-After"))
        self.assertIn("token", r.json["detail"])
        # another token from the same address is not limited
        other = self.a.token("read", "rl-other-%d" % time.monotonic_ns())
        self.assertEqual(self.b.request("GET", "/v1/fleets", token=other).status, 200)
        self.assertGreaterEqual(metric(self.b, "fleetwarden_http_limited_total", '{limit="rate_token"}'), 1)

    def test_address_limit_counts_anonymous_requests_too(self):
        for _ in range(2):
            w = self.window()
            tok = self.c.token("read", "rl-addr-%d" % time.monotonic_ns())
            before = int(self.redis.command("GET", "fw:rl:a:127.0.0.6:%d" % w) or 0)
            statuses = [req_from(self.c, "127.0.0.6", "GET", "/v1/fleets", token=tok if i % 2 else None)[0]
                        for i in range(12 - before)]
            if self.window() == w:
                break
        self.assertEqual(sorted(set(statuses[:10 - before])), [200, 401], statuses)
        self.assertEqual(statuses[10 - before:], [429, 429], statuses)
        status, headers, _ = req_from(self.c, "127.0.0.6", "GET", "/v1/fleets", token=tok)
        self.assertEqual(status, 429)
        self.assertIn("retry-after", headers)
        # another address is served
        self.assertEqual(req_from(self.c, "127.0.0.7", "GET", "/v1/fleets", token=tok)[0], 200)
        # the counters expire: Redis keeps one small key per address and window
        self.assertGreater(int(self.redis.command("PTTL", "fw:rl:a:127.0.0.6:%d" % self.window())), 0)


if __name__ == "__main__":
    unittest.main()
