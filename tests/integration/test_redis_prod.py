"""Redis as production runs it (issue 18): TLS and ACL users.

fleetwarden reaches redis-server's own tls-port through deploy/stunnel/redis-tunnel.sh (hiredis
0.14 has no TLS) with a CA this test makes, as an ACL user limited by deploy/redis/acl-rules.txt
to the fw: keys and the commands fleetwarden runs; a fleet is set up and a claim's bundle
downloaded that way. A server certificate that does not match (wrong name; another CA) is
refused by the tunnel, so fleetwarden never talks to that server. A wrong password stops
`serve` and `worker` at start-up with exit 2 and a message naming the user, never the password,
and `fleetwarden check` says FAILED (red on a terminal).
"""
import os
import pty
import subprocess
import tempfile
import time
import unittest

import claims_lib as cl
import harness
import redisprod_lib as rp

USER, PASSWORD = "fleetwarden", "s3cret-Pa:ss@word/1"


class ProdRedisEnv(cl.ClaimsEnv):
    """ClaimsEnv whose fleetwarden reaches Redis through a TLS tunnel as an ACL user."""

    def __init__(self, redis, url, env=None):
        self.redis = redis
        self.emu = harness.Emulator().start()
        self.env = dict(self.emu.aws_env(), FLEETWARDEN_WORKERS="2", **(env or {}))
        self.fw = harness.Fleetwarden(rp.UrlRedis(url), env=self.env, args=("serve",)).start()
        self.kek = self.fw.kek_file()
        self.workers = []
        self.admin = self.fw.token("admin", "admin")
        self.operate = self.fw.token("operate", "operator")
        self.read = self.fw.token("read", "reader")

    def stop(self):
        """Stops fleetwarden and the emulator; the class's Redis stays for the other tests."""
        harness.stop_stack(self.fw, self.workers, self.emu, _Kept())


class _Kept:
    def stop(self):
        pass


class RedisTlsAcl(unittest.TestCase):
    RUN_COST_S = 40

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="fw-tls-")
        cls.pki = rp.Pki(cls.dir)
        cert, key = cls.pki.server("redis", ["127.0.0.1", "redis.test"])
        cls.redis = rp.tls_redis(cls.pki.ca_file, cert, key).start()
        rp.add_acl_user(cls.redis, USER, PASSWORD)
        cls.tunnel = rp.Tunnel("127.0.0.1:%d" % cls.redis.tls_port, cls.pki.ca_file).start()
        cls.url = rp.redis_url(USER, PASSWORD, cls.tunnel.port)
        cls.others = []

    @classmethod
    def tearDownClass(cls):
        for p in cls.others:
            p.stop()
        cls.tunnel.stop()
        cls.redis.stop()

    def fw(self, url, args=("serve",)):
        return harness.Fleetwarden(rp.UrlRedis(url), args=args)

    def test_fleet_and_claim_bundle_through_tls_as_acl_user(self):
        self.redis.command("ACL", "LOG", "RESET")
        env = ProdRedisEnv(self.redis, self.url)
        try:
            env.make_fleet("tls")
            env.take_bundle(env.new_claim("tls")["id"])
            # Every fleetwarden connection came in on the TLS port, as the ACL user.
            clients = [dict(kv.split("=", 1) for kv in line.split(" ") if "=" in kv)
                       for line in self.redis.command("CLIENT", "LIST").splitlines()]
            ours = [c for c in clients if c.get("user") == USER]
            self.assertTrue(ours, clients)
            self.assertEqual({c["laddr"] for c in ours}, {"127.0.0.1:%d" % self.redis.tls_port})
            denied = self.redis.command("ACL", "LOG", "50")
            self.assertEqual(denied, [], "commands the ACL rules do not allow")
        finally:
            env.stop()

    def test_acl_rules_really_limit_the_user(self):
        """The rules the other tests pass with must refuse keys outside fw: and unlisted commands."""
        import socket   # the clear-text admin port takes AUTH as the user too
        with socket.create_connection(("127.0.0.1", self.redis.port), timeout=5) as c:
            f = c.makefile("rb")

            def cmd(*a):
                out = b"*%d\r\n" % len(a) + b"".join(b"$%d\r\n%s\r\n" % (len(x.encode()), x.encode()) for x in a)
                c.sendall(out)
                return f.readline()
            self.assertEqual(cmd("AUTH", USER, PASSWORD), b"+OK\r\n")
            self.assertEqual(cmd("SET", "fw:probe", "1"), b"+OK\r\n")
            self.assertTrue(cmd("SET", "other:probe", "1").startswith(b"-NOPERM"))
            self.assertTrue(cmd("FLUSHALL").startswith(b"-NOPERM"))
            self.assertTrue(cmd("CONFIG", "GET", "*").startswith(b"-NOPERM"))
            cmd("DEL", "fw:probe")
        self.redis.command("ACL", "LOG", "RESET")

    def test_acl_rules_cover_every_command_in_the_code(self):
        """A command added to the C code or a Lua script without its ACL rule would fail with
        NOPERM in production only: the rules must name every command the sources send."""
        import glob
        import re
        allowed = {w[1:].split("|")[0].upper() for w in rp.acl_rules() if w.startswith("+")}
        sent = set()
        for path in glob.glob(os.path.join(harness.ROOT, "**", "*.[ch]"), recursive=True) + \
                glob.glob(os.path.join(harness.ROOT, "**", "*.lua"), recursive=True):
            if "/tests/" in path or "/build" in path:
                continue
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
            sent |= {m.upper() for m in re.findall(r"redis\.p?call\(\s*'([A-Za-z]+)'", text)}
            sent |= set(re.findall(r'(?:redis\w*Command\w*|store_conn_cmd|append)\(\s*[&\w>.-]+\s*,\s*"([A-Z]+)[ "]',
                                   text))
        self.assertGreater(len(sent), 25)
        self.assertEqual(sorted(sent - allowed - {"AUTH"}), [], "add them to deploy/redis/acl-rules.txt")

    def refused(self, cert_sans, pki):
        cert, key = pki.server("bad-%d" % len(self.others), cert_sans)
        bad = rp.tls_redis(self.pki.ca_file, cert, key).start()
        self.others.append(bad)
        rp.add_acl_user(bad, USER, PASSWORD)
        t = rp.Tunnel("127.0.0.1:%d" % bad.tls_port, self.pki.ca_file).start()
        self.others.append(t)
        url = rp.redis_url(USER, PASSWORD, t.port)
        r = self.fw(url).run("check", timeout=30)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("redis: FAILED", r.stdout)
        self.assertNotIn(PASSWORD, r.stdout + r.stderr)
        self.assertNotIn("user=%s" % USER, bad.command("CLIENT", "LIST"), "no command reached that server")
        harness.wait_until(lambda: "certificate verify failed" in t.logs() or "CERT" in t.logs(),
                           what="stunnel's refusal in its log")
        return t.logs()

    def test_certificate_with_another_name_is_refused(self):
        log = self.refused(["redis.elsewhere.test"], self.pki)
        self.assertRegex(log, r"(?i)(check|verify|certificate).*(fail|mismatch|reject)")

    def test_certificate_from_another_ca_is_refused(self):
        log = self.refused(["127.0.0.1"], rp.Pki(self.dir, cn="some other CA"))
        self.assertRegex(log, r"(?i)certificate verify failed|CERT: Verification error")

    def test_wrong_password_stops_start_up_with_exit_2(self):
        url = rp.redis_url(USER, "not-the-password", self.tunnel.port)
        for args in (("serve",), ("worker",)):
            with self.subTest(args=args):
                fw = self.fw(url, args)
                env = fw.env()
                env["FLEETWARDEN_KEK_FILE"] = fw.kek_file()
                p = subprocess.run([harness.FW_BIN, *args], env=env, capture_output=True, text=True, timeout=30)
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertIn("FLEETWARDEN_REDIS_URL", p.stderr)
                self.assertIn("refused AUTH as user %s" % USER, p.stderr)
                self.assertIn("WRONGPASS", p.stderr)
                self.assertNotIn("not-the-password", p.stderr + p.stdout)

    def test_check_is_red_on_a_terminal_with_a_wrong_password(self):
        url = rp.redis_url(USER, "not-the-password", self.tunnel.port)
        fw = self.fw(url)
        master, slave = pty.openpty()
        p = subprocess.Popen([harness.FW_BIN, "check"], env=fw.env(), stdout=slave, stderr=subprocess.DEVNULL)
        os.close(slave)
        out = b""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        p.wait(timeout=30)
        os.close(master)
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"\x1b[31mredis: FAILED: redis 127.0.0.1:%d refused AUTH as user %s: WRONGPASS"
                      % (self.tunnel.port, USER.encode()), out)
        ok = self.fw(self.url).run("check", timeout=30)
        self.assertIn("redis: ok", ok.stdout)
        self.assertNotIn("\x1b[", ok.stdout, "no colour when stdout is not a terminal")


if __name__ == "__main__":
    unittest.main()
