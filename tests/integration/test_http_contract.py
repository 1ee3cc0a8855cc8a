"""The HTTP contract through the real binary: problem details, limits, CORS, request ids."""
import os
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import ServiceTestCase, wait_until  # noqa: E402


class HttpContract(ServiceTestCase):
    fw_env = {"FLEETWARDEN_CORS_ORIGINS": "https://portal.example.com"}

    def test_unknown_path_is_404_problem(self):
        p = self.assertProblem(self.fw.request("GET", "/nope"), 404)
        self.assertIn("openapi", p["detail"])

    def test_wrong_method_is_405_with_allow(self):
        r = self.fw.request("DELETE", "/healthz")
        self.assertProblem(r, 405)
        self.assertEqual(r.header("Allow"), "GET")
        r = self.fw.request("PUT", "/v1/tokens", token=self.admin)
        self.assertProblem(r, 405)
        self.assertEqual(r.header("Allow"), "POST, GET")

    def test_bad_json_names_line_and_column(self):
        r = self.fw.request("POST", "/v1/tokens", token=self.admin,
                            raw=b'{"name": "x",\n  "scope": }', headers={"Content-Type": "application/json"})
        p = self.assertProblem(r, 400)
        self.assertIn("line 2", p["detail"])
        self.assertIn("column", p["detail"])

    def test_json_must_be_object(self):
        r = self.fw.request("POST", "/v1/tokens", token=self.admin, body=["a"])
        self.assertProblem(r, 400)

    def test_wrong_media_type_is_415(self):
        r = self.fw.request("POST", "/v1/tokens", token=self.admin, raw=b"<x/>",
                            headers={"Content-Type": "application/xml"})
        self.assertProblem(r, 415)

    def test_body_over_1mib_is_413(self):
        # The server answers as soon as Content-Length says too much, without reading
        # the body, so send only the headers and a little of it (a client that kept
        # writing would see the connection closed under it).
        size = 1024 * 1024 + 10
        s = socket.create_connection(("127.0.0.1", self.fw.port), timeout=10)
        s.sendall(b"POST /v1/tokens HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + self.admin.encode() +
                  b"\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{\"name\":\"" % size)
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = s.recv(4096)
            if not chunk:
                break
            head += chunk
        s.close()
        self.assertTrue(head.startswith(b"HTTP/1.1 413"), head[:200])
        self.assertIn(b"application/problem+json", head)

    def test_chunked_body_over_1mib_is_413(self):
        s = socket.create_connection(("127.0.0.1", self.fw.port), timeout=10)
        s.sendall(b"POST /v1/tokens HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + self.admin.encode() +
                  b"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"a" * 65536
        for _ in range(20):
            s.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        s.sendall(b"0\r\n\r\n")
        head = s.recv(4096)
        s.close()
        self.assertTrue(head.startswith(b"HTTP/1.1 413"), head[:100])

    def test_invalid_fields_are_listed(self):
        r = self.fw.request("POST", "/v1/tokens", token=self.admin, body={"name": "a/b", "scope": "root", "x": 1})
        p = self.assertProblem(r, 400)
        fields = sorted(e["field"] for e in p["errors"])
        self.assertEqual(fields, ["name", "scope", "x"])

    def test_request_id_echoed_or_generated(self):
        r = self.fw.request("GET", "/healthz", headers={"X-Request-Id": "abc-123"})
        self.assertEqual(r.header("X-Request-Id"), "abc-123")
        r = self.fw.request("GET", "/healthz", headers={"X-Request-Id": "bad id with spaces"})
        self.assertNotEqual(r.header("X-Request-Id"), "bad id with spaces")
        self.assertRegex(r.header("X-Request-Id"), r"^[0-9a-f]{32}$")
        r = self.fw.request("GET", "/nope", headers={"X-Request-Id": "trace-77"})
        self.assertEqual(r.json["requestId"], "trace-77")
        # The access line is written when the request completes, just after the answer is sent.
        wait_until(lambda: any(x.get("requestId") == "trace-77" for x in self.fw.log_lines()), timeout=5,
                   what="access log line")
        lines = [x for x in self.fw.log_lines() if x.get("requestId") == "trace-77"]
        self.assertEqual(len(lines), 1)
        self.assertEqual(lines[0]["status"], 404)
        self.assertEqual(lines[0]["path"], "/nope")

    def test_access_log_has_token_id_never_token(self):
        self.fw.request("GET", "/v1/tokens", token=self.admin, headers={"X-Request-Id": "log-check"})
        wait_until(lambda: any(x.get("requestId") == "log-check" for x in self.fw.log_lines()), timeout=5,
                   what="access log line")
        line = [x for x in self.fw.log_lines() if x.get("requestId") == "log-check"][0]
        self.assertTrue(line["tokenId"].startswith("tok_"))
        self.assertEqual(line["method"], "GET")
        self.assertIn("durationMs", line)
        self.assertNotIn(self.admin, self.fw.logs())

    def test_cors_preflight_allowed_origin(self):
        r = self.fw.request("OPTIONS", "/v1/tokens", headers={
            "Origin": "https://portal.example.com", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type"})
        self.assertEqual(r.status, 204)
        self.assertEqual(r.header("Access-Control-Allow-Origin"), "https://portal.example.com")
        self.assertIn("POST", r.header("Access-Control-Allow-Methods"))
        self.assertIn("Authorization", r.header("Access-Control-Allow-Headers"))
        self.assertEqual(r.header("Vary"), "Origin")

    def test_cors_preflight_other_origin_refused(self):
        r = self.fw.request("OPTIONS", "/v1/tokens", headers={
            "Origin": "https://evil.example.com", "Access-Control-Request-Method": "POST"})
        self.assertProblem(r, 403)
        self.assertIsNone(r.header("Access-Control-Allow-Origin"))

    def test_cors_headers_on_actual_request(self):
        r = self.fw.request("GET", "/v1/tokens", token=self.admin, headers={"Origin": "https://portal.example.com"})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("Access-Control-Allow-Origin"), "https://portal.example.com")
        self.assertIn("X-Request-Id", r.header("Access-Control-Expose-Headers"))
        r = self.fw.request("GET", "/v1/tokens", token=self.admin, headers={"Origin": "https://evil.example.com"})
        self.assertIsNone(r.header("Access-Control-Allow-Origin"))

    def test_ops_endpoints(self):
        r = self.fw.request("GET", "/healthz")
        self.assertEqual(r.json["status"], "ok")
        r = self.fw.request("GET", "/readyz")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["checks"]["redis"]["status"], "ok")
        r = self.fw.request("GET", "/metrics")
        text = r.body.decode()
        self.assertIn('fleetwarden_build_info{version="', text)
        self.assertIn('fleetwarden_http_requests_total{method="GET",route="/healthz",status="200"}', text)
        self.assertIn("fleetwarden_http_request_duration_seconds_bucket", text)

    def test_openapi_describes_every_route(self):
        spec = self.fw.request("GET", "/openapi.json").json
        self.assertTrue(spec["openapi"].startswith("3.1"))
        for path in ("/healthz", "/readyz", "/metrics", "/openapi.json", "/v1/tokens", "/v1/tokens/{id}",
                     "/v1/audit"):
            self.assertIn(path, spec["paths"])

    def test_encoded_nul_in_path_is_400(self):
        r = self.fw.request("GET", "/healthz%00.txt")
        p = self.assertProblem(r, 400)
        self.assertIn("NUL", p["detail"])

    def test_limit_validation(self):
        for bad in ("0", "501", "x", "-1"):
            r = self.fw.request("GET", f"/v1/tokens?limit={bad}", token=self.admin)
            p = self.assertProblem(r, 400)
            self.assertEqual(p["errors"][0]["field"], "limit")
        r = self.fw.request("GET", "/v1/tokens?cursor=zz", token=self.admin)
        self.assertProblem(r, 400)
