"""Idempotency-Key on every creating POST (issue 16, item 4): one implementation.

For each route that creates something (fleets, fleet plans, claims, templates, template versions,
fleet reconciles, fleet verifications, watch runs): the same key with the same request replays the first answer
(status, body, Location: the same job and resource ids); the same key with another request is a
422 problem; keys belong to the token that sent them (another token's same key is another key);
a key out of bounds is a 400. Twenty concurrent POSTs with one key make exactly one resource.
No workers run: every job stays queued, so nothing reaches AWS.
"""
import hashlib
import json
import random
import threading
import time

import fleets_lib as fl
import harness


class IdemBase(harness.ServiceTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other = cls.fw.token("admin", "other-admin")

    def post(self, path, body, key, token=None, raw=None):
        h = {"Idempotency-Key": key} if key is not None else {}
        if raw is not None:
            h["Content-Type"] = "application/json"
        return self.fw.request("POST", path, token=token or self.admin, body=body, headers=h, raw=raw)

    def post_at_once(self, path, body, key, n=20):
        """n clients post the same request with the same key at the same moment."""
        answers, start = [], threading.Barrier(n)

        def one():
            start.wait()
            answers.append(self.post(path, body, key))
        threads = [threading.Thread(target=one) for _ in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return answers

    def assert_replays(self, path, body, key, status=202):
        """First answer, then the same request again: the very same answer."""
        a = self.post(path, body, key)
        self.assertEqual(a.status, status, a)
        b = self.post(path, body, key)
        self.assertEqual(b.status, a.status, b)
        self.assertEqual(b.json, a.json)
        self.assertEqual(b.header("Location"), a.header("Location"))
        return a

    def assert_other_body_refused(self, path, body, key):
        p = self.assertProblem(self.post(path, body, key), 422)
        self.assertIn("Idempotency-Key", p["detail"])

    def token_id(self, name):
        page = self.fw.request("GET", "/v1/tokens?limit=500", token=self.admin).json["items"]
        return next(t["id"] for t in page if t["name"] == name)

    def seed_fleet(self, name, uid=None, state="ready"):
        """A fleet with a claim policy, written as the setup job leaves it (or, in state
        provisioning, as POST /v1/fleets leaves it before it enqueues the setup job)."""
        now = str(int(time.time() * 1000))
        uid = uid or "fl_%024x" % random.getrandbits(96)
        fields = {"j:name": name, "j:uid": uid, "j:state": state, "j:region": "us-east-1",
                  "j:accountId": "123456789012", "j:settings": {"rotation": {}, "watch": {}},
                  "j:spec": {"name": name}, "r:claimPolicy": {"name": name + "-claim-policy"}}
        args = ["HSET", "fw:fleet:" + name, "version", "1", "createdAt", now, "updatedAt", now]
        for k, v in fields.items():
            args += [k, json.dumps(v)]
        self.redis.command(*args)
        self.redis.command("ZADD", "fw:fleets", "0", name)


class IdemFleets(IdemBase):
    def test_replay(self):
        a = self.assert_replays("/v1/fleets", {"name": "idem-a"}, "fleet-key-1")
        self.assertEqual(a.json["fleet"]["name"], "idem-a")
        self.assertNotIn("idempotencyKey", a.json["fleet"])

    def test_other_body_is_422_and_makes_no_second_fleet(self):
        # Failed before the fix: the key lived inside the fleet's record, so another name made a
        # second fleet (202).
        self.assertEqual(self.post("/v1/fleets", {"name": "idem-b"}, "fleet-key-2").status, 202)
        self.assert_other_body_refused("/v1/fleets", {"name": "idem-c"}, "fleet-key-2")
        self.assertEqual(self.fw.request("GET", "/v1/fleets/idem-c", token=self.admin).status, 404)
        self.assert_other_body_refused("/v1/fleets", {"name": "idem-b", "adopt": True}, "fleet-key-2")

    def test_dry_run_is_another_request(self):
        self.assertEqual(self.post("/v1/fleets?dryRun=true", {"name": "idem-d"}, "fleet-key-3").status, 202)
        self.assert_other_body_refused("/v1/fleets", {"name": "idem-d"}, "fleet-key-3")

    def test_keys_are_per_token(self):
        a = self.post("/v1/fleets", {"name": "idem-e"}, "fleet-key-4")
        self.assertEqual(a.status, 202, a)
        # The other token's same key is a new request: the fleet exists, so 409, not a replay.
        self.assertProblem(self.post("/v1/fleets", {"name": "idem-e"}, "fleet-key-4", token=self.other), 409)
        self.assertEqual(self.post("/v1/fleets", {"name": "idem-f"}, "fleet-key-4", token=self.other).status, 202)

    def test_key_bounds(self):
        for key in ("", "k" * 201, "has space", "caf\u00e9".encode().decode("latin-1"), "a\tb"):
            with self.subTest(key=key):
                p = self.assertProblem(self.post("/v1/fleets", {"name": "idem-g"}, key), 400)
                self.assertIn("Idempotency-Key", p["detail"])
        self.assertEqual(self.post("/v1/fleets", {"name": "idem-g"}, "K" * 200).status, 202)

    def test_failed_request_does_not_bind_the_key(self):
        self.assertProblem(self.post("/v1/fleets", {"name": "bad name"}, "fleet-key-5"), 400)
        self.assertEqual(self.post("/v1/fleets", {"name": "idem-h"}, "fleet-key-5").status, 202)

    def test_retry_after_a_crash_enqueues_the_setup_it_missed(self):
        """A server that died after writing the fleet and before enqueuing its setup left the key
        pending (its lease ran out) and the fleet with the uid the key reserved: the same request
        again resumes it. The key's record is written as that server left it; the fingerprint is
        idem_key.c's (each part length-prefixed)."""
        body = b'{"name":"idem-r"}'
        fp = hashlib.sha256(b"4:POST10:/v1/fleets0:%d:%s" % (len(body), body)).hexdigest()
        uid = "fl_%024x" % random.getrandbits(96)
        self.seed_fleet("idem-r", uid=uid, state="provisioning")
        rkey = "fw:reqidem:%s:crash-key" % self.token_id("admin")
        self.redis.command("HSET", rkey, "fp", fp, "id", uid, "state", "pending", "lease", "0")
        self.redis.command("PEXPIRE", rkey, "60000")
        r = self.post("/v1/fleets", None, "crash-key", raw=body)
        self.assertEqual(r.status, 202, r)
        self.assertEqual(r.json["fleet"]["uid"], uid)
        jobs = self.fw.request("GET", "/v1/jobs?type=fleet.setup&resource=fleet:idem-r", token=self.admin)
        self.assertEqual([j["id"] for j in jobs.json["items"]], [r.json["job"]["id"]])
        self.assertEqual(self.post("/v1/fleets", None, "crash-key", raw=body).body, r.body)
        # Without the key (or with another one) the same fleet is a conflict, not a resumption.
        self.assertProblem(self.post("/v1/fleets", None, "other-key", raw=body), 409)

    def test_concurrent_same_key_makes_one_fleet(self):
        answers = self.post_at_once("/v1/fleets", {"name": "idem-conc"}, "fleet-conc")
        ok = [r for r in answers if r.status == 202]
        busy = [r for r in answers if r.status == 409]
        self.assertEqual(len(ok) + len(busy), 20, [r for r in answers if r.status not in (202, 409)])
        for r in busy:
            self.assertIn("still being processed", r.json["detail"])
        self.assertGreaterEqual(len(ok), 1)
        self.assertEqual({r.json["job"]["id"] for r in ok}, {ok[0].json["job"]["id"]})
        self.assertEqual({r.json["fleet"]["uid"] for r in ok}, {ok[0].json["fleet"]["uid"]})
        self.assertEqual({r.body for r in ok}, {ok[0].body}, "every 202 is the first answer, byte for byte")
        jobs = self.fw.request("GET", "/v1/jobs?type=fleet.setup&resource=fleet:idem-conc", token=self.admin)
        self.assertEqual(len(jobs.json["items"]), 1, jobs.json)


class IdemClaims(IdemBase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.seed_fleet(cls, "cf")

    def test_replay_other_body_and_tokens(self):
        path = "/v1/fleets/cf/claims"
        a = self.assert_replays(path, {"note": "a"}, "claim-key-1")
        self.assertEqual(a.json["claim"]["state"], "creating")
        self.assert_other_body_refused(path, {"note": "b"}, "claim-key-1")
        o = self.post(path, {"note": "a"}, "claim-key-1", token=self.other)
        self.assertEqual(o.status, 202, o)
        self.assertNotEqual(o.json["claim"]["id"], a.json["claim"]["id"])
        self.assertNotEqual(o.json["job"]["id"], a.json["job"]["id"])

    def lose_answer(self, key, body, state=None):
        """POSTs a claim, then leaves Redis as a request does that wrote the claim and enqueued
        its job, then lost Redis (a failover) before it could note the job on the claim and
        answer: answered 503, its key released. state: the claim's job has moved it on since."""
        a = self.post("/v1/fleets/cf/claims", body, key)
        self.assertEqual(a.status, 202, a)
        cid = a.json["claim"]["id"]
        rkey = "fw:reqidem:%s:%s" % (self.token_id("admin"), key)
        self.redis.command("HSET", rkey, "state", "pending", "lease", "0")
        self.redis.command("HDEL", rkey, "status", "body", "loc")
        self.redis.command("HDEL", "fw:claim:" + cid, "job")
        if state:
            self.redis.command("HSET", "fw:claim:" + cid, "state", state)
        return cid, a.json["job"]["id"]

    def test_retry_after_a_lost_answer_is_the_same_claim_and_job(self):
        """The retry of a request whose answer was lost finishes it: the same claim, the same
        job, no second of either, whether the claim is still creating or its job has made it
        active meanwhile. Before, the second case was answered 409 and the key forgotten, so the
        client's next retry made a second claim, and the first one's certificate belonged to no
        claim the client knew (what the failover test found)."""
        path = "/v1/fleets/cf/claims"
        for n, state in enumerate((None, "active")):
            with self.subTest(state=state or "creating"):
                key, body = "claim-lost-%d" % n, {"note": "lost %d" % n}
                cid, jid = self.lose_answer(key, body, state)
                b = self.post(path, body, key)
                self.assertEqual(b.status, 202, b)
                self.assertEqual((b.json["claim"]["id"], b.json["job"]["id"]), (cid, jid))
                jobs = self.fw.request("GET", "/v1/jobs?type=claim.create&resource=claim:" + cid,
                                       token=self.admin).json["items"]
                self.assertEqual([j["id"] for j in jobs], [jid])
                self.assertEqual(self.post(path, body, key).body, b.body, "kept and replayed")

    def test_concurrent_same_key_makes_one_claim(self):
        answers = self.post_at_once("/v1/fleets/cf/claims", {"note": "conc"}, "claim-conc")
        ok = [r for r in answers if r.status == 202]
        self.assertEqual(len(ok) + sum(r.status == 409 for r in answers), 20, answers)
        self.assertEqual({r.json["claim"]["id"] for r in ok}, {ok[0].json["claim"]["id"]})
        self.assertEqual({r.body for r in ok}, {ok[0].body}, "every 202 is the first answer, byte for byte")
        page = self.fw.request("GET", "/v1/claims?fleet=cf&limit=500", token=self.admin).json["items"]
        self.assertEqual(sum(c["note"] == "conc" for c in page), 1)


ROLE = "arn:aws:iam::123456789012:role/GreengrassFleetProvisioningRole"


def template(name, policy="GreengrassV2IoTThingPolicy"):
    return {"name": name, "body": fl.template_body(policy), "provisioningRoleArn": ROLE}


class IdemTemplates(IdemBase):
    def test_create_replay_other_body_and_tokens(self):
        body = template("idem-t1")
        a = self.assert_replays("/v1/templates", body, "tpl-key-1")
        self.assertEqual(a.json["template"]["name"], "idem-t1")
        self.assert_other_body_refused("/v1/templates", template("idem-t2"), "tpl-key-1")
        self.assertEqual(self.fw.request("GET", "/v1/templates/idem-t2", token=self.admin).status, 404)
        self.assertProblem(self.post("/v1/templates", body, "tpl-key-1", token=self.other), 409)

    def test_retry_after_a_failed_enqueue_resumes_the_template(self):
        # The template is written, then its job's enqueue fails (503). The retry with the same key
        # must enqueue the job for that template, not answer 409 and leave it creating with no
        # job (openapi: "after a 5xx the next same request resumes").
        body = template("idem-t5")
        seq = self.redis.command("GET", "fw:seq")
        self.redis.command("SET", "fw:seq", "not-a-number")   # every enqueue fails
        try:
            a = self.post("/v1/templates", body, "tpl-key-5")
            self.assertGreaterEqual(a.status, 500, a)
        finally:
            self.redis.command("SET", "fw:seq", seq or "0")
        self.assertEqual(self.fw.request("GET", "/v1/templates/idem-t5", token=self.admin).json["state"],
                         "creating")
        b = self.post("/v1/templates", body, "tpl-key-5")
        self.assertEqual(b.status, 202, b)
        t = self.fw.request("GET", "/v1/templates/idem-t5", token=self.admin).json
        self.assertEqual(t["job"]["id"], b.json["job"]["id"], t)
        self.assertEqual(self.post("/v1/templates", body, "tpl-key-5").body, b.body, "kept and replayed")
        self.assertProblem(self.post("/v1/templates", body, None), 409)

    def test_version_replay_other_body_and_tokens(self):
        self.assertEqual(self.post("/v1/templates", template("idem-t3"), None).status, 202)
        path = "/v1/templates/idem-t3/versions"
        body = {"body": fl.template_body("P1"), "setAsDefault": False}
        a = self.assert_replays(path, body, "ver-key-1")
        self.assert_other_body_refused(path, {"body": fl.template_body("P2"), "setAsDefault": False}, "ver-key-1")
        o = self.post(path, body, "ver-key-1", token=self.other)
        self.assertEqual(o.status, 202, o)
        self.assertNotEqual(o.json["job"]["id"], a.json["job"]["id"])


class IdemControl(IdemBase):
    """The POSTs that change something without creating it (a job's cancel and retry, a claim's
    disable, enable and rotate, an incident's ack and resolve) honour the key too; POST /v1/tokens
    refuses it. Before, the header was ignored on them: a retried cancel answered 409, a retried
    retry queued the job again, and the same key made two admin tokens."""

    def test_cancel_and_retry_replay(self):
        jid = self.post("/v1/watch/run", None, None).json["job"]["id"]   # queued: no worker here
        cancel, retry = "/v1/jobs/%s/cancel" % jid, "/v1/jobs/%s/retry" % jid
        a = self.assert_replays(cancel, None, "cancel-1", status=200)
        self.assertEqual(a.json["state"], "canceled")
        self.assertProblem(self.post(cancel, None, None), 409)           # without the key: finished
        b = self.assert_replays(retry, None, "retry-1")
        self.assertEqual(b.json["state"], "queued")
        self.assertProblem(self.post(retry, None, "retry-1", token=self.other), 409)   # another holder's key
        self.assert_other_body_refused(retry, {"x": 1}, "retry-1")

    def test_tokens_refuse_the_key(self):
        p = self.assertProblem(self.post("/v1/tokens", {"name": "idem-tok", "scope": "admin"}, "tok-1"), 400)
        self.assertIn("Idempotency-Key", p["detail"])
        self.assertEqual(self.post("/v1/tokens", {"name": "idem-tok", "scope": "read"}, None).status, 201)
        page = self.fw.request("GET", "/v1/tokens?limit=500", token=self.admin).json["items"]
        self.assertEqual([t["scope"] for t in page if t["name"] == "idem-tok"], ["read"])


class IdemJobs(IdemBase):
    """Routes whose whole effect is a job: a fleet plan, a reconcile, a verification, a watch run."""

    def test_plan_replay_other_body_and_tokens(self):
        path = "/v1/fleets?dryRun=true"
        a = self.assert_replays(path, {"name": "plan-a"}, "plan-key-1")
        self.assert_other_body_refused(path, {"name": "plan-b"}, "plan-key-1")
        o = self.post(path, {"name": "plan-a"}, "plan-key-1", token=self.other)
        self.assertEqual(o.status, 202, o)
        self.assertNotEqual(o.json["job"]["id"], a.json["job"]["id"])

    def test_reconcile_replay_and_other_body(self):
        self.seed_fleet("rf")
        a = self.assert_replays("/v1/fleets/rf/reconcile", None, "rec-key-1")
        self.assertTrue(a.json["job"]["id"].startswith("j_"))
        r = self.post("/v1/fleets/rf/reconcile", None, "rec-key-1", raw=b"{}")
        self.assertProblem(r, 422)

    def test_verify_replay_other_body_and_tokens(self):
        self.seed_fleet("vf")
        path = "/v1/fleets/vf/verify"
        a = self.assert_replays(path, {"parameters": {"SerialNumber": "v-1"}}, "ver-key-1")
        self.assertTrue(a.json["job"]["id"].startswith("j_"))
        self.assert_other_body_refused(path, {"parameters": {"SerialNumber": "v-2"}}, "ver-key-1")
        # Another token's same key is another key: its other body is a new request, not a 422; one
        # verification of a fleet runs at a time, so it is 409 naming the queued one, and the same
        # body is that job (existing).
        o = self.post(path, {"parameters": {"SerialNumber": "v-2"}}, "ver-key-1", token=self.other)
        self.assertProblem(o, 409)
        self.assertIn(a.json["job"]["id"], o.json["detail"])
        same = self.post(path, {"parameters": {"SerialNumber": "v-1"}}, "ver-key-1", token=self.other)
        self.assertEqual((same.status, same.json["job"]["id"], same.json["existing"]),
                         (202, a.json["job"]["id"], True), same)

    def test_watch_run_replay_other_body_and_tokens(self):
        a = self.assert_replays("/v1/watch/run", None, "watch-key-1")
        self.assertFalse(a.json["existing"])
        self.assertProblem(self.post("/v1/watch/run", None, "watch-key-1", raw=b"{}"), 422)
        # Another token's key is a new request: the queued cycle is found (existing), not replayed.
        o = self.post("/v1/watch/run", None, "watch-key-1", token=self.other)
        self.assertEqual(o.status, 202, o)
        self.assertEqual(o.json["job"]["id"], a.json["job"]["id"])
        self.assertTrue(o.json["existing"])


class StuckClaims(IdemBase):
    """A claim whose creation job was never queued (its request lost Redis or its process between
    writing the claim and enqueueing the job, and was not retried) is failed by the recurring
    claims scan once no retry of that request can resume it (FLEETWARDEN_IDEM_TTL + 1 h), and can
    then be deleted. Before, it stayed creating for ever: a claim that can be neither disabled
    nor deleted, and whose fleet DELETE /v1/fleets refuses."""
    fw_env = {"FLEETWARDEN_IDEM_TTL": "60"}
    LOST = "its creation job was never queued"

    def claim(self, note):
        return self.claim_in("sf", note)

    def claim_in(self, fleet, note):
        r = self.post("/v1/fleets/%s/claims" % fleet, {"note": note}, None)
        self.assertEqual(r.status, 202, r)
        return r.json["claim"]["id"], r.json["job"]["id"]

    def forget_job(self, cid, jid):
        """Redis as the request left it that wrote the claim and lost Redis before its enqueue."""
        for cmd in (("DEL", "fw:job:" + jid), ("LREM", "fw:q:default", "0", jid),
                    ("ZREM", "fw:st:queued", jid), ("HDEL", "fw:claim:" + cid, "job")):
            self.redis.command(*cmd)

    def backdate(self, cid, ms, fleet="sf"):
        for key in ("fw:claims:s:creating", "fw:claims:fs:%s:creating" % fleet):
            self.assertEqual(self.redis.command("ZADD", key, "XX", "CH", str(ms), cid), 1)

    def test_a_claim_whose_job_was_never_queued_is_failed_then_deletable(self):
        self.seed_fleet("sf")
        lost, kept, young = self.claim("lost"), self.claim("kept"), self.claim("young")
        two_hours_ago = int(time.time() * 1000) - 2 * 3600 * 1000
        self.forget_job(*lost)
        self.forget_job(*young)            # no job either, but a retry could still resume it
        self.backdate(lost[0], two_hours_ago)
        self.backdate(kept[0], two_hours_ago)  # as old, but its job exists
        self.assertEqual(self.fw.request("DELETE", "/v1/claims/" + lost[0], token=self.admin).status, 409)
        w = harness.Fleetwarden(self.redis, env={"FLEETWARDEN_ROTATION_SCAN_S": "1",
                                                 "FLEETWARDEN_IDEM_TTL": "60"}, args=("worker",))
        w.start(wait=False)
        try:
            def state(cid):
                return self.fw.request("GET", "/v1/claims/" + cid, token=self.admin).json
            harness.wait_until(lambda: state(lost[0])["state"] == "failed", timeout=30,
                               what="the claim without a job failed by the scan")
            self.assertIn(self.LOST, state(lost[0])["error"])
            time.sleep(2)                    # two more scans
            self.assertEqual(state(young[0])["state"], "creating")
            self.assertNotIn(self.LOST, state(kept[0]).get("error") or "")
            self.assertEqual(w.logs().count("claim left creating: marked failed"), 1, w.logs()[-2000:])
            self.assertIn(lost[0], w.logs())
        finally:
            self.assertEqual(w.stop(), 0)
        r = self.fw.request("DELETE", "/v1/claims/" + lost[0], token=self.admin)
        self.assertEqual(r.status, 202, r)

    def test_c_a_claim_or_fleet_whose_creating_job_was_canceled_can_be_deleted(self):
        # Canceling the job that would have finished them (here before it ran: no worker) left
        # the claim creating and the fleet provisioning for ever: DELETE answered 409, and the
        # 409 told the caller to cancel that job.
        self.seed_fleet("sc")
        cid, jid = self.claim_in("sc", "canceled")
        r = self.fw.request("POST", "/v1/jobs/%s/cancel" % jid, token=self.admin)
        self.assertEqual(r.status, 200, r)
        r = self.fw.request("DELETE", "/v1/claims/" + cid, token=self.admin)
        self.assertEqual(r.status, 202, r)
        c = self.fw.request("GET", "/v1/claims/" + cid, token=self.admin).json
        self.assertEqual(c["error"], "its creation job was canceled", c)
        r = self.post("/v1/fleets", {"name": "fc"}, None)
        self.assertEqual(r.status, 202, r)
        self.assertEqual(self.fw.request("DELETE", "/v1/fleets/fc", token=self.admin).status, 409)
        r = self.fw.request("POST", "/v1/jobs/%s/cancel" % r.json["job"]["id"], token=self.admin)
        self.assertEqual(r.status, 200, r)
        r = self.fw.request("DELETE", "/v1/fleets/fc", token=self.admin)
        self.assertEqual(r.status, 202, r)
        self.assertEqual(self.fw.request("GET", "/v1/fleets/fc", token=self.admin).json["state"], "deleting")

    def test_b_a_lost_claim_behind_more_than_a_batch_of_live_ones_is_found(self):
        """The scan reads the oldest creating claims 100 at a time; 150 older claims whose
        creation job exists come first, so the lost claim is in the second batch, which only a
        walk that goes past the live ones (its offset grows by what stayed) reaches."""
        self.seed_fleet("sp")
        r = self.post("/v1/fleets/sp/claims", {"note": "live"}, None)
        self.assertEqual(r.status, 202, r)
        live = r.json["claim"]["id"]
        lost = self.post("/v1/fleets/sp/claims", {"note": "lost"}, None).json
        self.forget_job(lost["claim"]["id"], lost["job"]["id"])
        three_hours_ago = int(time.time() * 1000) - 3 * 3600 * 1000
        record = self.redis.command("HGETALL", "fw:claim:" + live)
        clones = ["clm_%024x" % random.getrandbits(96) for _ in range(150)]
        for i, cid in enumerate(clones):
            # the live claim's record (its job exists) under another id, older than the lost one
            self.redis.command("HSET", "fw:claim:" + cid, *record)
            self.redis.command("HSET", "fw:claim:" + cid, "id", cid)
            self.redis.command("ZADD", "fw:claims:s:creating", str(three_hours_ago + i), cid)
        self.backdate(lost["claim"]["id"], three_hours_ago + 3600 * 1000, "sp")
        self.assertEqual(self.redis.command("ZRANK", "fw:claims:s:creating", lost["claim"]["id"]), 150)
        w = harness.Fleetwarden(self.redis, env={"FLEETWARDEN_ROTATION_SCAN_S": "1",
                                                 "FLEETWARDEN_IDEM_TTL": "60"}, args=("worker",))
        w.start(wait=False)
        try:
            harness.wait_until(
                lambda: self.fw.request("GET", "/v1/claims/" + lost["claim"]["id"],
                                        token=self.admin).json["state"] == "failed",
                timeout=30, what="the lost claim behind 150 live ones failed by the scan")
            for cid in clones[:3] + clones[-3:]:
                self.assertEqual(self.fw.request("GET", "/v1/claims/" + cid, token=self.admin).json["state"],
                                 "creating", cid)
        finally:
            self.assertEqual(w.stop(), 0)


if __name__ == "__main__":
    import unittest
    unittest.main()
