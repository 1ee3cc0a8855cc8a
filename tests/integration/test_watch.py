"""The misuse watch end to end (issue 8): real fleetwarden (API + workers),
real Redis, the AWS emulator with injected CloudWatch data points, and a
local webhook receiver (harness.StubServer on 127.0.0.1).

Fleets and claims are made through the API (POST /v1/fleets, POST
/v1/fleets/{name}/claims), except in test_1200_claims_cost_three_calls,
which seeds 1,200 active claim records directly in Redis (the store_claim.h
layout) because creating them through the API would take minutes; only the
watch's reading of them is under test there.
"""
import hashlib
import hmac
import json
import os
import queue
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import claims_lib as cl  # noqa: E402
import harness  # noqa: E402
import openapi_check as oc  # noqa: E402
import sse  # noqa: E402
from test_faults_lib import dump_redis  # noqa: E402

SECRET = "whsec-0123456789abcdef"


def receiver(status=200, fail_first=0, fail_status=503, location=None):
    """A webhook receiver (harness.StubServer at /hook): answers status, fail_status to the first
    fail_first POSTs, and Location when given; its requests are the POSTs it got."""
    left = [fail_first]

    def route(req):
        answer = status
        if left[0] > 0:
            left[0] -= 1
            answer = fail_status
        return answer, {"Location": location} if location else {}, b""

    return harness.StubServer(route, path="/hook")


def signed_by(secret, headers, body):
    want = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(want, headers["x-fleetwarden-signature"])


def iso(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


class WatchBase(unittest.TestCase):
    env_extra = {}

    @classmethod
    def setUpClass(cls):
        # The receivers listen on 127.0.0.1: plain http and that internal address must be allowed
        # explicitly (without FLEETWARDEN_WEBHOOK_ALLOW_ADDRESSES a webhook never reaches loopback).
        env = {"FLEETWARDEN_WEBHOOK_ALLOW_HTTP_HOSTS": "127.0.0.1,localhost",
               "FLEETWARDEN_WEBHOOK_ALLOW_ADDRESSES": "127.0.0.1,::1", "FLEETWARDEN_WATCH_INTERVAL": "0",
               "FLEETWARDEN_RETRY_BASE_MS": "200", "AWS_MAX_ATTEMPTS": "2"}
        env.update(cls.env_extra)
        cls.env = cl.ClaimsEnv(env=env)
        cls.hook = receiver()

    @classmethod
    def tearDownClass(cls):
        cls.hook.stop()
        code = None
        try:
            code = cls.env.fw.stop()
            logs = cls.env.fw.logs()
        finally:
            cls.env.stop()
        if code not in (0, None):
            raise AssertionError("fleetwarden exited with %s (sanitizer?):\n%s" % (code, logs[-4000:]))

    # ---- helpers ----
    def fleet(self, name, watch):
        self.env.make_fleet(name)
        r = self.env.req("PATCH", "/v1/fleets/" + name, body={"watch": watch}, token=self.env.admin)
        self.assertEqual(r.status, 200, r)

    def claim(self, fleet, body=None):
        r = self.env.req("POST", "/v1/fleets/%s/claims" % fleet, body=body or {})
        self.assertEqual(r.status, 202, r)
        c = self.env.wait_claim(r.json["claim"]["id"], ["active", "failed"])
        self.assertEqual(c["state"], "active", c)
        return c

    def inject(self, cert, values, metric="ApproximateNumberOfThingsRegistered", dim="ClaimCertificateId",
               ago=None):
        """values[i] registrations (or failures) ago[i] seconds ago. Registrations go through the
        emulator's fleet provisioning metrics, which publish AWS's running total per claim."""
        now = time.time()
        ago = ago or [60 * (5 + 7 * i) for i in range(len(values))]
        if metric == "ApproximateNumberOfThingsRegistered":
            self.env.emu.control("POST", "registrations", {"registrations": [
                {"claimCertificateId": cert, "count": v, "timestamp": iso(now - a)} for a, v in zip(ago, values)]})
            return
        pts = [{"timestamp": iso(now - a), "value": v} for a, v in zip(ago, values)]
        self.env.emu.control("POST", "metrics", {"namespace": "AWS/IoT", "metricName": metric,
                                                  "dimensions": [{"name": dim, "value": cert}], "points": pts})

    def cycle(self, timeout=90):
        r = self.env.req("POST", "/v1/watch/run")
        self.assertEqual(r.status, 202, r)
        self.assertEqual(r.header("Location"), r.json["job"]["href"])
        job = self.env.wait_job(r.json["job"]["id"], timeout=timeout)
        self.assertEqual(job["state"], "succeeded", job)
        return job

    def incidents(self, **q):
        qs = "&".join("%s=%s" % kv for kv in q.items())
        r = self.env.req("GET", "/v1/incidents?" + qs, token=self.env.read)
        self.assertEqual(r.status, 200, r)
        return r.json["items"]

    def cert_status(self, cert):
        return self.env.emu_certs()[cert]["status"]

    def settings_in_redis(self, fleet):
        return json.loads(self.env.redis.command("HGET", "fw:fleet:" + fleet, "j:settings"))

    def delivery(self, incident_id):
        """The webhook POST (headers, raw body) of an incident, once its webhook job succeeded."""
        inc = self.env.req("GET", "/v1/incidents/" + incident_id, token=self.env.read).json
        self.assertEqual(self.env.wait_job(inc["webhookJob"])["state"], "succeeded")
        got = [g for g in self.hook.requests if json.loads(g["body"])["incident"]["id"] == incident_id]
        self.assertEqual(len(got), 1)
        return got[0]["headers"], got[0]["body"]


class WatchActions(WatchBase):
    def test_breach_disables_and_notifies_in_one_cycle(self):
        self.fleet("wdis", {"action": "disable", "webhook": {"url": self.hook.url, "secret": SECRET},
                            "rules": {"registrationsPerHour": {"threshold": 50}}})
        bad, good = self.claim("wdis"), self.claim("wdis")
        self.inject(bad["certificateId"], [40, 40, 40])
        self.inject(good["certificateId"], [1, 2, 1, 1])
        job = self.cycle()
        res = job["result"]
        self.assertEqual(len(res["incidents"]["opened"]), 1, res)
        incs = self.incidents(claim=bad["id"])
        self.assertEqual(len(incs), 1)
        inc = incs[0]
        self.assertEqual((inc["rule"], inc["state"], inc["fleet"]), ("registrationsPerHour", "open", "wdis"))
        self.assertEqual(inc["finding"]["observed"], 120)
        self.assertEqual(inc["finding"]["threshold"], 50)
        self.assertEqual(len(inc["finding"]["datapoints"]), 3)
        self.assertEqual(inc["action"]["type"], "disable")
        self.assertEqual(self.env.wait_job(inc["action"]["job"])["state"], "succeeded")
        self.assertEqual(self.cert_status(bad["certificateId"]), "INACTIVE")
        self.assertEqual(self.cert_status(good["certificateId"]), "ACTIVE")
        self.assertEqual(self.incidents(claim=good["id"]), [])
        # the webhook, signed with the fleet's secret
        self.assertEqual(self.env.wait_job(inc["webhookJob"])["state"], "succeeded")
        hdrs, body = self.delivery(inc["id"])
        want = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        self.assertEqual(hdrs["x-fleetwarden-signature"], want)
        self.assertEqual(json.loads(body)["event"], "incident.opened")
        self.assertNotIn(SECRET, body.decode())
        # registrations on the claim, secret nowhere in jobs or logs
        c = self.env.claim(good["id"])
        self.assertEqual(c["registrations"]["lastHour"], 5)
        self.assertNotIn(SECRET, json.dumps(self.env.req("GET", "/v1/jobs?limit=500", token=self.env.read).json))
        self.assertNotIn(SECRET, self.env.all_logs())
        # the fleet shows the secret masked, and what the watch saw
        f = self.env.req("GET", "/v1/fleets/wdis", token=self.env.read)
        self.assertNotIn(SECRET, f.body.decode())
        self.assertEqual(f.json["settings"]["watch"]["webhook"]["secret"], "***")
        self.assertGreaterEqual(f.json["watchStatus"]["claimsWatched"], 2)   # + the fleet's first claim
        bad = self.env.req("PATCH", "/v1/fleets/wdis", token=self.env.admin,
                           body={"watch": {"webhook": {"url": "http://example.com/x", "secret": SECRET}}})
        self.assertEqual(bad.status, 400, bad)
        self.assertIn("watch.webhook.url", [e["field"] for e in bad.json["errors"]])
        m = self.env.fw.request("GET", "/metrics").body.decode()
        self.assertIn('fleetwarden_watch_incidents_opened_total{rule="registrationsPerHour"}', m)
        self.assertIn('fleetwarden_watch_actions_total{action="disable"}', m)
        self.assertRegex(m, r"fleetwarden_watch_cycles_total [1-9]")
        # one GetMetricData for the window, one for the totals before it of the two claims seen
        # for the first time with data (issue 13); a second cycle needs only the first
        self.assertRegex(m, r"fleetwarden_watch_cloudwatch_calls_last_cycle 2\n")
        self.cycle()
        m = self.env.fw.request("GET", "/metrics").body.decode()
        self.assertRegex(m, r"fleetwarden_watch_cloudwatch_calls_last_cycle 1\n")

    def test_revoke_with_replacement(self):
        self.fleet("wrev", {"action": "revoke", "replace": True,
                            "rules": {"registrationsPerHour": {"threshold": 10}}})
        c = self.claim("wrev")
        self.inject(c["certificateId"], [30])
        self.cycle()
        inc = self.incidents(claim=c["id"])[0]
        self.assertEqual((inc["action"]["type"], inc["action"]["replace"]), ("revoke", True))
        self.env.wait_job(inc["action"]["job"])
        self.assertEqual(self.cert_status(c["certificateId"]), "REVOKED")
        self.assertEqual(self.env.claim(c["id"])["state"], "revoked")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            items = self.env.req("GET", "/v1/claims?fleet=wrev", token=self.env.read).json["items"]
            others = [x for x in items if x["id"] != c["id"] and x["state"] == "active"]
            if others:
                break
            time.sleep(0.2)
        self.assertTrue(others, items)


    def test_webhook_retries_and_refuses_redirects(self):
        flaky = receiver(fail_first=2)
        moved = receiver(status=302, location=self.hook.url)
        try:
            self.fleet("wflaky", {"webhook": {"url": flaky.url, "secret": SECRET},
                                  "rules": {"registrationsPerHour": {"threshold": 1}}})
            self.fleet("wmoved", {"webhook": {"url": moved.url, "secret": SECRET},
                                  "rules": {"registrationsPerHour": {"threshold": 1}}})
            a, b = self.claim("wflaky"), self.claim("wmoved")
            self.inject(a["certificateId"], [5])
            self.inject(b["certificateId"], [5])
            self.cycle()
            ja = self.env.wait_job(self.incidents(claim=a["id"])[0]["webhookJob"])
            self.assertEqual((ja["state"], ja["attempts"]), ("succeeded", 3), ja)
            self.assertEqual(len(flaky.requests), 3)
            self.assertEqual(len({r["headers"]["x-fleetwarden-delivery"] for r in flaky.requests}), 1)
            jb = self.env.wait_job(self.incidents(claim=b["id"])[0]["webhookJob"])
            self.assertEqual(jb["state"], "dead", jb)
            self.assertEqual([e["message"] for e in jb["errors"]], ["delivery failed"], jb)
            self.assertIn("(redirects are not followed)", self.env.fw.logs())
            self.assertEqual(len(moved.requests), 1)
            inc_b = self.incidents(claim=b["id"])[0]["id"]
            self.assertFalse([1 for r in self.hook.requests if inc_b in r["body"].decode()], "redirect followed")
        finally:
            flaky.stop()
            moved.stop()

    def test_secret_sealed_at_rest_and_kept_by_a_masked_patch(self):
        secret = "whsec-sealed-" + os.urandom(8).hex()
        self.fleet("wseal", {"webhook": {"url": self.hook.url, "secret": secret},
                             "rules": {"registrationsPerHour": {"threshold": 100}}})
        hook = self.settings_in_redis("wseal")["watch"]["webhook"]
        self.assertEqual(sorted(hook), ["secretSealed", "url"], "stored sealed, never in plaintext")
        self.assertNotIn(secret, dump_redis(self.env.redis))
        # A portal: GET, change one field, PATCH the whole watch back with the masked secret
        # (and, read with a read token, the masked URL: both mean "keep what is stored").
        g = self.env.req("GET", "/v1/fleets/wseal", token=self.env.read)
        watch = g.json["settings"]["watch"]
        self.assertEqual(watch["webhook"], {"url": self.hook.url.rsplit("/", 1)[0] + "/***", "secret": "***"})
        watch["rules"]["registrationsPerHour"]["threshold"] = 3
        r = self.env.req("PATCH", "/v1/fleets/wseal", body={"watch": watch}, token=self.env.admin,
                         headers={"If-Match": g.header("ETag")})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["settings"]["watch"]["webhook"], {"url": self.hook.url, "secret": "***"})
        self.assertEqual(r.json["settings"]["watch"]["rules"]["registrationsPerHour"]["threshold"], 3)
        self.assertEqual(self.settings_in_redis("wseal")["watch"]["webhook"]["secretSealed"],
                         hook["secretSealed"], "the stored secret kept as it was")
        # ... and the kept secret still signs deliveries.
        c = self.claim("wseal")
        self.inject(c["certificateId"], [5])
        self.cycle()
        hdrs, body = self.delivery(self.incidents(claim=c["id"])[0]["id"])
        self.assertTrue(signed_by(secret, hdrs, body))
        self.assertNotIn(secret, self.env.all_logs())
        self.assertNotIn(secret, json.dumps(self.env.req("GET", "/v1/jobs?limit=500", token=self.env.read).json))
        self.assertNotIn(secret, dump_redis(self.env.redis))
        # "***" keeps only what exists: a fleet without a webhook secret refuses it, naming the field.
        self.env.make_fleet("wnosecret")
        r = self.env.req("PATCH", "/v1/fleets/wnosecret", token=self.env.admin,
                         body={"watch": {"webhook": {"url": self.hook.url, "secret": "***"}}})
        self.assertEqual(r.status, 400, r)
        self.assertEqual([e["field"] for e in r.json["errors"]], ["watch.webhook.secret"])
        r = self.env.req("POST", "/v1/fleets", token=self.env.admin,
                         body={"name": "wnosecret2", "watch": {"webhook": {"url": self.hook.url, "secret": "***"}}})
        self.assertEqual(r.status, 400, r)
        self.assertIn("watch.webhook.secret", [e["field"] for e in r.json["errors"]])

    def test_plaintext_secret_of_an_older_version_is_read_and_sealed_on_write(self):
        old = "whsec-plain-" + os.urandom(8).hex()
        self.fleet("wlegacy", {"rules": {"registrationsPerHour": {"threshold": 1}}})
        # What an older version wrote: the secret in plaintext in the fleet's settings.
        st = self.settings_in_redis("wlegacy")
        st["watch"]["webhook"] = {"url": self.hook.url, "secret": old}
        self.env.redis.command("HSET", "fw:fleet:wlegacy", "j:settings", json.dumps(st))
        g = self.env.req("GET", "/v1/fleets/wlegacy", token=self.env.read)
        self.assertEqual(g.json["settings"]["watch"]["webhook"]["secret"], "***")
        self.assertNotIn(old, g.body.decode())
        c = self.claim("wlegacy")
        self.inject(c["certificateId"], [5])
        self.cycle()
        first = self.incidents(claim=c["id"])[0]["id"]
        hdrs, body = self.delivery(first)
        self.assertTrue(signed_by(old, hdrs, body), "the plaintext secret still signs")
        # The next write seals it (a PATCH that changes nothing).
        r = self.env.req("PATCH", "/v1/fleets/wlegacy", body={}, token=self.env.admin)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(sorted(self.settings_in_redis("wlegacy")["watch"]["webhook"]), ["secretSealed", "url"])
        self.assertNotIn(old, dump_redis(self.env.redis))
        self.assertEqual(self.env.req("POST", "/v1/incidents/%s/resolve" % first).status, 200)
        self.cycle()
        second = [i["id"] for i in self.incidents(claim=c["id"]) if i["state"] == "open"]
        self.assertEqual(len(second), 1)
        hdrs, body = self.delivery(second[0])
        self.assertTrue(signed_by(old, hdrs, body), "the same secret, now sealed, signs")
        self.assertNotIn(old, self.env.all_logs())


class WebhookForgery(WatchBase):
    """Server-side request forgery through watch webhooks (issue 17, item 5)."""

    def webhook_job(self, fleet, url):
        """An incident of a fleet whose webhook is url, written into Redis as an older version
        (or a policy change) could have left it; returns the webhook job once it ended."""
        self.fleet(fleet, {"webhook": {"url": "https://hooks.example.com/x", "secret": SECRET},
                           "rules": {"registrationsPerHour": {"threshold": 1}}})
        st = self.settings_in_redis(fleet)
        st["watch"]["webhook"]["url"] = url
        self.env.redis.command("HSET", "fw:fleet:" + fleet, "j:settings", json.dumps(st))
        c = self.claim(fleet)
        self.inject(c["certificateId"], [5])
        self.cycle()
        return self.env.wait_job(self.incidents(claim=c["id"])[0]["webhookJob"], timeout=120)

    def test_allowed_internal_literal_is_accepted(self):
        # FLEETWARDEN_WEBHOOK_ALLOW_ADDRESSES=127.0.0.1,::1 here: loopback in any spelling is allowed
        self.env.make_fleet("wallowed")
        for url in ("https://0x7f.1:9/hook", "https://[::1]:9/hook", "http://localhost:9/hook"):
            r = self.env.req("PATCH", "/v1/fleets/wallowed", token=self.env.admin,
                             body={"watch": {"webhook": {"url": url, "secret": SECRET}}})
            self.assertEqual(r.status, 200, r)

    def test_open_and_closed_ports_fail_alike(self):
        """A receiver that answers (404) and a port where nobody listens: the job says the same."""
        port = harness.free_port()   # nobody listens there
        refusing = receiver(status=404)
        try:
            a = self.webhook_job("wopen", refusing.url)
            b = self.webhook_job("wclosed", "http://127.0.0.1:%d/hook" % port)
        finally:
            refusing.stop()
        self.assertEqual(len(refusing.requests), 1)
        self.assertEqual(a["state"], "dead", a)
        for job in (a, b):
            self.assertEqual({(e["code"], e["message"]) for e in job["errors"]},
                             {("WebhookDeliveryFailed", "delivery failed")}, job)
            text = " ".join("%s %s" % (e["code"], e["message"]) for e in job["errors"])
            for leak in ("127.0.0.1", str(port), "404", "refused", "connect", "HTTP"):
                self.assertNotIn(leak, text, job)

    def test_read_scope_sees_the_url_masked(self):
        self.fleet("wmask", {"webhook": {"url": self.hook.url + "/T000/s3cret-path?token=abc", "secret": SECRET}})
        read = self.env.req("GET", "/v1/fleets/wmask", token=self.env.read).json
        self.assertEqual(read["settings"]["watch"]["webhook"]["url"],
                         "http://127.0.0.1:%d/***" % self.hook.port)
        listed = self.env.req("GET", "/v1/fleets", token=self.env.read).body.decode()
        self.assertNotIn("s3cret-path", listed)
        admin = self.env.req("GET", "/v1/fleets/wmask", token=self.env.admin).json
        self.assertTrue(admin["settings"]["watch"]["webhook"]["url"].endswith("/s3cret-path?token=abc"))


class WebhookForgeryStrict(WatchBase):
    """Nothing internal allowed: names that resolve to loopback are refused at delivery, before
    any connection, whether a receiver listens there or not."""
    env_extra = {"FLEETWARDEN_WEBHOOK_ALLOW_ADDRESSES": ""}

    webhook_job = WebhookForgery.webhook_job

    def test_internal_literals_are_refused_when_set(self):
        self.env.make_fleet("wssrf")
        spellings = ["127.0.0.1", "2130706433", "017700000001", "0x7f.1", "0x7f000001", "127.1", "[::1]",
                     "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "169.254.169.254", "0xa9.0xfe.0xa9.0xfe",
                     "2852039166", "0.0.0.0", "0", "10.0.0.1", "192.168.1.1", "172.16.0.1", "100.100.100.200",
                     "[fd00:ec2::254]", "[fe80::1]", "localhost", "127.0.0.1."]
        for host in spellings:
            for url in ("https://%s/hook" % host, "https://%s:8443/hook" % host):
                with self.subTest(url=url):
                    r = self.env.req("PATCH", "/v1/fleets/wssrf", token=self.env.admin,
                                     body={"watch": {"webhook": {"url": url, "secret": SECRET}}})
                    self.assertEqual(r.status, 400, r)
                    self.assertEqual([e["field"] for e in r.json["errors"]], ["watch.webhook.url"], r)
        # a public literal is fine
        r = self.env.req("PATCH", "/v1/fleets/wssrf", token=self.env.admin,
                         body={"watch": {"webhook": {"url": "https://203.0.114.9/hook", "secret": SECRET}}})
        self.assertEqual(r.status, 200, r)

    def test_names_resolving_internal_are_refused_at_delivery(self):
        port = harness.free_port()   # nobody listens there
        jobs = [self.webhook_job("wlocal", "http://localhost:%d/hook" % self.hook.port),
                self.webhook_job("wliteral", self.hook.url),
                self.webhook_job("wclosed2", "http://localhost:%d/hook" % port)]
        self.assertEqual(self.hook.requests, [], "a webhook reached loopback")
        for job in jobs:
            self.assertEqual(job["state"], "dead", job)
            self.assertEqual(job["attempts"], 1, job)
            self.assertEqual([(e["code"], e["message"]) for e in job["errors"]],
                             [("WebhookRefused", "refused by policy")], job)
        self.assertIn("webhook refused by policy", self.env.fw.logs())


class WatchIncidents(WatchBase):
    def test_one_incident_per_claim_and_rule_while_open(self):
        self.fleet("walert", {"rules": {"registrationsPerHour": {"threshold": 20},
                                        "allowedHours": {"enabled": True, "allowedHoursUtc": [0, 24]}}})
        c = self.claim("walert")
        self.inject(c["certificateId"], [15, 15])
        self.cycle()
        self.cycle()
        incs = self.incidents(claim=c["id"])
        self.assertEqual(len(incs), 1, incs)
        self.assertEqual((incs[0]["breaches"], incs[0]["action"]["type"]), (2, "alert"))
        self.assertEqual(self.cert_status(c["certificateId"]), "ACTIVE")
        iid = incs[0]["id"]
        r = self.env.req("POST", "/v1/incidents/%s/ack" % iid, body={"note": "looking"})
        self.assertEqual((r.status, r.json["state"]), (200, "acknowledged"))
        self.cycle()
        incs = self.incidents(claim=c["id"])
        self.assertEqual((len(incs), incs[0]["breaches"], incs[0]["state"]), (1, 3, "acknowledged"))
        self.assertEqual(self.incidents(state="acknowledged", fleet="walert")[0]["id"], iid)
        r = self.env.req("POST", "/v1/incidents/%s/resolve" % iid)
        self.assertEqual((r.status, r.json["state"]), (200, "resolved"))
        self.assertEqual(self.env.req("POST", "/v1/incidents/%s/ack" % iid).status, 409)
        self.cycle()
        incs = self.incidents(claim=c["id"])
        self.assertEqual([i["state"] for i in incs], ["open", "resolved"])
        # paging: newest first, one per page
        p1 = self.env.req("GET", "/v1/incidents?claim=%s&limit=1" % c["id"], token=self.env.read).json
        p2 = self.env.req("GET", "/v1/incidents?claim=%s&limit=1&cursor=%s" % (c["id"], p1["nextCursor"]),
                          token=self.env.read).json
        self.assertEqual([p1["items"][0]["id"], p2["items"][0]["id"]], [i["id"] for i in incs])
        self.assertIsNone(p2["nextCursor"])
        self.assertEqual(self.incidents(state="resolved", claim=c["id"])[0]["id"], iid)

    def incident_events(self, q, incident_id, until, timeout=60):
        """Incident events of one incident from an SSE queue, until one has change `until`."""
        got = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not any(e["change"] == until for _, _, e in got):
            try:
                ev_id, name, ev = q.get(timeout=0.2)
            except queue.Empty:
                continue
            self.assertNotEqual(ev_id, "error", ev)
            if ev.get("type") == "incident" and ev["id"] == incident_id:
                got.append((ev_id, name, ev))
        return got

    def test_incident_changes_on_the_event_stream(self):
        self.fleet("wsse", {"action": "disable", "rules": {"registrationsPerHour": {"threshold": 2}}})
        c = self.claim("wsse")
        status, q = sse.open_events(self.env.fw.port, self.env.read, "/v1/events?event=incident")
        self.assertEqual(status[:2], ("status", 200), status)
        status, by_claim = sse.open_events(self.env.fw.port, self.env.read, "/v1/events?resource=claim:" + c["id"])
        self.assertEqual(status[:2], ("status", 200), status)
        self.inject(c["certificateId"], [5])
        self.cycle()
        inc = self.incidents(claim=c["id"])[0]
        self.assertEqual(self.env.wait_job(inc["action"]["job"])["state"], "succeeded")
        got = self.incident_events(q, inc["id"], "claimDisabled")
        self.assertEqual([e["change"] for _, _, e in got], ["opened", "claimDisabled"], got)
        spec = oc.load_spec()
        for ev_id, name, ev in got:
            self.assertEqual(name, "incident")
            self.assertRegex(ev_id, r"^\d+-\d+$")
            self.assertEqual(oc.validate(ev, {"$ref": "#/components/schemas/IncidentEvent"}, spec, strict=True), [])
            self.assertEqual((ev["fleet"], ev["claimId"], ev["resource"], ev["rule"]),
                             ("wsse", c["id"], "claim:" + c["id"], "registrationsPerHour"))
            self.assertTrue(ev["ts"].endswith("Z"))
        opened, off = got[0][2], got[1][2]
        self.assertEqual((opened["state"], opened["job"]), ("open", None))
        self.assertEqual((off["state"], off["job"]), ("open", inc["action"]["job"]))
        self.assertEqual(self.env.claim(c["id"])["state"], "inactive")
        for verb, change in (("ack", "acknowledged"), ("resolve", "resolved")):
            self.assertEqual(self.env.req("POST", "/v1/incidents/%s/%s" % (inc["id"], verb)).status, 200)
            ev = self.incident_events(q, inc["id"], change)
            self.assertEqual([(e["change"], e["state"]) for _, _, e in ev], [(change, change)])
        # Again is no change, and no event; ?event=incident carried no job event.
        self.assertEqual(self.env.req("POST", "/v1/incidents/%s/resolve" % inc["id"]).status, 200)
        self.assertEqual(self.incident_events(q, inc["id"], "resolved", timeout=1), [])
        # ?resource=claim:ID carries the claim's jobs and its incidents, in one stream.
        seen = set()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not {("job", "claim.disable"), ("incident", "resolved")} <= seen:
            try:
                _, name, ev = by_claim.get(timeout=0.2)
            except queue.Empty:
                continue
            self.assertEqual(ev["resource"], "claim:" + c["id"])
            seen.add((name, ev.get("jobType") or ev.get("change")))
        self.assertIn(("job", "claim.disable"), seen)
        self.assertIn(("incident", "resolved"), seen)

    def test_total_hours_and_jump_rules(self):
        h = time.gmtime(time.time() - 120).tm_hour
        self.fleet("wrules", {"rules": {
            "allowedHours": {"enabled": True, "allowedHoursUtc": [(h + 1) % 24, h], "minRegistrations": 2},
            "baselineJump": {"factor": 3, "minSamples": 1, "minBaseline": 0.5, "minRegistrations": 5}}})
        tot = self.claim("wrules", {"expectedDevices": 10})
        night = self.claim("wrules")
        jump = self.claim("wrules")
        self.inject(tot["certificateId"], [6, 6], ago=[1500, 2100])   # 12 > 10 x 1.1 (and maybe off-hours)
        self.inject(night["certificateId"], [3], ago=[120])            # in the one hour not allowed
        self.inject(jump["certificateId"], [1], ago=[2400])            # the baseline: 1 per hour
        self.cycle()
        rules = lambda c: sorted(i["rule"] for i in self.incidents(claim=c["id"]))  # noqa: E731
        self.assertIn("expectedDevices", rules(tot))
        self.assertEqual(self.env.claim(tot["id"])["registrations"]["total"], 12)
        self.assertEqual(rules(night), ["allowedHours"])
        f = [i for i in self.incidents(claim=night["id"]) if i["rule"] == "allowedHours"][0]["finding"]
        self.assertEqual((f["observed"], f["totalBefore"], f["total"]), (3, 0, 3))
        self.assertEqual(rules(jump), [])
        self.inject(jump["certificateId"], [20], ago=[60])
        self.cycle()
        incs = [i for i in self.incidents(claim=jump["id"]) if i["rule"] == "baselineJump"]
        self.assertEqual(len(incs), 1)
        self.assertEqual((incs[0]["finding"]["observed"], incs[0]["finding"]["baseline"]), (21, 1))

    def test_failed_registrations_per_template_and_missing_metrics(self):
        self.fleet("wtpl", {"rules": {"failedRegistrationsPerHour": {"threshold": 5}}})
        tmpl = self.env.req("GET", "/v1/fleets/wtpl", token=self.env.read).json["spec"]["template"]["name"]
        c = self.claim("wtpl")
        self.inject(tmpl, [4, 4], metric="RegisterThingFailed", dim="TemplateName")
        res = self.cycle()["result"]
        incs = [i for i in self.incidents(fleet="wtpl") if i["rule"] == "failedRegistrationsPerHour"]
        self.assertEqual(len(incs), 1)
        self.assertEqual((incs[0]["template"], incs[0]["finding"]["observed"]), (tmpl, 8))
        self.assertIn(c["id"], res["missingMetrics"]["claims"])
        self.assertNotIn(tmpl, res["missingMetrics"]["templates"])
        self.assertEqual(self.env.claim(c["id"])["registrations"]["total"], 0)

    def test_failed_registrations_average_is_failures_over_attempts(self):
        # RegisterThingFailed is 1 per failed call, 0 per good one: its Average over the window is
        # failures / attempts, not the average of each period's average.
        self.fleet("wavg", {"rules": {"failedRegistrationsPerHour": {"statistic": "Average", "threshold": 0.2}}})
        tmpl = self.env.req("GET", "/v1/fleets/wavg", token=self.env.read).json["spec"]["template"]["name"]
        b = (time.time() // 300) * 300 - 1800

        def results(failed, succeeded, at):
            self.env.emu.control("POST", "provisioning-results", {"results": [
                {"api": "RegisterThing", "templateName": tmpl, "failed": failed, "succeeded": succeeded,
                 "timestamp": iso(at)}]})

        results(1, 0, b + 10)      # one period: 1 of 1 failed
        results(0, 99, b + 310)    # the next: 99 good ones
        self.cycle()
        self.assertEqual([i for i in self.incidents(fleet="wavg") if i["rule"] == "failedRegistrationsPerHour"], [])
        results(40, 0, b + 610)    # 41 failed of 140: 0.29
        self.cycle()
        incs = [i for i in self.incidents(fleet="wavg") if i["rule"] == "failedRegistrationsPerHour"]
        self.assertEqual(len(incs), 1, incs)
        f = incs[0]["finding"]
        self.assertAlmostEqual(f["observed"], 41 / 140)
        self.assertEqual((f["statistic"], f["attempts"]), ("Average", 140))

    def test_an_unreadable_account_does_not_stop_the_others(self):
        # A fleet in another account whose role cannot be assumed (record written directly:
        # fleet setup itself would stop at the role), with one active claim.
        now = str(int(time.time() * 1000))
        fields = {"j:name": "wother", "j:state": "ready", "j:region": "us-east-1", "j:settings": {"watch": {}},
                  "j:assumeRole": {"roleArn": "arn:aws:iam::210987654321:role/missing", "externalId": None}}
        args = ["HSET", "fw:fleet:wother", "version", "1", "createdAt", now, "updatedAt", now]
        for k, v in fields.items():
            args += [k, json.dumps(v)]
        self.env.redis.command(*args)
        self.env.redis.command("ZADD", "fw:fleets", "0", "wother")
        cid = "clm_%024x" % 0xfeed
        self.env.redis.command("HSET", "fw:claim:" + cid, "id", cid, "fleet", "wother", "state", "active",
                               "certificateId", "ab" * 32, "created", now)
        self.env.redis.command("ZADD", "fw:claims:f:wother", now, cid)
        self.env.redis.command("ZADD", "fw:claims:fs:wother:active", now, cid)
        self.env.redis.command("ZADD", "fw:claims:s:active", now, cid)
        self.fleet("wmine", {"rules": {"registrationsPerHour": {"threshold": 3}}})
        c = self.claim("wmine")
        self.inject(c["certificateId"], [4])
        res = self.cycle()["result"]
        groups = {g.get("roleArn"): g for g in res["groups"]}
        self.assertIn("arn:aws:iam::210987654321:role/missing", groups)
        self.assertTrue(groups["arn:aws:iam::210987654321:role/missing"].get("error"), groups)
        self.assertIsNone(groups[None].get("error"))
        self.assertEqual(len(self.incidents(claim=c["id"])), 1)
        self.assertEqual(self.incidents(claim=cid), [])

    def test_account_metrics(self):
        self.fleet("wacctm", {})
        self.claim("wacctm")
        now = time.time()
        for name, v in (("CreateKeysAndCertificateFailed", 2), ("CreateCertificateFromCsrFailed", 5)):
            self.env.emu.control("POST", "metrics", {"namespace": "AWS/IoT", "metricName": name, "dimensions": [],
                                                      "points": [{"timestamp": iso(now - 300), "value": v}]})
        res = self.cycle()["result"]
        g = [x for x in res["groups"] if x["roleArn"] is None][0]
        self.assertEqual(g["CreateKeysAndCertificateFailed"], {"metric": "present", "lastHour": 2})
        self.assertEqual(g["csrFailures"], {"metricName": "CreateCertificateFromCsrFailed", "metric": "present",
                                            "lastHour": 5})

    def test_api_validation_and_scopes(self):
        r = self.env.req("GET", "/v1/incidents?state=bogus", token=self.env.read)
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json["errors"][0]["field"], "state")
        self.assertEqual(self.env.req("GET", "/v1/incidents?claim=x", token=self.env.read).json["errors"][0]["field"],
                         "claim")
        self.assertEqual(self.env.req("GET", "/v1/incidents/inc_000000000000000000000000", token=self.env.read)
                         .status, 404)
        w = self.env.req("GET", "/v1/watch", token=self.env.read).json
        self.assertEqual(w["intervalSeconds"], 0)
        self.assertEqual(w["defaults"]["action"], "alert")
        self.assertEqual(w["defaults"]["rules"]["registrationsPerHour"]["threshold"], 100)
        self.assertEqual(w["defaults"]["rules"]["allowedHours"]["allowedHoursUtc"], [0, 24])
        self.assertEqual(self.env.req("POST", "/v1/watch/run", token=self.env.read).status, 403)
        self.assertEqual(self.env.req("POST", "/v1/watch/run", body={"x": 1}).status, 400)


    def test_periods_that_blind_a_rule_are_refused(self):
        # A window is counted in the whole periods that start inside it: period 3600 = window 3600
        # never saw a burst split by the hour mark, and an allowedHours period that does not divide
        # 3600 put registrations made inside the allowed hours into the hour before.
        self.env.make_fleet("wper")
        cases = [({"registrationsPerHour": {"periodSeconds": 3600, "windowSeconds": 3600}},
                  "watch.rules.registrationsPerHour.periodSeconds"),
                 ({"failedRegistrationsPerHour": {"periodSeconds": 960}},
                  "watch.rules.failedRegistrationsPerHour.periodSeconds"),
                 ({"baselineJump": {"windowSeconds": 600}}, "watch.rules.baselineJump.windowSeconds"),
                 ({"allowedHours": {"enabled": True, "allowedHoursUtc": [1, 2], "periodSeconds": 420}},
                  "watch.rules.allowedHours.periodSeconds")]
        for rules, field in cases:
            r = self.env.req("PATCH", "/v1/fleets/wper", body={"watch": {"rules": rules}}, token=self.env.admin)
            self.assertEqual(r.status, 400, (rules, r))
            self.assertEqual([e["field"] for e in r.json["errors"]], [field], r)
        ok = {"registrationsPerHour": {"periodSeconds": 900}, "expectedDevices": {"periodSeconds": 3600},
              "allowedHours": {"periodSeconds": 600}, "baselineJump": {"periodSeconds": 60, "windowSeconds": 300}}
        r = self.env.req("PATCH", "/v1/fleets/wper", body={"watch": {"rules": ok}}, token=self.env.admin)
        self.assertEqual(r.status, 200, r)


class WatchScale(WatchBase):
    def seed_claims(self, fleet, n):
        """Writes n active claim records straight into Redis (store_claim.h and store_claim_index.h
        layout), pipelined."""
        import socket
        now = int(time.time() * 1000)
        cmds = []
        for i in range(n):
            cid = "clm_%024x" % (0xabc000000 + i)
            cert = hashlib.sha256(cid.encode()).hexdigest()
            cmds.append(["HSET", "fw:claim:" + cid, "id", cid, "fleet", fleet, "state", "active",
                         "certificateId", cert, "created", str(now), "keySource", "generated"])
            cmds.append(["ZADD", "fw:claims:f:" + fleet, str(now + i), cid])
            cmds.append(["ZADD", "fw:claims", str(now + i), cid])
            cmds.append(["ZADD", "fw:claims:fs:%s:active" % fleet, str(now + i), cid])
            cmds.append(["ZADD", "fw:claims:s:active", str(now + i), cid])
        out = b""
        for c in cmds:
            out += b"*%d\r\n" % len(c) + b"".join(b"$%d\r\n%s\r\n" % (len(a.encode()), a.encode()) for a in c)
        with socket.create_connection(("127.0.0.1", self.env.redis.port)) as s:
            s.sendall(out)
            f = s.makefile("rb")
            for _ in cmds:
                f.readline()

    def test_1200_claims_cost_three_calls(self):
        self.fleet("wbig", {})
        self.seed_claims("wbig", 1200)
        self.env.emu.control("DELETE", "calls")
        res = self.cycle()["result"]
        calls = self.env.emu.control("GET", "calls?operation=GetMetricData")["calls"]
        self.assertEqual(len(calls), 3, res)
        self.assertEqual((res["getMetricDataCalls"], res["minimumCalls"]), (3, 3))
        self.assertGreaterEqual(res["claims"], 1200)

    def test_throttling_delays_the_cycle_and_loses_nothing(self):
        self.fleet("wthr", {"rules": {"registrationsPerHour": {"threshold": 5}}})
        c = self.claim("wthr")
        self.inject(c["certificateId"], [9])
        self.env.emu.control("DELETE", "calls")
        self.env.emu.control("POST", "faults", {"operation": "GetMetricData", "count": 3, "status": 400,
                                                "code": "Throttling", "message": "Rate exceeded"})
        job = self.cycle(timeout=120)
        throttled = self.env.emu.control("GET", "calls?operation=GetMetricData&errorCode=Throttling")["calls"]
        self.assertEqual(len(throttled), 3)
        self.assertTrue(job["errors"], job)
        self.assertEqual(len(self.incidents(claim=c["id"])), 1)


class WatchCrash(WatchBase):
    """kill -9 of the process running a cycle: the cycle is run again and opens one incident."""
    env_extra = {"FLEETWARDEN_JOB_LEASE_MS": "2000", "FLEETWARDEN_REAPER_MS": "500"}

    def test_kill9_during_the_cycle(self):
        self.fleet("wcrash", {"webhook": {"url": self.hook.url, "secret": SECRET},
                              "rules": {"registrationsPerHour": {"threshold": 2}}})
        c = self.claim("wcrash")
        self.inject(c["certificateId"], [5])
        self.env.emu.control("POST", "faults", {"operation": "GetMetricData", "count": 1, "delayMs": 4000,
                                                "delayOnly": True})
        r = self.env.req("POST", "/v1/watch/run")
        jid = r.json["job"]["id"]
        harness.wait_until(lambda: any(x["operation"] == "ListMetrics" for x in
                                       self.env.emu.control("GET", "calls")["calls"]), timeout=20,
                           what="the cycle reading CloudWatch")
        old = self.env.fw
        old.proc.send_signal(signal.SIGKILL)
        old.proc.wait()
        old.proc = None
        old.log.close()
        self.env.fw = harness.Fleetwarden(self.env.redis, env=self.env.env, args=("serve",),
                                          workdir=old.dir).start()
        job = self.env.wait_job(jid, timeout=60)
        self.assertEqual(job["state"], "succeeded", job)
        incs = self.incidents(claim=c["id"])
        self.assertEqual(len(incs), 1, incs)
        self.assertEqual(self.env.wait_job(incs[0]["webhookJob"])["state"], "succeeded")
        got = [r for r in self.hook.requests if incs[0]["id"] in r["body"].decode()]
        self.assertEqual(len(got), 1)
        lm = self.env.emu.control("GET", "calls?operation=ListMetrics")["calls"]
        self.assertGreaterEqual(len(lm), 6, "the killed run had listed the metrics, the rerun listed them again")


class WatchSchedule(unittest.TestCase):
    """FLEETWARDEN_WATCH_INTERVAL makes the recurring schedule; 0 makes none."""

    def test_schedule_from_interval(self):
        for interval, want in (("60", "60"), ("0", None)):
            env = cl.ClaimsEnv(env={"FLEETWARDEN_WATCH_INTERVAL": interval}, workers=1)
            try:
                h = env.redis.command("HGETALL", "fw:sched:watch.cycle") or []
                sched = dict(zip(h[::2], h[1::2]))
                self.assertEqual(sched.get("every"), want, sched)
                if want:
                    self.assertEqual(sched["type"], "watch.cycle")
            finally:
                env.stop()


if __name__ == "__main__":
    unittest.main()
