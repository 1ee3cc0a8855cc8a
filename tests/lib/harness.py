"""Test harness: real redis-server, real fleetwarden binary, real AWS emulator.

Every process is started on 127.0.0.1 on a free port, in a temporary
directory, and stopped by its own PID. Nothing here mocks our code.

Environment (set by tests/run.sh; defaults work from a local build):
  FW_BUILD_DIR     meson build directory holding the fleetwarden binary
  FW_REDIS_SERVER  redis-server path
  FW_AWSEMU        tests/awsemu/awsemu.py path
  FW_VALIDATE_RESPONSES=1  check every response of Fleetwarden.request against
                   openapi/openapi.yaml (tests/lib/openapi_check.py); "strict" also
                   refuses properties the spec does not document; mismatches go
                   to DIR/openapi-mismatches.jsonl and fail the test (ServiceTestCase
                   tearDown) or, for a Fleetwarden used directly, its stop()
"""
import http.client
import http.server
import json
import glob
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

import openapi_check

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD_DIR = os.environ.get("FW_BUILD_DIR", os.path.join(ROOT, "build"))
FW_BIN = os.path.join(BUILD_DIR, "fleetwarden")
REDIS_SERVER = os.environ.get("FW_REDIS_SERVER", "/usr/bin/redis-server")
AWSEMU = os.environ.get("FW_AWSEMU", os.path.join(ROOT, "tests", "awsemu", "awsemu.py"))
EMU_AKID = "AKIDEXAMPLE"
EMU_SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


_PORT_BASE = int(os.environ.get("FW_PORT_BASE", "0"))
_port_next = [0]


def product_c_files():
    """Every .c file of the product (service/, routes/, jobs/, aws/, openapi/ and their
    sub-folders), for tests that read the code itself (settings it reads, AWS calls it makes)."""
    out = []
    for top in ("service", "routes", "jobs", "aws", "openapi"):
        out += glob.glob(os.path.join(ROOT, top, "**", "*.c"), recursive=True)
    return sorted(out)


def free_port():
    """A port nobody listens on. Under the parallel runner (FW_PORT_BASE set) it comes from this
    process's own range, outside the ephemeral range, so no other test process or client socket
    can take it between this check and the server's bind; otherwise the kernel picks one."""
    if _PORT_BASE:
        for _ in range(1000):
            port = _PORT_BASE + _port_next[0] % 1000
            _port_next[0] += 1
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                try:
                    s.bind(("127.0.0.1", port))
                    return port
                except OSError:
                    continue
        raise AssertionError("no free port in %d-%d" % (_PORT_BASE, _PORT_BASE + 999))
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(pred, timeout=10.0, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if pred():
                return
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def stop_pid(proc, sig=signal.SIGTERM, timeout=15.0):
    """Stops a process we started; returns its exit code."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


class Redis:
    """A redis-server of our own on a free port, in a temporary directory."""

    def __init__(self, appendonly=False, workdir=None, extra_args=()):
        self.port = free_port()
        self.dir = workdir or tempfile.mkdtemp(prefix="fw-redis-")
        self.appendonly = appendonly
        self.extra_args = list(extra_args)   # e.g. --tls-port ... (tests/integration/redisprod_lib.py)
        self.proc = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        args = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
                "--save", "", "--appendonly", "yes" if self.appendonly else "no",
                "--appendfsync", "always" if self.appendonly else "everysec",
                "--protected-mode", "yes", "--daemonize", "no", *self.extra_args]
        self.log = open(os.path.join(self.dir, "redis.log"), "ab")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        wait_until(self.ping, what=f"redis on {self.port}")
        return self

    def ping(self):
        with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")

    def command(self, *args):
        """Runs one command with a tiny RESP client; returns the decoded reply."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            out = f"*{len(args)}\r\n".encode()
            for a in args:
                b = a if isinstance(a, bytes) else str(a).encode()
                out += b"$%d\r\n%s\r\n" % (len(b), b)
            s.sendall(out)
            return _read_resp(s.makefile("rb"))

    def stop(self):
        if self.proc:
            stop_pid(self.proc)
            self.proc = None
            self.log.close()


def _json_file(path):
    try:
        with open(path) as f:
            return json.load(f).get("port")
    except (OSError, ValueError):
        return None


def _read_resp(f):
    line = f.readline()
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise RuntimeError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)[:-2]
        return data.decode(errors="replace")
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [_read_resp(f) for _ in range(n)]
    raise RuntimeError(f"bad RESP line {line!r}")


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    @property
    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<Response {self.status} {self.body[:300]!r}>"


class Fleetwarden:
    """The real fleetwarden binary, configured through FLEETWARDEN_* variables."""

    def __init__(self, redis, env=None, args=("serve",), workdir=None):
        self.redis = redis
        self.port = free_port()
        self.dir = workdir or tempfile.mkdtemp(prefix="fw-svc-")
        self.extra_env = dict(env or {})
        self.args = list(args)
        self.proc = None
        self.log_path = os.path.join(self.dir, "fleetwarden.log")
        self.mismatch_path = os.path.join(self.dir, "openapi-mismatches.jsonl")
        self.mismatches_reported = 0

    def kek_file(self):
        """The key-encryption key (32 random bytes, hex) of the Redis this instance uses, shared
        by every instance on it, as in production: a process whose KEK differs from the one the
        Redis's data was sealed with refuses to start (its check value is kept in Redis). One of
        this instance's own when the Redis is given as a URL."""
        path = os.path.join(getattr(self.redis, "dir", None) or self.dir, "kek")
        if not os.path.exists(path):
            with open(path, "w") as f:
                f.write(os.urandom(32).hex() + "\n")
            os.chmod(path, 0o600)
        return path

    def env(self):
        e = {k: v for k, v in os.environ.items() if not k.startswith(("FLEETWARDEN_", "AWS_"))}
        e.update({
            "FLEETWARDEN_KEK_FILE": self.kek_file(),
            "FLEETWARDEN_LISTEN": f"127.0.0.1:{self.port}",
            "FLEETWARDEN_REDIS_URL": self.redis.url,
            "FLEETWARDEN_LOG_LEVEL": "info",
            "AWS_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
            # Tests send from one address with few tokens, far faster than any client: the
            # request rate limits are off unless a test sets them (test_limits.py does).
            "FLEETWARDEN_RATE_LIMIT_ADDRESS": "0",
            "FLEETWARDEN_RATE_LIMIT_TOKEN": "0",
        })
        e.update(self.extra_env)
        return e

    def run(self, *args, input=None, timeout=30):
        """Runs a one-shot subcommand (token create, check)."""
        return subprocess.run([FW_BIN, *args], env=self.env(), capture_output=True, text=True,
                              input=input, timeout=timeout)

    def start(self, wait=True):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([FW_BIN, *self.args], env=self.env(), stdout=self.log,
                                     stderr=subprocess.STDOUT)
        if wait and "serve" in self.args:
            wait_until(lambda: self.request("GET", "/healthz").status == 200,
                       what=f"fleetwarden on {self.port}")
        return self

    def stop(self, sig=signal.SIGTERM):
        code = None
        if self.proc:
            code = stop_pid(self.proc, sig)
            self.proc = None
            self.log.close()
        new = self.take_openapi_mismatches()
        if new:
            raise AssertionError(openapi_mismatch_report(new))
        return code

    def take_openapi_mismatches(self):
        """Mismatches with the spec recorded since the last call (FW_VALIDATE_RESPONSES=1)."""
        recs = openapi_check.read_records(self.mismatch_path)
        new = recs[self.mismatches_reported:]
        self.mismatches_reported = len(recs)
        return new

    def logs(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def log_lines(self):
        out = []
        for line in self.logs().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out

    def token(self, scope="admin", name=None):
        r = self.run("token", "create", "--scope", scope, "--name", name or f"test-{scope}")
        if r.returncode != 0:
            raise AssertionError(f"token create failed: {r.stderr}")
        return r.stdout.strip()

    def request(self, method, path, token=None, body=None, headers=None, timeout=30, raw=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        h = dict(headers or {})
        if token:
            h["Authorization"] = f"Bearer {token}"
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        try:
            conn.request(method, path, body=data, headers=h)
            r = conn.getresponse()
            # A server-sent event stream never ends: answer with its status and headers only
            # (read events with a client of your own, as tests/integration/test_jobs_api.py does).
            streaming = (r.getheader("Content-Type") or "").startswith("text/event-stream")
            resp = Response(r.status, r.getheaders(), b"" if streaming else r.read())
        finally:
            conn.close()
        mode = os.environ.get("FW_VALIDATE_RESPONSES")
        if mode in ("1", "strict"):
            openapi_check.record(self.mismatch_path, method, path, resp.status, resp.header("Content-Type"),
                                 resp.body, strict=mode == "strict")
        return resp


def openapi_mismatch_report(recs):
    lines = [f"{len(recs)} response(s) do not match openapi/openapi.yaml:"]
    lines += [f"  {r['error']}" for r in recs[:20]]
    return "\n".join(lines)


EMU_ACCOUNT = "123456789012"
EMU_REGION = "us-east-1"
# deploy/iam/*.json with their placeholders filled for the emulator's account
IAM_PLACEHOLDERS = {"ACCOUNT_ID": EMU_ACCOUNT, "REGION": EMU_REGION, "ARTIFACT_BUCKET_PREFIX": "fw-artifacts-"}
# The permissions boundaries every role fleetwarden creates carries by default (deploy/iam/README.md):
# an administrator creates them once per account, so the emulator's account gets them at start.
BOUNDARIES = {"FleetwardenTokenExchangeBoundary": "boundary-token-exchange.json",
              "FleetwardenProvisioningBoundary": "boundary-provisioning.json"}


def iam_document(name):
    """deploy/iam/NAME as text, placeholders filled for the emulator's account."""
    with open(os.path.join(ROOT, "deploy", "iam", name)) as f:
        text = f.read()
    for k, v in IAM_PLACEHOLDERS.items():
        text = text.replace(k, v)
    return text


class Emulator:
    """The AWS emulator (tests/awsemu) on a free port, its IoT data plane (MQTT broker, credentials
    provider) on two more: all three from free_port(), so they stay in this runner slot's range, and
    kept across restarts (a restarted emulator answers where devices were pointed). Its account
    starts with the permissions boundaries of deploy/iam (seed_boundaries=False for an empty
    account); the call log is then emptied, so it shows only what came after."""

    def __init__(self, workdir=None, extra_args=(), seed_boundaries=True, endpoint_host=None):
        """endpoint_host: DescribeEndpoint answers this name (e.g. "localhost", for devices that
        connect); None keeps the AWS-shaped names that most tests check."""
        self.dir = workdir or tempfile.mkdtemp(prefix="fw-emu-")
        self.port = None
        self.extra_args = list(extra_args)
        self.endpoint_host = endpoint_host
        self.server_ca_file = os.path.join(self.dir, "server-ca.pem")
        self.proc = None
        self.seed = seed_boundaries
        self.mqtt_port = self.credentials_port = None
        self.info = {}

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, port=None):
        """port: listen there (e.g. the port of an earlier start, to restart in place); else a free one."""
        ready = os.path.join(self.dir, "ready")
        if os.path.exists(ready):
            os.unlink(ready)
        self.log = open(os.path.join(self.dir, "awsemu.log"), "ab")
        self.proc = subprocess.Popen(["/usr/bin/python3", AWSEMU, "--host", "127.0.0.1", "--port", str(port or 0),
                                      "--ready-file", ready, *self._dataplane_args(), *self.extra_args],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        wait_until(lambda: _json_file(ready), timeout=20, what="awsemu ready file")
        with open(ready) as f:
            self.info = json.load(f)
        self.port = int(self.info["port"])
        self.mqtt_port, self.credentials_port = self.info.get("mqttPort"), self.info.get("credentialsPort")
        if self.seed:
            self.seed_boundaries(clear_calls=port is None)
        return self

    def seed_boundaries(self, clear_calls=True):
        """Creates the boundary policies that are missing (a restart with its state keeps them)."""
        import botocore.session
        have = self.control("GET", "state").get("iam", {}).get("policies", {})
        iam = botocore.session.get_session().create_client(
            "iam", region_name="us-east-1", endpoint_url=self.url, aws_access_key_id=EMU_AKID,
            aws_secret_access_key=EMU_SECRET)
        for name, doc in BOUNDARIES.items():
            if "arn:aws:iam::%s:policy/%s" % (EMU_ACCOUNT, name) not in have:
                iam.create_policy(PolicyName=name, PolicyDocument=iam_document(doc),
                                  Description="fleetwarden permissions boundary (deploy/iam)")
        if clear_calls:
            self.control("DELETE", "calls")

    def _dataplane_args(self):
        """Ports for the data plane unless the caller chose its own (extra_args); the file its
        server CA is written to; the endpoint host when one was asked for."""
        args = ["--server-ca-file", self.server_ca_file]
        if self.endpoint_host:
            args += ["--endpoint-host", self.endpoint_host]
        for opt, attr in (("--mqtt-port", "mqtt_port"), ("--credentials-port", "credentials_port")):
            if opt in self.extra_args:
                continue
            if getattr(self, attr) is None:
                setattr(self, attr, free_port())
            args += [opt, str(getattr(self, attr))]
        return args

    def control(self, method, path, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        data = json.dumps(body).encode() if body is not None else None
        conn.request(method, "/__emu/" + path.lstrip("/"), body=data,
                     headers={"Content-Type": "application/json"} if data else {})
        r = conn.getresponse()
        out = r.read()
        conn.close()
        return json.loads(out) if out else None

    def aws_env(self):
        return {"AWS_ENDPOINT_URL": self.url, "AWS_ACCESS_KEY_ID": EMU_AKID,
                "AWS_SECRET_ACCESS_KEY": EMU_SECRET, "AWS_REGION": "us-east-1"}

    def device_env(self):
        """fleetwarden settings for bundles that devices use against this emulator: its data
        plane's ports and the root CA of its server certificate."""
        return {"FLEETWARDEN_ROOT_CA_FILE": self.server_ca_file,
                "FLEETWARDEN_IOT_MQTT_PORT": str(self.mqtt_port),
                "FLEETWARDEN_IOT_CREDENTIALS_PORT": str(self.credentials_port)}

    def stop(self):
        if self.proc:
            stop_pid(self.proc)
            self.proc = None
            self.log.close()


class ApiHelpers:
    """req and wait_job over self.fw, shared by the test environments (claims_lib.ClaimsEnv,
    fleets_lib.FleetEnv, test_faults_lib.FaultEnv). req's token defaults to the attribute named by
    default_token; wait_job polls GET /v1/jobs/ID?wait=5 with the read token when there is one,
    through poll() (FaultEnv's survives restarts)."""
    default_token = "admin"
    terminal = ("succeeded", "dead", "canceled")

    def req(self, method, path, body=None, token=None, **kw):
        return self.fw.request(method, path, token=token or getattr(self, self.default_token), body=body, **kw)

    def poll(self, method, path, token=None):
        return self.req(method, path, token=token)

    def wait_job(self, job_id, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r = self.poll("GET", "/v1/jobs/%s?wait=5" % job_id, token=getattr(self, "read", None))
            if r.status == 200 and r.json["state"] in self.terminal:
                return r.json
            time.sleep(0.05)
        raise AssertionError("job %s did not finish: %s" % (job_id, self.req("GET", "/v1/jobs/" + job_id).body))


def stop_stack(fw, workers, emu, redis):
    """Stops worker processes, then serve, then the emulator and Redis; fails when a fleetwarden
    process did not exit 0 (the sanitizer build exits 23 on a leak or error)."""
    codes = []
    try:
        for w in workers:
            codes.append(("worker", w.stop(), w))
        codes.append(("serve", fw.stop(), fw))
    finally:
        emu.stop()
        redis.stop()
    bad = [(name, code, p.logs()[-3000:]) for name, code, p in codes if code not in (0, None)]
    if bad:
        raise AssertionError("fleetwarden exited with %s" % bad)


def assert_spec_followed(test, fw):
    """Fails test when fw's responses since the last call did not match openapi/openapi.yaml."""
    new = fw.take_openapi_mismatches()
    if new:
        test.fail(openapi_mismatch_report(new))


class RedisTestCase(unittest.TestCase):
    """One redis-server per test class (cls.redis); the tests start what else they need."""

    @classmethod
    def setUpClass(cls):
        cls.redis = Redis().start()

    @classmethod
    def tearDownClass(cls):
        cls.redis.stop()


class ServiceTestCase(unittest.TestCase):
    """One Redis and one fleetwarden per test class, plus an admin token."""

    fw_env = {}
    fw_args = ("serve", "--no-workers")

    @classmethod
    def setUpClass(cls):
        cls.redis = Redis().start()
        cls.fw = Fleetwarden(cls.redis, env=cls.fw_env, args=cls.fw_args).start()
        cls.admin = cls.fw.token("admin", "admin")

    def tearDown(self):
        assert_spec_followed(self, self.fw)

    @classmethod
    def tearDownClass(cls):
        try:
            code = cls.fw.stop()
        finally:
            cls.redis.stop()
        if code not in (0, None):
            raise AssertionError(f"fleetwarden exited with {code}; log:\n{cls.fw.logs()[-3000:]}")

    def assertProblem(self, r, status):
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.header("Content-Type"), "application/problem+json", r)
        p = r.json
        for k in ("type", "title", "status", "requestId"):
            self.assertIn(k, p)
        self.assertEqual(p["status"], status)
        self.assertEqual(p["requestId"], r.header("X-Request-Id"))
        return p


class StubServer:
    """A local HTTP endpoint standing in for something outside fleetwarden (a webhook receiver, a
    hook's Lambda, STS, IMDS, a proxy, a broken AWS endpoint). Every request is kept in `requests`
    as {"method", "path", "headers", "body"} (body: bytes, at most 1 MiB read) and answered by
    route(request), which returns (status, headers, body); body is bytes, str, a list of
    (delay s, bytes) pieces written one after the other, or anything else JSON can send. A Date in
    headers replaces the server's own. keep_alive: speak HTTP/1.1 (else HTTP/1.0, one request a
    connection). The port comes from this process's range (free_port); stop() it, or use it in a
    with block."""

    BODY_MAX = 1 << 20

    def __init__(self, route, path="", keep_alive=False):
        self.route = route
        self.requests = []
        self.lock = threading.Lock()
        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), self._handler(keep_alive))
        self.port = self.srv.server_address[1]
        self.url = "http://127.0.0.1:%d%s" % (self.port, path)
        self.thread = threading.Thread(target=self.srv.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()

    def _handler(self, keep_alive):
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"

            def serve(self):
                n = min(int(self.headers.get("Content-Length") or 0), StubServer.BODY_MAX)
                req = {"method": self.command, "path": self.path, "headers": self.headers,
                       "body": self.rfile.read(n) if n else b""}
                with stub.lock:
                    stub.requests.append(req)
                status, headers, body = stub.route(req)
                stub._write(self, status, headers, body)

            do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = serve

            def log_message(self, *a):
                pass

        return Handler

    @staticmethod
    def _write(handler, status, headers, body):
        pieces = body if isinstance(body, list) and body and isinstance(body[0], tuple) else None
        if pieces is None:
            body = body.encode() if isinstance(body, str) else body
            pieces = [(0, body if isinstance(body, bytes) else json.dumps(body).encode())]
        handler.send_response_only(status)
        headers = {"Server": handler.version_string(), "Date": handler.date_time_string(), **headers}
        for k, v in headers.items():
            handler.send_header(k, v)
        handler.send_header("Content-Length", str(sum(len(b) for _, b in pieces)))
        handler.end_headers()
        try:
            for delay, b in pieces:
                time.sleep(delay)
                handler.wfile.write(b)
                handler.wfile.flush()
        except OSError:
            pass   # the client went away mid-answer (an answer over its size cap): its test says what it saw

    def bodies(self):
        """The JSON body of every request so far ("null" for none)."""
        with self.lock:
            return [json.loads(r["body"] or b"null") for r in self.requests]

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()
        self.thread.join(5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class HookServer(StubServer):
    """A pre-provisioning hook's Lambda (the emulator's lambdaEndpoints map the hook's ARN to it:
    register): answers `answer` after `delay` seconds; calls is the input of every invocation."""

    def __init__(self, allow=True):
        self.answer = {"allowProvisioning": allow}
        self.delay = 0.0
        super().__init__(self._invoked, path="/hook")

    def _invoked(self, req):
        time.sleep(self.delay)
        return 200, {"Content-Type": "application/json"}, self.answer

    @property
    def calls(self):
        return self.bodies()

    @property
    def allow(self):
        return self.answer.get("allowProvisioning")

    @allow.setter
    def allow(self, value):
        self.answer = {"allowProvisioning": value}

    def register(self, emu, arn):
        emu.control("POST", "config", {"lambdaEndpoints": {arn: self.url}})
