"""The service's own IAM policies (issue 17, item 2), against what the service really calls.

The emulator logs every AWS call (GET /__emu/calls). Over the suite's flows - fleet setup with
thing groups, claims of every key source, bundle, rotation and retirement, disable, revoke,
enable and delete, the misuse watch, templates and their versions, reconcile of drift, teardown -
every call must be allowed by deploy/iam/fleetwarden-policy.json (tests/lib/iam_eval.py: the
resource ARN and condition keys each call needs). The check itself is tested: removing any
action the flows used from the policy makes it fail. With iamRoles "precreated" the calls must be
allowed by deploy/iam/fleetwarden-policy-precreated.json, which has no IAM write action. Every
role the service creates carries its permissions boundary. An API-only process
(`serve --no-workers`, the Kubernetes API pods' service account) makes no AWS call at all. And
the policy documents pass what the AWS CLI can check offline.
"""
import json
import os
import subprocess
import tempfile
import time
import unittest

import claims_lib as cl
import fleets_lib as fl
import harness
import iam_eval
import verify_lib as vl

IAM_DIR = os.path.join(harness.ROOT, "deploy", "iam")
DOCUMENTS = ["fleetwarden-policy.json", "fleetwarden-policy-precreated.json", "boundary-token-exchange.json",
             "boundary-provisioning.json"]
BOUNDARY_TES = "arn:aws:iam::%s:policy/FleetwardenTokenExchangeBoundary" % harness.EMU_ACCOUNT
BOUNDARY_PROV = "arn:aws:iam::%s:policy/FleetwardenProvisioningBoundary" % harness.EMU_ACCOUNT
IAM_WRITES = ("Create", "Put", "Attach", "Detach", "Update", "Delete", "Set", "Tag", "Untag")


def policy(name):
    return iam_eval.load(os.path.join(IAM_DIR, name), harness.IAM_PLACEHOLDERS)


def report(denied):
    return "\n".join("%s %s on %s with %s (call %s %s)" % (a, "denied", r, ctx, c["service"], c["operation"])
                     for c, a, r, ctx in denied[:20])


class ServicePolicy(unittest.TestCase):
    """One account; the flows run once (test_a), the checks use their call log."""

    calls = []

    @classmethod
    def setUpClass(cls):
        cls.env = vl.VerifyEnv(env={"FLEETWARDEN_ROTATION_SCAN_S": "1"})   # with the IoT data plane
        cls.operate = cls.env.fw.token("operate", "ops")

    @classmethod
    def tearDownClass(cls):
        cls.env.stop()

    # ---- helpers ----
    def req(self, method, path, body=None, token=None):
        return self.env.req(method, path, body=body, token=token or self.operate)

    def job_ok(self, r):
        self.assertEqual(r.status, 202, r)
        job = self.env.wait_job(r.json["job"]["id"], timeout=120)
        self.assertEqual(job["state"], "succeeded", job)
        return job

    def claim(self, fleet, body):
        r = self.req("POST", "/v1/fleets/%s/claims" % fleet, body=body)
        self.job_ok(r)
        return r.json["claim"]["id"]

    def wait_claim(self, cid, states, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            c = self.req("GET", "/v1/claims/" + cid).json
            if c["state"] in states:
                return c
            time.sleep(0.1)
        self.fail("claim %s never reached %s" % (cid, states))

    def quiet(self):
        """No job queued or running: the service makes no AWS call meanwhile."""
        def idle():
            items = self.req("GET", "/v1/jobs?limit=500").json["items"]
            return not [j for j in items if j["state"] in ("queued", "running", "scheduled")]
        harness.wait_until(idle, timeout=120, what="no job left")

    def by_hand(self, *args):
        """An AWS CLI call of the test's own (drift, pre-created roles): left out of the log judged."""
        self.quiet()
        before = len(self.env.calls())
        out = self.env.aws(*args)
        own = self.env.calls()[before:]
        self.__class__.own_ids = getattr(self.__class__, "own_ids", set()) | {c["requestId"] for c in own}
        return out

    def service_calls(self):
        own = getattr(self.__class__, "own_ids", set())
        return [c for c in self.env.calls() if c["requestId"] not in own]

    # ---- the flows ----
    def flows_fleet_and_claims(self):
        self.job_ok(self.env.req("POST", "/v1/fleets", body={"name": "pa", "thingGroups": ["pa-group"],
                                                            "createThingGroups": True,
                                                            "rotation": {"graceSeconds": 1, "retentionSeconds": 1}}))
        gen = self.claim("pa", {})
        self.assertEqual(self.req("GET", "/v1/claims/%s/bundle" % gen).status, 200)
        _, csr = cl.make_csr()
        self.claim("pa", {"keySource": "csr", "csr": csr})
        aws_key = self.claim("pa", {"keySource": "aws"})
        r = self.req("POST", "/v1/claims/%s/rotate" % gen, body={"graceSeconds": 1})
        self.job_ok(r)
        self.wait_claim(gen, ["deleted"], timeout=60)                      # retire, then delete
        self.job_ok(self.req("POST", "/v1/claims/%s/disable" % aws_key, body={"reason": "policy test"}))
        self.job_ok(self.req("POST", "/v1/claims/%s/enable" % aws_key))
        self.job_ok(self.req("POST", "/v1/claims/%s/disable" % aws_key, body={"reason": "leak", "revoke": True}))
        self.job_ok(self.req("DELETE", "/v1/claims/%s" % aws_key))
        self.flows_verification()

    def flows_verification(self):
        """Fleet verification (issue 15): one that passes (its claim, thing, certificates made and
        removed), one with a claim the service holds, one that fails (the hint reads the template)."""
        job = self.job_ok(self.req("POST", "/v1/fleets/pa/verify"))
        self.assertEqual(job["result"]["result"], "passed", job["result"])
        held = self.claim("pa", {})
        job = self.job_ok(self.req("POST", "/v1/fleets/pa/verify", body={"claimId": held}))
        self.assertEqual(job["result"]["result"], "passed", job["result"])
        self.by_hand("iot", "update-provisioning-template", "--template-name", "pa-template", "--no-enabled")
        job = self.job_ok(self.req("POST", "/v1/fleets/pa/verify"))
        self.by_hand("iot", "update-provisioning-template", "--template-name", "pa-template", "--enabled")
        self.assertEqual(job["result"]["failedStep"], "registerThing", job["result"])
        self.job_ok(self.req("DELETE", "/v1/claims/%s" % held))

    def flows_watch_templates_reconcile(self):
        self.job_ok(self.req("POST", "/v1/watch/run"))
        prov = self.env.fleet("pa")["resources"]["provisioningRole"]["arn"]
        body = {"name": "pa-extra-template", "body": fl.template_body(), "provisioningRoleArn": prov}
        self.job_ok(self.env.req("POST", "/v1/templates", body=body))
        self.job_ok(self.env.req("POST", "/v1/templates/pa-extra-template/versions",
                                 body={"body": fl.template_body(), "setAsDefault": False}))
        self.job_ok(self.env.req("PUT", "/v1/templates/pa-extra-template/default-version", body={"versionId": 1}))
        self.job_ok(self.env.req("PATCH", "/v1/templates/pa-extra-template", body={"description": "d"}))
        self.job_ok(self.env.req("DELETE", "/v1/templates/pa-extra-template"))
        # drift made by hand: the token exchange role loses its boundary and trusts someone else
        self.by_hand("iam", "delete-role-permissions-boundary", "--role-name", "GreengrassV2TokenExchangeRole")
        self.by_hand("iam", "update-assume-role-policy", "--role-name", "GreengrassV2TokenExchangeRole",
                     "--policy-document", json.dumps(fl.prov_trust()))
        job = self.job_ok(self.env.req("POST", "/v1/fleets/pa/reconcile"))
        self.assertTrue(job["result"]["repaired"], job["result"])
        role = self.env.aws("iam", "get-role", "--role-name", "GreengrassV2TokenExchangeRole")["Role"]
        self.assertEqual(role["PermissionsBoundary"]["PermissionsBoundaryArn"], BOUNDARY_TES)

    def test_a_the_flows_stay_within_the_policy(self):
        self.env.clear_calls()
        self.flows_fleet_and_claims()
        st = self.env.emu.control("GET", "state")["iam"]["roles"]
        boundaries = {r["RoleName"]: r.get("PermissionsBoundary") for r in st.values()}
        self.assertEqual(boundaries, {"GreengrassV2TokenExchangeRole": BOUNDARY_TES,
                                      "GreengrassFleetProvisioningRole": BOUNDARY_PROV})
        self.flows_watch_templates_reconcile()
        self.job_ok(self.env.req("DELETE", "/v1/fleets/pa?force=true"))
        self.quiet()
        calls = self.service_calls()
        ServicePolicy.calls = calls
        used = iam_eval.actions_used(calls)
        for a in ("iam:CreateRole", "iam:PutRolePermissionsBoundary", "iam:AttachRolePolicy", "iam:DeleteRole",
                  "iam:PassRole", "iot:CreateRoleAlias", "iot:CreateCertificateFromCsr",
                  "iot:CreateKeysAndCertificate", "iot:UpdateCertificate", "iot:DeleteCertificate",
                  "iot:CreateProvisioningTemplateVersion", "cloudwatch:GetMetricData", "iot:DeleteThingGroup",
                  "iot:DeleteThing", "iot:ListPrincipalThings", "iot:RemoveThingFromThingGroup",
                  "iot:DescribeProvisioningTemplate"):
            self.assertIn(a, used, "the flows did not exercise %s" % a)
        denied = iam_eval.denials(policy("fleetwarden-policy.json"), calls)
        self.assertEqual(denied, [], report(denied))

    def test_b_removing_any_used_action_is_caught(self):
        self.assertTrue(self.calls, "test_a must run first")
        full = policy("fleetwarden-policy.json")
        for action in sorted(iam_eval.actions_used(self.calls)):
            with self.subTest(removed=action):
                cut = json.loads(json.dumps(full))
                for st in cut["Statement"]:
                    acts = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
                    st["Action"] = [a for a in acts if a.lower() != action.lower()] or ["none:Nothing"]
                self.assertTrue(iam_eval.denials(cut, self.calls), "removing %s went unnoticed" % action)

    def test_c_a_wrong_boundary_or_a_foreign_role_is_denied(self):
        """The evaluator's conditions bite: a role made without the boundary, a role outside the
        prefixes, a policy attached that is not the guide's."""
        p = policy("fleetwarden-policy.json")
        create = {"service": "iam", "operation": "CreateRole", "status": 200,
                  "parameters": {"RoleName": "GreengrassV2TokenExchangeRole", "AssumeRolePolicyDocument": "{}"}}
        self.assertTrue(iam_eval.denials(p, [create]))
        create["parameters"]["PermissionsBoundary"] = BOUNDARY_PROV   # the other role's boundary
        self.assertTrue(iam_eval.denials(p, [create]))
        create["parameters"]["PermissionsBoundary"] = BOUNDARY_TES
        self.assertEqual(iam_eval.denials(p, [create]), [])
        admin = {"service": "iam", "operation": "AttachRolePolicy", "status": 200,
                 "parameters": {"RoleName": "GreengrassV2TokenExchangeRole",
                                "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}}
        self.assertTrue(iam_eval.denials(p, [create, admin]))
        foreign = {"service": "iam", "operation": "CreateRole", "status": 200,
                   "parameters": {"RoleName": "Backdoor", "PermissionsBoundary": BOUNDARY_TES}}
        self.assertTrue(iam_eval.denials(p, [foreign]))
        unbounded = {"service": "iam", "operation": "UpdateAssumeRolePolicy", "status": 200,
                     "parameters": {"RoleName": "GreengrassV2TokenExchangeRole", "PolicyDocument": "{}"}}
        self.assertTrue(iam_eval.denials(p, [unbounded]), "a role without the boundary cannot be changed")
        other_region = {"service": "iot", "operation": "CreateKeysAndCertificate", "status": 200, "parameters": {}}
        iam_eval.REGION, old = "eu-west-1", iam_eval.REGION
        try:
            self.assertTrue(iam_eval.denials(p, [other_region]))
        finally:
            iam_eval.REGION = old

    def test_d_precreated_roles_need_no_iam_write(self):
        self.by_hand("iam", "create-role", "--role-name", "GreengrassV2TokenExchangeRolePre",
                     "--assume-role-policy-document", json.dumps(fl.tes_trust()))
        self.by_hand("iam", "create-role", "--role-name", "GreengrassFleetProvisioningRolePre",
                     "--assume-role-policy-document", json.dumps(fl.prov_trust()))
        self.by_hand("iam", "attach-role-policy", "--role-name", "GreengrassFleetProvisioningRolePre",
                     "--policy-arn", "arn:aws:iam::aws:policy/service-role/AWSIoTThingsRegistration")
        self.quiet()
        start = len(self.env.calls())
        body = {"name": "pb", "iamRoles": "precreated", "tokenExchangeRole": {"name": "GreengrassV2TokenExchangeRolePre"},
                "provisioningRole": {"name": "GreengrassFleetProvisioningRolePre"}}
        job = self.job_ok(self.env.req("POST", "/v1/fleets", body=body))
        res = self.env.fleet("pb")["resources"]
        self.assertEqual(res["tokenExchangeRole"]["origin"], "precreated", res)
        self.assertEqual(res["tokenExchangePolicy"]["origin"], "precreated", res)
        self.claim("pb", {})
        self.assertEqual(self.job_ok(self.req("POST", "/v1/fleets/pb/verify"))["result"]["result"], "passed")
        self.job_ok(self.env.req("DELETE", "/v1/fleets/pb?force=true"))
        self.quiet()
        calls = [c for c in self.env.calls()[start:] if c["requestId"] not in self.own_ids]
        writes = [c["operation"] for c in calls if c["service"] == "iam" and c["operation"].startswith(IAM_WRITES)]
        self.assertEqual(writes, [], job)
        denied = iam_eval.denials(policy("fleetwarden-policy-precreated.json"), calls)
        self.assertEqual(denied, [], report(denied))
        roles = self.env.emu.control("GET", "state")["iam"]["roles"]
        self.assertTrue({"GreengrassV2TokenExchangeRolePre", "GreengrassFleetProvisioningRolePre"}
                        <= {r["RoleName"] for r in roles.values()}, "teardown keeps pre-created roles")

    def test_e_precreated_role_missing_is_a_clear_error(self):
        self.quiet()
        start = len(self.env.calls())
        r = self.env.req("POST", "/v1/fleets", body={"name": "pc", "iamRoles": "precreated",
                                                     "tokenExchangeRole": {"name": "GreengrassV2TokenExchangeRoleNone"}})
        self.assertEqual(r.status, 202, r)
        job = self.env.wait_job(r.json["job"]["id"])
        self.assertEqual(job["state"], "dead", job)
        self.assertIn("an administrator must create this role", job["errors"][-1]["message"])
        ops = [c["operation"] for c in self.env.calls()[start:] if c["service"] == "iam"]
        self.assertNotIn("CreateRole", ops)


class ApiOnlyProcess(unittest.TestCase):
    """`serve --no-workers` (the API pods, whose service account has no AWS role) calls no AWS API."""

    def test_api_only_calls_no_aws(self):
        redis = harness.Redis().start()
        emu = harness.Emulator().start()
        env = emu.aws_env()
        fw = harness.Fleetwarden(redis, env=env, args=("serve", "--no-workers"))
        admin = fw.token("admin")
        fw.start()
        try:
            self.assertEqual(fw.request("POST", "/v1/fleets", token=admin, body={"name": "api"}).status, 202)
            self.assertEqual(fw.request("POST", "/v1/watch/run", token=admin).status, 202)
            for path in ("/v1/fleets", "/v1/claims", "/v1/jobs", "/readyz", "/metrics"):
                self.assertIn(fw.request("GET", path, token=admin).status, (200, 503), path)
            time.sleep(1)
            self.assertEqual(emu.control("GET", "calls")["calls"], [])
        finally:
            code = fw.stop()
            emu.stop()
            redis.stop()
        self.assertEqual(code, 0)


class PolicyDocuments(unittest.TestCase):
    """What the AWS CLI can check without reaching AWS (IAM Access Analyzer's validate-policy, which
    knows condition keys and ARN formats, needs the network)."""

    def test_every_action_is_an_operation_of_the_cli_service_models(self):
        import botocore.session
        session = botocore.session.get_session()
        models = {"iam": "iam", "sts": "sts", "iot": "iot", "cloudwatch": "cloudwatch", "logs": "logs", "s3": "s3"}
        permission_only = {"iam:PassRole"}   # an IAM action with no API operation of its own
        for name in DOCUMENTS:
            for st in policy(name)["Statement"]:
                for a in st["Action"] if isinstance(st["Action"], list) else [st["Action"]]:
                    with self.subTest(document=name, action=a):
                        svc, op = a.split(":")
                        if a in permission_only:
                            continue
                        self.assertIn(op, session.get_service_model(models[svc]).operation_names)

    def test_cli_parameter_validation_offline(self):
        """The CLI validates a command's parameters before it sends anything: with an endpoint that
        refuses connections, a document the CLI accepts fails only at connecting."""
        port = harness.free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1",
                    "AWS_MAX_ATTEMPTS": "1", "AWS_EC2_METADATA_DISABLED": "true"})
        for name in DOCUMENTS:
            with self.subTest(document=name):
                with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
                    f.write(harness.iam_document(name))
                p = subprocess.run(["aws", "iam", "create-policy", "--policy-name", "check",
                                    "--policy-document", "file://" + f.name, "--endpoint-url",
                                    "http://127.0.0.1:%d" % port, "--cli-connect-timeout", "1"],
                                   env=env, capture_output=True, text=True, timeout=60)
                os.unlink(f.name)
                self.assertNotIn("Parameter validation failed", p.stderr)
                self.assertIn("Could not connect", p.stderr, p.stderr)

    def test_the_emulator_takes_every_document(self):
        """awsemu checks what IAM checks of a policy's shape (Version, Statement, Effect, Action,
        Resource, no Principal) and the model's length and character rules."""
        emu = harness.Emulator(seed_boundaries=False).start()
        try:
            env = fl.FleetEnv.__new__(fl.FleetEnv)
            env.emu = emu
            for i, name in enumerate(DOCUMENTS):
                with self.subTest(document=name):
                    out = env.aws("iam", "create-policy", "--policy-name", "doc%d" % i, "--policy-document",
                                  harness.iam_document(name))
                    self.assertTrue(out["Policy"]["Arn"].endswith("doc%d" % i))
        finally:
            emu.stop()


if __name__ == "__main__":
    unittest.main()
