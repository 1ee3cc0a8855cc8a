"""Fleet verification (issue 15): fleetwarden provisions a throwaway device through the fleet's real
endpoints and says, step by step, whether devices would provision.

Real fleetwarden (API and workers), real Redis, the AWS emulator with its data plane (MQTT broker,
fleet provisioning MQTT API, credentials provider). One fleet is set up through the API; each test
breaks one thing by hand through the emulator's AWS API (the AWS CLI), verifies, checks that the
verification fails at the right step with the right hint and AWS's own error text, restores the
setup, and checks that nothing the verification made is left in the emulator.
"""
import contextlib
import json
import os
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fleets_lib as fl  # noqa: E402
import harness  # noqa: E402
import verify_lib as vl  # noqa: E402

FLEET = "vf"
ARN = "arn:aws:iot:%s:%s:" % (fl.REGION, fl.ACCOUNT)
CLAIM_POLICY = FLEET + "-claim-policy"
TEMPLATE = FLEET + "-template"
THING_POLICY = "GreengrassV2IoTThingPolicy"
ALIAS = "GreengrassCoreTokenExchangeRoleAlias"
PROV_ROLE = "GreengrassFleetProvisioningRole"
REGISTRATION = "arn:aws:iam::aws:policy/service-role/AWSIoTThingsRegistration"


class Verify(vl.VerifyCase):
    FLEET = FLEET
    ENV = {"env": {"FLEETWARDEN_WEBHOOK_ALLOW_HTTP_HOSTS": "127.0.0.1",
                   "FLEETWARDEN_WEBHOOK_ALLOW_ADDRESSES": "127.0.0.1"}}

    def tearDown(self):
        new = self.env.fw.take_openapi_mismatches()
        if new:
            self.fail(harness.openapi_mismatch_report(new))

    # ---- helpers ----
    def aws(self, *args):
        return self.env.aws(*args)

    def assertNothingLeft(self):
        left = self.env.leftovers(self.own_certs)
        self.assertEqual(left, {"things": [], "certificates": [], "groupMembers": {}}, left)
        for c in self.env.verification_claims(FLEET):
            self.assertEqual(c["state"], "deleted", c)

    def step(self, result, name):
        return next(s for s in result["steps"] if s["name"] == name)

    def assertFailsAt(self, name, hint_parts, aws_code=None):
        """Verifies, expects a failure at step `name` whose hint has every part, the later steps skipped,
        the cleanup passed; then checks the emulator holds nothing the run made."""
        job = self.env.verify(FLEET)
        self.assertEqual(job["state"], "succeeded", job)
        res = job["result"]
        self.assertEqual(res["result"], "failed", json.dumps(res, indent=1))
        self.assertEqual(res["failedStep"], name, json.dumps(res, indent=1))
        st = self.step(res, name)
        self.assertEqual(st["status"], "failed")
        for part in hint_parts:
            self.assertIn(part, st["hint"], st)
        if aws_code:
            self.assertEqual(st["error"]["code"], aws_code, st)
        self.assertTrue(st["error"] and st["error"]["message"], json.dumps(res, indent=1))
        names = [s["name"] for s in res["steps"]]
        self.assertEqual(names, ["claim", "certificate", "registerThing", "thingConnect", "credentials", "cleanup"])
        after = names[names.index(name) + 1:-1]
        self.assertEqual({self.step(res, n)["status"] for n in after} or {"skipped"}, {"skipped"})
        self.assertEqual(self.step(res, "cleanup")["status"], "passed", self.step(res, "cleanup"))
        last = self.env.fleet(FLEET)["lastVerify"]
        self.assertEqual((last["result"], last["job"], last["failedStep"]), ("failed", job["id"], name))
        self.assertEqual(last["hint"], st["hint"])
        self.assertNothingLeft()
        return st

    @contextlib.contextmanager
    def policy_changed(self, name, change):
        """For the with block, the policy's default version is its document as change(document)
        leaves it; then the version it had is the default again and the new one is deleted."""
        old = self.aws("iot", "get-policy", "--policy-name", name)
        doc = json.loads(old["policyDocument"])
        change(doc)
        self.aws("iot", "create-policy-version", "--policy-name", name, "--policy-document", json.dumps(doc),
                 "--set-as-default")
        try:
            yield
        finally:
            self.aws("iot", "set-default-policy-version", "--policy-name", name, "--policy-version-id",
                     old["defaultVersionId"])
            for v in self.aws("iot", "list-policy-versions", "--policy-name", name)["policyVersions"]:
                if not v["isDefaultVersion"]:
                    self.aws("iot", "delete-policy-version", "--policy-name", name, "--policy-version-id",
                             v["versionId"])

    # ---- a correct setup ----
    def test_00_passes_on_a_correct_fleet(self):
        job = self.env.verify(FLEET)
        self.assertEqual(job["state"], "succeeded", job)
        res = job["result"]
        self.assertEqual(res["result"], "passed", json.dumps(res, indent=1))
        self.assertEqual([s["status"] for s in res["steps"]], ["passed"] * 6)
        self.assertTrue(res["thingName"].startswith("fwverify-vf-"), res)
        self.assertTrue(res["verificationClaim"])
        self.assertIn("CreateKeysAndCertificate accepted", self.step(res, "certificate")["checked"])
        self.assertIn("assumed-role/GreengrassV2TokenExchangeRole/", self.step(res, "credentials")["checked"])
        self.assertEqual(len(self.step(res, "cleanup")["removed"]), 3, res)
        last = self.env.fleet(FLEET)["lastVerify"]
        self.assertEqual((last["result"], last["job"], last["failedStep"], last["hint"]),
                         ("passed", job["id"], None, None))
        # the verification claim: listed, marked, retired, never handed out
        vc = [c for c in self.env.verification_claims(FLEET) if c["id"] == res["claimId"]]
        self.assertEqual(len(vc), 1)
        self.assertEqual(vc[0]["state"], "deleted")
        bundle = self.env.fw.request("GET", "/v1/claims/%s/bundle" % res["claimId"], token=self.env.operate)
        self.assertEqual(bundle.status, 409, bundle)
        self.assertNothingLeft()
        # what the broker saw: TLS with SNI naming the endpoint, the claim first, then the thing
        events = self.env.emu.control("GET", "dataplane/events?type=connect")["events"]
        ours = [e for e in events if (e.get("clientId") or "").startswith("fwverify-")]
        self.assertEqual([e["clientId"] for e in ours][-2:], ["fwverify-claim-" + job["id"][2:14], res["thingName"]])
        self.assertEqual({e["sni"] for e in ours}, {"localhost"})

    def test_01_check_prints_the_steps(self):
        p = self.env.check(FLEET)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("fleet vf: verification passed", p.stdout)
        for n in ("claim", "certificate", "registerThing", "thingConnect", "credentials", "cleanup"):
            self.assertIn(" %s " % n, p.stdout)
        self.assertIsNone(self.env.fleet(FLEET)["lastVerify"]["job"])
        self.assertNothingLeft()

    def test_02_alpn_on_when_asked(self):
        """FLEETWARDEN_IOT_MQTT_ALPN=on (AWS needs it on port 443): the broker sees x-amzn-mqtt-ca."""
        self.env.fw.extra_env["FLEETWARDEN_IOT_MQTT_ALPN"] = "on"
        try:
            p = self.env.check(FLEET)
        finally:
            del self.env.fw.extra_env["FLEETWARDEN_IOT_MQTT_ALPN"]
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        events = self.env.emu.control("GET", "dataplane/events?type=connect")["events"]
        self.assertEqual(events[-1]["alpn"], "x-amzn-mqtt-ca", events[-1])
        self.assertNothingLeft()

    def test_03_internal_endpoint_address_refused(self):
        """The emulator's endpoint `localhost` is a loopback address: without FLEETWARDEN_IOT_ALLOW_ADDRESSES
        (the test environment sets 127.0.0.1,::1) the verification dials neither endpoint, as a webhook
        would not reach it; nothing is made, nothing connects."""
        before = len(self.env.emu.control("GET", "dataplane/events?type=connect")["events"])
        extra = self.env.fw.extra_env
        allowed = extra["FLEETWARDEN_IOT_ALLOW_ADDRESSES"]
        extra["FLEETWARDEN_IOT_ALLOW_ADDRESSES"] = ""
        try:
            p = self.env.check(FLEET)
        finally:
            extra["FLEETWARDEN_IOT_ALLOW_ADDRESSES"] = allowed
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("verification could not run: EndpointRefused", p.stdout)
        self.assertIn("localhost resolves to", p.stdout)
        self.assertIn("a loopback address (FLEETWARDEN_IOT_ALLOW_ADDRESSES)", p.stdout)
        events = self.env.emu.control("GET", "dataplane/events?type=connect")["events"]
        self.assertEqual(len(events), before, events[before:])
        self.assertNothingLeft()

    def check_with_mqtt_port(self, port, timeout_ms):
        """`fleetwarden check` dialling MQTT on port with FLEETWARDEN_VERIFY_TIMEOUT_MS timeout_ms: the
        process and the seconds it took."""
        extra = self.env.fw.extra_env
        extra["FLEETWARDEN_IOT_MQTT_PORT"] = str(port)
        extra["FLEETWARDEN_VERIFY_TIMEOUT_MS"] = str(timeout_ms)
        t0 = time.monotonic()
        try:
            p = self.env.fw.run("check", "--fleet", FLEET, timeout=300)
        finally:
            extra["FLEETWARDEN_IOT_MQTT_PORT"] = str(self.env.emu.mqtt_port)
            extra["FLEETWARDEN_VERIFY_TIMEOUT_MS"] = "20000"
        return p, time.monotonic() - t0

    def test_04_mqtt_connect_honours_the_timeout(self):
        """An endpoint that never completes the TCP handshake (a listener whose accept queue is full:
        the kernel drops further SYNs) fails the certificate step after FLEETWARDEN_VERIFY_TIMEOUT_MS,
        as ClientTimeout saying how long it waited, not after the kernel's SYN retries (minutes)."""
        ls = socket.socket()
        ls.bind(("127.0.0.1", 0))
        ls.listen(0)
        fillers = []
        try:
            for _ in range(3):
                f = socket.socket()
                f.setblocking(False)
                try:
                    f.connect(ls.getsockname())
                except BlockingIOError:
                    pass
                fillers.append(f)
            time.sleep(0.5)
            p, took = self.check_with_mqtt_port(ls.getsockname()[1], 2000)
        finally:
            for f in fillers:
                f.close()
            ls.close()
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertLess(took, 30, p.stdout)
        self.assertRegex(p.stdout, r"certificate +FAILED")
        self.assertRegex(p.stdout, r"AWS: ClientTimeout: no TCP connection to localhost:\d+ within 2000 ms \(waited")
        self.assertNothingLeft()

    def test_05_mqtt_connection_refused(self):
        """A port nobody listens on: the certificate step fails at once with the system's reason."""
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        p, _ = self.check_with_mqtt_port(port, 2000)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertRegex(p.stdout, r"certificate +FAILED")
        self.assertIn("AWS: ConnectionError: cannot reach localhost:%d: " % port, p.stdout)
        self.assertNothingLeft()

    # ---- broken setups, one at a time ----
    def test_10_claim_policy_topic(self):
        """Break: the claim policy lets the claim publish only create/*, not the template's provision topic."""
        def change(doc):
            for s in doc["Statement"]:
                if "iot:Publish" in s["Action"]:
                    s["Resource"] = [r for r in s["Resource"] if "provisioning-templates" not in r]
        with self.policy_changed(CLAIM_POLICY, change):
            st = self.assertFailsAt("registerThing", [
                "claim policy `vf-claim-policy` does not allow iot:Publish on "
                "`$aws/provisioning-templates/vf-template/provision/json`"], "MqttPublishRefused")
            self.assertIn("Not authorized", st["error"]["message"])

    def test_11_claim_policy_connect(self):
        """Break: the claim policy allows iot:Connect only for another client id."""
        def change(doc):
            for s in doc["Statement"]:
                if s["Action"] == ["iot:Connect"] or s["Action"] == "iot:Connect":
                    s["Resource"] = ARN + "client/someone-else"
        with self.policy_changed(CLAIM_POLICY, change):
            st = self.assertFailsAt("certificate", ["claim policy `vf-claim-policy` does not allow iot:Connect on "
                                                    "`client/fwverify-claim-"], "MqttConnectRefused")
            self.assertIn("iot:Connect", st["error"]["message"])

    def test_12_claim_policy_subscribe(self):
        """Break: the claim policy has no iot:Subscribe on the certificate API's answer topics."""
        def change(doc):
            for s in doc["Statement"]:
                if s["Action"] == "iot:Subscribe" or s["Action"] == ["iot:Subscribe"]:
                    s["Resource"] = [r for r in s["Resource"] if "certificates/create/" not in r]
        with self.policy_changed(CLAIM_POLICY, change):
            self.assertFailsAt("certificate", ["claim policy `vf-claim-policy` does not allow iot:Subscribe on "
                                               "`$aws/certificates/create/json/accepted`"], "MqttSubscribeRefused")

    def test_13_disabled_template(self):
        """Break: the provisioning template is disabled."""
        self.aws("iot", "update-provisioning-template", "--template-name", TEMPLATE, "--no-enabled")
        try:
            st = self.assertFailsAt("registerThing", ["provisioning template `vf-template` is disabled"])
            self.assertIn("disabled", st["error"]["message"])
            self.assertEqual(st["error"]["statusCode"], 400)
        finally:
            self.aws("iot", "update-provisioning-template", "--template-name", TEMPLATE, "--enabled")

    def test_14_template_role_without_registration_policy(self):
        """Break: the provisioning role loses AWSIoTThingsRegistration."""
        self.aws("iam", "detach-role-policy", "--role-name", PROV_ROLE, "--policy-arn", REGISTRATION)
        try:
            st = self.assertFailsAt("registerThing", [
                "provisioning role `arn:aws:iam::%s:role/%s` of template `vf-template` may not register things"
                % (fl.ACCOUNT, PROV_ROLE), "AWSIoTThingsRegistration"], "AccessDenied")
            self.assertIn("not authorized", st["error"]["message"])
        finally:
            self.aws("iam", "attach-role-policy", "--role-name", PROV_ROLE, "--policy-arn", REGISTRATION)

    def test_15_hook_that_refuses(self):
        """Break: the template gets a pre-provisioning hook that answers allowProvisioning false."""
        self.hook.allow = False
        self.aws("iot", "update-provisioning-template", "--template-name", TEMPLATE, "--pre-provisioning-hook",
                 "targetArn=%s,payloadVersion=2020-04-01" % vl.HOOK_ARN)
        try:
            st = self.assertFailsAt("registerThing", ["pre-provisioning hook `%s` of template `vf-template` refused"
                                                      % vl.HOOK_ARN], "AccessDenied")
            self.assertTrue(self.hook.calls, "the hook was asked")
            self.assertTrue(self.hook.calls[-1]["parameters"]["ThingName"].startswith("fwverify-vf-"))
        finally:
            self.hook.allow = True
            self.aws("iot", "update-provisioning-template", "--template-name", TEMPLATE,
                     "--remove-pre-provisioning-hook")

    def test_16_thing_policy_without_assume_role(self):
        """Break: the thing policy loses iot:AssumeRoleWithCertificate."""
        def change(doc):
            doc["Statement"] = [s for s in doc["Statement"] if "iot:AssumeRoleWithCertificate" not in json.dumps(s)]
        with self.policy_changed(THING_POLICY, change):
            st = self.assertFailsAt("credentials", [
                "thing policy `GreengrassV2IoTThingPolicy` does not allow iot:AssumeRoleWithCertificate on role "
                "alias `GreengrassCoreTokenExchangeRoleAlias`"])
            self.assertEqual((st["error"]["statusCode"], st["error"]["message"]), (403, "Access Denied"))

    def test_17_role_alias_to_a_role_that_does_not_trust_the_credentials_service(self):
        """Break: the role alias points at a role that trusts iot.amazonaws.com, not credentials.iot."""
        self.aws("iam", "create-role", "--role-name", "FleetwardenVerifyWrongTrust", "--assume-role-policy-document",
                 json.dumps(fl.prov_trust()))
        good = self.aws("iot", "describe-role-alias", "--role-alias", ALIAS)["roleAliasDescription"]["roleArn"]
        bad = "arn:aws:iam::%s:role/FleetwardenVerifyWrongTrust" % fl.ACCOUNT
        self.aws("iot", "update-role-alias", "--role-alias", ALIAS, "--role-arn", bad)
        try:
            st = self.assertFailsAt("credentials", [
                "role alias `GreengrassCoreTokenExchangeRoleAlias` points at role `%s`" % bad,
                "does not trust credentials.iot.amazonaws.com"])
            self.assertEqual(st["error"]["statusCode"], 400)
            self.assertIn("Unable to assume the role", st["error"]["message"])
        finally:
            self.aws("iot", "update-role-alias", "--role-alias", ALIAS, "--role-arn", good)
            self.aws("iam", "delete-role", "--role-name", "FleetwardenVerifyWrongTrust")

    def test_18_thing_policy_without_connect(self):
        """Break: the thing policy no longer allows iot:Connect."""
        def change(doc):
            for s in doc["Statement"]:
                if isinstance(s["Action"], list) and "iot:Connect" in s["Action"]:
                    s["Action"] = [a for a in s["Action"] if a != "iot:Connect"]
        with self.policy_changed(THING_POLICY, change):
            self.assertFailsAt("thingConnect", ["thing policy `GreengrassV2IoTThingPolicy` does not allow iot:Connect "
                                                "on `client/fwverify-vf-"], "MqttConnectRefused")

    def test_19_claim_policy_receive(self):
        """Break: the claim policy has no iot:Receive: AWS drops the answer, nothing comes back. The
        certificate AWS made for the unanswered request cannot be known (its key came with the lost answer):
        it stays PENDING_ACTIVATION, attached to nothing, until AWS deletes it an hour later, and the
        cleanup step says so."""
        def change(doc):
            for s in doc["Statement"]:
                if isinstance(s["Action"], list) and "iot:Receive" in s["Action"]:
                    s["Action"] = ["iot:Publish"]
        before = set(self.iot_certs())
        with self.policy_changed(CLAIM_POLICY, change):
            job = self.env.verify(FLEET)
        res = job["result"]
        self.assertEqual(res["failedStep"], "certificate", json.dumps(res, indent=1))
        st = self.step(res, "certificate")
        self.assertEqual(st["error"]["code"], "MqttNoAnswer")
        self.assertIn("no answer on `$aws/certificates/create/json/accepted`", st["hint"])
        self.assertIn("claim policy `vf-claim-policy` does not allow iot:Receive", st["hint"])
        cleanup = self.step(res, "cleanup")
        self.assertEqual(cleanup["status"], "passed", cleanup)
        self.assertIn("stays PENDING_ACTIVATION", cleanup["notes"][0])
        certs = self.iot_certs()
        pending = [c for c in set(certs) - before if certs[c]["status"] == "PENDING_ACTIVATION"]
        self.assertEqual(len(pending), 1, certs)
        for c in pending:   # what AWS would delete an hour later; by hand here, so the next tests start clean
            self.aws("iot", "delete-certificate", "--certificate-id", c)
        self.assertNothingLeft()

    def test_19b_register_thing_slower_than_the_timeout(self):
        """RegisterThing answered later than FLEETWARDEN_VERIFY_TIMEOUT_MS (a slow pre-provisioning
        hook) while the claim policy lets the answer through: the hint says how long it waited and
        names the hook or AWS, not the claim policy."""
        self.aws("iot", "update-provisioning-template", "--template-name", TEMPLATE,
                 "--pre-provisioning-hook", "targetArn=%s,payloadVersion=2020-04-01" % vl.HOOK_ARN)
        self.hook.delay = 4.0
        self.env.fw.extra_env["FLEETWARDEN_VERIFY_TIMEOUT_MS"] = "2500"
        try:
            p = self.env.check(FLEET)
        finally:
            self.env.fw.extra_env["FLEETWARDEN_VERIFY_TIMEOUT_MS"] = "20000"
            time.sleep(self.hook.delay)   # the hook answers; RegisterThing goes on at AWS without us
            self.hook.delay = 0.0
            self.aws("iot", "update-provisioning-template", "--template-name", TEMPLATE,
                     "--remove-pre-provisioning-hook")
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertRegex(p.stdout, r"registerThing +FAILED")
        self.assertIn("AWS: MqttNoAnswer", p.stdout)
        self.assertIn("within 2500 ms (FLEETWARDEN_VERIFY_TIMEOUT_MS), though the claim policy allows iot:Receive",
                      p.stdout)
        self.assertIn("pre-provisioning hook `%s` may take longer than that" % vl.HOOK_ARN, p.stdout)
        self.assertNotIn("does not allow iot:Receive", p.stdout)
        self.assertNothingLeft()

    def test_19c_claim_policy_receive_on_the_provision_topic(self):
        """Break: the claim policy lets the device receive only the certificate answers: RegisterThing's
        answer is dropped, and the hint names the claim policy."""
        def change(doc):
            for s in doc["Statement"]:
                if isinstance(s["Action"], list) and "iot:Receive" in s["Action"]:
                    s["Action"] = ["iot:Publish"]
                    doc["Statement"].append({"Effect": "Allow", "Action": "iot:Receive",
                                             "Resource": [r for r in s["Resource"] if "/provision/" not in r]})
                    break
        with self.policy_changed(CLAIM_POLICY, change):
            job = self.env.verify(FLEET)
        res = job["result"]
        self.assertEqual(res["failedStep"], "registerThing", json.dumps(res, indent=1))
        st = self.step(res, "registerThing")
        self.assertEqual(st["error"]["code"], "MqttNoAnswer")
        self.assertIn("claim policy `vf-claim-policy` does not allow iot:Receive", st["hint"])
        self.assertEqual(job["attempts"], 1, job)   # not retried as an outage

    def iot_certs(self):
        return self.env.iot_state()["certificates"]

    def test_20_check_fails_with_exit_1_and_the_hint(self):
        self.aws("iot", "update-provisioning-template", "--template-name", TEMPLATE, "--no-enabled")
        try:
            p = self.env.check(FLEET)
            self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
            self.assertIn("registerThing  FAILED", p.stdout)
            self.assertIn("hint: provisioning template `vf-template` is disabled", p.stdout)
            self.assertIn("AWS: InvalidRequest: The provisioning template vf-template is disabled.", p.stdout)
        finally:
            self.aws("iot", "update-provisioning-template", "--template-name", TEMPLATE, "--enabled")
        self.assertNothingLeft()

    # ---- the request ----
    def test_30_parameters_and_named_claim(self):
        r = self.env.fw.request("POST", "/v1/fleets/%s/verify" % FLEET, token=self.env.operate,
                                body={"parameters": {"ThingName": "not-under-the-prefix"}})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json["errors"][0]["field"], "parameters.ThingName")
        bad = self.env.fw.request("POST", "/v1/fleets/%s/verify" % FLEET, token=self.env.operate,
                                  body={"claimId": "clm_000000000000000000000000"})
        self.assertEqual(bad.status, 400, bad)
        read = self.env.fw.token("read", "reader")
        self.assertEqual(self.env.fw.request("POST", "/v1/fleets/%s/verify" % FLEET, token=read).status, 403)
        # a production claim whose key the service still holds
        c = self.env.fw.request("POST", "/v1/fleets/%s/claims" % FLEET, token=self.env.operate, body={})
        self.assertEqual(self.env.wait_job(c.json["job"]["id"])["state"], "succeeded")
        cid = c.json["claim"]["id"]
        job = self.env.verify(FLEET, {"claimId": cid, "parameters": {"ThingName": "fwverify-named-1"}})
        res = job["result"]
        self.assertEqual(res["result"], "passed", json.dumps(res, indent=1))
        self.assertEqual((res["claimId"], res["verificationClaim"], res["thingName"]), (cid, False, "fwverify-named-1"))
        claim = self.env.fw.request("GET", "/v1/claims/" + cid, token=self.env.operate).json
        self.assertEqual((claim["state"], claim["privateKeyHeld"], claim["bundleDownloaded"]), ("active", True, False))
        self.own_certs.add(claim["certificateId"])
        self.assertNothingLeft()
        # once its bundle is taken the service no longer holds the key
        self.assertEqual(self.env.fw.request("GET", "/v1/claims/%s/bundle" % cid, token=self.env.operate).status, 200)
        gone = self.env.fw.request("POST", "/v1/fleets/%s/verify" % FLEET, token=self.env.operate, body={"claimId": cid})
        self.assertEqual(gone.status, 409, gone)

    def test_31_a_second_request_while_one_runs(self):
        """fleet.verify runs one at a time per fleet: the same body again gets the running job
        (existing: true); another body is 409 naming it, not silently the first job."""
        self.aws("iot", "update-provisioning-template", "--template-name", TEMPLATE,
                 "--pre-provisioning-hook", "targetArn=%s,payloadVersion=2020-04-01" % vl.HOOK_ARN)
        self.hook.delay = 3.0
        try:
            path = "/v1/fleets/%s/verify" % FLEET
            a = self.env.fw.request("POST", path, token=self.env.operate)
            self.assertEqual(a.status, 202, a)
            other = self.env.fw.request("POST", path, token=self.env.operate,
                                        body={"parameters": {"ThingName": "fwverify-second-request"}})
            self.assertEqual(other.status, 409, other)
            self.assertIn(a.json["job"]["id"], other.json["detail"])
            self.assertFalse(a.json["existing"], a)
            same = self.env.fw.request("POST", path, token=self.env.operate, body={})
            self.assertEqual((same.status, same.json.get("existing"), same.json["job"]["id"]),
                             (202, True, a.json["job"]["id"]), same)
            job = self.env.wait_job(a.json["job"]["id"], 120)
        finally:
            self.hook.delay = 0.0
            self.aws("iot", "update-provisioning-template", "--template-name", TEMPLATE,
                     "--remove-pre-provisioning-hook")
        self.assertEqual(job["result"]["result"], "passed", json.dumps(job["result"], indent=1))
        self.assertNothingLeft()

    # ---- the schedule ----
    def test_40_failed_scheduled_verification_opens_an_incident_and_fires_the_webhook(self):
        """settings.verify.schedule makes a job schedule; a scheduled run that fails opens an incident
        (rule verification, subject fleet:vf) and delivers the fleet's webhook, as a watch breach does;
        a run asked for by hand that fails opens nothing."""
        from test_watch import receiver, SECRET, signed_by
        hook = receiver()
        try:
            r = self.req("PATCH", "/v1/fleets/" + FLEET, body={
                "watch": {"webhook": {"url": hook.url, "secret": SECRET}},
                "verify": {"schedule": {"everyHours": 24}, "parameters": {"ThingName": "fwverify-scheduled"}}})
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json["settings"]["verify"]["schedule"], {"everyHours": 24})
            sched = self.env.redis.command("HGETALL", "fw:sched:verify." + FLEET)
            sched = dict(zip(sched[::2], sched[1::2]))
            self.assertEqual(sched["type"], "fleet.verify")
            self.assertTrue(json.loads(sched["payload"])["scheduled"])
            bad = self.req("PATCH", "/v1/fleets/" + FLEET, body={"verify": {"schedule": {"everyHours": 0}}})
            self.assertEqual(bad.status, 400, bad)
            self.aws("iot", "update-provisioning-template", "--template-name", TEMPLATE, "--no-enabled")
            try:
                by_hand = self.env.verify(FLEET)
                self.assertEqual(by_hand["result"]["result"], "failed")
                self.assertEqual(self.incidents(), [])
                self.env.redis.command("ZADD", "fw:sched:due", int(time.time() * 1000) - 1000, "verify." + FLEET)
                job = self.scheduled_job()
            finally:
                self.aws("iot", "update-provisioning-template", "--template-name", TEMPLATE, "--enabled")
            self.assertEqual((job["payload"]["scheduled"], job["result"]["result"]), (True, "failed"), job)
            incs = self.incidents()
            self.assertEqual(len(incs), 1, incs)
            inc = incs[0]
            self.assertEqual((inc["rule"], inc["subject"], inc["fleet"]), ("verification", "fleet:vf", FLEET))
            self.assertEqual(inc["finding"]["failedStep"], "registerThing")
            self.assertIn("is disabled", inc["finding"]["hint"])
            self.assertEqual(self.env.wait_job(inc["webhookJob"])["state"], "succeeded")
            got = hook.requests[-1]
            self.assertTrue(signed_by(SECRET, got["headers"], got["body"]))
            self.assertEqual(json.loads(got["body"])["incident"]["id"], inc["id"])
            self.assertNothingLeft()
            off = self.req("PATCH", "/v1/fleets/" + FLEET, body={"verify": {"schedule": None}})
            self.assertEqual(off.status, 200, off)
            self.assertEqual(self.env.redis.command("EXISTS", "fw:sched:verify." + FLEET), 0)
        finally:
            hook.stop()

    def test_41_a_scheduled_run_waits_for_a_running_one(self):
        """The schedule's job holds the fleet as a verification asked for by hand does: a tick while
        one runs is skipped (counted), never a second verification of the fleet at once."""
        self.aws("iot", "update-provisioning-template", "--template-name", TEMPLATE,
                 "--pre-provisioning-hook", "targetArn=%s,payloadVersion=2020-04-01" % vl.HOOK_ARN)
        self.hook.delay = 3.0
        try:
            r = self.req("PATCH", "/v1/fleets/" + FLEET, body={"verify": {"schedule": {"everyHours": 24}}})
            self.assertEqual(r.status, 200, r)
            a = self.env.fw.request("POST", "/v1/fleets/%s/verify" % FLEET, token=self.env.operate)
            self.assertEqual(a.status, 202, a)
            self.env.redis.command("ZADD", "fw:sched:due", int(time.time() * 1000) - 1000, "verify." + FLEET)

            def skipped():
                return int(self.env.redis.command("HGET", "fw:sched:verify." + FLEET, "skipped") or 0)
            harness.wait_until(lambda: skipped() >= 1, timeout=30, what="the tick skipped while a run is active")
            job = self.env.wait_job(a.json["job"]["id"], 120)
            items = self.req("GET", "/v1/jobs?type=fleet.verify&limit=50").json["items"]
            self.assertEqual([j["id"] for j in items if j["payload"].get("scheduled")
                              and j["state"] not in ("succeeded", "dead")], [])
        finally:
            self.hook.delay = 0.0
            self.aws("iot", "update-provisioning-template", "--template-name", TEMPLATE,
                     "--remove-pre-provisioning-hook")
            self.req("PATCH", "/v1/fleets/" + FLEET, body={"verify": {"schedule": None}})
        self.assertEqual(job["result"]["result"], "passed", json.dumps(job["result"], indent=1))
        self.assertNothingLeft()

    def req(self, method, path, body=None):
        return self.env.fw.request(method, path, token=self.env.admin, body=body)

    def incidents(self):
        return [i for i in self.req("GET", "/v1/incidents?fleet=" + FLEET).json["items"] if i["rule"] == "verification"]

    def scheduled_job(self):
        def find():
            items = self.req("GET", "/v1/jobs?type=fleet.verify&limit=50").json["items"]
            return [j for j in items if j["payload"].get("scheduled") and j["state"] in ("succeeded", "dead")]
        harness.wait_until(find, timeout=60, what="the scheduled verification")
        return find()[0]


class VerifySerialNumberTemplate(vl.VerifyCase):
    """A fleet whose template names its things "line7-" + SerialNumber, next to a production thing
    line7-0042: a verification must never provision onto an existing thing (the template REPLACEs
    its attributes and groups) and never report such a run as passed."""
    FLEET = "vs"
    TEMPLATE = {"thingName": {"from": "serialNumber", "prefix": "line7-"}}

    def tearDown(self):
        new = self.env.fw.take_openapi_mismatches()
        if new:
            self.fail(harness.openapi_mismatch_report(new))

    def aws(self, *args):
        return self.env.aws(*args)

    def make_thing(self, name):
        if "production-line7" not in self.env.iot_state()["thingGroups"]:
            self.aws("iot", "create-thing-group", "--thing-group-name", "production-line7")
        self.aws("iot", "create-thing", "--thing-name", name, "--attribute-payload",
                 json.dumps({"attributes": {"model": "gg-core-x", "site": "plant-3"}}))
        self.aws("iot", "add-thing-to-thing-group", "--thing-group-name", "production-line7", "--thing-name", name)
        self.addCleanup(self.aws, "iot", "delete-thing", "--thing-name", name)
        self.addCleanup(self.aws, "iot", "remove-thing-from-thing-group", "--thing-group-name", "production-line7",
                        "--thing-name", name)

    def thing(self, name):
        t = self.aws("iot", "describe-thing", "--thing-name", name)
        groups = self.aws("iot", "list-thing-groups-for-thing", "--thing-name", name)["thingGroups"]
        principals = self.aws("iot", "list-thing-principals", "--thing-name", name).get("principals")
        return t.get("attributes"), sorted(g["groupName"] for g in groups), principals

    def assertOnlyTheProductionThingLeft(self, name):
        left = self.env.leftovers(self.own_certs)
        self.assertEqual(left["things"], [name], left)
        self.assertEqual(left["certificates"], [], left)
        for c in self.env.verification_claims(self.FLEET):
            self.assertEqual(c["state"], "deleted", c)

    def test_00_ordinary_verification_passes(self):
        job = self.env.verify(self.FLEET)
        res = job["result"]
        self.assertEqual(res["result"], "passed", json.dumps(res, indent=1))
        self.assertTrue(res["thingName"].startswith("line7-fwverify-"), res)
        left = self.env.leftovers(self.own_certs)
        self.assertEqual(left, {"things": [], "certificates": [], "groupMembers": {}}, left)

    def test_10_serial_number_outside_the_prefix_is_refused(self):
        self.make_thing("line7-0042")
        before = self.thing("line7-0042")
        r = self.env.fw.request("POST", "/v1/fleets/%s/verify" % self.FLEET, token=self.env.operate,
                                body={"parameters": {"SerialNumber": "0042"}})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json["errors"][0]["field"], "parameters.SerialNumber", r.json)
        self.assertIn("line7-0042", r.json["errors"][0]["message"])
        p = self.env.fw.request("PATCH", "/v1/fleets/" + self.FLEET, token=self.env.admin,
                                body={"verify": {"parameters": {"SerialNumber": "0042"}}})
        self.assertEqual(p.status, 400, p)
        self.assertEqual(p.json["errors"][0]["field"], "verify.parameters.SerialNumber", p.json)
        self.assertEqual(self.thing("line7-0042"), before)

    def test_20_an_existing_thing_of_the_name_fails_the_step(self):
        self.make_thing("line7-fwverify-0042")
        before = self.thing("line7-fwverify-0042")
        job = self.env.verify(self.FLEET, {"parameters": {"SerialNumber": "fwverify-0042"}})
        res = job["result"]
        self.assertEqual((res["result"], res["failedStep"]), ("failed", "registerThing"), json.dumps(res, indent=1))
        st = next(s for s in res["steps"] if s["name"] == "registerThing")
        self.assertEqual(st["error"]["code"], "ThingExists", st)
        self.assertIn("thing `line7-fwverify-0042` already exists", st["hint"])
        self.assertEqual(self.thing("line7-fwverify-0042"), before)
        self.assertOnlyTheProductionThingLeft("line7-fwverify-0042")

    def test_30_a_hook_that_renames_the_thing_fails_the_step(self):
        """A pre-provisioning hook's parameterOverrides send RegisterThing onto another thing: the
        report says so (failed), the thing is kept and only loses the verification's certificate."""
        self.make_thing("line7-0042")
        tpl = self.FLEET + "-template"
        self.aws("iot", "update-provisioning-template", "--template-name", tpl,
                 "--pre-provisioning-hook", "targetArn=%s,payloadVersion=2020-04-01" % vl.HOOK_ARN)
        self.hook.answer = {"allowProvisioning": True, "parameterOverrides": {"SerialNumber": "0042"}}
        try:
            job = self.env.verify(self.FLEET)
        finally:
            self.hook.allow = True
            self.aws("iot", "update-provisioning-template", "--template-name", tpl, "--remove-pre-provisioning-hook")
        res = job["result"]
        self.assertEqual((res["result"], res["failedStep"]), ("failed", "registerThing"), json.dumps(res, indent=1))
        st = next(s for s in res["steps"] if s["name"] == "registerThing")
        self.assertEqual(st["error"]["code"], "ThingNameNotVerification", st)
        self.assertIn("provisioned thing `line7-0042`", st["hint"])
        cleanup = next(s for s in res["steps"] if s["name"] == "cleanup")
        self.assertTrue(any("line7-0042 kept" in x for x in cleanup["removed"]), cleanup)
        self.assertEqual(self.thing("line7-0042")[2] or [], [])
        self.assertOnlyTheProductionThingLeft("line7-0042")


if __name__ == "__main__":
    unittest.main()
