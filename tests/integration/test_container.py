"""The container image, built and run (issue 18).

deploy/container/build-image.sh builds deploy/Dockerfile with podman from Debian's archive alone
(cached per machine: the debootstrap base image, podman's layers, and the image itself by the
hash of its context). Then, on the host's network: a TLS redis-server with an ACL user (the
test's own CA), the stunnel image as the tunnel to it, a `serve --no-workers` container and a
`worker` container, both read-only, all capabilities dropped, and the AWS emulator on the host.
A fleet is set up (the job runs in the worker container), a claim created and its bundle
downloaded through the serve container; /docs serves the very Redoc bundle the host build
uses; both containers stop on SIGTERM (podman stop) with exit code 0 before the kill timeout.

Skipped, with the reason in the runner's summary, where podman cannot run containers.
"""
import hashlib
import os
import sys
import tempfile
import unittest

import claims_lib as cl
import container_lib as ctr
import harness
import redisprod_lib as rp

USER, PASSWORD = "fleetwarden", "container-pw-1"


class ContainerImage(unittest.TestCase):
    # ~20 s with the images cached. On a fresh machine tests/run.sh starts the image builds
    # (debootstrap + podman build, 5-7 minutes on a loaded 2-core machine) before the host builds;
    # a cost below the default (10) orders this class and the compose ones near the end, so the
    # build overlaps everything else instead of holding the runner's slots while it finishes.
    RUN_COST_S = 3

    @classmethod
    def setUpClass(cls):
        ok, why = ctr.usable()
        if not ok:
            raise unittest.SkipTest("podman cannot run containers here: " + why)
        cls.image, took, log = ctr.build("runtime")
        cls.tunnel_image, took2, log2 = ctr.build("stunnel")
        sys.stdout.write("\n  images %s, %s: %.0f s + %.0f s\n%s%s" % (cls.image, cls.tunnel_image, took, took2,
                                                                       log, log2))
        cls.dir = tempfile.mkdtemp(prefix="fw-ctr-")
        os.chmod(cls.dir, 0o755)
        cls.containers = []
        cls.redis = cls.emu = None
        try:
            cls.start_stack()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def start_stack(cls):
        pki = rp.Pki(cls.dir)
        cert, key = pki.server("redis", ["127.0.0.1"])
        os.chmod(pki.ca_file, 0o644)
        cls.redis = rp.tls_redis(pki.ca_file, cert, key).start()
        rp.add_acl_user(cls.redis, USER, PASSWORD)
        cls.emu = harness.Emulator().start()
        tport, cls.port, hport = harness.free_port(), harness.free_port(), harness.free_port()
        suffix = str(cls.port)
        cls.containers.append(ctr.Container("fw-tunnel-" + suffix, cls.tunnel_image, env={
            "REDIS_TLS_ENDPOINT": "127.0.0.1:%d" % cls.redis.tls_port, "REDIS_TLS_LISTEN": "127.0.0.1:%d" % tport,
            "REDIS_TLS_CA_FILE": "/etc/fw-ca.pem"}, volumes=[(pki.ca_file, "/etc/fw-ca.pem")]))
        kek = os.path.join(cls.dir, "kek")
        with open(kek, "w") as f:
            f.write(os.urandom(32).hex() + "\n")
        os.chmod(kek, 0o644)       # read by uid 10001 inside; the directory is the test's own
        env = dict(cls.emu.aws_env(), FLEETWARDEN_REDIS_URL=rp.redis_url(USER, PASSWORD, tport),
                   FLEETWARDEN_KEK_FILE="/run/secrets/kek", AWS_EC2_METADATA_DISABLED="true",
                   FLEETWARDEN_WORKERS="2", FLEETWARDEN_SHUTDOWN_GRACE="5")
        vols = [(kek, "/run/secrets/kek")]
        cls.api = ctr.Container("fw-api-" + suffix, cls.image, ["serve", "--no-workers"], volumes=vols,
                                env=dict(env, FLEETWARDEN_LISTEN="127.0.0.1:%d" % cls.port))
        cls.containers.append(cls.api)
        cls.worker = ctr.Container("fw-worker-" + suffix, cls.image, ["worker"], volumes=vols,
                                   env=dict(env, FLEETWARDEN_HEALTH_LISTEN="127.0.0.1:%d" % hport))
        cls.containers.append(cls.worker)
        cls.fw = harness.Fleetwarden(cls.redis)       # an HTTP client for the container's port
        cls.fw.port = cls.port
        cls.health = harness.Fleetwarden(cls.redis)
        cls.health.port = hport
        harness.wait_until(lambda: cls.fw.request("GET", "/readyz").status == 200, timeout=30,
                           what="the serve container's /readyz")
        harness.wait_until(lambda: cls.health.request("GET", "/readyz").status == 200, timeout=30,
                           what="the worker container's /readyz")
        cls.admin = cls.api.exec("fleetwarden", "token", "create", "--scope", "admin", "--name", "ctr").stdout.strip()

    @classmethod
    def tearDownClass(cls):
        for c in getattr(cls, "containers", []):
            c.remove()
        if cls.emu:
            cls.emu.stop()
        if cls.redis:
            cls.redis.stop()

    def tearDown(self):
        harness.assert_spec_followed(self, self.fw)

    def env(self):
        """claims_lib's HTTP helpers over the serve container."""
        return cl.ClaimsEnv.over(self.fw, self.admin, self.emu)

    def test_a_fleet_claim_and_bundle_through_the_containers(self):
        e = self.env()
        e.make_fleet("ctr")
        c = e.new_claim("ctr", tolerate_503=True)
        e.take_bundle(c["id"])
        self.assertEqual(e.req("GET", "/v1/claims/%s/bundle" % c["id"]).status, 410)
        metrics = self.health.request("GET", "/metrics").body.decode()
        self.assertRegex(metrics, r'fleetwarden_job_attempts_total\{outcome="succeeded"\} ([2-9]|\d\d)',
                         "fleet.setup and claim.create ran in the worker container (serve runs none)")
        self.assertIn("user=%s" % USER, self.redis.command("CLIENT", "LIST"))

    def test_docs_are_the_host_builds_redoc_bundle(self):
        self.assertEqual(self.fw.request("GET", "/docs").status, 200)
        js = self.fw.request("GET", "/docs/redoc.standalone.js")
        self.assertEqual(js.status, 200)
        with open(os.path.join(ctr.HERE, "redoc", "redoc.standalone.js"), "rb") as f:
            host = f.read()
        self.assertEqual(hashlib.sha256(js.body).hexdigest(), hashlib.sha256(host).hexdigest())
        own = os.path.join(harness.BUILD_DIR, "routes", "docs_assets", "www", "redoc.standalone.js")
        if os.path.exists(own):
            with open(own, "rb") as f:
                self.assertEqual(f.read(), host, "the same bundle as the host build's")

    def test_runs_as_uid_10001_read_only(self):
        self.assertEqual(self.api.exec("id", "-u").stdout.strip(), "10001")
        r = ctr.podman("exec", self.api.name, "sh", "-c", "echo x > /usr/local/bin/x", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("Read-only file system", r.stderr + r.stdout)

    def test_z_sigterm_stops_both_cleanly(self):
        for c in (self.worker, self.api):
            with self.subTest(container=c.name):
                code, killed, logs = c.stop(timeout=30)
                self.assertFalse(killed, "still running when podman stop's timeout ran out")
                self.assertEqual(code, 0, logs[-3000:])
                self.assertIn('"signal received","signal":15', logs)
                self.assertIn('"stopped"', logs)


if __name__ == "__main__":
    unittest.main()
