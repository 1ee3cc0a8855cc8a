"""Redis as production runs it, for the integration tests (issue 18): TLS through the stunnel
tunnel of deploy/stunnel/redis-tunnel.sh to redis-server's own tls-port, with a CA made here, and
ACL users with the rules of deploy/redis/acl-rules.txt.

The Redis servers keep a clear-text port too, on loopback, for the test's own administration
(ACL SETUSER, CLIENT LIST, INFO); fleetwarden only ever reaches them through the tunnel.
"""
import datetime
import ipaddress
import os
import subprocess
import tempfile

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import harness

TUNNEL = os.path.join(harness.ROOT, "deploy", "stunnel", "redis-tunnel.sh")
ACL_RULES = os.path.join(harness.ROOT, "deploy", "redis", "acl-rules.txt")


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, 0o600)
    return path


class Pki:
    """A CA of the test's own, and server certificates from it (or from another CA)."""

    def __init__(self, d, cn="fleetwarden test CA"):
        self.dir = d
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        self.cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn))
                     .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                     .not_valid_before(now - datetime.timedelta(minutes=5))
                     .not_valid_after(now + datetime.timedelta(days=1))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                     .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                                    critical=True)
                     .sign(self.key, hashes.SHA256()))
        self.ca_file = _write(os.path.join(d, "ca-%s.pem" % cn.replace(" ", "_")),
                              self.cert.public_bytes(serialization.Encoding.PEM))

    def server(self, stem, sans):
        """(cert file, key file) for a server known by sans: "127.0.0.1" (IP) or DNS names."""
        key = ec.generate_private_key(ec.SECP256R1())
        names = [x509.IPAddress(ipaddress.ip_address(s)) if s[0].isdigit() else x509.DNSName(s) for s in sans]
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(_name(sans[0])).issuer_name(self.cert.subject)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5))
                .not_valid_after(now + datetime.timedelta(days=1))
                .add_extension(x509.SubjectAlternativeName(names), critical=False)
                .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .sign(self.key, hashes.SHA256()))
        c = _write(os.path.join(self.dir, stem + ".crt"), cert.public_bytes(serialization.Encoding.PEM))
        k = _write(os.path.join(self.dir, stem + ".key"), key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        return c, k


def tls_redis(pki_ca_file, cert, key, appendonly=False):
    """A harness.Redis with a TLS port (self.tls_port) beside its clear-text admin port."""
    tls_port = harness.free_port()
    r = harness.Redis(appendonly=appendonly, extra_args=[
        "--tls-port", str(tls_port), "--tls-cert-file", cert, "--tls-key-file", key,
        "--tls-ca-cert-file", pki_ca_file, "--tls-auth-clients", "no"])
    r.tls_port = tls_port
    return r


def acl_rules():
    """The ACL rules of deploy/redis/acl-rules.txt (comments dropped), as ACL SETUSER arguments."""
    words = []
    with open(ACL_RULES) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                words += line.split()
    return words


def add_acl_user(redis, user, password, rules=None):
    redis.command("ACL", "SETUSER", user, "reset", "on", ">" + password, *(rules or acl_rules()))


class Tunnel:
    """deploy/stunnel/redis-tunnel.sh on a free local port, to endpoint (host:port)."""

    def __init__(self, endpoint, ca_file, name=None):
        self.port = harness.free_port()
        self.dir = tempfile.mkdtemp(prefix="fw-stunnel-")
        self.env = dict(os.environ, REDIS_TLS_ENDPOINT=endpoint, REDIS_TLS_LISTEN="127.0.0.1:%d" % self.port,
                        REDIS_TLS_CA_FILE=ca_file, REDIS_TLS_RUN_DIR=self.dir)
        if name:
            self.env["REDIS_TLS_NAME"] = name
        self.proc = None

    def start(self):
        self.log_path = os.path.join(self.dir, "stunnel.log")
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(["/bin/sh", TUNNEL], env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        harness.wait_until(lambda: self._listening(), what="stunnel on %d" % self.port)
        return self

    def _listening(self):
        import socket
        with socket.create_connection(("127.0.0.1", self.port), timeout=1):
            return True

    def logs(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self):
        if self.proc:
            harness.stop_pid(self.proc)
            self.proc = None
            self.log.close()


def redis_url(user, password, port, db=0):
    from urllib.parse import quote
    return "redis://%s:%s@127.0.0.1:%d/%d" % (quote(user, safe=""), quote(password, safe=""), port, db)


class UrlRedis:
    """What harness.Fleetwarden needs of a Redis: its url (here: through a tunnel, with a user)."""

    def __init__(self, url):
        self.url = url


class Endpoint:
    """A TCP endpoint in front of Redis that can be re-pointed, as ElastiCache's primary endpoint
    is during a failover: point() moves it to another server and drops every connection made
    through it (clients see a closed connection and reconnect, now to the new server)."""

    def __init__(self, target_port):
        import socket
        import threading
        self.target = target_port
        self.lock = threading.Lock()
        self.conns = set()
        self.srv = socket.create_server(("127.0.0.1", harness.free_port()))
        self.port = self.srv.getsockname()[1]
        self.closing = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        import socket
        import threading
        while not self.closing:
            try:
                c, _ = self.srv.accept()
            except OSError:
                return
            try:
                with self.lock:
                    up = socket.create_connection(("127.0.0.1", self.target), timeout=2)
                    up.settimeout(None)
                    self.conns.update((c, up))
            except OSError:
                c.close()
                continue
            for a, b in ((c, up), (up, c)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, a, b):
        import socket
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                b.sendall(data)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        with self.lock:
            self.conns.discard(a)
            self.conns.discard(b)

    def point(self, target_port, drop=True):
        """drop=False: only new connections go to target_port; those made before stay with the
        old server (a client that keeps its connection across the DNS change)."""
        import socket
        with self.lock:
            self.target = target_port
            old, self.conns = (list(self.conns), set()) if drop else ([], self.conns)
        for s in old:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        self.closing = True
        self.srv.close()
        self.point(self.target)
