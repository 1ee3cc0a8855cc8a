"""Fleets (issue 6) end to end: the real binary with in-process workers, a real
Redis and the AWS emulator, checked with the AWS CLI.

Setup creates exactly the guide's resources with the guide's documents; a
second setup over the same resources changes nothing; dry runs on a fresh
and a set-up account; drift made with the AWS CLI is found and repaired by
reconcile; teardown removes what the fleet created and keeps what others
use; kill -9 in the middle of a setup resumes with no duplicate.
"""
import json
import os
import signal
import time
import unittest

import fleets_lib as fl


class FleetCase(unittest.TestCase):
    """A FleetEnv (emulator, Redis, fleetwarden) per class."""

    @classmethod
    def setUpClass(cls):
        cls.env = fl.FleetEnv()

    @classmethod
    def tearDownClass(cls):
        cls.env.stop()

    def aws(self, *a, **k):
        return self.env.aws(*a, **k)


class FleetLifecycle(FleetCase):
    """One emulator account, tests in order (test_NN_...)."""

    def test_01_dry_run_fresh_account(self):
        r = self.env.req("POST", "/v1/fleets?dryRun=true", body={"name": "alpha"})
        self.assertEqual(r.status, 202, r)
        self.assertNotIn("fleet", r.json)
        job = self.env.wait_job(r.json["job"]["id"])
        self.assertEqual(job["state"], "succeeded", job)
        plan = {e["resource"]: e for e in job["result"]["resources"]}
        for key in ("tokenExchangeRole", "tokenExchangePolicy", "tokenExchangeRoleAttachment", "roleAlias",
                    "thingPolicy", "provisioningRole", "provisioningRoleAttachment", "thingGroups", "template",
                    "claimPolicy"):
            self.assertEqual(plan[key]["action"], "create", plan[key])
        self.assertEqual(job["result"]["accountId"], fl.ACCOUNT)
        self.assertEqual(self.env.req("GET", "/v1/fleets/alpha").status, 404)
        writes = [c["operation"] for c in self.env.calls() if c["operation"] in fl.SETUP_WRITES]
        self.assertEqual(writes, [])

    def test_02_setup_creates_the_guides_resources(self):
        r, job = self.env.setup_fleet({"name": "alpha", "artifactBuckets": ["alpha-artifacts"],
                                       "rotation": {"periodDays": 30}, "watch": {"action": "alert"}})
        self.assertEqual(r.json["fleet"]["state"], "provisioning")
        self.assertEqual(r.header("Location"), r.json["job"]["href"])
        self.assertEqual(job["state"], "succeeded", job)
        f = self.env.fleet("alpha")
        self.assertEqual(f["state"], "ready", f)
        self.assertEqual(f["accountId"], fl.ACCOUNT)
        self.assertEqual(f["settings"], {"rotation": {"periodDays": 30}, "watch": {"action": "alert"}})
        res = f["resources"]
        self.assertEqual(res["template"]["arn"],
                         "arn:aws:iot:us-east-1:123456789012:provisioningtemplate/alpha-template")
        for key in ("tokenExchangeRole", "tokenExchangePolicy", "roleAlias", "thingPolicy", "provisioningRole",
                    "template", "claimPolicy"):
            self.assertEqual(res[key]["state"], "ready", key)
            self.assertEqual(res[key]["origin"], "created", key)
            self.assertTrue(res[key]["arn"].startswith("arn:aws:"), key)
        self.assertTrue(res["endpoints"]["dataAts"].endswith("-ats.iot.us-east-1.amazonaws.com"))
        self.assertTrue(res["firstClaim"]["claimId"].startswith("clm_"), res["firstClaim"])

    def test_03_documents_equal_the_guides(self):
        role = self.aws("iam", "get-role", "--role-name", "GreengrassV2TokenExchangeRole")["Role"]
        self.assertEqual(fl.canon(self.env.iam_doc(role["AssumeRolePolicyDocument"])), fl.canon(fl.tes_trust()))
        arn = "arn:aws:iam::123456789012:policy/GreengrassV2TokenExchangeRoleAccess"
        pol = self.aws("iam", "get-policy", "--policy-arn", arn)["Policy"]
        ver = self.aws("iam", "get-policy-version", "--policy-arn", arn, "--version-id",
                       pol["DefaultVersionId"])["PolicyVersion"]
        self.assertEqual(fl.canon(self.env.iam_doc(ver["Document"])), fl.canon(fl.tes_access(["alpha-artifacts"])))
        att = self.aws("iam", "list-attached-role-policies", "--role-name", "GreengrassV2TokenExchangeRole")
        self.assertEqual([p["PolicyArn"] for p in att["AttachedPolicies"]], [arn])
        alias = self.aws("iot", "describe-role-alias", "--role-alias",
                         "GreengrassCoreTokenExchangeRoleAlias")["roleAliasDescription"]
        self.assertEqual(alias["roleArn"], role["Arn"])
        self.assertEqual(alias["credentialDurationSeconds"], 3600)
        tp = self.aws("iot", "get-policy", "--policy-name", "GreengrassV2IoTThingPolicy")
        self.assertEqual(fl.canon(tp["policyDocument"]), fl.canon(fl.thing_policy()))
        prov = self.aws("iam", "get-role", "--role-name", "GreengrassFleetProvisioningRole")["Role"]
        self.assertEqual(fl.canon(self.env.iam_doc(prov["AssumeRolePolicyDocument"])), fl.canon(fl.prov_trust()))
        att = self.aws("iam", "list-attached-role-policies", "--role-name", "GreengrassFleetProvisioningRole")
        self.assertEqual([p["PolicyArn"] for p in att["AttachedPolicies"]],
                         ["arn:aws:iam::aws:policy/service-role/AWSIoTThingsRegistration"])
        t = self.aws("iot", "describe-provisioning-template", "--template-name", "alpha-template")
        self.assertEqual(fl.canon(t["templateBody"]), fl.canon(fl.template_body()))
        self.assertTrue(t["enabled"])
        self.assertEqual(t["provisioningRoleArn"], prov["Arn"])
        self.assertNotIn("preProvisioningHook", t)
        cp = self.aws("iot", "get-policy", "--policy-name", "alpha-claim-policy")
        self.assertEqual(fl.canon(cp["policyDocument"]), fl.canon(fl.claim_policy("alpha-template")))
        self.aws("iot", "describe-thing-group", "--thing-group-name", "alpha")

    def test_04_second_setup_changes_nothing(self):
        self.env.clear_calls()
        body = {"name": "alpha2", "thingGroups": ["alpha"], "artifactBuckets": ["alpha-artifacts"],
                "template": {"name": "alpha-template"}, "claimPolicy": {"name": "alpha-claim-policy"}}
        _, job = self.env.setup_fleet(body)
        self.assertEqual(job["state"], "succeeded", job)
        writes = [c["operation"] for c in self.env.calls() if c["operation"] in fl.SETUP_WRITES]
        self.assertEqual(writes, [])
        res = self.env.fleet("alpha2")["resources"]
        self.assertEqual(res["template"]["origin"], "existing")
        self.assertEqual(res["tokenExchangeRole"]["origin"], "existing")

    def test_05_dry_run_on_a_set_up_account(self):
        # the thing policy's statements in another order are the same policy (it was exists-differs,
        # and a second fleet's setup died ResourceDiffers)
        tp = self.aws("iot", "get-policy", "--policy-name", "GreengrassV2IoTThingPolicy")
        doc = json.loads(tp["policyDocument"])
        self.assertGreater(len(doc["Statement"]), 1)
        doc["Statement"].reverse()
        self.aws("iot", "create-policy-version", "--policy-name", "GreengrassV2IoTThingPolicy",
                 "--policy-document", json.dumps(doc), "--set-as-default")
        body = {"name": "alpha", "artifactBuckets": ["alpha-artifacts"], "roleAlias": {"credentialDurationSeconds": 7200}}
        r = self.env.req("POST", "/v1/fleets?dryRun=true", body=body)
        job = self.env.wait_job(r.json["job"]["id"])
        plan = {e["resource"]: e for e in job["result"]["resources"]}
        self.assertEqual(plan["roleAlias"]["action"], "exists-differs")
        self.assertIn("credentialDurationSeconds", plan["roleAlias"]["difference"])
        # the role's MaxSessionDuration (IAM's default 3600) must allow the alias's duration (issue 13)
        self.assertEqual(plan["tokenExchangeRole"]["action"], "exists-differs")
        self.assertIn("MaxSessionDuration: 3600 (AWS) < 7200", plan["tokenExchangeRole"]["difference"])
        for key in ("tokenExchangePolicy", "thingPolicy", "template", "claimPolicy"):
            self.assertEqual(plan[key]["action"], "exists-matches", plan[key])

    def test_06_conflict_without_adopt_then_adopt(self):
        body = {"name": "beta", "artifactBuckets": ["alpha-artifacts"], "roleAlias": {"credentialDurationSeconds": 7200}}
        _, job = self.env.setup_fleet(body)
        self.assertEqual(job["state"], "dead", job)
        self.assertIn("tokenExchangeRole", job["errors"][-1]["message"])
        self.assertIn("MaxSessionDuration", job["errors"][-1]["message"])
        f = self.env.fleet("beta")
        self.assertEqual(f["state"], "failed")
        self.assertIn("MaxSessionDuration", f["resources"]["tokenExchangeRole"]["error"])
        r = self.env.req("DELETE", "/v1/fleets/beta")
        self.assertEqual(r.status, 202, r)
        self.assertEqual(self.env.wait_job(r.json["job"]["id"])["state"], "succeeded")
        body["adopt"] = True
        _, job = self.env.setup_fleet(body)
        self.assertEqual(job["state"], "succeeded", job)
        alias = self.aws("iot", "describe-role-alias", "--role-alias", "GreengrassCoreTokenExchangeRoleAlias")
        self.assertEqual(alias["roleAliasDescription"]["credentialDurationSeconds"], 7200)
        role = self.aws("iam", "get-role", "--role-name", "GreengrassV2TokenExchangeRole")["Role"]
        self.assertEqual(role["MaxSessionDuration"], 7200, "raised with UpdateRole under adopt")

    def test_07_reconcile_repairs_drift(self):
        self.aws("iot", "update-provisioning-template", "--template-name", "alpha-template",
                 "--pre-provisioning-hook", "targetArn=arn:aws:lambda:us-east-1:123456789012:function:evil")
        self.aws("iam", "detach-role-policy", "--role-name", "GreengrassV2TokenExchangeRole", "--policy-arn",
                 "arn:aws:iam::123456789012:policy/GreengrassV2TokenExchangeRoleAccess")
        r = self.env.req("POST", "/v1/fleets/alpha/reconcile")
        self.assertEqual(r.status, 202, r)
        job = self.env.wait_job(r.json["job"]["id"])
        self.assertEqual(job["state"], "succeeded", job)
        last = self.env.fleet("alpha")["lastReconcile"]
        found = {x["resource"] for x in last["findings"]}
        self.assertTrue({"template", "tokenExchangeRoleAttachment"} <= found, last)
        self.assertTrue({"template", "tokenExchangeRoleAttachment"} <= {x["resource"] for x in last["repaired"]})
        t = self.aws("iot", "describe-provisioning-template", "--template-name", "alpha-template")
        self.assertNotIn("preProvisioningHook", t)
        att = self.aws("iam", "list-attached-role-policies", "--role-name", "GreengrassV2TokenExchangeRole")
        self.assertEqual(len(att["AttachedPolicies"]), 1)
        r = self.env.req("POST", "/v1/fleets/alpha/reconcile")
        job = self.env.wait_job(r.json["job"]["id"])
        self.assertEqual(self.env.fleet("alpha")["lastReconcile"]["findings"], [])

    def test_08_greengrass_config(self):
        r = self.env.req("GET", "/v1/fleets/alpha/greengrass-config?thingName=core-1")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header("Content-Type").startswith("text/yaml"))
        y = r.body.decode()
        f = self.env.fleet("alpha")
        for line in ('aws.greengrass.FleetProvisioningByClaim:', 'provisioningTemplate: "alpha-template"',
                     'iotRoleAlias: "GreengrassCoreTokenExchangeRoleAlias"', 'ThingName: "core-1"',
                     'ThingGroupName: "alpha"', 'awsRegion: "us-east-1"',
                     'iotDataEndpoint: "%s"' % f["resources"]["endpoints"]["dataAts"],
                     'iotCredentialEndpoint: "%s"' % f["resources"]["endpoints"]["credentialProvider"]):
            self.assertIn(line, y)
        self.assertEqual(self.env.req("GET", "/v1/fleets/alpha/greengrass-config?rootPath=x").status, 400)

    def test_09_patch_settings_with_if_match(self):
        r = self.env.req("GET", "/v1/fleets/alpha")
        etag = r.header("ETag")
        p = self.env.req("PATCH", "/v1/fleets/alpha", body={"watch": {"action": "disable"}}, headers={"If-Match": etag})
        self.assertEqual(p.status, 200, p)
        self.assertEqual(p.json["settings"]["watch"], {"action": "disable"})
        self.assertEqual(p.json["settings"]["rotation"], {"periodDays": 30})
        self.assertNotEqual(p.header("ETag"), etag)
        stale = self.env.req("PATCH", "/v1/fleets/alpha", body={"watch": {}}, headers={"If-Match": etag})
        self.assertEqual(stale.status, 412, stale)
        bad = self.env.req("PATCH", "/v1/fleets/alpha", body={"region": "eu-west-1"})
        self.assertEqual(bad.status, 400)
        self.assertEqual(bad.json["errors"][0]["field"], "region")

    def test_10_list_pages(self):
        r = self.env.req("GET", "/v1/fleets?limit=1")
        self.assertEqual(r.status, 200)
        self.assertEqual(len(r.json["items"]), 1)
        names = [r.json["items"][0]["name"]]
        while r.json["nextCursor"]:
            r = self.env.req("GET", "/v1/fleets?limit=1&cursor=" + r.json["nextCursor"])
            names += [f["name"] for f in r.json["items"]]
        self.assertEqual(names, sorted(names))
        self.assertTrue({"alpha", "alpha2", "beta"} <= set(names), names)

    def test_11_teardown(self):
        r = self.env.req("DELETE", "/v1/fleets/alpha2")
        self.assertEqual(r.status, 409, r)   # its first claim is active
        body = {"name": "delta", "thingGroups": ["delta-g"], "createThingGroups": True,
                "tokenExchangeRole": {"name": "delta-tes", "policyName": "delta-tes-access"},
                "roleAlias": {"name": "delta-alias"}, "thingPolicy": {"name": "delta-thing"},
                "provisioningRole": {"name": "delta-prov"}}
        _, job = self.env.setup_fleet(body)
        self.assertEqual(job["state"], "succeeded", job)
        r = self.env.req("DELETE", "/v1/fleets/delta?force=true")
        self.assertEqual(r.status, 202, r)
        job = self.env.wait_job(r.json["job"]["id"])
        self.assertEqual(job["state"], "succeeded", job)
        deleted = {d["resource"] for d in job["result"]["deleted"]}
        self.assertEqual(deleted, {"claimPolicy", "template", "thingGroups", "provisioningRole", "thingPolicy",
                                   "roleAlias", "tokenExchangePolicy", "tokenExchangeRole"}, job["result"])
        self.assertIn({"resource": "thingGroups", "name": "delta-g"}, job["result"]["deleted"])
        self.assertEqual(job["result"]["kept"], [])
        self.assertEqual(self.env.req("GET", "/v1/fleets/delta").status, 404)
        st = self.env.emu.control("GET", "state")
        self.assertNotIn("delta-g", st["iot"]["thingGroups"])   # nothing of the fleet's own is left
        for role in ("delta-tes", "delta-prov"):
            self.assertNotIn(role, st["iam"]["roles"])
        self.assertFalse([p for p in st["iam"]["policies"] if "delta" in p])
        self.assertFalse([p for p in st["iot"]["policies"] if p.startswith("delta")])
        self.assertNotIn("delta-alias", st["iot"]["roleAliases"])
        self.assertNotIn("delta-template", st["iot"]["templates"])
        # shared and other fleets' resources stay
        self.assertIn("alpha-template", st["iot"]["templates"])
        self.assertIn("GreengrassV2IoTThingPolicy", st["iot"]["policies"])

    def test_12_assume_role_for_another_account(self):
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                         "Principal": {"AWS": "arn:aws:iam::123456789012:root"}}]}
        arn = self.aws("iam", "create-role", "--role-name", "fleet-admin", "--assume-role-policy-document",
                       fl.json.dumps(trust))["Role"]["Arn"]
        self.env.clear_calls()
        body = {"name": "alpha", "artifactBuckets": ["alpha-artifacts"],
                "assumeRole": {"roleArn": arn, "externalId": "ext-12345"}}
        r = self.env.req("POST", "/v1/fleets?dryRun=true", body=body)
        job = self.env.wait_job(r.json["job"]["id"])
        self.assertEqual(job["state"], "succeeded", job)
        calls = self.env.calls()
        assume = [c for c in calls if c["operation"] == "AssumeRole"]
        self.assertEqual(len(assume), 1, assume)
        self.assertEqual(assume[0]["parameters"]["ExternalId"], "ext-12345")
        later = [c for c in calls if c["operation"] not in ("AssumeRole",)]
        self.assertTrue(later and all(c["accessKeyId"].startswith("ASIA") for c in later), later[:2])
        bad = dict(body, assumeRole={"roleArn": "arn:aws:iam::123456789012:role/nobody"})
        job = self.env.wait_job(self.env.req("POST", "/v1/fleets?dryRun=true", body=bad).json["job"]["id"])
        self.assertEqual(job["state"], "dead", job)
        self.assertIn("AccessDenied", fl.json.dumps(job["errors"]))

    def test_13_per_device_policy_hook_and_csr_topics(self):
        hook = "arn:aws:lambda:us-east-1:123456789012:function:pre-provision"
        body = {"name": "pd", "artifactBuckets": ["alpha-artifacts"], "thingPolicy": {"mode": "perDevice"},
                "template": {"preProvisioningHook": hook, "description": "per-device", "enabled": False},
                "claimPolicyAllowCsr": True}
        _, job = self.env.setup_fleet(body)
        self.assertEqual(job["state"], "succeeded", job)
        t = self.aws("iot", "describe-provisioning-template", "--template-name", "pd-template")
        self.assertEqual(t["preProvisioningHook"]["targetArn"], hook)
        self.assertFalse(t["enabled"])
        self.assertEqual(t["description"], "per-device")
        props = fl.json.loads(t["templateBody"])["Resources"]["MyPolicy"]["Properties"]
        self.assertEqual(list(props), ["PolicyDocument"])
        self.assertEqual(fl.canon(props["PolicyDocument"]), fl.canon(fl.thing_policy()))
        cp = self.aws("iot", "get-policy", "--policy-name", "pd-claim-policy")
        self.assertEqual(fl.canon(cp["policyDocument"]), fl.canon(fl.claim_policy("pd-template", csr=True)))
        self.assertEqual(self.env.fleet("pd")["resources"]["thingPolicy"]["mode"], "perDevice")


def name_of(params):
    for k in ("RoleName", "PolicyName", "policyName", "roleAlias", "templateName", "thingGroupName"):
        if k in (params or {}):
            return params[k]
    return None


def teardown(env, name):
    r = env.req("DELETE", "/v1/fleets/%s?force=true" % name)
    assert r.status == 202, r
    return env.wait_job(r.json["job"]["id"])


class FleetTeardownGroups(FleetCase):
    """Thing groups at teardown: the fleet's own empty group goes; one that holds
    devices, one that existed before and one another fleet names stay, each with
    the reason in the job's result."""

    def setup(self, name, groups):
        _, job = self.env.setup_fleet({"name": name, "thingGroups": groups, "createThingGroups": True})
        self.assertEqual(job["state"], "succeeded", job)
        return self.env.fleet(name)["resources"]["thingGroups"]["items"]

    def groups(self):
        return self.env.emu.control("GET", "state")["iot"]["thingGroups"]

    def test_created_empty_group_is_deleted(self):
        items = self.setup("tg-empty", ["tg-empty-g"])
        self.assertEqual(items[0]["origin"], "created")
        self.assertIn("tg-empty-g", self.groups())
        self.env.clear_calls()
        job = teardown(self.env, "tg-empty")
        self.assertEqual(job["state"], "succeeded", job)
        self.assertIn({"resource": "thingGroups", "name": "tg-empty-g"}, job["result"]["deleted"])
        self.assertEqual([k for k in job["result"]["kept"] if k["resource"] == "thingGroups"], [])
        self.assertNotIn("tg-empty-g", self.groups())
        self.assertIsNone(self.aws("iot", "describe-thing-group", "--thing-group-name", "tg-empty-g", check=False))
        ops = [c["operation"] for c in self.env.calls()]
        # reverse order of setup: the template (which names the group) goes first
        self.assertLess(ops.index("DeleteProvisioningTemplate"), ops.index("DeleteThingGroup"))
        self.assertLess(ops.index("ListThingsInThingGroup"), ops.index("DeleteThingGroup"))

    def test_group_with_devices_is_kept_with_the_count(self):
        self.setup("tg-devs", ["tg-devs-g"])
        for thing in ("tg-core-1", "tg-core-2"):     # as fleet provisioning would have put them there
            self.aws("iot", "create-thing", "--thing-name", thing)
            self.aws("iot", "add-thing-to-thing-group", "--thing-group-name", "tg-devs-g", "--thing-name", thing)
        job = teardown(self.env, "tg-devs")
        self.assertEqual(job["state"], "succeeded", job)
        kept = [k for k in job["result"]["kept"] if k["resource"] == "thingGroups"]
        self.assertEqual(len(kept), 1, job["result"])
        self.assertEqual(kept[0]["name"], "tg-devs-g")
        self.assertIn("holds 2 thing(s)", kept[0]["reason"])
        self.assertIn("provisioned devices", kept[0]["reason"])
        self.assertNotIn("thingGroups", {d["resource"] for d in job["result"]["deleted"]})
        self.assertEqual(self.env.req("GET", "/v1/fleets/tg-devs").status, 404)   # the fleet itself is gone
        got = self.aws("iot", "list-things-in-thing-group", "--thing-group-name", "tg-devs-g")
        self.assertEqual(sorted(got["things"]), ["tg-core-1", "tg-core-2"])   # the devices keep their group

    def test_group_that_existed_before_stays(self):
        self.aws("iot", "create-thing-group", "--thing-group-name", "tg-pre")
        items = self.setup("tg-ref", ["tg-pre", "tg-ref-new"])
        self.assertEqual({i["name"]: i["origin"] for i in items}, {"tg-pre": "existing", "tg-ref-new": "created"})
        job = teardown(self.env, "tg-ref")
        self.assertEqual(job["state"], "succeeded", job)
        self.assertIn({"resource": "thingGroups", "name": "tg-pre", "reason": "not created by this fleet"},
                      job["result"]["kept"])
        self.assertIn({"resource": "thingGroups", "name": "tg-ref-new"}, job["result"]["deleted"])
        groups = self.groups()
        self.assertIn("tg-pre", groups)
        self.assertNotIn("tg-ref-new", groups)

    def test_group_another_fleet_names_stays(self):
        self.setup("tg-own", ["tg-shared"])
        self.setup("tg-other", ["tg-shared"])
        job = teardown(self.env, "tg-own")
        self.assertEqual(job["state"], "succeeded", job)
        self.assertIn({"resource": "thingGroups", "name": "tg-shared", "reason": "used by another fleet"},
                      job["result"]["kept"])
        self.assertIn("tg-shared", self.groups())


class FleetCrash(unittest.TestCase):
    """kill -9 in the middle of a setup, then restart: no duplicate resource."""

    @classmethod
    def setUpClass(cls):
        cls.env = fl.FleetEnv(env={"FLEETWARDEN_JOB_LEASE_MS": "2000", "FLEETWARDEN_REAPER_MS": "300"})

    @classmethod
    def tearDownClass(cls):
        cls.env.stop()

    def test_kill_mid_setup_resumes_without_duplicates(self):
        self.env.emu.control("POST", "faults", {"operation": "CreateProvisioningTemplate", "delayMs": 2500,
                                                "delayOnly": True, "count": 1})
        r = self.env.req("POST", "/v1/fleets", body={"name": "gamma"})
        self.assertEqual(r.status, 202, r)
        jid = r.json["job"]["id"]
        fl.harness.wait_until(
            lambda: self.env.fleet("gamma")["resources"].get("template", {}).get("state") == "creating",
            timeout=30, what="the template step to start")
        self.env.fw.proc.send_signal(signal.SIGKILL)
        self.env.fw.proc.wait()
        self.env.fw.proc = None
        self.env.fw.log.close()
        time.sleep(3)    # the delayed CreateProvisioningTemplate lands at the emulator meanwhile
        self.env.start_fw()
        job = self.env.wait_job(jid, timeout=60)
        self.assertEqual(job["state"], "succeeded", job)
        f = self.env.fleet("gamma")
        self.assertEqual(f["state"], "ready")
        self.assertEqual(f["resources"]["template"]["origin"], "created")
        calls = self.env.calls()
        creates = [c for c in calls if c["operation"].startswith("Create") and c["operation"] != "CreateCertificateFromCsr"]
        failed = [c for c in creates if c["status"] >= 400]
        self.assertEqual(failed, [], failed)
        made = [(c["service"], c["operation"], name_of(c["parameters"])) for c in creates]
        self.assertEqual(len(made), len(set(made)), made)
        self.assertEqual(len(made), 8, made)   # 2 roles, 3 policies, alias, group, template
        st = self.env.emu.control("GET", "state")
        self.assertEqual(list(st["iot"]["templates"]), ["gamma-template"])

    def test_teardown_retry_goes_on_where_it_stopped(self):
        _, job = self.env.setup_fleet({"name": "kilo", "thingGroups": ["kilo-g", "kilo-h"],
                                              "createThingGroups": True})
        self.assertEqual(job["state"], "succeeded", job)
        self.env.clear_calls()
        # the first group goes; the second one's deletion fails every try of the client, so the job
        # attempt fails there and the job is retried
        self.env.emu.control("POST", "faults", {"faults": [
            {"operation": "DeleteThingGroup", "count": 1, "delayMs": 1, "delayOnly": True},
            {"operation": "DeleteThingGroup", "count": 4, "status": 500, "code": "InternalFailureException",
             "message": "injected"}]})
        job = teardown(self.env, "kilo")
        self.assertEqual(job["state"], "succeeded", job)
        self.assertGreaterEqual(job["attempts"], 2, job)
        self.assertEqual({d["name"] for d in job["result"]["deleted"] if d["resource"] == "thingGroups"},
                         {"kilo-g", "kilo-h"}, job["result"])
        calls = self.env.calls()
        made = [(c["operation"], name_of(c["parameters"])) for c in calls]
        self.assertEqual([c["status"] for c in calls if made[calls.index(c)] == ("DeleteThingGroup", "kilo-h")][-1],
                         200, made)
        # no finished step ran again: the template and the first group were asked about once
        for call in (("DeleteProvisioningTemplate", "kilo-template"), ("ListThingsInThingGroup", "kilo-g"),
                     ("DeleteThingGroup", "kilo-g")):
            self.assertEqual(made.count(call), 1, (call, made))
        self.assertNotIn("kilo-g", self.env.emu.control("GET", "state")["iot"]["thingGroups"])
        self.assertNotIn("kilo-h", self.env.emu.control("GET", "state")["iot"]["thingGroups"])


TES_ARN = "arn:aws:iam::123456789012:policy/GreengrassV2TokenExchangeRoleAccess"


def own_names(name):
    """A fleet body whose every resource has a name of its own (shares nothing)."""
    return {"name": name, "tokenExchangeRole": {"name": name + "-tes", "policyName": name + "-tes-access"},
            "roleAlias": {"name": name + "-alias"}, "thingPolicy": {"name": name + "-thing"},
            "provisioningRole": {"name": name + "-prov"}}


class ReconcileOwnership(FleetCase):
    """Reconcile repairs what the fleet created, leaves shared resources to their owner, does
    not race a teardown, and makes a failed fleet it repairs ready."""

    def tes_policy(self):
        pol = self.aws("iam", "get-policy", "--policy-arn", TES_ARN)["Policy"]
        ver = self.aws("iam", "get-policy-version", "--policy-arn", TES_ARN, "--version-id",
                       pol["DefaultVersionId"])["PolicyVersion"]
        versions = self.aws("iam", "list-policy-versions", "--policy-arn", TES_ARN)["Versions"]
        return fl.canon(self.env.iam_doc(ver["Document"])), len(versions)

    def reconcile(self, name):
        r = self.env.req("POST", "/v1/fleets/%s/reconcile" % name)
        self.assertEqual(r.status, 202, r)
        job = self.env.wait_job(r.json["job"]["id"])
        self.assertEqual(job["state"], "succeeded", job)
        return job

    def test_shared_policy_another_fleet_wants_otherwise_is_left_alone(self):
        _, job = self.env.setup_fleet({"name": "fa", "artifactBuckets": ["fa-artifacts"]})
        self.assertEqual(job["state"], "succeeded", job)
        # fb names the same default token exchange policy with other buckets: its setup stops
        _, job = self.env.setup_fleet({"name": "fb", "artifactBuckets": ["fb-artifacts"]})
        self.assertEqual(job["state"], "dead", job)
        self.assertEqual(self.env.fleet("fb")["state"], "failed")
        before = self.tes_policy()
        self.assertEqual(before[0], fl.canon(fl.tes_access(["fa-artifacts"])))
        job = self.reconcile("fb")
        # fa's devices keep s3:GetObject on their artifacts; no new policy version
        self.assertEqual(self.tes_policy(), before)
        f = self.env.fleet("fb")
        last = f["lastReconcile"]
        self.assertEqual(job["result"]["findings"], last["findings"])
        self.assertEqual(job["result"]["repaired"], last["repaired"])
        tes = [x for x in last["findings"] if x["resource"] == "tokenExchangePolicy"]
        self.assertEqual(len(tes), 1, last)
        self.assertIn("fb-artifacts", tes[0]["difference"])
        self.assertIn("not this fleet's to change", tes[0]["notRepaired"])
        self.assertNotIn("tokenExchangePolicy", {x["resource"] for x in last["repaired"]})
        self.assertEqual(f["state"], "failed")     # its devices would still miss their bucket
        self.assertIn("tokenExchangePolicy", f["error"])
        # fa's reconcile finds its own policy as it made it
        job = self.reconcile("fa")
        self.assertEqual(job["result"]["findings"], [], job["result"])
        self.assertEqual(self.tes_policy(), before)
        self.assertEqual(self.env.req("GET", "/v1/fleets/fb/greengrass-config").status, 409)

    def test_failed_fleet_repaired_becomes_ready(self):
        self.env.emu.control("POST", "faults", {"operation": "CreatePolicy", "service": "iot",
                                                "count": 1, "status": 403,
                                                "code": "AccessDeniedException", "message": "injected"})
        _, job = self.env.setup_fleet(own_names("rf"))
        self.assertEqual(job["state"], "dead", job)
        f = self.env.fleet("rf")
        self.assertEqual(f["state"], "failed")
        self.assertNotIn("firstClaim", f["resources"])
        job = self.reconcile("rf")
        self.assertIn({"resource": "template", "name": "rf-template", "action": "created"},
                      job["result"]["repaired"])
        self.assertIn("firstClaim", {x["resource"] for x in job["result"]["repaired"]})
        f = self.env.fleet("rf")
        self.assertEqual((f["state"], f["error"]), ("ready", None))
        # the first claim setup would have made
        cid = f["resources"]["firstClaim"]["claimId"]
        fl.harness.wait_until(lambda: self.env.req("GET", "/v1/claims/" + cid).json["state"] == "active",
                              timeout=30, what="the first claim to become active")
        self.assertEqual(self.env.req("GET", "/v1/fleets/rf/greengrass-config").status, 200)
        # a second reconcile finds nothing and makes no other claim
        job = self.reconcile("rf")
        self.assertEqual(job["result"]["findings"], [], job["result"])
        self.assertEqual(len(self.env.req("GET", "/v1/claims?fleet=rf").json["items"]), 1)

    def test_delete_while_a_reconcile_runs_is_refused(self):
        _, job = self.env.setup_fleet(own_names("rt"))
        self.assertEqual(job["state"], "succeeded", job)
        self.env.emu.control("POST", "faults", {"operation": "GetRole", "count": 1, "delayMs": 3000,
                                                "delayOnly": True})
        r = self.env.req("POST", "/v1/fleets/rt/reconcile")
        self.assertEqual(r.status, 202, r)
        rj = r.json["job"]["id"]
        d = self.env.req("DELETE", "/v1/fleets/rt?force=true")
        self.assertEqual(d.status, 409, d)
        self.assertIn("reconcile", d.json["detail"])
        self.assertIn(rj, d.json["detail"])
        self.assertEqual(self.env.wait_job(rj)["state"], "succeeded")
        d = self.env.req("DELETE", "/v1/fleets/rt?force=true")
        self.assertEqual(d.status, 202, d)
        self.assertEqual(self.env.wait_job(d.json["job"]["id"])["state"], "succeeded")
        self.assertEqual(self.env.req("GET", "/v1/fleets/rt").status, 404)
        for args in (("iot", "describe-provisioning-template", "--template-name", "rt-template"),
                     ("iot", "get-policy", "--policy-name", "rt-claim-policy"),
                     ("iot", "describe-thing-group", "--thing-group-name", "rt")):
            self.assertIsNone(self.aws(*args, check=False), args)

    def test_setup_run_again_after_delete_touches_nothing(self):
        # the setup dies at the thing policy; the teardown dies at the roles: the fleet stays deleting
        self.env.emu.control("POST", "faults", {"operation": "CreatePolicy", "service": "iot",
                                                "count": 1, "status": 403,
                                                "code": "AccessDeniedException", "message": "injected"})
        _, setup = self.env.setup_fleet(own_names("rd"))
        self.assertEqual(setup["state"], "dead", setup)
        self.env.emu.control("POST", "faults", {"operation": "DeleteRole", "count": 1, "status": 403,
                                                "code": "AccessDenied", "message": "injected"})
        d = self.env.req("DELETE", "/v1/fleets/rd")
        self.assertEqual(d.status, 202, d)
        self.assertEqual(self.env.wait_job(d.json["job"]["id"])["state"], "dead")
        self.assertEqual(self.env.fleet("rd")["state"], "deleting")
        self.env.clear_calls()
        r = self.env.req("POST", "/v1/jobs/%s/retry" % setup["id"])
        self.assertIn(r.status, (200, 202), r)
        job = self.env.wait_job(setup["id"])
        self.assertEqual(job["state"], "dead", job)
        self.assertEqual(job["errors"][-1]["code"], "FleetDeleting", job["errors"][-1])
        self.assertEqual(self.env.fleet("rd")["state"], "deleting")
        self.assertEqual([c["operation"] for c in self.env.calls()], [])
        self.assertIsNone(self.aws("iot", "describe-provisioning-template", "--template-name", "rd-template",
                                   check=False))


class ReconcileAfterCanceledSetup(unittest.TestCase):
    """A setup canceled before it ran, then a reconcile: the fleet becomes ready and can be
    deleted (one worker, kept busy so the setup stays queued)."""

    @classmethod
    def setUpClass(cls):
        cls.env = fl.FleetEnv(env={"FLEETWARDEN_WORKERS": "1"})

    @classmethod
    def tearDownClass(cls):
        cls.env.stop()

    def test_reconcile_finishes_the_setup_and_delete_works(self):
        env = self.env
        _, job = env.setup_fleet(own_names("busy"))
        self.assertEqual(job["state"], "succeeded", job)
        env.emu.control("POST", "faults", {"operation": "GetRole", "count": 1, "delayMs": 3000, "delayOnly": True})
        busy = env.req("POST", "/v1/fleets/busy/reconcile").json["job"]["id"]
        fl.harness.wait_until(lambda: env.req("GET", "/v1/jobs/" + busy).json["state"] == "running",
                              timeout=30, what="the busy reconcile to run")
        r = env.req("POST", "/v1/fleets", body=own_names("st"))
        self.assertEqual(r.status, 202, r)
        sj = r.json["job"]["id"]
        self.assertEqual(env.req("POST", "/v1/jobs/%s/cancel" % sj).status, 200)
        self.assertEqual(env.req("GET", "/v1/jobs/" + sj).json["state"], "canceled")
        r = env.req("POST", "/v1/fleets/st/reconcile")
        self.assertEqual(r.status, 202, r)
        rj = r.json["job"]["id"]
        # queued behind the busy job: the fleet is not deleted under it, and the answer names it
        d = env.req("DELETE", "/v1/fleets/st?force=true")
        self.assertEqual(d.status, 409, d)
        self.assertIn("reconcile of the fleet is queued or running (job %s)" % rj, d.json["detail"])
        job = env.wait_job(rj)
        self.assertEqual(job["state"], "succeeded", job)
        f = env.fleet("st")
        self.assertEqual((f["state"], f["error"]), ("ready", None))
        self.assertEqual(f["job"], {"id": rj, "type": "fleet.reconcile"})
        self.assertIn("claimId", f["resources"]["firstClaim"])
        r = env.req("POST", "/v1/fleets/st/reconcile")
        self.assertEqual(r.status, 202, r)
        self.assertEqual(env.wait_job(r.json["job"]["id"])["state"], "succeeded")
        d = env.req("DELETE", "/v1/fleets/st?force=true")
        self.assertEqual(d.status, 202, d)
        self.assertEqual(env.wait_job(d.json["job"]["id"])["state"], "succeeded")
        self.assertEqual(env.req("GET", "/v1/fleets/st").status, 404)
        env.wait_job(busy)


if __name__ == "__main__":
    unittest.main()
