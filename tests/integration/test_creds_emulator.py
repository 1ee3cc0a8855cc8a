"""Role assumption against the project's AWS emulator (tests/awsemu).

The emulator checks SigV4 signatures (including session tokens) and role
trust policies the way STS does, so these tests show that creds-probe's
AssumeRole and AssumeRoleWithWebIdentity calls are accepted by an
independent verifier: a profile role with a source profile, a role chained
from it (the second call signed with the first call's temporary
credentials and session token), web identity, and a role that does not
trust the caller. Roles are created with botocore's IAM client.

Environment: FW_BUILD_DIR (default ./build), FW_AWSEMU.
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
import harness  # noqa: E402

PROBE = os.path.join(harness.BUILD_DIR, "tests", "unit", "aws", "creds-probe")
ACCOUNT = "123456789012"


def trust(principal, action):
    return json.dumps({"Version": "2012-10-17",
                       "Statement": [{"Effect": "Allow", "Principal": principal, "Action": action}]})


def jwt(claims):
    enc = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")  # noqa: E731
    return f"{enc({'alg': 'RS256', 'typ': 'JWT'})}.{enc(claims)}.c2lnbmF0dXJl"


@unittest.skipUnless(os.path.exists(PROBE), f"creds-probe not built at {PROBE}")
class CredsAgainstEmulatorTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.emu = harness.Emulator().start()
        import botocore.session
        iam = botocore.session.Session().create_client(
            "iam", region_name="us-east-1", endpoint_url=cls.emu.url,
            aws_access_key_id=harness.EMU_AKID, aws_secret_access_key=harness.EMU_SECRET)
        aws = {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
        iam.create_role(RoleName="fw-deploy", AssumeRolePolicyDocument=trust(aws, "sts:AssumeRole"))
        iam.create_role(RoleName="fw-chained", AssumeRolePolicyDocument=trust(aws, "sts:AssumeRole"))
        iam.create_role(RoleName="fw-web", AssumeRolePolicyDocument=trust(
            {"Federated": "arn:aws:iam::123456789012:oidc-provider/example"}, "sts:AssumeRoleWithWebIdentity"))
        iam.create_role(RoleName="fw-nobody", AssumeRolePolicyDocument=trust(
            {"Service": "iot.amazonaws.com"}, "sts:AssumeRole"))
        if hasattr(iam, "close"):
            iam.close()

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()
        shutil.rmtree(cls.emu.dir, ignore_errors=True)

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="fw-creds-emu-")
        with open(os.path.join(self.tmp, "credentials"), "w") as f:
            f.write(f"[base]\naws_access_key_id = {harness.EMU_AKID}\n"
                    f"aws_secret_access_key = {harness.EMU_SECRET}\n")
        with open(os.path.join(self.tmp, "config"), "w") as f:
            f.write(f"[profile deploy]\nrole_arn = arn:aws:iam::{ACCOUNT}:role/fw-deploy\nsource_profile = base\n"
                    f"[profile chained]\nrole_arn = arn:aws:iam::{ACCOUNT}:role/fw-chained\n"
                    f"source_profile = deploy\nrole_session_name = chained-session\n"
                    f"[profile denied]\nrole_arn = arn:aws:iam::{ACCOUNT}:role/fw-nobody\nsource_profile = base\n")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def probe(self, env):
        full = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": self.tmp,
                "AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL_STS": self.emu.url,
                "AWS_SHARED_CREDENTIALS_FILE": os.path.join(self.tmp, "credentials"),
                "AWS_CONFIG_FILE": os.path.join(self.tmp, "config")}
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in os.environ:
                full[k] = os.environ[k]
        full.update(env)
        p = subprocess.run([PROBE], env=full, capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn(harness.EMU_SECRET, p.stderr + p.stdout)
        return json.loads(p.stdout.splitlines()[0])

    def test_assume_role(self):
        out = self.probe({"AWS_PROFILE": "deploy"})
        self.assertEqual(out["rc"], "FW_OK", out)
        self.assertEqual(out["source"], "profile deploy via AssumeRole")
        self.assertTrue(out["access_key_id"].startswith("ASIA"))
        self.assertTrue(out["token_sha256"])
        self.assertGreater(out["expires_in"], 3000)

    def test_chained_role_signs_with_temporary_credentials(self):
        self.emu.control("DELETE", "calls")
        out = self.probe({"AWS_PROFILE": "chained"})
        self.assertEqual(out["rc"], "FW_OK", out)
        self.assertEqual(out["source"], "profile chained via AssumeRole")
        calls = self.emu.control("GET", "calls?operation=AssumeRole")["calls"]
        self.assertEqual([(c["status"], c["signature"]) for c in calls], [(200, "valid"), (200, "valid")])
        # The first call is signed with the base keys, the second with the first call's session.
        self.assertEqual(calls[0]["accessKeyId"], harness.EMU_AKID)
        self.assertTrue(calls[1]["accessKeyId"].startswith("ASIA"))

    def test_web_identity(self):
        token = os.path.join(self.tmp, "token.jwt")
        with open(token, "w") as f:
            f.write(jwt({"sub": "system:serviceaccount:fw:fleetwarden", "aud": "sts.amazonaws.com"}))
        out = self.probe({"AWS_WEB_IDENTITY_TOKEN_FILE": token,
                          "AWS_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/fw-web"})
        self.assertEqual(out["rc"], "FW_OK", out)
        self.assertEqual(out["source"], "web identity via AssumeRoleWithWebIdentity")
        self.assertTrue(out["access_key_id"].startswith("ASIA"))

    def test_untrusted_role_is_denied(self):
        out = self.probe({"AWS_PROFILE": "denied"})
        self.assertEqual(out["rc"], "FW_EAWS")
        self.assertEqual(out["error_code"], "AccessDenied")


if __name__ == "__main__":
    unittest.main()
