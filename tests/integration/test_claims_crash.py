"""Claim creation survives kill -9 of the worker without orphaning a
certificate at AWS (DESIGN.md: Jobs; issue 7).

The API runs as `serve --no-workers`, the workers as a separate `worker`
process. The emulator delays CreateCertificateFromCsr (or AttachPolicy);
the worker is killed with SIGKILL while the call is in flight, the
emulator finishes it anyway (as AWS would), a new worker takes the job
over when its lease expires, finds the certificate by public key and
adopts it: the emulator ends with exactly one certificate per claim.
"""
import json
import os
import signal
import time
import unittest

import claims_lib as cl


def kill9(w):
    w.proc.send_signal(signal.SIGKILL)
    w.proc.wait()
    w.proc = None
    w.log.close()


class KillDuringCreation(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.env = cl.ClaimsEnv(workers_in_api=False, worker_procs=1,
                               env={"FLEETWARDEN_JOB_LEASE_MS": "1500", "FLEETWARDEN_REAPER_MS": "300"})
        cls.policy = cls.env.make_fleet("crash")
        cls.killed = []
        cls.foreign = set()   # certificates of the account no claim holds

    @classmethod
    def tearDownClass(cls):
        try:
            text = cls.env.all_logs() + "".join(w.logs() for w in cls.killed)
            hits = cl.find_secrets(text) + cl.find_secrets(json.dumps(cls.env.emu.control("GET", "calls")))
            if hits:
                raise AssertionError("secrets in logs: %s" % hits[:5])
        finally:
            cls.env.stop()

    def wait_running(self, job_id, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            j = self.env.req("GET", "/v1/jobs/" + job_id, token=self.env.read).json
            if j["state"] == "running":
                return j
            time.sleep(0.02)
        self.fail("job never ran")

    def crash_once(self, body, operation):
        before = set(self.env.emu_certs())
        self.env.emu.control("POST", "faults", {"operation": operation, "count": 1, "delayMs": 2500,
                                                "delayOnly": True})
        r = self.env.req("POST", "/v1/fleets/crash/claims", body=body)
        self.assertEqual(r.status, 202, r)
        cid, jid = r.json["claim"]["id"], r.json["job"]["id"]
        self.wait_running(jid)
        time.sleep(0.8)                       # the delayed call is now in flight
        w = self.env.workers.pop()
        kill9(w)
        self.killed.append(w)
        try:
            time.sleep(2.5)                   # the emulator finishes the call the dead worker made
            made = set(self.env.emu_certs()) - before
            self.assertEqual(len(made), 1, "the emulator made the certificate before the restart")
        finally:
            self.env.workers.append(self.env.start_worker())
        c = self.env.wait_claim(cid, ["active", "failed"], timeout=30)
        self.assertEqual(c["state"], "active", c)
        after = set(self.env.emu_certs()) - before
        self.assertEqual(after, {c["certificateId"]}, "exactly one certificate for the claim, no orphan")
        self.assertIn(c["certificateArn"], self.env.emu_targets(self.policy))
        job = self.env.wait_job(jid)
        self.assertEqual(job["state"], "succeeded", job)
        if operation == "CreateCertificateFromCsr":
            self.assertIn("claim certificate found from an earlier attempt", self.env.workers[-1].logs())
        return c

    def test_a_lost_answer_then_throttled_retries_make_one_certificate(self):
        # AWS makes the certificate but its answer is lost (a 500), and the client's two retries
        # of the same call are throttled (400): the call fails with a 4xx although its first
        # attempt made a certificate. The job's next run must look for it, not make a second one
        # (it did: a 4xx cleared the claim's "certificate requested" mark whatever attempt it was).
        before = set(self.env.emu_certs())
        self.env.emu.control("POST", "faults", {"faults": [
            {"operation": "CreateCertificateFromCsr", "count": 1, "status": 500, "afterApply": True},
            {"operation": "CreateCertificateFromCsr", "count": 2, "status": 400,
             "code": "ThrottlingException", "message": "Rate exceeded"}]})
        r = self.env.req("POST", "/v1/fleets/crash/claims", body={})
        self.assertEqual(r.status, 202, r)
        c = self.env.wait_claim(r.json["claim"]["id"], ["active", "failed"], timeout=30)
        self.assertEqual(c["state"], "active", c)
        after = set(self.env.emu_certs()) - before
        self.assertEqual(after, {c["certificateId"]}, "exactly one certificate for the claim, no orphan")
        job = self.env.wait_job(r.json["job"]["id"])
        self.assertEqual(job["state"], "succeeded", job)
        self.assertIn("ThrottlingException", json.dumps(job.get("errors")))
        self.assertIn("claim certificate found from an earlier attempt", self.env.workers[-1].logs())

    def test_keysource_aws_a_lost_answer_leaves_no_active_orphan(self):
        # keySource aws: AWS makes the key and certificate but its answer is lost (a 500); the
        # client's retry makes a second one. The first one's key exists nowhere, so no one can
        # find or own it: it must not be ACTIVE (it was: CreateKeysAndCertificate set it active).
        before = set(self.env.emu_certs())
        self.env.emu.control("POST", "faults", {"operation": "CreateKeysAndCertificate", "count": 1,
                                                "status": 500, "afterApply": True})
        r = self.env.req("POST", "/v1/fleets/crash/claims", body={"keySource": "aws"})
        self.assertEqual(r.status, 202, r)
        c = self.env.wait_claim(r.json["claim"]["id"], ["active", "failed"], timeout=30)
        self.assertEqual(c["state"], "active", c)
        certs = self.env.emu_certs()
        made = set(certs) - before
        self.assertEqual(len(made), 2, "the lost answer's certificate and the claim's")
        status = {cid: certs[cid]["status"] for cid in made}
        self.assertEqual(status.pop(c["certificateId"]), "ACTIVE")
        self.assertEqual(list(status.values()), ["INACTIVE"], "the orphan cannot connect")
        self.foreign.update(status)     # the orphan no claim holds
        self.assertIn(c["certificateArn"], self.env.emu_targets(self.policy))
        self.assertEqual(self.env.wait_job(r.json["job"]["id"])["state"], "succeeded")

    def test_a_claim_failed_for_good_leaves_its_certificate_inactive(self):
        # AWS refuses the claim policy attach for good: the claim fails and its key is erased, so
        # no one can use its certificate; it must not stay ACTIVE at AWS (it did, until someone
        # deleted the claim, and for ever once the fleet was torn down).
        before = set(self.env.emu_certs())
        self.env.emu.control("POST", "faults", {"operation": "AttachPolicy", "count": 1, "status": 403,
                                                "code": "AccessDeniedException", "message": "denied"})
        r = self.env.req("POST", "/v1/fleets/crash/claims", body={})
        self.assertEqual(r.status, 202, r)
        c = self.env.wait_claim(r.json["claim"]["id"], ["active", "failed"], timeout=30)
        self.assertEqual(c["state"], "failed", c)
        self.assertIn("AccessDenied", c["error"])
        made = set(self.env.emu_certs()) - before
        self.assertEqual(made, {c["certificateId"]})
        self.assertEqual(self.env.emu_certs()[c["certificateId"]]["status"], "INACTIVE")

    def test_kill_during_create_certificate_from_csr_generated(self):
        c = self.crash_once({}, "CreateCertificateFromCsr")
        b = self.env.req("GET", "/v1/claims/%s/bundle" % c["id"]).json
        cert = self.env.emu_certs()[c["certificateId"]]
        self.assertEqual(cl.cert_spki(cert["certificatePem"]), cl.key_spki(b["privateKeyPem"]))

    def test_kill_during_create_certificate_from_csr_csr(self):
        key, csr = cl.make_csr("ec256")
        c = self.crash_once({"keySource": "csr", "csr": csr}, "CreateCertificateFromCsr")
        cert = self.env.emu_certs()[c["certificateId"]]
        self.assertEqual(cl.cert_spki(cert["certificatePem"]), cl.spki_der(key.public_key()))

    def test_kill_during_csr_after_a_bulk_run_describes_only_our_certificate(self):
        # 100 other claims get their certificates just before ours: closer in time to our request
        # than our own (delayed) certificate. The recovery knows they belong to other claims and
        # describes only the one no claim holds (in a bulk run of thousands, describing every
        # certificate of the window at 10/s made a recovery outlast the worker's next crash).
        others = [self.env.req("POST", "/v1/fleets/crash/claims", body={}).json["claim"]["id"] for _ in range(100)]
        for cid in others:
            self.assertEqual(self.env.wait_claim(cid, ["active", "failed"])["state"], "active")
        self.env.emu.control("DELETE", "calls")
        c = self.crash_once({}, "CreateCertificateFromCsr")
        described = [x for x in self.env.emu.control("GET", "calls")["calls"]
                     if x.get("operation") == "DescribeCertificate"]
        self.assertEqual(len(described), 1, described)
        self.assertIn(c["certificateId"], json.dumps(described[0]))

    def test_kill_during_csr_with_many_older_certificates(self):
        # More than a page (250) of the account's certificates are older than the recovery's
        # window. AWS answers ListCertificates oldest first unless isAscendingOrder=false and ignores
        # a parameter it does not know: a scan that sent "ascendingOrder" read only old ones, stopped,
        # and the claim got a second certificate (issue 13).
        iot = cl.iot_client(self.env.emu)
        self.env.emu.control("POST", "quotas", {"enabled": False})
        self.env.emu.control("POST", "clock", {"offsetSeconds": -600})
        try:
            _, csr = cl.make_csr("ec256")
            for _ in range(260):
                self.foreign.add(iot.create_certificate_from_csr(certificateSigningRequest=csr)["certificateId"])
        finally:
            self.env.emu.control("POST", "clock", {"offsetSeconds": 0})
            self.env.emu.control("POST", "quotas", {"enabled": True})
        self.crash_once({}, "CreateCertificateFromCsr")
        lists = self.env.emu.control("GET", "calls?operation=ListCertificates")["calls"]
        self.assertTrue(lists)
        self.assertIs(lists[-1]["parameters"].get("ascendingOrder"), False, "sent as isAscendingOrder=false")

    def test_kill_during_csr_then_describe_fails_for_a_while(self):
        # The recovery's DescribeCertificate fails (5xx, more times than the client retries): a
        # certificate that could not be described may be ours, so the job must try again later,
        # not take it for another's and make a second certificate (the orphan test_redis_failover
        # counted).
        self.env.emu.control("POST", "faults", {"operation": "DescribeCertificate", "count": 4,
                                                "status": 500, "code": "InternalFailure",
                                                "message": "injected"})
        try:
            self.crash_once({}, "CreateCertificateFromCsr")
        finally:
            self.env.emu.control("DELETE", "faults")

    def test_kill_during_attach_policy(self):
        self.crash_once({}, "AttachPolicy")

    def test_z_every_claim_has_exactly_one_certificate(self):
        certs = self.env.emu_certs()
        claims = self.env.req("GET", "/v1/claims?fleet=crash&limit=500", token=self.env.read).json["items"]
        by_claim = [c["certificateId"] for c in claims if c["certificateId"]]
        self.assertEqual(len(by_claim), len(set(by_claim)))
        self.assertEqual(set(by_claim), set(certs) - self.foreign)


if __name__ == "__main__":
    unittest.main()
