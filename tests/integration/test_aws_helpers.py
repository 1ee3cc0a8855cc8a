"""Shared pieces of the tests/integration/test_aws_*.py modules (and a few
checks of the pieces themselves).

AwsEmu starts tests/awsemu/awsemu.py on a free port on 127.0.0.1 and stops it
by PID. probe() runs tests/unit/aws_calls/aws-ops-probe (our C client: the
real aws/ code) with an environment that points every AWS call at the
emulator and reads nothing from the user's own AWS configuration.

Environment: FW_BUILD_DIR (meson build dir, default ./build), FW_AWSEMU.
"""
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD_DIR = os.environ.get("FW_BUILD_DIR", os.path.join(ROOT, "build"))
PROBE = os.path.join(BUILD_DIR, "tests", "unit", "aws_calls", "aws-ops-probe")
AWSEMU = os.environ.get("FW_AWSEMU", os.path.join(ROOT, "tests", "awsemu", "awsemu.py"))
AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
ACCOUNT = "123456789012"

TRUST_ACCOUNT = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % ACCOUNT}, "Action": "sts:AssumeRole"}]})
TRUST_IOT_CREDENTIALS = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "credentials.iot.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
TRUST_IOT = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "iot.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
ACCESS_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
                                   "logs:DescribeLogStreams", "s3:GetBucketLocation"], "Resource": "*"}]})


def iot_policy(n=0):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["iot:Connect"], "Resource": "arn:aws:iot:us-east-1:%s:client/c%d" % (ACCOUNT, n)}]})


TEMPLATE_BODY = json.dumps({
    "Parameters": {"ThingName": {"Type": "String"}},
    "Resources": {
        "MyThing": {"Properties": {"ThingName": {"Ref": "ThingName"}}, "Type": "AWS::IoT::Thing"},
        "MyPolicy": {"Properties": {"PolicyName": "GreengrassV2IoTThingPolicy"}, "Type": "AWS::IoT::Policy"},
        "MyCertificate": {"Properties": {"CertificateId": {"Ref": "AWS::IoT::Certificate::Id"},
                                         "Status": "Active"}, "Type": "AWS::IoT::Certificate"}}})


class AwsEmu:
    """One emulator process on a free port; stop() stops it by PID."""

    def __init__(self, *extra):
        self.tmp = tempfile.mkdtemp(prefix="fw-awscalls-")
        ready = os.path.join(self.tmp, "ready.json")
        self.log = open(os.path.join(self.tmp, "awsemu.log"), "w+")
        self.proc = subprocess.Popen(["/usr/bin/python3", AWSEMU, "--host", "127.0.0.1", "--port", "0",
                                      "--ready-file", ready, *extra], stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.time() + 20
        while not (os.path.exists(ready) and os.path.getsize(ready) > 0):
            if self.proc.poll() is not None or time.time() > deadline:
                self.log.seek(0)
                raise RuntimeError("awsemu did not start: %s" % self.log.read())
            time.sleep(0.05)
        time.sleep(0.05)
        with open(ready) as f:
            info = json.load(f)
        self.port = int(info["port"])
        self.url = "http://127.0.0.1:%d" % self.port

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def control(self, method, path, obj=None):
        data = json.dumps(obj).encode() if obj is not None else None
        req = urllib.request.Request(self.url + "/__emu/" + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as e:
            raise AssertionError("control %s %s: %s %s" % (method, path, e.code, e.read()))

    def reset(self):
        self.control("POST", "reset", {})
        self.control("POST", "quotas", {"enabled": False})

    def calls(self, **filters):
        q = "&".join("%s=%s" % kv for kv in filters.items())
        return self.control("GET", "calls" + ("?" + q if q else ""))["calls"]

    def fault(self, **spec):
        return self.control("POST", "faults", spec)

    def env(self, **extra):
        """A clean environment: only the emulator's endpoint and keys."""
        home = os.path.join(self.tmp, "home")
        os.makedirs(home, exist_ok=True)
        env = {"PATH": "/usr/bin:/bin", "HOME": home, "AWS_ENDPOINT_URL": self.url, "AWS_ACCESS_KEY_ID": AKID,
               "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
               "AWS_CONFIG_FILE": os.path.join(home, "no-config"),
               "AWS_SHARED_CREDENTIALS_FILE": os.path.join(home, "no-credentials")}
        env.update({k: v for k, v in extra.items() if v is not None})
        for k in [k for k, v in extra.items() if v is None]:
            env.pop(k, None)
        return env


def probe(emu, op, env=None, timeout=60, **args):
    """Runs aws-ops-probe OP key=value...; returns (result dict, stderr text)."""
    argv = [PROBE, op] + ["%s=%s" % (k, v) for k, v in args.items()]
    p = subprocess.run(argv, env=env or emu.env(), capture_output=True, text=True, timeout=timeout)
    if p.returncode not in (0, 1) or not p.stdout.strip():
        raise AssertionError("aws-ops-probe %s exited %s:\n%s\n%s" % (op, p.returncode, p.stdout, p.stderr))
    res = json.loads(p.stdout.strip().splitlines()[-1])
    res["_exit"] = p.returncode
    return res, p.stderr


class AwsCase(unittest.TestCase):
    """One emulator per test class, reset (quotas off) before each test."""

    emu_args = ()

    @classmethod
    def setUpClass(cls):
        if not os.path.exists(PROBE):
            raise unittest.SkipTest("aws-ops-probe is not built in %s" % BUILD_DIR)
        cls.emu = AwsEmu(*cls.emu_args)

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()

    def setUp(self):
        self.emu.reset()

    def call(self, op, env=None, **args):
        res, err = probe(self.emu, op, env=env, **args)
        self.assertNotIn(SECRET, err)
        return res

    def ok(self, op, **args):
        res = self.call(op, **args)
        self.assertTrue(res["ok"], "%s failed: %s" % (op, res.get("error")))
        return res["out"]

    def fails(self, op, code, rc=None, **args):
        res = self.call(op, **args)
        self.assertFalse(res["ok"], "%s unexpectedly succeeded" % op)
        self.assertEqual(res["error"]["code"], code, res["error"])
        if rc:
            self.assertEqual(res["rc"], rc)
        return res


class ProbeSelfTest(AwsCase):
    def test_usage_errors(self):
        p = subprocess.run([PROBE], capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)
        p = subprocess.run([PROBE, "iot.no-such-op"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)
        p = subprocess.run([PROBE, "iot.get-policy", "novalue"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)

    def test_emulator_reachable(self):
        out = self.ok("sts.get-caller-identity")
        self.assertEqual(out["account"], ACCOUNT)


if __name__ == "__main__":
    unittest.main()
