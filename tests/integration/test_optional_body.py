"""Optional JSON bodies through the real binary: POST /v1/watch/run and
POST /v1/incidents/{id}/ack and /resolve take a body that may be absent
(openapi: requestBody required: false). What each route answers to no body
at all, an empty body, {}, JSON that is no object (null, an array, a
scalar), malformed JSON, unknown members and duplicate members: the answers
a client sees, so one parser for every optional body
(http_req_optional_object) is shown to answer as the routes did. The claim
routes that take an optional body (rotate, enable) are checked the same way
in test_claims.Validation.test_optional_bodies.
"""
import http.client
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import Response, ServiceTestCase  # noqa: E402

# Bodies that are not one JSON object: every optional-body route refuses them.
NOT_AN_OBJECT = [b"null", b"[]", b"[{}]", b"1", b'"x"', b"true", b"{", b'{"a":', b"{} {}", b"\xff",
                 b"{'a': 1}"]
WATCH_DETAIL = "the body must be empty or {}"
NOTE_DETAIL = 'the body must be empty or {"note": "..."}'
NO_INCIDENT = "inc_000000000000000000000000"


class OptionalBodies(ServiceTestCase):
    def post(self, path, raw=None, length=True):
        """POST raw bytes as application/json; raw None with length False sends no Content-Length
        at all (no body), raw None with length True sends Content-Length: 0."""
        if length:
            headers = {"Content-Type": "application/json"} if raw else {}
            return self.fw.request("POST", path, token=self.admin, raw=raw if raw is not None else b"",
                                   headers=headers)
        conn = http.client.HTTPConnection("127.0.0.1", self.fw.port, timeout=30)
        try:
            conn.putrequest("POST", path)
            conn.putheader("Authorization", "Bearer " + self.admin)
            conn.endheaders()
            r = conn.getresponse()
            return Response(r.status, r.getheaders(), r.read())
        finally:
            conn.close()

    def refused(self, r, detail, fields, title="Bad Request"):
        p = self.assertProblem(r, 400)
        self.assertEqual((p["title"], p["detail"]), (title, detail), p)
        self.assertEqual([e["field"] for e in p.get("errors", [])], fields, p)
        return p

    def incident_paths(self):
        return ["/v1/incidents/%s/%s" % (NO_INCIDENT, verb) for verb in ("ack", "resolve")]

    def test_watch_run_takes_no_body_or_an_empty_object(self):
        for raw, length in ((None, False), (None, True), (b"{}", True), (b" {\n} ", True)):
            r = self.post("/v1/watch/run", raw, length)
            self.assertEqual(r.status, 202, (raw, length, r))
            self.assertTrue(r.json["job"]["id"].startswith("j_"), r.json)

    def test_watch_run_refuses_anything_else(self):
        for raw in NOT_AN_OBJECT + [b'{"x": 1}', b'{"reason": "api"}', b'{"a": 1, "a": 2}']:
            p = self.refused(self.post("/v1/watch/run", raw), WATCH_DETAIL, ["body"])
            self.assertEqual(p["errors"][0]["message"], "no members are accepted")

    def test_incident_note_is_optional(self):
        """A body the route accepts passes on to the incident (404 here: there is none)."""
        bodies = [(None, False), (None, True), (b"{}", True), (b'{"note": "looking"}', True),
                  (('{"note": "%s"}' % ("n" * 500)).encode(), True), (b'{"note": ""}', True)]
        for path in self.incident_paths():
            for raw, length in bodies:
                r = self.post(path, raw, length)
                p = self.assertProblem(r, 404)
                self.assertEqual(p["detail"], "no incident with this id", (path, raw))

    def test_incident_refuses_other_bodies(self):
        bad = NOT_AN_OBJECT + [b'{"note": 1}', b'{"note": null}', b'{"note": ["a"]}', b'{"x": 1}',
                               b'{"note": "a", "x": 1}', ('{"note": "%s"}' % ("n" * 501)).encode()]
        for path in self.incident_paths():
            for raw in bad:
                p = self.refused(self.post(path, raw), NOTE_DETAIL, ["note"])
                self.assertEqual(p["errors"][0]["message"], "optional: a string of at most 500 characters")

    def test_blank_body_is_no_body(self):
        """Whitespace only is no body, as on the claim routes (before the one parser, the watch and
        incident routes answered 400 to it)."""
        for raw in (b" ", b"\r\n", b" \t\n "):
            self.assertEqual(self.post("/v1/watch/run", raw).status, 202, raw)
            for path in self.incident_paths():
                self.assertProblem(self.post(path, raw), 404)

    def test_duplicate_members_are_refused(self):
        """Two members of one name are refused, as on every other JSON body (before the one parser,
        a note given twice was taken, the last one winning)."""
        for path in self.incident_paths():
            self.refused(self.post(path, b'{"note": "a", "note": "b"}'), NOTE_DETAIL, ["note"])
