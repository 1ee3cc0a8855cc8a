"""Shared pieces of the claims integration tests (test_claims*.py) and the
claims benchmark (tests/bench/claims).

ClaimsEnv starts a real redis-server, the AWS emulator and fleetwarden
(the API, and workers either in the same process or as separate `worker`
processes), and sets a fleet up:
  - through POST /v1/fleets when the fleets API is there (and waits for its job),
  - otherwise by creating the claim policy in the emulator (botocore, signed)
    and writing a minimal fleet record in Redis (store_fleet.h layout).
"""
import base64
import json
import os
import re
import time
import unittest

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

import harness

ACCOUNT = "123456789012"
CLAIM_POLICY_DOC = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["iot:Connect"], "Resource": "*"},
    {"Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"],
     "Resource": ["arn:aws:iot:us-east-1:%s:topic/$aws/certificates/create/*" % ACCOUNT]}]})


def spki_der(public_key):
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def cert_spki(pem):
    return spki_der(x509.load_pem_x509_certificate(pem.encode()).public_key())


def key_spki(pem):
    return spki_der(serialization.load_pem_private_key(pem.encode(), None).public_key())


def make_csr(kind="ec256", cn="factory-claim"):
    if kind == "ec256":
        key = ec.generate_private_key(ec.SECP256R1())
    elif kind == "ec384":
        key = ec.generate_private_key(ec.SECP384R1())
    elif kind.startswith("rsa"):
        key = rsa.generate_private_key(65537, int(kind[3:]))
    else:
        raise ValueError(kind)
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, cn)]))
           .sign(key, hashes.SHA256()))
    return key, csr.public_bytes(serialization.Encoding.PEM).decode()


def iot_client(emu):
    import botocore.session
    s = botocore.session.get_session()
    return s.create_client("iot", region_name="us-east-1", endpoint_url=emu.url,
                           aws_access_key_id=harness.EMU_AKID, aws_secret_access_key=harness.EMU_SECRET)


class ClaimsEnv(harness.ApiHelpers):
    default_token = "operate"

    """Redis + emulator + fleetwarden (+ optional worker processes)."""

    def __init__(self, env=None, workers_in_api=True, worker_procs=0, emu_args=(), workers=4):
        self.redis = harness.Redis().start()
        self.emu = harness.Emulator(extra_args=emu_args).start()
        e = dict(self.emu.aws_env())
        e.update({"FLEETWARDEN_WORKERS": str(workers), "FLEETWARDEN_ROTATION_SCAN_S": "1"})
        e.update(env or {})
        self.env = e
        args = ("serve",) if workers_in_api else ("serve", "--no-workers")
        self.fw = harness.Fleetwarden(self.redis, env=e, args=args).start()
        self.kek = self.fw.kek_file()
        self.workers = [self.start_worker() for _ in range(worker_procs)]
        self.admin = self.fw.token("admin", "admin")
        self.operate = self.fw.token("operate", "operator")
        self.read = self.fw.token("read", "reader")

    def start_worker(self):
        w = harness.Fleetwarden(self.redis, env=dict(self.env, FLEETWARDEN_KEK_FILE=self.kek), args=("worker",))
        return w.start(wait=False)

    def all_logs(self):
        out = self.fw.logs()
        for w in self.workers:
            out += w.logs()
        return out

    def stop(self):
        harness.stop_stack(self.fw, self.workers, self.emu, self.redis)

    def stop_checked(self):
        """stop(), after checking that no log line holds a private key or a token."""
        try:
            hits = find_secrets(self.all_logs())
            if hits:
                raise AssertionError("secrets in logs: %s" % hits[:5])
        finally:
            self.stop()

    @classmethod
    def over(cls, fw, token, emu=None):
        """The HTTP helpers (req, wait_job, make_fleet, wait_claim...) over a fleetwarden this
        class did not start (a container's port), with one token for every scope."""
        e = cls.__new__(cls)
        e.fw, e.emu = fw, emu
        e.admin = e.operate = e.read = token
        return e

    # ---- HTTP helpers ----
    def claim(self, cid):
        r = self.req("GET", "/v1/claims/" + cid, token=self.read)
        assert r.status == 200, r
        return r.json

    def wait_claim(self, cid, states, timeout=60, tolerate_503=False):
        """tolerate_503: a 503 (Redis briefly unreachable, which the API may answer) is polled
        through, as a client honouring Retry-After would; for the container tests on a loaded
        machine, where the containers' Redis connections can time out for a moment."""
        deadline = time.monotonic() + timeout
        c = None
        while time.monotonic() < deadline:
            if tolerate_503:
                r = self.req("GET", "/v1/claims/" + cid, token=self.read)
                if r.status == 503:
                    time.sleep(0.5)
                    continue
                assert r.status == 200, r
                c = r.json
            else:
                c = self.claim(cid)
            if c["state"] in states:
                return c
            time.sleep(0.1)
        raise AssertionError("claim %s stayed %s (wanted %s): %s" % (cid, c and c["state"], states, c))

    def new_claim(self, fleet, tolerate_503=False):
        """POSTs a claim of fleet (answered 202) and returns it once active."""
        r = self.req("POST", "/v1/fleets/%s/claims" % fleet, body={})
        assert r.status == 202, r
        return self.wait_claim(r.json["claim"]["id"], ["active"], tolerate_503=tolerate_503)

    def take_bundle(self, cid):
        """GETs the claim's bundle (answered 200), whose private key must be the certificate's."""
        b = self.req("GET", "/v1/claims/%s/bundle" % cid)
        assert b.status == 200, b
        assert key_spki(b.json["privateKeyPem"]) == cert_spki(b.json["certificatePem"]), "key of another certificate"
        return b.json

    # ---- fleets ----
    def fleets_api(self):
        return self.req("GET", "/v1/fleets", token=self.read).status == 200

    def make_fleet(self, name, rotation=None):
        if self.fleets_api():
            return self._fleet_via_api(name, rotation)
        return self._fleet_direct(name, rotation)

    def _fleet_via_api(self, name, rotation):
        body = {"name": name, "region": "us-east-1"}
        if rotation:
            body["rotation"] = rotation
        r = self.req("POST", "/v1/fleets", body=body, token=self.admin)
        assert r.status == 202, r
        job = self.wait_job(r.json["job"]["id"], timeout=120)
        assert job["state"] == "succeeded", job
        f = self.req("GET", "/v1/fleets/" + name, token=self.read).json
        # fleet.setup issues the fleet's first claim; let it settle so tests count only their own.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            items = self.req("GET", "/v1/claims?fleet=%s&state=creating" % name, token=self.read).json["items"]
            if not items:
                break
            time.sleep(0.1)
        return f["resources"]["claimPolicy"]["name"]

    def _fleet_direct(self, name, rotation):
        policy = "%s-claim-policy" % name
        iot = iot_client(self.emu)
        arn = iot.create_policy(policyName=policy, policyDocument=CLAIM_POLICY_DOC)["policyArn"]
        now = str(int(time.time() * 1000))
        fields = {"j:name": name, "j:state": "ready", "j:region": "us-east-1", "j:accountId": ACCOUNT,
                  "j:settings": {"rotation": rotation or {}, "watch": {}},
                  "r:claimPolicy": {"name": policy, "arn": arn},
                  "r:template": {"name": name + "-template"},
                  "r:endpoints": {"dataAts": "abc-ats.iot.us-east-1.amazonaws.com",
                                  "credentialProvider": "abc.credentials.iot.us-east-1.amazonaws.com"},
                  "r:roleAlias": {"name": "GreengrassCoreTokenExchangeRoleAlias"}}
        args = ["HSET", "fw:fleet:" + name, "version", "1", "createdAt", now, "updatedAt", now]
        for k, v in fields.items():
            args += [k, json.dumps(v)]
        self.redis.command(*args)
        self.redis.command("ZADD", "fw:fleets", "0", name)
        return policy

    # ---- emulator views ----
    def emu_certs(self):
        return self.emu.control("GET", "state")["iot"]["certificates"]

    def emu_targets(self, policy):
        return self.emu.control("GET", "state")["iot"]["policies"][policy]["targets"]


class ClaimsCase(unittest.TestCase):
    """One ClaimsEnv (ENV: its keyword arguments) with the fleet FLEET made, for the whole class."""
    FLEET = None
    ENV = {}

    @classmethod
    def setUpClass(cls):
        cls.env = ClaimsEnv(**cls.ENV)
        try:
            cls.env.make_fleet(cls.FLEET)
        except BaseException:
            cls.env.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.env.stop()

    def new_claim(self):
        return self.env.new_claim(self.FLEET)


SECRET_PATTERNS = [re.compile(r"PRIVATE KEY"), re.compile(r"fw_[A-Za-z0-9_-]{20,}")]


def find_secrets(text):
    """Lines of text that look like a private key or an API token."""
    hits = []
    for line in text.splitlines():
        for p in SECRET_PATTERNS:
            if p.search(line):
                hits.append(line[:200])
    return hits
