"""Devices in the loop (issue 14 B, issue 15's misuse in device traffic): a real Redis, the AWS
emulator with its IoT data plane answering DescribeEndpoint with `localhost`, fleetwarden (the
real binary) configured with the emulator's data plane ports and server CA, and the device
simulator of tests/devices (AWS IoT Device SDK v2 for JavaScript) provisioning through claim
bundles exactly as GET /v1/claims/{id}/bundle hands them out.

DeviceEnv.provision(bundle, n, ...) runs `node tests/devices/simulate.js` and returns its JSON
report: one entry per device, each step ok or failed with AWS's error code and message.
"""
import json
import os
import subprocess
import tempfile
import unittest

import harness
from fleets_lib import FleetEnv

ACCOUNT = "123456789012"
REGION = "us-east-1"
DEVICES_DIR = os.path.join(harness.ROOT, "tests", "devices")
SIMULATOR = os.path.join(DEVICES_DIR, "simulate.js")


def sdk_installed():
    """The simulator's npm packages (tests/tools/install-npm-tools.sh puts them there)."""
    return os.path.exists(os.path.join(DEVICES_DIR, "node_modules", "aws-iot-device-sdk-v2", "package.json"))


def sts_client(creds, emu):
    import botocore.session
    s = botocore.session.get_session()
    return s.create_client("sts", region_name=REGION, endpoint_url=emu.url,
                           aws_access_key_id=creds["accessKeyId"], aws_secret_access_key=creds["secretAccessKey"],
                           aws_session_token=creds["sessionToken"])


def iot_client(emu):
    import botocore.session
    s = botocore.session.get_session()
    return s.create_client("iot", region_name=REGION, endpoint_url=emu.url,
                           aws_access_key_id=harness.EMU_AKID, aws_secret_access_key=harness.EMU_SECRET)


class DeviceEnv(FleetEnv):
    """Redis + emulator (data plane on localhost) + fleetwarden serve with workers, told the
    emulator's data plane ports and server CA, so that its bundles lead devices there."""

    def __init__(self, env=None, emu_args=()):
        super().__init__(env, emulator=harness.Emulator(extra_args=emu_args, endpoint_host="localhost"))
        self.iot = iot_client(self.emu)
        self.tmp = tempfile.mkdtemp(prefix="fw-devices-")
        self.runs = 0

    def start_fw(self):
        self.env_extra = dict(self.emu.device_env(), **self.env_extra)
        return super().start_fw()

    # ---- the API ----
    def accepted(self, r, what):
        assert r.status == 202, "%s: %r" % (what, r)
        job = self.wait_job(r.json["job"]["id"], timeout=90)
        assert job["state"] == "succeeded", "%s: %s" % (what, job)
        return r.json

    def make_fleet(self, name, **spec):
        """POST /v1/fleets; waits for fleet.setup; returns the fleet as GET shows it."""
        body = {"name": name, "region": REGION}
        body.update(spec)
        self.accepted(self.req("POST", "/v1/fleets", body=body), "fleet.setup of " + name)
        return self.fleet(name)

    def first_claim(self, fleet):
        return self.wait_claim(fleet["resources"]["firstClaim"]["claimId"], ("active",))

    def claim(self, cid):
        r = self.req("GET", "/v1/claims/" + cid)
        assert r.status == 200, r
        return r.json

    def wait_claim(self, cid, states, timeout=60):
        harness.wait_until(lambda: self.claim(cid)["state"] in states, timeout, 0.1,
                           "claim %s in %s" % (cid, states))
        return self.claim(cid)

    def new_claim(self, fleet_name, body=None):
        r = self.req("POST", "/v1/fleets/%s/claims" % fleet_name, body=body or {})
        out = self.accepted(r, "claim.create")
        return self.wait_claim(out["claim"]["id"], ("active",))

    def bundle(self, claim_id):
        r = self.req("GET", "/v1/claims/%s/bundle" % claim_id)
        assert r.status == 200, r
        return r.json

    # ---- devices ----
    def provision(self, bundle, devices=1, protocol="311", api="keys", concurrency=None, prefix=None,
                  credentials=True, extra=(), timeout=300, key_pem=None):
        """Runs the simulator on the bundle (written to a file as downloaded). key_pem: the claim's
        private key when the bundle has none (a CSR claim: the factory kept it). Returns the
        report: {"devices": [...], "summary": {...}}."""
        self.runs += 1
        path = os.path.join(self.tmp, "bundle-%d.json" % self.runs)
        b = dict(bundle)
        if key_pem:
            b["privateKeyPem"] = key_pem
        with open(path, "w") as f:
            json.dump(b, f)
        os.chmod(path, 0o600)
        report = os.path.join(self.tmp, "report-%d.json" % self.runs)
        args = ["node", SIMULATOR, "--bundle", path, "--devices", str(devices), "--protocol", protocol,
                "--api", api, "--report", report,
                "--thing-prefix", prefix or "dev%d-%d" % (os.getpid() % 10000, self.runs)]
        if concurrency:
            args += ["--concurrency", str(concurrency)]
        if credentials:
            args += ["--emit-credentials"]
        args += list(extra)
        p = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
        if not os.path.exists(report):
            raise AssertionError("the simulator wrote no report (exit %s): %s" % (p.returncode, p.stderr[-3000:]))
        with open(report) as f:
            out = json.load(f)
        out["exitCode"] = p.returncode
        out["stderr"] = p.stderr
        return out

    # ---- what AWS (the emulator) holds ----
    def things_in_group(self, group):
        names, token = [], None
        while True:
            kw = {"thingGroupName": group, "maxResults": 250}
            if token:
                kw["nextToken"] = token
            r = self.iot.list_things_in_thing_group(**kw)
            names += r.get("things", [])
            token = r.get("nextToken")
            if not token:
                return names


def step(device, name):
    """The report's entry for step `name` of one device (None when the device never got there)."""
    for s in device["steps"]:
        if s["step"] == name:
            return s
    return None


def failed_step(device):
    for s in device["steps"]:
        if not s["ok"]:
            return s
    return None


def describe(report, limit=3):
    """A short text of what went wrong, for assertion messages."""
    bad = [d for d in report["devices"] if not d["ok"]][:limit]
    return json.dumps({"summary": report.get("summary"), "failed": bad, "stderr": report.get("stderr", "")[-1500:]},
                      indent=1)[:6000]


class DevicesCase(unittest.TestCase):
    """One DeviceEnv per class (ENV: extra fleetwarden settings). Without the simulator's npm
    packages the class fails: tests/run.sh installs them (tests/tools/install-npm-tools.sh)."""
    ENV = {}

    @classmethod
    def setUpClass(cls):
        if not sdk_installed():
            raise AssertionError("tests/devices/node_modules is missing: run tests/tools/install-npm-tools.sh")
        cls.env = DeviceEnv(env=cls.ENV)

    @classmethod
    def tearDownClass(cls):
        cls.env.stop()

    def assertAllOk(self, report, n):
        self.assertEqual(report["summary"]["ok"], n, describe(report))
        self.assertEqual(len(report["devices"]), n)

    def assertRefusedAtConnect(self, report, why):
        """Every device failed its first step, connecting with the claim, and the emulator refused
        it for `why` (its certificate's state)."""
        for d in report["devices"]:
            s = failed_step(d)
            self.assertIsNotNone(s, describe(report))
            self.assertEqual(s["step"], "connectClaim", describe(report))
        refusals = self.env.emu.control("GET", "dataplane/events?type=refused")["events"]
        self.assertTrue(any(why in (e.get("reason") or "") for e in refusals), refusals[-5:])
        return [failed_step(d) for d in report["devices"]]
