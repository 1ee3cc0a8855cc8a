"""The jobs HTTP API through the real fleetwarden binary (serve --no-workers)
with real jobs-probe workers on the same Redis: list, read, long-poll,
cancel, retry, scopes and server-sent events."""
import json
import os
import queue
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "jobs-probe"))
from harness import ServiceTestCase  # noqa: E402
from jobs_testlib import Probe  # noqa: E402
import sse  # noqa: E402

JOB_KEYS = {"id", "type", "lane", "state", "attempts", "maxAttempts", "progress", "steps", "result", "errors",
            "resource", "createdAt", "startedAt", "finishedAt", "nextRunAt", "href"}


class JobsApi(ServiceTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.reader = cls.fw.token("read", "reader")
        cls.operator = cls.fw.token("operate", "operator")

    def setUp(self):
        for key in self.redis.command("KEYS", "fw:*"):
            if not key.startswith("fw:token"):
                self.redis.command("DEL", key)
        self.probe = Probe(self.redis)

    def tearDown(self):
        self.probe.stop_all()
        super().tearDown()

    def get(self, path, token=None, **kw):
        return self.fw.request("GET", path, token=token or self.reader, **kw)

    def post(self, path, token=None):
        return self.fw.request("POST", path, token=token or self.operator)

    def test_get_job_shape_and_404(self):
        jid, _ = self.probe.enqueue("test.noop", '{"fleet":"f1"}', resource="fleet:f1", lane="critical")
        r = self.get(f"/v1/jobs/{jid}")
        self.assertEqual(r.status, 200, r)
        job = r.json
        self.assertTrue(JOB_KEYS <= set(job), set(job) ^ JOB_KEYS)
        self.assertEqual(job["state"], "queued")
        self.assertEqual(job["lane"], "critical")
        self.assertEqual(job["resource"], "fleet:f1")
        self.assertEqual(job["href"], f"/v1/jobs/{jid}")
        self.assertTrue(job["createdAt"].endswith("Z"))
        self.assertIsNone(job["finishedAt"])
        self.assertEqual(job["errors"], [])
        self.assertProblem(self.get("/v1/jobs/j_nosuchjob"), 404)
        self.assertProblem(self.get("/v1/jobs/bad%20id"), 404)
        self.assertProblem(self.fw.request("GET", f"/v1/jobs/{jid}"), 401)

    def test_list_filters_and_paging(self):
        p = self.probe
        ids = [p.enqueue("test.noop", '{}')[0] for _ in range(5)]
        other = p.enqueue("test.sleep", '{"ms":1}', resource="claim:x")[0]
        r = self.get("/v1/jobs?limit=2")
        self.assertEqual(r.status, 200, r)
        page1 = r.json
        self.assertEqual([j["id"] for j in page1["items"]], [other, ids[4]], "newest first")
        self.assertIsNotNone(page1["nextCursor"])
        seen = [j["id"] for j in page1["items"]]
        cursor = page1["nextCursor"]
        while cursor:
            page = self.get(f"/v1/jobs?limit=2&cursor={cursor}").json
            seen += [j["id"] for j in page["items"]]
            cursor = page["nextCursor"]
        self.assertEqual(seen, [other] + ids[::-1])
        by_type = self.get("/v1/jobs?type=test.sleep").json["items"]
        self.assertEqual([j["id"] for j in by_type], [other])
        by_res = self.get("/v1/jobs?resource=claim:x").json["items"]
        self.assertEqual([j["id"] for j in by_res], [other])
        queued = self.get("/v1/jobs?state=queued&limit=500").json
        self.assertEqual(len(queued["items"]), 6)
        self.assertIsNone(queued["nextCursor"])
        self.assertEqual(self.get("/v1/jobs?state=dead").json["items"], [])
        for bad in ("state=done", "limit=0", "limit=501", "cursor=abc", "type=Bad%20Type"):
            self.assertProblem(self.get("/v1/jobs?" + bad), 400)

    def test_long_poll_returns_when_finished(self):
        self.probe.worker(1)
        jid, _ = self.probe.enqueue("test.sleep", '{"ms":800}')
        t0 = time.monotonic()
        r = self.get(f"/v1/jobs/{jid}?wait=20")
        waited = time.monotonic() - t0
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["state"], "succeeded")
        self.assertEqual(r.json["result"], {"slept": True})
        self.assertLess(waited, 5.0)
        self.assertGreater(waited, 0.3)
        self.assertProblem(self.get(f"/v1/jobs/{jid}?wait=31"), 400)
        self.assertProblem(self.get(f"/v1/jobs/{jid}?wait=x"), 400)
        later, _ = self.probe.enqueue("test.noop", delay_ms=60000)
        t0 = time.monotonic()
        r = self.get(f"/v1/jobs/{later}?wait=1")
        self.assertEqual(r.json["state"], "scheduled")
        self.assertGreaterEqual(time.monotonic() - t0, 0.9)

    def test_cancel_and_retry(self):
        jid, _ = self.probe.enqueue("test.noop")
        self.assertProblem(self.post(f"/v1/jobs/{jid}/cancel", token=self.reader), 403)
        # a job type routes/job_scopes.c does not list (the probe's) needs admin to control (issue 17)
        p = self.assertProblem(self.post(f"/v1/jobs/{jid}/cancel"), 403)
        self.assertIn("'admin'", p["detail"])
        self.assertProblem(self.post(f"/v1/jobs/{jid}/retry"), 403)
        r = self.post(f"/v1/jobs/{jid}/cancel", token=self.admin)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["state"], "canceled")
        p = self.assertProblem(self.post(f"/v1/jobs/{jid}/cancel", token=self.admin), 409)
        self.assertIn("canceled", p["detail"])
        self.assertProblem(self.post("/v1/jobs/j_nosuchjob/cancel"), 404)
        self.assertProblem(self.post("/v1/jobs/j_nosuchjob/retry"), 404)
        r = self.post(f"/v1/jobs/{jid}/retry", token=self.admin)
        self.assertEqual(r.status, 202, r)
        self.assertEqual(r.json["state"], "queued")
        self.probe.worker(1)
        self.probe.wait_state(jid, "succeeded")
        self.assertProblem(self.post(f"/v1/jobs/{jid}/retry", token=self.admin), 409)

    def test_cancel_running_is_202_then_canceled(self):
        self.probe.worker(1)
        jid, _ = self.probe.enqueue("test.steps", '{"n":40,"ms":50}')
        self.probe.wait_state(jid, "running")
        r = self.post(f"/v1/jobs/{jid}/cancel", token=self.admin)
        self.assertEqual(r.status, 202, r)
        self.assertTrue(r.json["cancelRequested"])
        r = self.get(f"/v1/jobs/{jid}?wait=10")
        self.assertEqual(r.json["state"], "canceled")
        self.assertLess(r.json["progress"]["done"], 40)

    def test_dead_job_shows_errors(self):
        self.probe.worker(1)
        jid, _ = self.probe.enqueue("test.fail", '{"class":"access","times":9,"code":"AccessDenied"}')
        job = self.get(f"/v1/jobs/{jid}?wait=10").json
        self.assertEqual(job["state"], "dead")
        self.assertEqual(job["errors"][0]["code"], "AccessDenied")
        self.assertEqual(job["errors"][0]["class"], "access")
        self.assertTrue(job["errors"][0]["at"].endswith("Z"))
        self.assertIsNotNone(job["finishedAt"])

    def open_events(self, path="/v1/events", headers=None):
        """Reads an SSE stream (tests/lib/sse.py); returns the status and a queue of (id, event, data)."""
        status, q = sse.open_events(self.fw.port, self.reader, path, headers)
        self.assertEqual(status[0], "status", status)
        return status, q

    def collect(self, q, jid, until_state="succeeded", timeout=15):
        events = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not any(e["state"] == until_state for _, e in events):
            try:
                ev_id, name, ev = q.get(timeout=0.2)
            except queue.Empty:
                continue
            if ev["id"] == jid:
                self.assertEqual(name, "job")
                events.append((ev_id, ev))
        return events

    def test_events_stream_and_replay(self):
        status, q = self.open_events()
        self.assertEqual(status[1], 200)
        self.assertTrue(status[2].startswith("text/event-stream"))
        self.probe.worker(1)
        jid, _ = self.probe.enqueue("test.noop", resource="claim:sse")
        events = self.collect(q, jid)
        states = [e["state"] for _, e in events]
        self.assertEqual(states, ["queued", "running", "succeeded"])
        ev = events[-1][1]
        self.assertEqual(ev["type"], "job")
        self.assertEqual(ev["jobType"], "test.noop")
        self.assertEqual(ev["resource"], "claim:sse")
        self.assertTrue(ev["ts"].endswith("Z"))
        # A client that saw only "queued" reconnects and gets the rest.
        first_id = events[0][0]
        self.assertRegex(first_id, r"^\d+-\d+$")
        status, q2 = self.open_events(headers={"Last-Event-ID": first_id})
        self.assertEqual(status[1], 200)
        replay = self.collect(q2, jid, timeout=5)
        self.assertEqual([e["state"] for _, e in replay], ["running", "succeeded"])
        self.assertEqual([i for i, _ in replay], [i for i, _ in events[1:]])

    def test_a_client_far_behind_gets_every_event_it_missed(self):
        # A full log (10,000 events), more than the process's ring holds (4,096): a client
        # reconnecting from the oldest is replayed from the log, one short read at a time. (One
        # call read up to 64 times, ~6,000 events of ~230 bytes, overflowed the stream's 1 MiB
        # buffer and ended the stream before it sent anything: such a client got nothing, at
        # every reconnect.)
        n = 10000
        _, live = self.open_events()
        self.probe.r("EVAL", "for i = 1, tonumber(ARGV[1]) do local h = string.format('%024x', i) "
                     "redis.call('XADD', KEYS[1], 'MAXLEN', '~', '10000', '*', 's', '3', 'i', 'j_' .. h, "
                     "'t', 'test.far', 'r', 'fleet:far-behind-' .. h .. '-' .. h) end", "1", "fw:events:log", str(n))
        last = "j_%024x" % n
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:   # the process's ring now holds the newest 4,096
            try:
                if live.get(timeout=0.5)[2]["id"] == last:
                    break
            except queue.Empty:
                pass
        first = self.probe.r("XRANGE", "fw:events:log", "-", "+", "COUNT", "1")[0][0]
        status, q = self.open_events(headers={"Last-Event-ID": first})
        self.assertEqual(status[1], 200)
        got = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (not got or got[-1] != last):
            try:
                _, _, ev = q.get(timeout=0.5)
            except queue.Empty:
                continue
            if ev.get("jobType") == "test.far":
                got.append(ev["id"])
        want = ["j_%024x" % i for i in range(1, n + 1)]
        self.assertEqual(got, want[len(want) - len(got):], "in order, none twice")
        self.assertGreaterEqual(len(got), n - 1 - 1000, "every event after the client's last")

    def test_events_filter_and_errors(self):
        status, q = self.open_events("/v1/events?resource=claim:only")
        self.assertEqual(status[1], 200)
        self.probe.worker(1)
        other, _ = self.probe.enqueue("test.noop", resource="claim:other")
        mine, _ = self.probe.enqueue("test.noop", resource="claim:only")
        seen = []
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and ("succeeded", mine) not in seen:
            try:
                _, _, ev = q.get(timeout=0.2)
            except queue.Empty:
                continue
            seen.append((ev["state"], ev["id"]))
        self.assertIn(("succeeded", mine), seen)
        self.assertEqual({i for _, i in seen}, {mine}, "only the filtered resource's events")
        self.probe.wait_state(other, "succeeded")
        self.assertProblem(self.fw.request("GET", "/v1/events"), 401)
        self.assertProblem(self.get("/v1/events", headers={"Last-Event-ID": "nope"}), 400)
        self.assertProblem(self.get("/v1/events?type=a&resource=b"), 400)
        self.assertProblem(self.get("/v1/events?event=claim"), 400)


class JobsMetrics(ServiceTestCase):
    """fleetwarden serve with its own job workers: /metrics has the jobs series."""
    fw_args = ("serve",)
    fw_env = {"FLEETWARDEN_WORKERS": "2"}

    def test_metrics_series(self):
        probe = Probe(self.redis)
        for _ in range(3):
            probe.enqueue("test.noop", delay_ms=600000)
        r = self.fw.request("GET", "/metrics")
        self.assertEqual(r.status, 200, r)
        text = r.body.decode()
        for series in ('fleetwarden_jobs_queue_depth{lane="critical"} 0',
                       'fleetwarden_jobs_queue_depth{lane="bulk"} 0',
                       'fleetwarden_jobs{state="scheduled"} 3',
                       'fleetwarden_jobs_delayed 3',
                       "fleetwarden_jobs_dead 0",
                       "fleetwarden_jobs_retries_total ",
                       "fleetwarden_jobs_rate_limit_waits_total ",
                       "# TYPE fleetwarden_job_run_seconds histogram",
                       'fleetwarden_job_attempts_total{outcome="succeeded"}',
                       "fleetwarden_job_late_completions_rejected_total 0"):
            self.assertIn(series, text)
        ready = self.fw.request("GET", "/readyz")
        self.assertEqual(ready.status, 200, ready)
        self.assertEqual(ready.json["checks"]["workers"]["status"], "ok")
