"""Credentials chain, end to end over real HTTP on loopback.

Drives creds-probe (tests/unit/aws/creds_probe.c, built by meson) against
small fakes (harness.StubServer) started here on 127.0.0.1, on free ports, in
this process's threads (stopped in tearDown): a fake STS (AssumeRole, signature
checked with botocore's own SigV4 signer; AssumeRoleWithWebIdentity,
unsigned), a fake container credentials endpoint and a fake IMDSv2.
The probe prints the source, the access key id and SHA-256 digests of the
secrets; the tests also check that no secret ever reaches its logs.

Environment: FW_BUILD_DIR (meson build dir, default ./build).
"""
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.parse

import harness

PROBE = os.path.join(harness.BUILD_DIR, "tests", "unit", "aws", "creds-probe")

SRC_AKID = "AKIDSOURCEPROFILE"
SRC_SECRET = "source-secret-Zx9/abc+def"
ENV_SECRET = "env-secret-never-logged"


def sha(s):
    return hashlib.sha256(s.encode()).hexdigest()


def iso(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def creds_json(akid, lifetime_s, token="container-token"):
    return json.dumps({"Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": akid,
                       "SecretAccessKey": "secret-of-" + akid, "Token": token,
                       "Expiration": iso(time.time() + lifetime_s)})


def sts_xml(action, akid, lifetime_s=3600):
    return (f'<{action}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><{action}Result>'
            f"<Credentials><AccessKeyId>{akid}</AccessKeyId><SecretAccessKey>sts-secret-{akid}</SecretAccessKey>"
            f"<SessionToken>sts-token-{akid}</SessionToken><Expiration>{iso(time.time() + lifetime_s)}"
            f"</Expiration></Credentials></{action}Result><ResponseMetadata><RequestId>r-1</RequestId>"
            f"</ResponseMetadata></{action}Response>")


def sts_error(code, message):
    return (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message>"
            f"</Error><RequestId>r-2</RequestId></ErrorResponse>")


def sigv4_valid(req, akid, secret, token, region):
    """Recomputes the request's SigV4 signature with botocore."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    m = re.match(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/sts/aws4_request, "
                 r"SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$", req["headers"].get("Authorization", ""))
    if not m or m.group(1) != akid or m.group(3) != region:
        return False
    signed = m.group(4).split(";")
    headers = {h: req["headers"][h] for h in signed}
    areq = AWSRequest(method="POST", url="http://" + req["headers"]["Host"] + req["path"],
                      data=req["body"], headers=headers)
    areq.context["timestamp"] = req["headers"]["X-Amz-Date"]
    signer = SigV4Auth(Credentials(akid, secret, token), "sts", region)
    sig = signer.signature(signer.string_to_sign(areq, signer.canonical_request(areq)), areq)
    return sig == m.group(5)


@unittest.skipUnless(os.path.exists(PROBE), f"creds-probe not built at {PROBE}")
class CredsChainTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="fw-creds-")
        self.fakes = []

    def tearDown(self):
        for f in self.fakes:
            f.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def fake(self, route):
        f = harness.StubServer(route, keep_alive=True)
        self.fakes.append(f)
        return f

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as fh:
            fh.write(text)
        return path

    def probe(self, env, *args, expect_exit=0):
        full = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": self.tmp,
                "AWS_EC2_METADATA_DISABLED": "true"}
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in os.environ:
                full[k] = os.environ[k]
        full.update(env)
        p = subprocess.run([PROBE, *args], env=full, capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, expect_exit, f"probe exit {p.returncode}\nstderr:\n{p.stderr}")
        for secret in (SRC_SECRET, ENV_SECRET, "secret-of-", "sts-secret-", "container-token", "web-id-jwt",
                       "imds-token-value"):
            self.assertNotIn(secret, p.stderr, "a secret reached the logs")
            self.assertNotIn(secret, p.stdout, "a secret reached the probe output")
        self.stderr = p.stderr
        return [json.loads(line) for line in p.stdout.splitlines() if line.strip()]

    # ---- order of the chain ----

    def container(self, lifetimes, token=None):
        """Container fake answering each request with the next lifetime (None = HTTP 500)."""
        state = {"n": 0}

        def route(req):
            if token is not None and req["headers"].get("Authorization") != token:
                return 401, {}, "bad token"
            i = min(state["n"], len(lifetimes) - 1)
            state["n"] += 1
            if lifetimes[i] is None:
                return 500, {}, "agent down"
            return 200, {"Content-Type": "application/json"}, creds_json(f"ASIACONTAINER{state['n']}", lifetimes[i])
        return self.fake(route)

    def test_environment_comes_first(self):
        c = self.container([3600])
        self.write(".aws/credentials", f"[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = x\n")
        out = self.probe({"AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": ENV_SECRET,
                          "AWS_CONTAINER_CREDENTIALS_FULL_URI": c.url + "/creds"})
        self.assertEqual(out[0]["rc"], "FW_OK")
        self.assertEqual(out[0]["source"], "environment")
        self.assertEqual(out[0]["access_key_id"], "AKIDENV")
        self.assertEqual(out[0]["secret_sha256"], sha(ENV_SECRET))
        self.assertEqual(c.requests, [])
        self.assertIn("credentials from environment", self.stderr)

    def test_profile_before_container(self):
        c = self.container([3600])
        self.write(".aws/credentials", "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = file-secret\n")
        out = self.probe({"AWS_CONTAINER_CREDENTIALS_FULL_URI": c.url + "/creds"})
        self.assertEqual((out[0]["source"], out[0]["access_key_id"]), ("profile default", "AKIDFILE"))
        self.assertEqual(c.requests, [])

    def test_config_file_profile(self):
        cfg = self.write("cfg", "# comment\n[profile dev]\nregion = eu-west-1\n"
                               "aws_access_key_id = AKIDDEV\naws_secret_access_key = dev-secret\n")
        out = self.probe({"AWS_CONFIG_FILE": cfg, "AWS_PROFILE": "dev",
                          "AWS_SHARED_CREDENTIALS_FILE": os.path.join(self.tmp, "none")})
        self.assertEqual((out[0]["source"], out[0]["access_key_id"]), ("profile dev", "AKIDDEV"))
        self.assertEqual(out[0]["secret_sha256"], sha("dev-secret"))

    def test_bad_profile_file_is_reported(self):
        self.write(".aws/credentials", "[default]\naws_access_key_id AKID\n")
        out = self.probe({})
        self.assertEqual(out[0]["rc"], "FW_EINVAL")
        self.assertIn("line 2", out[0]["error_message"])

    def test_nothing_configured(self):
        out = self.probe({})
        self.assertEqual(out[0]["rc"], "FW_EUNAVAILABLE")
        self.assertEqual(out[0]["error_code"], "NoCredentials")

    # ---- container endpoint ----

    def test_container_with_token_file_and_refresh(self):
        c = self.container([60, 3600], token="Bearer container-token")
        tok = self.write("token", "Bearer container-token\n")
        out = self.probe({"AWS_CONTAINER_CREDENTIALS_FULL_URI": c.url + "/v1/creds",
                          "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tok}, "--gets", "3")
        # 1 minute left is inside the 5-minute window: the second get refreshes, the third is cached.
        self.assertEqual([o["access_key_id"] for o in out], ["ASIACONTAINER1", "ASIACONTAINER2", "ASIACONTAINER2"])
        self.assertEqual(len(c.requests), 2)
        self.assertEqual(out[0]["source"], "container")
        self.assertEqual(out[0]["token_sha256"], sha("container-token"))
        self.assertEqual(c.requests[0]["path"], "/v1/creds")

    def test_container_token_env(self):
        c = self.container([3600], token="container-token")
        out = self.probe({"AWS_CONTAINER_CREDENTIALS_FULL_URI": c.url + "/creds",
                          "AWS_CONTAINER_AUTHORIZATION_TOKEN": "container-token"})
        self.assertEqual(out[0]["access_key_id"], "ASIACONTAINER1")

    def test_container_keeps_valid_credentials_when_refresh_fails(self):
        c = self.container([120, None])
        out = self.probe({"AWS_CONTAINER_CREDENTIALS_FULL_URI": c.url + "/creds"}, "--gets", "2")
        self.assertEqual([o["rc"] for o in out], ["FW_OK", "FW_OK"])
        self.assertEqual([o["access_key_id"] for o in out], ["ASIACONTAINER1", "ASIACONTAINER1"])
        self.assertGreaterEqual(len(c.requests), 3)   # first fetch, then a failed refresh (retried once)
        self.assertIn("keeping credentials from container", self.stderr)

    def test_container_refuses_remote_http(self):
        out = self.probe({"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://192.0.2.1/creds"})
        self.assertEqual(out[0]["rc"], "FW_EINVAL")

    def test_container_one_fetch_for_many_threads(self):
        c = self.container([3600])
        out = self.probe({"AWS_CONTAINER_CREDENTIALS_FULL_URI": c.url + "/creds"}, "--threads", "8")
        self.assertEqual(len(out), 8)
        self.assertEqual({o["access_key_id"] for o in out}, {"ASIACONTAINER1"})
        self.assertEqual(len(c.requests), 1)

    # ---- IMDSv2 ----

    def imds(self, role="fw-instance-role"):
        token = "imds-token-value"

        def route(req):
            if req["method"] == "PUT" and req["path"] == "/latest/api/token":
                if not req["headers"].get("X-aws-ec2-metadata-token-ttl-seconds"):
                    return 400, {}, "missing ttl"
                return 200, {}, token
            if req["headers"].get("X-aws-ec2-metadata-token") != token:
                return 401, {}, "unauthorized"
            base = "/latest/meta-data/iam/security-credentials/"
            if req["method"] == "GET" and req["path"] == base:
                return 200, {}, role + "\n"
            if req["method"] == "GET" and req["path"] == base + role:
                return 200, {}, creds_json("ASIAIMDS", 6 * 3600, token="imds-session-token")
            return 404, {}, "not found"
        return self.fake(route)

    def test_imds_v2(self):
        m = self.imds()
        out = self.probe({"AWS_EC2_METADATA_DISABLED": "false", "AWS_EC2_METADATA_SERVICE_ENDPOINT": m.url + "/"})
        self.assertEqual(out[0]["rc"], "FW_OK", out[0])
        self.assertEqual((out[0]["source"], out[0]["access_key_id"]), ("imds role fw-instance-role", "ASIAIMDS"))
        self.assertEqual([r["method"] for r in m.requests], ["PUT", "GET", "GET"])
        self.assertGreater(out[0]["expires_in"], 5 * 3600)

    def test_imds_unreachable_is_quick(self):
        port = harness.free_port()   # nothing listens there
        start = time.monotonic()
        out = self.probe({"AWS_EC2_METADATA_DISABLED": "false",
                          "AWS_EC2_METADATA_SERVICE_ENDPOINT": f"http://127.0.0.1:{port}"})
        self.assertEqual(out[0]["rc"], "FW_EUNAVAILABLE")
        self.assertLess(time.monotonic() - start, 10)

    def test_imds_disabled(self):
        m = self.imds()
        out = self.probe({"AWS_EC2_METADATA_DISABLED": "TRUE", "AWS_EC2_METADATA_SERVICE_ENDPOINT": m.url})
        self.assertEqual(out[0]["rc"], "FW_EUNAVAILABLE")
        self.assertEqual(m.requests, [])

    # ---- STS: AssumeRole and web identity ----

    def sts(self, deny=False):
        def route(req):
            form = urllib.parse.parse_qs(req["body"].decode(), keep_blank_values=True)
            action = form.get("Action", [""])[0]
            if deny:
                return 403, {"Content-Type": "text/xml"}, sts_error("AccessDenied", "not authorized to assume")
            return 200, {"Content-Type": "text/xml"}, sts_xml(action, "ASIA" + action.upper()[:16])
        return self.fake(route)

    def role_config(self, extra=""):
        self.write(".aws/credentials", f"[base]\naws_access_key_id = {SRC_AKID}\naws_secret_access_key = {SRC_SECRET}\n")
        return self.write("config", "[profile deploy]\nrole_arn = arn:aws:iam::123456789012:role/fleetwarden\n"
                                    "source_profile = base\nrole_session_name = fw-test\nexternal_id = ext-1\n"
                                    + extra)

    def test_assume_role_with_source_profile(self):
        s = self.sts()
        cfg = self.role_config("region = eu-central-1\n")
        out = self.probe({"AWS_CONFIG_FILE": cfg, "AWS_PROFILE": "deploy", "AWS_ENDPOINT_URL_STS": s.url})
        self.assertEqual(out[0]["rc"], "FW_OK", out[0])
        self.assertEqual(out[0]["source"], "profile deploy via AssumeRole")
        self.assertEqual(out[0]["access_key_id"], "ASIAASSUMEROLE")
        self.assertEqual(out[0]["secret_sha256"], sha("sts-secret-ASIAASSUMEROLE"))
        self.assertGreater(out[0]["expires_in"], 3000)
        req = s.requests[0]
        form = urllib.parse.parse_qs(req["body"].decode())
        self.assertEqual(form["Action"], ["AssumeRole"])
        self.assertEqual(form["Version"], ["2011-06-15"])
        self.assertEqual(form["RoleArn"], ["arn:aws:iam::123456789012:role/fleetwarden"])
        self.assertEqual(form["RoleSessionName"], ["fw-test"])
        self.assertEqual(form["ExternalId"], ["ext-1"])
        self.assertTrue(sigv4_valid(req, SRC_AKID, SRC_SECRET, None, "eu-central-1"),
                        "AssumeRole signature does not verify with botocore")
        self.assertIn("profile deploy via AssumeRole", self.stderr)

    def test_assume_role_with_environment_source(self):
        s = self.sts()
        cfg = self.write("config", "[profile envrole]\nrole_arn = arn:aws:iam::123456789012:role/r\n"
                                   "credential_source = Environment\n")
        out = self.probe({"AWS_CONFIG_FILE": cfg, "AWS_PROFILE": "envrole", "AWS_ENDPOINT_URL_STS": s.url,
                          "AWS_REGION": "us-west-2", "AWS_ACCESS_KEY_ID": "AKIDENVSRC",
                          "AWS_SECRET_ACCESS_KEY": ENV_SECRET, "AWS_SESSION_TOKEN": "env-session"},
                         "--provider", "profile")
        self.assertEqual(out[0]["access_key_id"], "ASIAASSUMEROLE", out[0])
        req = s.requests[0]
        self.assertEqual(req["headers"]["X-Amz-Security-Token"], "env-session")
        self.assertTrue(sigv4_valid(req, "AKIDENVSRC", ENV_SECRET, "env-session", "us-west-2"))

    def test_assume_role_denied(self):
        s = self.sts(deny=True)
        cfg = self.role_config()
        out = self.probe({"AWS_CONFIG_FILE": cfg, "AWS_PROFILE": "deploy", "AWS_ENDPOINT_URL_STS": s.url})
        self.assertEqual(out[0]["rc"], "FW_EAWS")
        self.assertEqual(out[0]["error_code"], "AccessDenied")
        self.assertIn("not authorized to assume", out[0]["error_message"])

    def test_web_identity(self):
        s = self.sts()
        tok = self.write("jwt", "web-id-jwt.payload.sig\n")
        self.write(".aws/credentials", "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = x\n")
        out = self.probe({"AWS_WEB_IDENTITY_TOKEN_FILE": tok, "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/w",
                          "AWS_ROLE_SESSION_NAME": "pod-1", "AWS_ENDPOINT_URL_STS": s.url})
        self.assertEqual(out[0]["rc"], "FW_OK", out[0])
        self.assertEqual(out[0]["source"], "web identity via AssumeRoleWithWebIdentity")
        self.assertEqual(out[0]["access_key_id"], "ASIAASSUMEROLEWITHWE")
        req = s.requests[0]
        self.assertNotIn("Authorization", req["headers"])   # unsigned call
        form = urllib.parse.parse_qs(req["body"].decode())
        self.assertEqual(form["WebIdentityToken"], ["web-id-jwt.payload.sig"])
        self.assertEqual(form["RoleSessionName"], ["pod-1"])
        self.assertEqual(form["RoleArn"], ["arn:aws:iam::123456789012:role/w"])


if __name__ == "__main__":
    unittest.main()
