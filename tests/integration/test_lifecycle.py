"""Start-up, configuration errors, Redis outages and graceful shutdown of the real binary."""
import contextlib
import http.client
import json
import os
import re
import signal
import socket
import tempfile
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import Fleetwarden, Redis, wait_until  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "jobs-probe"))
from jobs_testlib import Probe  # noqa: E402

ROOT_CA = "/usr/share/ca-certificates/mozilla/Amazon_Root_CA_1.crt"


@contextlib.contextmanager
def serving(env=None):
    """A Redis and `fleetwarden serve --no-workers` for one test, stopped (by PID) after it."""
    redis = Redis().start()
    fw = Fleetwarden(redis, env=env, args=("serve", "--no-workers")).start()
    try:
        yield fw
    finally:
        fw.stop()
        redis.stop()


class ConfigErrors(unittest.TestCase):
    def setUp(self):
        self.redis = Redis()  # never started: config errors come first

    def run_bad(self, var, value):
        fw = Fleetwarden(self.redis, env={var: value})
        r = fw.run("serve")
        self.assertEqual(r.returncode, 2, (var, value, r.stderr))
        self.assertIn(var, r.stderr)
        return r.stderr

    def test_bad_values_exit_2_naming_the_variable(self):
        cases = [("FLEETWARDEN_LISTEN", "nonsense"), ("FLEETWARDEN_LISTEN", "127.0.0.1:99999"),
                 ("FLEETWARDEN_REDIS_URL", "http://x"), ("FLEETWARDEN_WORKERS", "many"),
                 ("FLEETWARDEN_LOG_LEVEL", "loud"), ("FLEETWARDEN_CORS_ORIGINS", "portal"),
                 ("FLEETWARDEN_KEK_FILE", "/nonexistent/kek"), ("FLEETWARDEN_CONN_TIMEOUT", "0")]
        for var, value in cases:
            with self.subTest(var=var, value=value):
                self.run_bad(var, value)

    def test_settings_read_at_first_use_are_checked_at_start_up(self):
        """Settings that modules used to read at first use (a bad one only logged, the default
        used) stop `check` with exit 2 naming the variable, as every other setting does."""
        cases = [("FLEETWARDEN_JOB_TTL", "0"), ("FLEETWARDEN_JOB_LEASE_MS", "10"),
                 ("FLEETWARDEN_RATE_IOT_CERT_CREATE", "fast"), ("FLEETWARDEN_CLAIM_KEY_TTL", "0"),
                 ("FLEETWARDEN_WATCH_INTERVAL", "30"), ("FLEETWARDEN_ROTATION_SCAN_S", "0"),
                 ("FLEETWARDEN_IAM_SETTLE_S", "901"), ("FLEETWARDEN_POLICY_DELETE_WAIT_S", "x"),
                 ("AWS_REGION", "Not A Region")]
        for var, value in cases:
            with self.subTest(var=var, value=value):
                r = Fleetwarden(self.redis, env={var: value}).run("check")
                self.assertEqual(r.returncode, 2, (var, value, r.stdout, r.stderr))
                self.assertIn(var, r.stderr)

    def test_an_unknown_rate_family_exits_2_listing_the_known_ones(self):
        """A misspelt or lower-case FLEETWARDEN_RATE_<FAMILY> used to be taken and never used."""
        for var in ("FLEETWARDEN_RATE_IOT_CERT_CRATE", "FLEETWARDEN_RATE_iot_cert_create"):
            for cmd in (("check",), ("serve", "--no-workers"), ("worker",)):
                with self.subTest(var=var, cmd=cmd):
                    r = Fleetwarden(self.redis, env={var: "1"}).run(*cmd, timeout=10)
                    self.assertEqual(r.returncode, 2, (var, cmd, r.stdout, r.stderr))
                    self.assertIn(var, r.stderr)
                    self.assertIn("IOT_CERT_CREATE", r.stderr)  # the known families
                    self.assertIn("CLOUDWATCH", r.stderr)
        r = Fleetwarden(self.redis, env={"FLEETWARDEN_RATE_IOT_CERT_CREATE": "1",
                                         "FLEETWARDEN_RATE_CLOUDWATCH": "5:10"}).run("check")
        self.assertNotEqual(r.returncode, 2, r.stderr)
        self.assertIn("FLEETWARDEN_RATE_<FAMILY>=IOT_CERT_CREATE=1:1,CLOUDWATCH=5:10", r.stdout)

    def test_bad_aws_retry_settings_exit_2(self):
        """AWS_MAX_ATTEMPTS and AWS_RETRY_MODE used to be read only when a job made its AWS
        client: `check` and start-up passed, then every AWS job failed InvalidConfiguration."""
        for var, value in (("AWS_MAX_ATTEMPTS", "five"), ("AWS_MAX_ATTEMPTS", "0"),
                           ("AWS_RETRY_MODE", "fast")):
            for cmd in (("check",), ("serve",), ("worker",)):
                with self.subTest(var=var, value=value, cmd=cmd):
                    r = Fleetwarden(self.redis, env={var: value}).run(*cmd, timeout=10)
                    self.assertEqual(r.returncode, 2, (var, value, cmd, r.stdout, r.stderr))
                    self.assertIn(var, r.stderr)
        r = Fleetwarden(self.redis, env={"AWS_MAX_ATTEMPTS": "5", "AWS_RETRY_MODE": "adaptive"}).run("check")
        self.assertNotEqual(r.returncode, 2, r.stderr)
        self.assertIn("AWS_MAX_ATTEMPTS=5\nAWS_RETRY_MODE=adaptive\n", r.stdout)

    def test_a_bad_root_ca_file_exits_2(self):
        """FLEETWARDEN_ROOT_CA_FILE is read and checked at start-up: a missing or unusable file
        used to pass `check` and start-up, and bundles carried rootCaPem null."""
        d = tempfile.mkdtemp(dir=os.environ.get("TMPDIR"))
        with open(ROOT_CA) as f:
            good = f.read()
        files = {"missing": os.path.join(d, "nonexistent.pem"),
                 "text": ("not a certificate\n", "no PEM certificate"),
                 "key": (good + "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n",
                         "not a certificate"),
                 "broken": (good.replace("MIIDQTCC", "MIIDQTCD"), "does not parse"),
                 "huge": (good * (1024 * 1024 // len(good) + 1), "larger than 1 MiB")}
        for name, spec in files.items():
            if isinstance(spec, tuple):
                path = os.path.join(d, name + ".pem")
                with open(path, "w") as f:
                    f.write(spec[0])
                words = spec[1]
            else:
                path, words = spec, "cannot open"
            for cmd in (("check",), ("serve",), ("worker",)):
                with self.subTest(file=name, cmd=cmd):
                    r = Fleetwarden(self.redis, env={"FLEETWARDEN_ROOT_CA_FILE": path}).run(*cmd, timeout=10)
                    self.assertEqual(r.returncode, 2, (name, cmd, r.stdout, r.stderr))
                    self.assertIn("FLEETWARDEN_ROOT_CA_FILE", r.stderr)
                    self.assertIn(words, r.stderr)
        r = Fleetwarden(self.redis, env={"FLEETWARDEN_ROOT_CA_FILE": ROOT_CA}).run("check")
        self.assertIn("root CA: %s (%d bytes)" % (ROOT_CA, len(good)), r.stdout)

    def test_check_shows_every_setting_of_the_readme_table(self):
        """`fleetwarden check` shows each setting's value; README's table lists exactly those."""
        env = {"FLEETWARDEN_JOB_TTL": "3600", "FLEETWARDEN_RATE_IOT_CERT_CREATE": "2:4",
               "FLEETWARDEN_REDIS_URL": "redis://app:hunter2@127.0.0.1:1/0", "AWS_REGION": "eu-west-1"}
        r = Fleetwarden(self.redis, env=env).run("check")  # Redis is not running: exit 1 after the settings
        shown = dict(line.split("=", 1) for line in r.stdout.splitlines() if line.startswith("FLEETWARDEN_"))
        self.assertEqual(shown.get("FLEETWARDEN_JOB_TTL"), "3600", r.stdout)
        self.assertEqual(shown.get("FLEETWARDEN_RATE_<FAMILY>"), "IOT_CERT_CREATE=2:4", r.stdout)
        self.assertEqual(shown.get("FLEETWARDEN_WORKERS"), "4", r.stdout)  # a default
        self.assertIn("AWS_REGION (default region)=eu-west-1", r.stdout)
        self.assertNotIn("hunter2", r.stdout + r.stderr)
        readme = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "README.md")
        with open(readme, encoding="utf-8") as f:
            text = f.read()
        table = text[text.index("### Configuration"):text.index("## The HTTP API")]
        listed = set()
        for line in table.splitlines():
            if line.startswith("| `FLEETWARDEN_"):
                listed.update(re.findall(r"`(FLEETWARDEN_[A-Z_<>]+)`", line.split(" | ")[0]))
        self.assertEqual(sorted(listed - set(shown)), [], "in README's table, not in config.c's")
        self.assertEqual(sorted(set(shown) - listed), [], "in config.c's table, not in README's")

    def test_password_not_echoed(self):
        err = self.run_bad("FLEETWARDEN_REDIS_URL", "redis://:hunter2@h:notaport")
        self.assertNotIn("hunter2", err)

    def test_port_in_use_exits_2(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        fw = Fleetwarden(self.redis, env={"FLEETWARDEN_LISTEN": f"127.0.0.1:{s.getsockname()[1]}"})
        r = fw.run("serve", "--no-workers")
        s.close()
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("FLEETWARDEN_LISTEN", r.stderr)

    def test_help_and_version(self):
        fw = Fleetwarden(self.redis)
        r = fw.run("--version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^fleetwarden \d+\.\d+\.\d+")
        r = fw.run("--help")
        self.assertEqual(r.returncode, 0)
        for word in ("serve", "worker", "token create", "check", "FLEETWARDEN_REDIS_URL"):
            self.assertIn(word, r.stdout)
        r = fw.run("frobnicate")
        self.assertEqual(r.returncode, 2)


class RedisRefusesWrites(unittest.TestCase):
    """/readyz writes: a Redis that answers PING but refuses writes (a read-only replica after a
    failover, a full one) used to leave the process ready while every change answered 503."""

    def test_readyz_is_503_naming_the_refusal_and_ready_again_after(self):
        redis = Redis().start()
        other = Redis().start()
        fw = Fleetwarden(redis, args=("serve",)).start()
        try:
            self.assertEqual(fw.request("GET", "/readyz").status, 200)
            port = other.url.rsplit(":", 1)[1].split("/")[0]
            for make, undo, code in ((("REPLICAOF", "127.0.0.1", port), ("REPLICAOF", "NO", "ONE"), "READONLY"),
                                     (("CONFIG", "SET", "maxmemory", "1"), ("CONFIG", "SET", "maxmemory", "0"), "OOM")):
                with self.subTest(code=code):
                    redis.command(*make)
                    seen = {}

                    def refused():
                        r = fw.request("GET", "/readyz")
                        seen["last"] = (r.status, r.body)
                        return r.status == 503
                    wait_until(refused, timeout=15, what="/readyz 503 while Redis refuses writes")
                    body = json.loads(seen["last"][1])
                    self.assertEqual(body["status"], "not ready")
                    self.assertEqual(body["checks"]["redis"]["status"], "down")
                    self.assertEqual(body["checks"]["redis"]["detail"], "redis: refuses writes (%s)" % code)
                    redis.command(*undo)
                    wait_until(lambda: fw.request("GET", "/readyz").status == 200, timeout=15,
                               what="/readyz 200 once Redis takes writes again")
            redis.stop()
            r = fw.request("GET", "/readyz")
            self.assertEqual(r.status, 503)
            self.assertEqual(r.json["checks"]["redis"]["detail"], "redis: unavailable")
        finally:
            fw.stop()
            other.stop()
            redis.stop()


class RedisOutage(unittest.TestCase):
    def test_503_while_redis_is_down_then_recovers_without_restart(self):
        redis = Redis().start()
        fw = Fleetwarden(redis, args=("serve", "--no-workers")).start()
        try:
            tok = fw.token("admin")
            self.assertEqual(fw.request("GET", "/v1/tokens", token=tok).status, 200)
            redis.stop()
            r = fw.request("GET", "/v1/tokens", token=tok)
            self.assertEqual(r.status, 503, r)
            self.assertEqual(r.header("Content-Type"), "application/problem+json")
            r = fw.request("GET", "/readyz")
            self.assertEqual(r.status, 503)
            self.assertEqual(r.json["checks"]["redis"]["status"], "down")
            self.assertIn("detail", r.json["checks"]["redis"])
            self.assertEqual(fw.request("GET", "/healthz").status, 200)
            redis.start()  # same port, same (empty) data dir: the token must be made again
            tok = fw.token("admin")
            wait_until(lambda: fw.request("GET", "/v1/tokens", token=tok).status == 200, timeout=10,
                       what="API to recover after Redis returned")
            # Each server thread has its own connection and reconnect backoff (at most 2 s,
            # service/redis/store_conn.c): /readyz may land on a thread that has not retried yet.
            wait_until(lambda: fw.request("GET", "/readyz").status == 200, timeout=5,
                       what="/readyz to recover after Redis returned")
        finally:
            code = fw.stop()
            redis.stop()
        self.assertEqual(code, 0)


class SilentRedis:
    """A TCP listener that accepts and never answers: Redis behind a TLS tunnel (stunnel) whose
    far end is not up yet, as a container meets it when it starts before Redis."""

    def __init__(self, userinfo=""):
        import threading
        from harness import free_port
        self.port = free_port()
        self.url = "redis://%s127.0.0.1:%d" % (userinfo, self.port)
        self.sock = socket.create_server(("127.0.0.1", self.port))
        self.conns = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                self.conns.append(self.sock.accept()[0])
            except OSError:
                return

    def close(self):
        self.sock.close()
        for c in self.conns:
            c.close()


class StartWithoutRedis(unittest.TestCase):
    """A process started while Redis cannot answer yet takes SIGTERM at once and exits 0 (a
    container runtime kills it after its stop timeout otherwise), and installs the recurring
    schedules once Redis comes."""

    @staticmethod
    def stop_when(silent, ready, what):
        """Starts a worker on silent, SIGTERMs it once ready(silent, log) holds: (exit code, log)."""
        w = Fleetwarden(silent, args=("worker",)).start(wait=False)
        try:
            wait_until(lambda: ready(silent, open(w.log_path).read()), timeout=30, what=what)
            code = w.stop()
        finally:
            silent.close()
        with open(w.log_path) as f:
            return code, f.read()

    def test_sigterm_during_the_start_up_check_exits_0(self):
        # its AUTH waits for an answer that does not come (5 s, the command timeout)
        code, log = self.stop_when(SilentRedis("fleetwarden:pw@"),
                                   lambda silent, log: len(silent.conns) >= 1 and time.sleep(0.5) is None,
                                   "the start-up check's connection")
        self.assertEqual(code, 0, log[-2000:])
        self.assertIn('"signal received","signal":15,"during":"start-up"', log)
        self.assertNotIn("worker running", log)

    def test_sigterm_while_redis_is_silent_after_start_up_exits_0(self):
        # no password: no AUTH to wait on, the check passes and the threads meet the silence
        code, log = self.stop_when(SilentRedis(), lambda silent, log: "fleetwarden worker running" in log,
                                   "the worker to be running")
        self.assertEqual(code, 0, log[-2000:])
        self.assertIn('"signal received","signal":15', log)

    def test_schedules_installed_once_redis_comes(self):
        redis = Redis()                          # its port, not started yet
        w = Fleetwarden(redis, args=("worker",)).start(wait=False)
        try:
            wait_until(lambda: "could not install yet" in open(w.log_path).read(), timeout=30,
                       what="the worker to say the schedules wait for Redis")
            redis.start()
            for name, kind in (("watch.cycle", "watch.cycle"), ("claims.autorotate", "claim.autorotate")):
                wait_until(lambda: dict(zip(*[iter(redis.command("HGETALL", "fw:sched:" + name) or [])] * 2))
                           .get("type") == kind, timeout=20, what="the %s schedule in Redis" % name)
            self.assertEqual(w.proc.poll(), None)
        finally:
            code = w.stop()
            redis.stop()
        self.assertEqual(code, 0)


class WorkerHealth(unittest.TestCase):
    """`fleetwarden worker` with FLEETWARDEN_HEALTH_LISTEN answers its probes and /metrics there,
    and nothing of the API; without it, it listens nowhere."""

    def test_worker_answers_probes_and_nothing_else(self):
        redis = Redis().start()
        w = Fleetwarden(redis, args=("worker",))
        w.extra_env["FLEETWARDEN_HEALTH_LISTEN"] = "127.0.0.1:%d" % w.port
        w.start(wait=False)
        try:
            wait_until(lambda: w.request("GET", "/healthz").status == 200, what="worker health listener")
            r = w.request("GET", "/readyz")
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json["checks"]["redis"]["status"], "ok")
            self.assertEqual(r.json["checks"]["workers"]["status"], "ok")
            r = w.request("GET", "/metrics")
            self.assertEqual(r.status, 200, r)
            self.assertIn(b"fleetwarden_", r.body)
            tok = w.token("admin")
            r = w.request("GET", "/v1/fleets", token=tok)
            self.assertEqual(r.status, 404, r)
            self.assertEqual(r.header("Content-Type"), "application/problem+json")
            # openapi.yaml describes `serve`: the API's own 404 here is this test's point, not a mismatch
            self.assertLessEqual({m["path"] for m in w.take_openapi_mismatches()}, {"/v1/fleets"})
            redis.stop()
            r = w.request("GET", "/readyz")
            self.assertEqual(r.status, 503, r)
            redis.start()
            wait_until(lambda: w.request("GET", "/readyz").status == 200, timeout=20, what="ready again")
        finally:
            self.assertEqual(w.stop(), 0)
            redis.stop()

    def test_worker_without_it_listens_nowhere(self):
        redis = Redis().start()
        w = Fleetwarden(redis, args=("worker",)).start(wait=False)
        try:
            time.sleep(1.0)
            self.assertIsNone(w.proc.poll())
            with self.assertRaises(OSError):
                socket.create_connection(("127.0.0.1", w.port), timeout=2).close()
        finally:
            self.assertEqual(w.stop(), 0)
            redis.stop()


class GracefulShutdown(unittest.TestCase):
    def test_sigterm_lets_a_slow_request_finish(self):
        with serving() as fw:
            tok = fw.token("admin")
            body = b'{"name": "slow-upload", "scope": "read"}'
            s = socket.create_connection(("127.0.0.1", fw.port), timeout=20)
            s.sendall(b"POST /v1/tokens HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + tok.encode() +
                      b"\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body))
            s.sendall(body[:10])
            time.sleep(0.3)
            fw.proc.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            # The server no longer accepts new connections...
            wait_until(lambda: _refused(fw.port), timeout=5, what="listener closed")
            # ...but the request in flight completes.
            s.sendall(body[10:])
            resp = s.recv(65536)
            s.close()
            self.assertTrue(resp.startswith(b"HTTP/1.1 201"), resp[:200])
            fw.proc.wait(20)
            self.assertEqual(fw.proc.returncode, 0, fw.logs()[-2000:])
            self.assertIn("shutting down", fw.logs())

    def test_shutdown_delay_serves_with_readyz_503_then_closes(self):
        with serving({"FLEETWARDEN_SHUTDOWN_DELAY": "3"}) as fw:
            tok = fw.token("admin")
            fw.proc.send_signal(signal.SIGTERM)
            wait_until(lambda: fw.request("GET", "/readyz").status == 503, timeout=5, what="readyz 503")
            # still serving during the delay: new connections are taken and answered
            r = fw.request("GET", "/v1/tokens", token=tok)
            self.assertEqual(r.status, 200, r)
            self.assertIsNone(fw.proc.poll())
            wait_until(lambda: _refused(fw.port), timeout=15, what="listener closed after the delay")
            fw.proc.wait(20)
            self.assertEqual(fw.proc.returncode, 0, fw.logs()[-2000:])
            self.assertIn("still serving for the shutdown delay", fw.logs())

    def test_no_job_starts_after_sigterm(self):
        # SIGTERM means no new work: a job queued while the process still serves (its shutdown
        # delay here) waits for another process, or this one's restart, instead of being
        # started and then cut short by the stop.
        redis = Redis().start()
        fw = Fleetwarden(redis, env={"FLEETWARDEN_SHUTDOWN_DELAY": "3"}, args=("serve",)).start()
        try:
            probe = Probe(redis)
            before, _ = probe.enqueue("test.noop")      # no such type here: claimed, it fails
            wait_until(lambda: probe.job(before)["state"] != "queued", timeout=30, what="a job run before SIGTERM")
            fw.proc.send_signal(signal.SIGTERM)
            wait_until(lambda: fw.request("GET", "/readyz").status == 503, timeout=5, what="readyz 503")
            after, _ = probe.enqueue("test.noop")
            time.sleep(1.5)
            self.assertEqual(probe.job(after)["state"], "queued")
            fw.proc.wait(20)
            self.assertEqual(fw.proc.returncode, 0, fw.logs()[-2000:])
            self.assertEqual(probe.job(after)["state"], "queued")
        finally:
            fw.stop()
            redis.stop()

    def test_second_signal_cuts_the_shutdown_delay_short(self):
        with serving({"FLEETWARDEN_SHUTDOWN_DELAY": "600"}) as fw:
            fw.proc.send_signal(signal.SIGTERM)
            wait_until(lambda: fw.request("GET", "/readyz").status == 503, timeout=5, what="readyz 503")
            fw.proc.send_signal(signal.SIGTERM)
            fw.proc.wait(20)      # not 600 s
            self.assertEqual(fw.proc.returncode, 0, fw.logs()[-2000:])

    def test_a_stop_waits_for_connected_clients_and_says_what_it_waits_for(self):
        # A client that connected before SIGTERM may still send its request: the stop waits for
        # it (up to the grace) and says so; one that left is not waited for.
        with serving() as fw:
            leaving = socket.create_connection(("127.0.0.1", fw.port), timeout=20)
            asking = socket.create_connection(("127.0.0.1", fw.port), timeout=20)
            fw.proc.send_signal(signal.SIGTERM)
            wait_until(lambda: '"newConnections":2' in fw.logs(), timeout=10,
                       what="the stop saying what it waits for")
            self.assertIn("shutting down: waiting for requests", fw.logs())
            self.assertIsNone(fw.proc.poll())
            leaving.close()
            time.sleep(1.5)
            self.assertIsNone(fw.proc.poll(), "the stop ended with a client still connected")
            asking.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            resp = _read_to_end(asking)
            self.assertTrue(resp.startswith(b"HTTP/1.1 200"), resp[:200])
            self.assertIn(b"\r\nConnection: close", resp)
            fw.proc.wait(20)
            self.assertEqual(fw.proc.returncode, 0, fw.logs()[-2000:])

    def test_sigterm_answers_a_connection_waiting_in_the_backlog(self):
        # At its connection limit the server takes no connection from the listen backlog;
        # one still waiting there at SIGTERM gets a complete 503 it may retry, not a reset.
        with serving({"FLEETWARDEN_MAX_CONNECTIONS": "1"}) as fw:
            held = http.client.HTTPConnection("127.0.0.1", fw.port, timeout=20)
            held.request("GET", "/healthz")        # keep-alive: the one connection stays taken
            self.assertEqual(held.getresponse().read()[:1], b"{")
            waiting = socket.create_connection(("127.0.0.1", fw.port), timeout=20)
            waiting.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            fw.proc.send_signal(signal.SIGTERM)
            resp = _read_to_end(waiting)
            held.close()
            head, _, body = resp.partition(b"\r\n\r\n")
            self.assertTrue(head.startswith(b"HTTP/1.1 503"), resp[:300])
            self.assertIn(b"\r\nRetry-After: 1", head)
            self.assertIn(b"\r\nConnection: close", head)
            self.assertEqual(json.loads(body)["status"], 503)
            fw.proc.wait(20)
            self.assertEqual(fw.proc.returncode, 0, fw.logs()[-2000:])


class SlowClients(unittest.TestCase):
    def test_idle_connections_time_out_and_others_are_served(self):
        with serving({"FLEETWARDEN_CONN_TIMEOUT": "1"}) as fw:
            slow = [socket.create_connection(("127.0.0.1", fw.port)) for _ in range(20)]
            for s in slow:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never finishes its headers
            self.assertEqual(fw.request("GET", "/healthz", timeout=5).status, 200)
            time.sleep(2.5)
            for s in slow:
                s.settimeout(2)
                self.assertEqual(s.recv(100), b"")  # closed by the server
                s.close()


def _read_to_end(sock):
    """Everything the server sends until it closes the connection; then closes it here."""
    resp = b""
    while True:
        d = sock.recv(65536)
        if not d:
            break
        resp += d
    sock.close()
    return resp


def _refused(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return False
    except OSError:
        return True


class PrivateMetrics(unittest.TestCase):
    def test_metrics_need_a_token_when_not_public(self):
        with serving({"FLEETWARDEN_METRICS_PUBLIC": "false"}) as fw:
            self.assertEqual(fw.request("GET", "/metrics").status, 401)
            r = fw.request("GET", "/metrics", token=fw.token("read"))
            self.assertEqual(r.status, 200)
            self.assertIn("fleetwarden_build_info", r.body.decode())


if __name__ == "__main__":
    unittest.main()
