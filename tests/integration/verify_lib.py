"""Shared pieces of the fleet verification tests (issue 15).

VerifyEnv: a real Redis, the AWS emulator with its IoT data plane (MQTT broker and credentials
provider, --endpoint-host localhost, its server CA written to a file) and the real fleetwarden
pointed at it (FLEETWARDEN_IOT_MQTT_PORT / FLEETWARDEN_IOT_CREDENTIALS_PORT, the emulator's CA as
FLEETWARDEN_ROOT_CA_FILE, localhost allowed as an endpoint host). The API and workers run in one
process, or as `serve --no-workers` plus `worker` processes (workers > 0) for the crash tests.

VerifyCase: a test class with one VerifyEnv, one ready fleet (FLEET) and a HookServer for the class.

The hook is harness.HookServer: a local HTTP endpoint standing in for a pre-provisioning hook
Lambda (the emulator maps the hook's ARN to it through POST /__emu/config {"lambdaEndpoints"}): it
answers allowProvisioning as told, after an optional delay.
"""
import os
import signal
import tempfile
import unittest

import fleets_lib as fl
import harness

HOOK_ARN = "arn:aws:lambda:us-east-1:%s:function:verify-hook" % harness.EMU_ACCOUNT


class VerifyEnv(fl.FleetEnv):
    def __init__(self, env=None, workers=0):
        self.dir = tempfile.mkdtemp(prefix="fw-verify-")
        self.ca = os.path.join(self.dir, "dataplane-ca.pem")
        self.redis = harness.Redis().start()
        self.emu = harness.Emulator(extra_args=["--endpoint-host", "localhost", "--server-ca-file", self.ca]).start()
        self.env_extra = {
            "FLEETWARDEN_IOT_MQTT_PORT": str(self.emu.mqtt_port),
            "FLEETWARDEN_IOT_CREDENTIALS_PORT": str(self.emu.credentials_port),
            "FLEETWARDEN_ROOT_CA_FILE": self.ca,
            "FLEETWARDEN_IOT_ENDPOINT_HOSTS": "localhost",
            # the emulator's endpoints are loopback: allowed here as test_watch allows its receiver
            "FLEETWARDEN_IOT_ALLOW_ADDRESSES": "127.0.0.1,::1",
            # each MQTT wait: the emulator makes an RSA-2048 key per CreateKeysAndCertificate, which took
            # over 3 s on a loaded machine (a verification then failed with MqttNoAnswer)
            "FLEETWARDEN_VERIFY_TIMEOUT_MS": "20000",
        }
        self.env_extra.update(env or {})
        self.fw = None
        self.api_args = ("serve", "--no-workers") if workers else ("serve",)
        self.start_fw()
        self.admin = self.fw.token("admin", "admin")
        self.operate = self.fw.token("operate", "operator")
        self.workers = [self.start_worker() for _ in range(workers)]
        self.dead = []

    def start_fw(self):
        env = self.emu.aws_env()
        env.update(self.env_extra)
        workdir = self.fw.dir if self.fw else None
        self.fw = harness.Fleetwarden(self.redis, env=env, args=self.api_args, workdir=workdir).start()
        return self.fw

    def fw_env(self):
        env = self.emu.aws_env()
        env.update(self.env_extra)
        env["FLEETWARDEN_KEK_FILE"] = self.fw.kek_file()
        return env

    def start_worker(self):
        w = harness.Fleetwarden(self.redis, env=self.fw_env(), args=("worker",))
        return w.start(wait=False)

    def kill9_worker(self):
        w = self.workers.pop()
        w.proc.send_signal(signal.SIGKILL)
        w.proc.wait()
        w.proc = None
        w.log.close()
        self.dead.append(w)

    def all_logs(self):
        return self.fw.logs() + "".join(w.logs() for w in self.workers + self.dead)

    def stop(self):
        harness.stop_stack(self.fw, self.workers, self.emu, self.redis)

    def ready_fleet(self, name, template=None):
        """Sets the fleet up (one thing group; template: its spec.template) and waits for its first
        claim; returns the certificate ids of its production claims (what a verification must leave
        alone)."""
        spec = {"name": name, "thingGroups": [name + "-group"], "createThingGroups": True}
        if template:
            spec["template"] = template
        r, job = self.setup_fleet(spec)
        assert job["state"] == "succeeded", job
        self.wait_job(self.fleet(name)["resources"]["firstClaim"]["jobId"])
        return self.claim_certs(name)

    # ---- the verification ----
    def verify(self, fleet, body=None, timeout=120, token=None):
        """POST .../verify and its finished job."""
        r = self.fw.request("POST", "/v1/fleets/%s/verify" % fleet, token=token or self.operate, body=body)
        assert r.status == 202, r
        return self.wait_job(r.json["job"]["id"], timeout)

    def check(self, fleet, *args):
        """`fleetwarden check --fleet NAME` with the service's configuration."""
        return self.fw.run("check", "--fleet", fleet, *args, timeout=120)

    # ---- what the emulator holds ----
    def iot_state(self):
        return self.emu.control("GET", "state")["iot"]

    def leftovers(self, fleet_claim_certs):
        """What a verification may have left: things under the verification prefix or any thing,
        certificates other than the fleet's own claims', members of thing groups."""
        st = self.iot_state()
        certs = {c for c in st["certificates"] if c not in fleet_claim_certs}
        members = {g: v.get("things") for g, v in st["thingGroups"].items() if v.get("things")}
        return {"things": sorted(st["things"]), "certificates": sorted(certs), "groupMembers": members}

    def claim_certs(self, fleet):
        """Certificate ids of the fleet's production claims (a verification's own are not in it)."""
        r = self.fw.request("GET", "/v1/claims?fleet=%s&limit=200" % fleet, token=self.admin)
        assert r.status == 200, r
        return {c["certificateId"] for c in r.json["items"]
                if c["purpose"] == "production" and c["certificateId"] and c["state"] != "deleted"}

    def verification_claims(self, fleet):
        r = self.fw.request("GET", "/v1/claims?fleet=%s&limit=200" % fleet, token=self.admin)
        return [c for c in r.json["items"] if c["purpose"] == "verification"]


class VerifyCase(unittest.TestCase):
    """One VerifyEnv (ENV: its keyword arguments) with the fleet FLEET set up and a HookServer the
    emulator knows, for the whole class; own_certs are the fleet's production claim certificates.
    TEMPLATE: the fleet's spec.template, if not the default."""
    FLEET = None
    ENV = {}
    TEMPLATE = None

    @classmethod
    def setUpClass(cls):
        cls.env = VerifyEnv(**cls.ENV)
        cls.own_certs = cls.env.ready_fleet(cls.FLEET, cls.TEMPLATE)
        cls.hook = harness.HookServer()
        cls.hook.register(cls.env.emu, HOOK_ARN)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.hook.stop()
        finally:
            cls.env.stop()
