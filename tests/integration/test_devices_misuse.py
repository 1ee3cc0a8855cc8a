"""Misuse seen in real device traffic (issue 15): the misuse watch reads only what the emulator
publishes to CloudWatch from the provisioning traffic of real device clients (tests/devices, AWS IoT
Device SDK v2); nothing here writes a metric.

- A claim copied out of the factory: 200 devices (the issue's number, not scaled down) provision
  through it at once while the line's expected rate is 20 an hour. The next watch
  cycle opens one registrationsPerHour incident for that claim (observed 200, read with Maximum)
  and, with `action: disable`, switches it off: the copier's next devices are refused at connect
  (the certificate is INACTIVE), while the line's other claim keeps provisioning and opens nothing.
  "Within minutes" is what the incident shows: all 200 fell inside the rule's one-hour window.
- A slow, legitimate line over days (the emulator's clock moved back stamps the traffic of each
  shift at its time): 30 devices over three days, three in the last hour, opens nothing. The
  registration metric is a running total: a watch that summed or compared the total itself with
  the hourly threshold would see 30 (or more) registrations and open an incident.

The emulator publishes each data point at once (publishPeriodSeconds 0) instead of when its
minute closes, so the cycle need not wait for the minute; the points are the ones the traffic made.

Breaks tried: the emulator's data plane not counting registrations (fpmetrics.registration dropped
in fleetprov.py) fails both tests (no incident; the claim's total 0); watch_registrations returning
the running total instead of its increase fails the slow line (an incident opens).
"""
import devices_lib as dl
from devices_lib import DevicesCase

RATE = 20   # the line's expected registrations an hour
WATCH = {"action": "disable", "rules": {"registrationsPerHour": {"threshold": RATE}}}


class DevicesMisuse(DevicesCase):
    RUN_COST_S = 60
    ENV = {"FLEETWARDEN_WATCH_INTERVAL": "0"}   # cycles only when the test asks (POST /v1/watch/run)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.emu.control("POST", "config", {"publishPeriodSeconds": 0})

    def line(self, name):
        """A fleet whose devices make their own keys (CreateCertificateFromCsr), its first claim and
        a second one, both downloaded."""
        fleet = self.env.make_fleet(name, claimPolicyAllowCsr=True, watch=WATCH)
        first = self.env.first_claim(fleet)
        second = self.env.new_claim(name)
        return fleet, (first, self.env.bundle(first["id"])), (second, self.env.bundle(second["id"]))

    def devices(self, bundle, n, prefix, **kw):
        """n devices provision through bundle (stopping once registered: the traffic the watch sees)."""
        return self.env.provision(bundle, devices=n, api="csr", prefix=prefix, credentials=False,
                                  extra=("--until", "registerThing", "--retry-throttled", "20"), **kw)

    def watch_cycle(self):
        r = self.env.req("POST", "/v1/watch/run")
        self.assertEqual(r.status, 202, r)
        job = self.env.wait_job(r.json["job"]["id"], timeout=120)
        self.assertEqual(job["state"], "succeeded", job)
        return job

    def incidents(self, fleet):
        return self.env.req("GET", "/v1/incidents?fleet=%s&limit=500" % fleet).json["items"]

    def test_copied_claim_is_switched_off_the_line_goes_on(self):
        _, (copied, copied_bundle), (other, other_bundle) = self.line("factory")
        burst = self.devices(copied_bundle, 200, "copy", concurrency=8)
        self.assertEqual(burst["summary"]["ok"], 200, dl.describe(burst))
        self.assertEqual(self.env.claim(copied["id"])["state"], "active")
        job = self.watch_cycle()
        found = [i for i in self.incidents("factory") if i["claimId"] == copied["id"]]
        self.assertEqual(len(found), 1, (found, job["result"]))
        inc = found[0]
        self.assertEqual((inc["rule"], inc["state"]), ("registrationsPerHour", "open"))
        self.assertEqual(inc["finding"]["statistic"], "Maximum")
        self.assertEqual(inc["finding"]["observed"], 200)
        self.assertEqual(inc["finding"]["threshold"], RATE)
        self.assertEqual(inc["action"]["type"], "disable")
        self.env.wait_claim(copied["id"], ("inactive",))
        refused = self.devices(copied_bundle, 3, "copy-late")
        self.assertRefusedAtConnect(refused, "is INACTIVE")
        line = self.devices(other_bundle, 3, "line")
        self.assertAllOk(line, 3)
        self.assertEqual(self.env.claim(other["id"])["state"], "active")
        self.assertEqual([i for i in self.incidents("factory") if i["claimId"] == other["id"]], [])

    def test_slow_legitimate_line_over_days_opens_nothing(self):
        _, (claim, bundle), _ = self.line("slowline")
        made = 0
        try:
            for hours_ago in range(72, 0, -8):   # a shift every 8 hours for three days, 3 devices each
                self.env.emu.control("POST", "clock", {"offsetSeconds": -hours_ago * 3600})
                report = self.devices(bundle, 3, "slow-%dh" % hours_ago)
                self.assertAllOk(report, 3)
                made += 3
        finally:
            self.env.emu.control("POST", "clock", {"offsetSeconds": 0})
        self.assertAllOk(self.devices(bundle, 3, "slow-now"), 3)   # the last hour's shift
        made += 3
        self.assertEqual(made, 30)
        self.assertGreater(made, RATE, "the running total must exceed the hourly threshold to tell")
        job = self.watch_cycle()
        self.assertEqual([i for i in self.incidents("slowline")], [], job["result"])
        c = self.env.claim(claim["id"])
        self.assertEqual(c["state"], "active")
        self.assertEqual(c["registrations"]["total"], 30, c["registrations"])
        self.assertEqual(c["registrations"]["lastHour"], 3, c["registrations"])
