"""The misuse watch reads ApproximateNumberOfThingsRegistered as AWS publishes it (issue 13, item 1):
a running total per claim certificate, read with Maximum. Registrations in a window are the
latest total minus the total before the window; gaps, a dip of the approximate count and the
first sighting of a claim do not read as bursts.

Real fleetwarden (API + workers), real Redis, the AWS emulator; the claims' histories are built
with POST /__emu/registrations (tests/awsemu/fpmetrics.py), which publishes the data points AWS
would: one per registration, carrying the claim's total at that moment.
"""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_watch import WatchBase, iso  # noqa: E402

DAY = 86400


class WatchTotals(WatchBase):
    def register(self, cert, count, at=None, frm=None, to=None, dip=0):
        body = {"claimCertificateId": cert, "templateName": "t", "count": count}
        if frm is not None:
            body.update({"from": iso(frm), "to": iso(to)})
        else:
            body["timestamp"] = iso(at)
        if dip:
            body["dip"] = dip
        out = self.env.emu.control("POST", "registrations", body)
        return out["registrations"][0]["total"]

    def history(self, cert, n=1000):
        """n registrations spread over ten days, the last one three hours ago."""
        now = time.time()
        return self.register(cert, n, frm=now - 10 * DAY, to=now - 3 * 3600)

    def regs(self, claim):
        return self.env.claim(claim["id"])["registrations"]

    def test_long_history_and_a_few_new_registrations_open_nothing(self):
        # revoke cannot be undone: a misread running total would destroy a legitimate claim
        self.fleet("wtlong", {"action": "revoke"})
        c = self.claim("wtlong", {"expectedDevices": 5000})
        self.history(c["certificateId"])
        self.register(c["certificateId"], 3, at=time.time() - 1200)
        self.cycle()
        self.cycle()
        self.assertEqual(self.incidents(claim=c["id"]), [])
        self.assertEqual(self.cert_status(c["certificateId"]), "ACTIVE")
        r = self.regs(c)
        self.assertEqual((r["lastHour"], r["total"]), (3, 1003))

    def test_a_burst_opens_an_incident_with_the_real_delta(self):
        self.fleet("wtburst", {"rules": {"registrationsPerHour": {"threshold": 100}}})
        c = self.claim("wtburst")
        self.history(c["certificateId"])
        self.cycle()
        self.assertEqual(self.incidents(claim=c["id"]), [])
        now = time.time()
        self.register(c["certificateId"], 150, frm=now - 2400, to=now - 600)
        self.cycle()
        incs = self.incidents(claim=c["id"])
        self.assertEqual([i["rule"] for i in incs], ["registrationsPerHour"], incs)
        f = incs[0]["finding"]
        self.assertEqual((f["observed"], f["threshold"], f["statistic"]), (150, 100, "Maximum"))
        self.assertEqual((f["totalBefore"], f["total"]), (1000, 1150))
        self.assertEqual(max(p["value"] for p in f["datapoints"]), 1150)
        r = self.regs(c)
        self.assertEqual((r["lastHour"], r["total"]), (150, 1150))

    def test_expected_devices_compares_the_latest_total(self):
        self.fleet("wtexp", {})
        c = self.claim("wtexp", {"expectedDevices": 1000})
        self.history(c["certificateId"], 1150)   # nothing in the last hour
        self.cycle()
        incs = self.incidents(claim=c["id"])
        self.assertEqual([i["rule"] for i in incs], ["expectedDevices"], incs)
        self.assertEqual((incs[0]["finding"]["observed"], incs[0]["finding"]["threshold"]), (1150, 1100))
        self.assertEqual(self.regs(c)["total"], 1150)
        ok = self.claim("wtexp", {"expectedDevices": 1000})
        self.history(ok["certificateId"], 1090)
        self.cycle()
        self.assertEqual(self.incidents(claim=ok["id"]), [])

    def test_gaps_and_a_dip_open_nothing(self):
        self.fleet("wtdip", {"action": "disable", "rules": {"registrationsPerHour": {"threshold": 20}}})
        c = self.claim("wtdip")
        cert = c["certificateId"]
        self.history(cert)
        self.cycle()
        now = time.time()
        self.register(cert, 2, at=now - 3000)
        self.register(cert, 0, at=now - 1800, dip=30)   # the approximate count reads 972 once
        self.register(cert, 2, at=now - 600)            # and nothing in between: gaps
        self.cycle()
        self.assertEqual(self.incidents(claim=c["id"]), [])
        self.assertEqual(self.cert_status(cert), "ACTIVE")
        r = self.regs(c)
        self.assertEqual((r["lastHour"], r["total"]), (4, 1004))

    def test_first_sighting_is_a_baseline(self):
        self.fleet("wtfirst", {"action": "disable", "rules": {"registrationsPerHour": {"threshold": 20}}})
        # A claim whose history is older than anything CloudWatch keeps (455 days): the watch
        # cannot know its total before the window, so its first reading is the baseline.
        c = self.claim("wtfirst")
        old = int((time.time() - 500 * DAY) * 1000)
        self.env.redis.command("HSET", "fw:claim:" + c["id"], "created", str(old))
        now = time.time()
        self.register(c["certificateId"], 400, at=now - 500 * DAY)
        self.register(c["certificateId"], 1, at=now - 1500)
        self.register(c["certificateId"], 2, at=now - 600)
        self.cycle()
        self.assertEqual(self.incidents(claim=c["id"]), [])
        self.assertEqual(self.cert_status(c["certificateId"]), "ACTIVE")
        r = self.regs(c)
        self.assertEqual((r["lastHour"], r["total"]), (2, 403))
        # A new claim has no history at all: its first registrations are counted from zero.
        n = self.claim("wtfirst")
        self.register(n["certificateId"], 30, frm=now - 1500, to=now - 300)
        self.cycle()
        self.assertEqual([i["rule"] for i in self.incidents(claim=n["id"])], ["registrationsPerHour"])
        self.assertEqual(self.incidents(claim=n["id"])[0]["finding"]["observed"], 30)

    def status_fault(self, cert, status="InternalError", min_period=0):
        """The next GetMetricData result of a query on cert (Period >= min_period) comes back with
        StatusCode status and no data points, in a 200 answer (tests/awsemu/README.md)."""
        self.env.emu.control("POST", "config", {"gmdStatusFault": {
            "dimensionValue": cert, "statusCode": status, "minPeriod": min_period, "count": 1}})
        self.addCleanup(self.env.emu.control, "POST", "config", {"gmdStatusFault": None})

    def test_internal_error_of_the_baseline_read_is_retried_not_read_as_zero(self):
        # revoke cannot be undone: "no answer" for the total before the window must not read as 0
        self.fleet("wtierr", {"action": "revoke", "rules": {"registrationsPerHour": {"threshold": 100}}})
        c = self.claim("wtierr", {"expectedDevices": 5000})
        self.history(c["certificateId"])
        self.register(c["certificateId"], 3, at=time.time() - 1200)
        self.status_fault(c["certificateId"], min_period=86400)   # the baseline query's 455-day period
        job = self.cycle()
        self.assertTrue([e for e in job["errors"] if e.get("code") == "InternalError"], job)
        self.assertEqual(self.incidents(claim=c["id"]), [])
        self.assertEqual(self.cert_status(c["certificateId"]), "ACTIVE")
        r = self.regs(c)
        self.assertEqual((r["lastHour"], r["total"]), (3, 1003))

    def test_internal_error_of_the_window_read_does_not_hide_a_burst(self):
        self.fleet("wtwerr", {"rules": {"registrationsPerHour": {"threshold": 100}}})
        c = self.claim("wtwerr")
        now = time.time()
        self.register(c["certificateId"], 150, frm=now - 2400, to=now - 600)
        self.status_fault(c["certificateId"])   # the window query (asked first)
        job = self.cycle()
        self.assertTrue([e for e in job["errors"] if e.get("code") == "InternalError"], job)
        incs = self.incidents(claim=c["id"])
        self.assertEqual([(i["rule"], i["finding"]["observed"]) for i in incs], [("registrationsPerHour", 150)])
        self.assertEqual(self.regs(c)["total"], 150)

    def test_forbidden_result_takes_the_account_out_of_the_cycle(self):
        self.fleet("wtforb", {"rules": {"registrationsPerHour": {"threshold": 100}}})
        c = self.claim("wtforb")
        now = time.time()
        self.register(c["certificateId"], 150, frm=now - 2400, to=now - 600)
        self.status_fault(c["certificateId"], "Forbidden")
        res = self.cycle()["result"]
        g = [x for x in res["groups"] if x["roleArn"] is None][0]
        self.assertTrue(g.get("error", "").startswith("Forbidden: "), g)
        self.assertEqual(self.incidents(claim=c["id"]), [])   # not read: no data is not zero data
        self.assertIsNone(self.env.claim(c["id"]).get("registrations"))
        res = self.cycle()["result"]
        self.assertIsNone([x for x in res["groups"] if x["roleArn"] is None][0].get("error"))
        self.assertEqual([i["rule"] for i in self.incidents(claim=c["id"])], ["registrationsPerHour"])

    def test_csr_failure_metric_under_either_name(self):
        self.fleet("wtcsr", {})
        self.claim("wtcsr")
        t = iso(time.time() - 900)
        for name, fails in (("CreateCertificateFromCsrMqttApiFailed", 4), ("CreateCertificateFromCsrFailed", 2),
                            (None, 0)):
            self.env.emu.control("DELETE", "metrics")
            self.env.emu.control("POST", "config", {"csrFailureMetric": name})
            self.env.emu.control("POST", "provisioning-results",
                                 {"api": "CreateCertificateFromCsr", "failed": fails, "succeeded": 1, "timestamp": t})
            res = self.cycle()["result"]
            g = [x for x in res["groups"] if x["roleArn"] is None][0]
            want = {"metricName": name, "metric": "present", "lastHour": fails} if name else \
                {"metricName": None, "metric": "missing", "lastHour": 0}
            self.assertEqual(g["csrFailures"], want)
            status = self.env.req("GET", "/v1/fleets/wtcsr", token=self.env.read).json["watchStatus"]
            self.assertEqual(status["csrFailureMetric"], name or "none")
        self.env.emu.control("POST", "config", {"csrFailureMetric": "CreateCertificateFromCsrFailed"})


if __name__ == "__main__":
    unittest.main()
