"""deploy/docker-compose.yml brought up with Debian's podman-compose (1.0.3) (issue 18).

The images come from deploy/container/build-image.sh (Debian's archive, cached), passed to the
compose file through FLEETWARDEN_IMAGE, AWSEMU_IMAGE, REDIS_IMAGE and STUNNEL_IMAGE; the project
gets a name and a host port of the test's own. podman-compose 1.0.3 has no --profile, so the
services of the `local` profile are named on the command line.

- Plain: redis, awsemu, api-local and two worker-local replicas on the project's network: a
  fleet, a claim and its bundle through the published port; SIGTERM stops api and workers with
  exit code 0.
- With deploy/docker-compose.elasticache.yml: Redis serves TLS only (its own tls-port, a
  certificate from the test's CA for the name "redis-tls", a service of the test's own override)
  with the ACL user of deploy/redis/acl-rules.txt, and the api and workers reach it through the
  redis-tunnel service.

Skipped, with the reason, where podman or podman-compose cannot run.
"""
import os
import shutil
import subprocess
import tempfile
import unittest

import claims_lib as cl
import container_lib as ctr
import harness
import redisprod_lib as rp

COMPOSE = os.path.join(harness.ROOT, "deploy", "docker-compose.yml")
ELASTICACHE = os.path.join(harness.ROOT, "deploy", "docker-compose.elasticache.yml")
SERVICES = ["redis", "awsemu", "api-local", "worker-local"]


class ComposeCase(unittest.TestCase):
    RUN_COST_S = 3      # ~40 s with the images cached; ordered late (see test_container.py)
    overlay = False

    @classmethod
    def setUpClass(cls):
        ok, why = ctr.usable()
        if ok and not shutil.which("podman-compose"):
            ok, why = False, "podman-compose is not installed (Debian: podman-compose)"
        if not ok:
            raise unittest.SkipTest("podman-compose cannot run here: " + why)
        images = {t: ctr.build(t)[0] for t in ("runtime", "awsemu", "redis", "stunnel")}
        cls.dir = tempfile.mkdtemp(prefix="fw-compose-")
        os.chmod(cls.dir, 0o755)
        kek, pw = os.path.join(cls.dir, "kek"), os.path.join(cls.dir, "redis_password")
        cls.password = os.urandom(12).hex()      # Redis's requirepass, or the ACL user's (TLS)
        for path, text in ((kek, os.urandom(32).hex()), (pw, cls.password)):
            with open(path, "w") as f:
                f.write(text + "\n")
            os.chmod(path, 0o644)     # read inside by uid 10001 and Redis's entrypoint; the directory is ours
        cls.port = harness.free_port()
        cls.project = "fwc%d" % cls.port
        cls.env = dict(ctr.ENV, FLEETWARDEN_IMAGE=images["runtime"], AWSEMU_IMAGE=images["awsemu"],
                       REDIS_IMAGE=images["redis"], STUNNEL_IMAGE=images["stunnel"],
                       FLEETWARDEN_PORT=str(cls.port), FLEETWARDEN_KEK_SECRET=kek,
                       FLEETWARDEN_REDIS_PASSWORD_SECRET=pw)
        cls.files = [cls.without_ulimits()]
        services = list(SERVICES)
        if cls.overlay:
            cls.files += [ELASTICACHE, cls.tls_override()]
            services += ["redis-tls", "redis-tunnel"]
        try:
            cls.compose("up", "-d", "--no-build", *services)
            cls.fw = harness.Fleetwarden(rp.UrlRedis("unused"))
            cls.fw.port = cls.port
            try:
                harness.wait_until(lambda: cls.fw.request("GET", "/readyz").status == 200, timeout=60,
                                   what="the api-local service's /readyz")
            except AssertionError as e:
                raise AssertionError("%s; logs:\n%s" % (e, cls.logs(services)))
            cls.seed_boundaries()
            cls.admin = ctr.podman("exec", cls.container("api-local"), "fleetwarden", "token", "create",
                                   "--scope", "admin", "--name", "compose").stdout.strip()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def seed_boundaries(cls):
        """The permissions boundaries an administrator creates once per account (deploy/iam), in
        the awsemu container's account, as harness.Emulator does for the host's emulator."""
        import json
        docs = {name: harness.iam_document(f) for name, f in harness.BOUNDARIES.items()}
        script = ("import json, sys, botocore.session\n"
                  "iam = botocore.session.get_session().create_client('iam', region_name='us-east-1', "
                  "endpoint_url='http://127.0.0.1:4566', aws_access_key_id=%r, aws_secret_access_key=%r)\n"
                  "for n, d in json.load(sys.stdin).items():\n"
                  "    iam.create_policy(PolicyName=n, PolicyDocument=d)\n" % (harness.EMU_AKID, harness.EMU_SECRET))
        r = subprocess.run(ctr.PODMAN + ["exec", "-i", cls.container("awsemu"), "python3", "-c", script],
                           env=ctr.ENV, input=json.dumps(docs), capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise AssertionError("seeding the boundaries failed: %s" % r.stderr[-1500:])

    @classmethod
    def without_ulimits(cls):
        """deploy/docker-compose.yml less its `ulimits` (core: 0): podman cannot set rlimits in
        this sandbox (runc: "error setting rlimit type 6/7: operation not permitted", even at the
        current limits), and a `--ulimit` makes it set them all. Everything else is the file as it
        is; fleetwarden turns its own core dumps off anyway (service/main.c)."""
        import yaml
        with open(COMPOSE) as f:
            doc = yaml.safe_load(f)        # anchors and merges expanded
        for svc in doc["services"].values():
            svc.pop("ulimits", None)
        for k in [k for k in doc if k.startswith("x-")]:
            del doc[k]
        path = os.path.join(cls.dir, "docker-compose.yml")
        with open(path, "w") as f:
            yaml.safe_dump(doc, f, sort_keys=False)
        return path

    @classmethod
    def tls_override(cls):
        """The test's own override: Redis with TLS only and the ACL user, the tunnel trusting the
        test's CA."""
        pki = rp.Pki(cls.dir)
        cert, key = pki.server("redis", ["redis-tls"])
        for p in (pki.ca_file, cert, key):
            os.chmod(p, 0o644)       # read by the containers' own users; the directory is ours
        cls.env.update(REDIS_TLS_ENDPOINT="redis-tls:6379", FLEETWARDEN_REDIS_USER="fleetwarden")
        user = ["fleetwarden", "on", ">" + cls.password] + rp.acl_rules()
        path = os.path.join(cls.dir, "tls-override.yml")
        import yaml
        doc = {"services": {
            # A service of its own: podman-compose 1.0.3 appends an override's command to the
            # base file's instead of replacing it.
            "redis-tls": {"image": cls.env["REDIS_IMAGE"],
                          "command": ["redis-server", "--port", "0", "--tls-port", "6379",
                                  "--tls-cert-file", "/tls/redis.crt", "--tls-key-file", "/tls/redis.key",
                                  "--tls-ca-cert-file", "/tls/ca.pem", "--tls-auth-clients", "no",
                                  "--appendonly", "yes", "--user", *user],
                      "volumes": ["%s:/tls/redis.crt:ro" % cert, "%s:/tls/redis.key:ro" % key,
                                  "%s:/tls/ca.pem:ro" % pki.ca_file]},
            "redis-tunnel": {"environment": {"REDIS_TLS_CA_FILE": "/tls/ca.pem"},
                             "volumes": ["%s:/tls/ca.pem:ro" % pki.ca_file]}}}
        with open(path, "w") as f:
            yaml.safe_dump(doc, f)
        return path

    @classmethod
    def compose(cls, *args, check=True, timeout=300):
        cmd = ["podman-compose", "--podman-args=--runtime /usr/sbin/runc", "-p", cls.project]
        for f in cls.files:
            cmd += ["-f", f]
        r = subprocess.run(cmd + list(args), env=cls.env, capture_output=True, text=True, timeout=timeout,
                           cwd=cls.dir)
        if check and r.returncode != 0:
            raise AssertionError("podman-compose %s: exit %d\n%s" % (args[0], r.returncode, (r.stdout + r.stderr)[-3000:]))
        return r

    @classmethod
    def logs(cls, services):
        out = []
        for s in services:
            r = ctr.podman("logs", "--tail", "15", cls.container(s), check=False)
            out.append("--- %s\n%s%s" % (s, r.stdout, r.stderr))
        return "\n".join(out)

    @classmethod
    def container(cls, service, n=1):
        return "%s_%s_%d" % (cls.project, service, n)

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "project", None):
            cls.compose("down", "-t", "5", check=False)
            for v in ("redis-data", "awsemu-data"):
                ctr.podman("volume", "rm", "-f", "%s_%s" % (cls.project, v), check=False)
            ctr.podman("network", "rm", "-f", cls.project + "_default", check=False)   # 1.0.3 leaves it

    def tearDown(self):
        harness.assert_spec_followed(self, self.fw)

    def test_z_fleet_claim_bundle_then_sigterm(self):
        e = cl.ClaimsEnv.over(self.fw, self.admin)
        e.make_fleet("compose")
        e.take_bundle(e.new_claim("compose", tolerate_503=True)["id"])
        for name in (self.container("worker-local", 1), self.container("worker-local", 2), self.container("api-local")):
            with self.subTest(container=name):
                ctr.podman("stop", "-t", "40", name, timeout=120)
                code = ctr.podman("inspect", "--format", "{{.State.ExitCode}}", name).stdout.strip()
                logs = ctr.podman("logs", name, check=False)
                self.assertEqual(code, "0", (logs.stdout + logs.stderr)[-2000:])
                self.assertIn('"signal received","signal":15', logs.stdout + logs.stderr)


class ComposePlain(ComposeCase):
    overlay = False


class ComposeElastiCacheTls(ComposeCase):
    overlay = True

    def test_a_fleetwarden_reaches_redis_only_through_the_tunnel_as_the_acl_user(self):
        out = ctr.podman("exec", self.container("redis-tls"), "redis-cli", "--tls", "--cacert", "/tls/ca.pem",
                         "--user", "fleetwarden", "--pass", self.password, "--no-auth-warning",
                         "PING").stdout.strip()
        self.assertEqual(out, "PONG")
        def users():      # as the default user: fleetwarden may not run CLIENT LIST
            return ctr.podman("exec", self.container("redis-tls"), "redis-cli", "--tls", "--cacert", "/tls/ca.pem",
                              "CLIENT", "LIST").stdout.count("user=fleetwarden")
        # The api and both workers (each connects when its threads first poll).
        harness.wait_until(lambda: users() >= 3, timeout=60, interval=1, what="3 connections as fleetwarden")
        plain = subprocess.run(ctr.PODMAN + ["exec", self.container("redis-tls"), "redis-cli", "-p", "6379", "PING"],
                               env=ctr.ENV, capture_output=True, text=True, timeout=60)
        self.assertNotIn("PONG", plain.stdout, "Redis answers clear text: the TLS setup is not in force")


del ComposeCase

if __name__ == "__main__":
    unittest.main()
