"""The contract (openapi/openapi.yaml) against the code and the running binary.

- It lints clean with Redocly's CLI (tests/tools, pinned; installed by
  tests/tools/install-npm-tools.sh), no errors and no warnings.
- The route tables in routes/*.c and the spec's paths are the same set of
  (method, path), with the same scope.
- The running binary serves every spec operation (neither 405 nor its
  "no such path" 404) and /openapi.json is the YAML file as JSON.
- Its own rules: every operation has an operationId, tags and a summary;
  every JSON answer a schema; every request body an example; every error
  answer is a Problem; every $ref resolves.
- tests/lib/openapi_check.py, the response checker the harness runs on every
  response when FW_VALIDATE_RESPONSES=1, finds what it must find.
"""
import glob
import http.client
import json
import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import openapi_check as oc  # noqa: E402
from harness import ROOT, ServiceTestCase  # noqa: E402

SPEC = oc.load_spec()
SCOPES = {"SCOPE_NONE": None, "SCOPE_READ": "read", "SCOPE_OPERATE": "operate", "SCOPE_ADMIN": "admin"}
ROUTE_RE = re.compile(r'\{\s*"([A-Z]+)"\s*,\s*"(/[^"]*)"\s*,\s*(SCOPE_[A-Z]+)\s*,')
TOOLS = os.path.join(ROOT, "tests", "tools")
# Error statuses that are not Problems, on purpose: /readyz says why in its own document.
NOT_PROBLEMS = {("GET", "/readyz", "503")}


def registered_tables():
    """Names of the route tables routes/routes.c puts in the server's table list."""
    with open(os.path.join(ROOT, "routes", "routes.c"), encoding="utf-8") as f:
        text = f.read()
    body = text[text.index("s_tables[]"):]
    return re.findall(r"&(routes_\w+_table)", body[:body.index("};")])


def code_routes():
    """{(METHOD, pattern): scope name or None} of every route in a registered routes/*.c table."""
    tables = set(registered_tables())
    out, found = {}, set()
    for path in sorted(glob.glob(os.path.join(ROOT, "routes", "*.c"))):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        m = re.search(r"ROUTE_TABLE\((routes_\w+_table)\s*,\s*(\w+)\)", text)
        if not m or m.group(1) not in tables:
            continue
        found.add(m.group(1))
        arr = text[text.index(f"{m.group(2)}[]"):m.start()]
        for r in ROUTE_RE.finditer(arr):
            out[(r.group(1), r.group(2))] = SCOPES[r.group(3)]
    assert found == tables, f"route tables without a source file: {tables - found}"
    return out


def spec_operations(spec=SPEC):
    """{(METHOD, path): (operation, scope name or None)}."""
    out = {}
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method not in oc.METHODS:
                continue
            sec = op.get("security", spec.get("security", []))
            scopes = [s for req in sec for s in req.get("bearer", [])]
            out[(method.upper(), path)] = (op, scopes[0] if scopes else (None if not sec else "read"))
    return out


def walk(node, where="#"):
    if isinstance(node, dict):
        yield where, node
        for k, v in node.items():
            yield from walk(v, f"{where}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk(v, f"{where}/{i}")


class SpecFile(unittest.TestCase):

    def test_redocly_lint_is_clean(self):
        inst = subprocess.run(["bash", os.path.join(TOOLS, "install-npm-tools.sh")], capture_output=True, text=True,
                              timeout=600)
        self.assertEqual(inst.returncode, 0, f"could not install Redocly CLI: {inst.stderr[-2000:]}")
        r = subprocess.run([os.path.join(TOOLS, "node_modules", ".bin", "redocly"), "lint",
                            "--config", os.path.join(TOOLS, "redocly.yaml"), "--format=json",
                            os.path.join(ROOT, "openapi", "openapi.yaml")],
                           capture_output=True, text=True, timeout=120, cwd=ROOT)
        report = json.loads(r.stdout[r.stdout.index("{"):])
        problems = [f"{p['severity']} {p['ruleId']}: {p['message']} at {p['location'][0]['pointer']}"
                    for p in report["problems"]]
        self.assertEqual(report["totals"]["errors"] + report["totals"]["warnings"], 0, "\n".join(problems))
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])

    def test_spec_is_ascii(self):
        # openapi/yaml2c.py embeds the JSON as a C char array: a byte over 127 does not compile.
        with open(os.path.join(ROOT, "openapi", "openapi.yaml"), encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                self.assertTrue(line.isascii(), f"openapi.yaml:{n} has a non-ASCII character")

    def test_route_tables_and_spec_are_the_same_set(self):
        code = code_routes()
        spec = spec_operations()
        self.assertGreater(len(code), 5)
        only_code = sorted(set(code) - set(spec))
        only_spec = sorted(set(spec) - set(code))
        self.assertEqual(only_code, [], "routes served but not in openapi/openapi.yaml")
        self.assertEqual(only_spec, [], "paths in openapi/openapi.yaml that no route table serves")
        for key, scope in code.items():
            with self.subTest(route=key):
                self.assertEqual(spec[key][1], scope, "the spec's security scope differs from the route table's")

    def test_every_operation_is_documented(self):
        ids = set()
        for (method, path), (op, _) in spec_operations().items():
            with self.subTest(op=f"{method} {path}"):
                self.assertIn("operationId", op)
                self.assertNotIn(op["operationId"], ids)
                ids.add(op["operationId"])
                self.assertTrue(op.get("tags"))
                self.assertTrue(op.get("summary"))
                params = [oc.deref(SPEC, p) for p in op.get("parameters", []) +
                          SPEC["paths"][path].get("parameters", [])]
                declared = {p["name"] for p in params if p["in"] == "path"}
                self.assertEqual(declared, set(re.findall(r"\{(\w+)\}", path)))
                for p in params:
                    self.assertIn("schema", p)
                if "requestBody" in op:
                    for media, c in oc.deref(SPEC, op["requestBody"])["content"].items():
                        self.assertIn("schema", c)
                        self.assertTrue("example" in c or "examples" in c, f"{media} body has no example")
                self.assertTrue(op["responses"])
                for status, resp in op["responses"].items():
                    resp = oc.deref(SPEC, resp)
                    self.assertTrue(resp.get("description"))
                    for media, c in (resp.get("content") or {}).items():
                        self.assertIn("schema", c, f"{status} {media}")
                    if status[0] in "45" and (method, path, status) not in NOT_PROBLEMS:
                        self.assertEqual(list(resp["content"]), ["application/problem+json"], status)
                        self.assertEqual(resp["content"]["application/problem+json"]["schema"],
                                         {"$ref": "#/components/schemas/Problem"})

    def test_security_scopes(self):
        scheme = SPEC["components"]["securitySchemes"]["bearer"]
        self.assertEqual((scheme["type"], scheme["scheme"]), ("http", "bearer"))
        for (method, path), (op, scope) in spec_operations().items():
            with self.subTest(op=f"{method} {path}"):
                if path.startswith("/v1/"):
                    self.assertIn(scope, ("read", "operate", "admin"))
                    self.assertIn("401", op["responses"])
                    self.assertIn("403", op["responses"])
                else:
                    self.assertEqual(op.get("security"), [])

    def test_every_ref_resolves_and_examples_validate(self):
        for where, node in walk(SPEC):
            if isinstance(node.get("$ref"), str):
                with self.subTest(ref=node["$ref"], at=where):
                    oc.resolve(SPEC, node["$ref"])
        for (method, path), (op, _) in spec_operations().items():
            bodies = []
            if "requestBody" in op:
                bodies += list(oc.deref(SPEC, op["requestBody"])["content"].items())
            for resp in op["responses"].values():
                bodies += list((oc.deref(SPEC, resp).get("content") or {}).items())
            for media, c in bodies:
                exs = [c["example"]] if "example" in c else [e["value"] for e in c.get("examples", {}).values()]
                for ex in exs:
                    with self.subTest(op=f"{method} {path}", media=media):
                        self.assertEqual(oc.validate(ex, c["schema"], SPEC), [])


class Checker(unittest.TestCase):
    """openapi_check itself: what it must accept and what it must refuse."""

    def v(self, inst, schema):
        return oc.validate(inst, schema, {"components": {"schemas": {"N": {"type": "integer", "minimum": 1}}}})

    def test_schema_subset(self):
        ok = [
            (None, {"type": ["string", "null"]}),
            ("2026-11-28T05:22:00Z", {"type": "string", "format": "date-time"}),
            ({"a": 1}, {"type": "object", "required": ["a"], "properties": {"a": {"$ref": "#/components/schemas/N"}},
                        "additionalProperties": False}),
            ([1, 2], {"type": "array", "items": {"type": "integer", "maximum": 2}}),
            ("x", {"oneOf": [{"const": "x"}, {"type": "integer"}]}),
            ("ab", {"type": "string", "minLength": 2, "maxLength": 2, "pattern": "^a"}),
            ({"k": {"s": "ok"}}, {"type": "object", "additionalProperties": {"type": "object", "required": ["s"]}}),
            (3, {"anyOf": [{"type": "string"}, {"type": "integer"}]}),
            ("read", {"enum": ["read", "operate"]}),
        ]
        for inst, schema in ok:
            with self.subTest(inst=inst, schema=schema):
                self.assertEqual(self.v(inst, schema), [])
        bad = [
            (None, {"type": "string"}),
            (True, {"type": "integer"}),
            ("yesterday", {"type": "string", "format": "date-time"}),
            ({}, {"type": "object", "required": ["a"]}),
            ({"a": 1, "b": 2}, {"type": "object", "properties": {"a": {}}, "additionalProperties": False}),
            ({"a": 0}, {"type": "object", "properties": {"a": {"$ref": "#/components/schemas/N"}}}),
            ([1, "2"], {"type": "array", "items": {"type": "integer"}}),
            ("x", {"oneOf": [{"type": "string"}, {"const": "x"}]}),
            ("b", {"type": "string", "pattern": "^a"}),
            ("", {"type": "string", "minLength": 1}),
            (501, {"type": "integer", "maximum": 500}),
            ("admin", {"enum": ["read", "operate"]}),
            ("y", {"const": "x"}),
            ({"k": {}}, {"type": "object", "additionalProperties": {"type": "object", "required": ["s"]}}),
        ]
        for inst, schema in bad:
            with self.subTest(inst=inst, schema=schema):
                self.assertNotEqual(self.v(inst, schema), [])

    def test_strict_mode_refuses_undocumented_properties(self):
        schema = {"type": "object", "properties": {"a": {"type": "object", "properties": {"b": {}}}}}
        doc = {"a": {"b": 1, "c": 2}}
        self.assertEqual(oc.validate(doc, schema, SPEC), [])
        errs = oc.validate(doc, schema, SPEC, strict=True)
        self.assertEqual(len(errs), 1)
        self.assertIn("'c'", errs[0])
        open_schema = {"type": "object", "properties": {"a": {}}, "additionalProperties": True}
        self.assertEqual(oc.validate({"a": 1, "z": 2}, open_schema, SPEC, strict=True), [])
        self.assertTrue(oc.check_response(SPEC, "GET", "/healthz", 200, "application/json",
                                          '{"status": "ok", "version": "1", "uptime": 3}', strict=True))

    def check(self, method, path, status, body, ct="application/json"):
        return oc.check_response(SPEC, method, path, status, ct, json.dumps(body) if body is not None else "")

    def test_responses_against_the_spec(self):
        self.assertEqual(self.check("GET", "/healthz", 200, {"status": "ok", "version": "1.2.3"}), [])
        self.assertTrue(self.check("GET", "/healthz", 200, {"status": "fine", "version": "1.2.3"}))
        self.assertTrue(self.check("GET", "/healthz", 200, {"status": "ok"}))
        # A status the operation does not document is a mismatch.
        self.assertTrue(self.check("GET", "/healthz", 418, {}))
        # A path the spec does not have: only the server's 404 Problem is expected.
        problem = {"type": "about:blank", "title": "Not Found", "status": 404, "requestId": "r"}
        self.assertEqual(self.check("GET", "/nope", 404, problem, "application/problem+json"), [])
        self.assertTrue(self.check("GET", "/nope", 200, {}))
        self.assertTrue(self.check("GET", "/nope", 404, {"status": 404}, "application/problem+json"))
        # A method the path does not have: 405 Problem only.
        self.assertEqual(self.check("DELETE", "/healthz", 405, dict(problem, status=405),
                                    "application/problem+json"), [])
        self.assertTrue(self.check("DELETE", "/healthz", 200, {}))
        # Errors must be problem+json.
        self.assertTrue(self.check("GET", "/v1/tokens", 401, problem, "application/json"))
        # Query strings are ignored for matching; path parameters match one segment.
        self.assertEqual(self.check("DELETE", "/v1/tokens/tok_0123456789abcdef?x=1", 204, None, None), [])
        self.assertTrue(self.check("DELETE", "/v1/tokens/a/b", 204, None, None))


class Served(ServiceTestCase):
    """The running binary against the spec."""

    def test_openapi_json_is_the_yaml(self):
        r = self.fw.request("GET", "/openapi.json")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json, SPEC, "the binary embeds another openapi.yaml than the checkout's: rebuild")

    def concrete(self, path, op):
        params = {oc.deref(SPEC, p)["name"]: oc.deref(SPEC, p) for p in op.get("parameters", [])}

        def value(m):
            schema = params[m.group(1)]["schema"]
            if "example" in params[m.group(1)]:
                return str(params[m.group(1)]["example"])
            if "examples" in schema:
                return str(schema["examples"][0])
            return "probe-0"
        return re.sub(r"\{(\w+)\}", value, path)

    def test_every_spec_operation_is_served(self):
        ops = spec_operations()
        self.assertTrue(ops)
        for (method, path), (op, _) in sorted(ops.items()):
            url = self.concrete(path, op)
            with self.subTest(op=f"{method} {path}", url=url):
                # OPTIONS lists the path's methods in Allow.
                r = self.fw.request("OPTIONS", url)
                self.assertEqual(r.status, 204, r)
                self.assertIn(method, [m.strip() for m in r.header("Allow").split(",")])
                status, body = self.probe(method, url, op)
                self.assertNotEqual(status, 405, body)
                if status == 404:
                    self.assertNotIn("no such path", body)

    def probe(self, method, url, op):
        """Status and (short) body; a streaming answer is not read to its end."""
        streams = any("text/event-stream" in (oc.deref(SPEC, r).get("content") or {})
                      for r in op["responses"].values())
        body = {} if method in ("POST", "PUT", "PATCH") else None
        if not streams:
            r = self.fw.request(method, url, token=self.admin, body=body)
            return r.status, r.body.decode(errors="replace")
        conn = http.client.HTTPConnection("127.0.0.1", self.fw.port, timeout=10)
        try:
            conn.request(method, url, headers={"Authorization": f"Bearer {self.admin}"})
            r = conn.getresponse()
            return r.status, ""
        finally:
            conn.close()


if __name__ == "__main__":
    unittest.main()
