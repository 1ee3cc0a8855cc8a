"""Authentication, scopes, token lifecycle and the audit trail, through the real binary."""
import os
import time
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import ServiceTestCase  # noqa: E402

SCOPES = ["read", "operate", "admin"]


def spec_routes(spec):
    """(method, concrete path, required scope) for every authenticated route in the contract."""
    out = []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            sec = op.get("security", spec.get("security", []))
            scopes = [s for req in sec for s in req.get("bearer", [])]
            if not sec or not any("bearer" in req for req in sec):
                continue
            need = scopes[0] if scopes else "read"
            concrete = path.replace("{id}", "tok_0000000000000000").replace("{name}", "nofleet")
            out.append((method.upper(), concrete, need))
    return out


class Auth(ServiceTestCase):

    def test_no_token_is_401(self):
        p = self.assertProblem(self.fw.request("GET", "/v1/tokens"), 401)
        self.assertIn("Bearer", p["detail"])

    def test_malformed_and_unknown_tokens_are_401(self):
        for tok in ("garbage", "fw_" + "A" * 43, self.admin[:-1] + ("A" if self.admin[-1] != "A" else "B")):
            self.assertProblem(self.fw.request("GET", "/v1/tokens", token=tok), 401)
        r = self.fw.request("GET", "/v1/tokens", headers={"Authorization": "Basic YTpi"})
        self.assertProblem(r, 401)

    def test_token_lifecycle(self):
        r = self.fw.request("POST", "/v1/tokens", token=self.admin, body={"name": "portal", "scope": "operate"})
        self.assertEqual(r.status, 201, r)
        created = r.json
        self.assertTrue(created["token"].startswith("fw_"))
        self.assertEqual(r.header("Location"), f"/v1/tokens/{created['id']}")
        tok = created["token"]
        # Usable at once, with its scope.
        self.assertProblem(self.fw.request("GET", "/v1/tokens", token=tok), 403)
        # Listed without the secret.
        r = self.fw.request("GET", "/v1/tokens?limit=500", token=self.admin)
        listed = [t for t in r.json["items"] if t["id"] == created["id"]]
        self.assertEqual(len(listed), 1)
        self.assertEqual(listed[0]["scope"], "operate")
        self.assertNotIn("token", listed[0])
        self.assertNotIn(tok, r.body.decode())
        # The secret is not in Redis, only its hash.
        keys = self.redis.command("KEYS", "fw:*")
        dump = " ".join(keys) + " ".join(str(self.redis.command("HGETALL", k)) for k in keys
                                         if k.startswith("fw:token:"))
        self.assertNotIn(tok, dump)
        # Deleted: 204, then 401 for the token, 404 for a second delete.
        r = self.fw.request("DELETE", f"/v1/tokens/{created['id']}", token=self.admin)
        self.assertEqual(r.status, 204, r)
        self.assertProblem(self.fw.request("GET", "/v1/tokens", token=tok), 401)
        self.assertProblem(self.fw.request("DELETE", f"/v1/tokens/{created['id']}", token=self.admin), 404)

    def test_paging(self):
        for i in range(5):
            self.assertEqual(self.fw.request("POST", "/v1/tokens", token=self.admin,
                                             body={"name": f"page-{i}"}).status, 201)
        seen, cursor = [], None
        while True:
            q = "/v1/tokens?limit=2" + (f"&cursor={cursor}" if cursor else "")
            r = self.fw.request("GET", q, token=self.admin).json
            self.assertLessEqual(len(r["items"]), 2)
            seen += [t["id"] for t in r["items"]]
            cursor = r["nextCursor"]
            if not cursor:
                break
        self.assertEqual(len(seen), len(set(seen)))
        self.assertGreaterEqual(len(seen), 6)

    def test_paging_while_tokens_are_deleted(self):
        # The cursor was an offset into the tokens: deleting a token of an earlier page moved
        # every later one a place back, and the next page skipped one.
        made = []
        for i in range(4):
            r = self.fw.request("POST", "/v1/tokens", token=self.admin, body={"name": f"del-page-{i}"})
            self.assertEqual(r.status, 201, r)
            made.append(r.json["id"])
        every = [t["id"] for t in self.fw.request("GET", "/v1/tokens?limit=500", token=self.admin).json["items"]]
        self.assertEqual(set(every[-4:]), set(made), "oldest first")
        made = every[-4:]                   # tokens of one millisecond are in id order
        at = every.index(made[0]) + 2       # the first page ends with made[1]
        p1 = self.fw.request("GET", f"/v1/tokens?limit={at}", token=self.admin).json
        self.assertEqual(p1["items"][-1]["id"], made[1])
        r = self.fw.request("DELETE", f"/v1/tokens/{made[0]}", token=self.admin)
        self.assertEqual(r.status, 204, r)
        p2 = self.fw.request("GET", f"/v1/tokens?limit=1&cursor={p1['nextCursor']}", token=self.admin).json
        self.assertEqual([t["id"] for t in p2["items"]], [made[2]])
        p3 = self.fw.request("GET", f"/v1/tokens?limit=5&cursor={p2['nextCursor']}", token=self.admin).json
        self.assertEqual([t["id"] for t in p3["items"]], [made[3]])
        self.assertIsNone(p3["nextCursor"])
        # A cursor from before (an offset) still gives its page, and a keyset cursor after it.
        old = self.fw.request("GET", f"/v1/tokens?limit=1&cursor={len(every) - 2}", token=self.admin).json
        self.assertEqual([t["id"] for t in old["items"]], [made[3]])
        self.assertIsNone(old["nextCursor"])
        for bad in ("tok_x", "12.", ".tok_0", "1x", "12.TOK", "-1"):
            r = self.fw.request("GET", f"/v1/tokens?cursor={bad}", token=self.admin)
            self.assertEqual(self.assertProblem(r, 400)["errors"][0]["field"], "cursor", bad)

    def test_each_scope_against_each_route_class(self):
        tokens = {s: self.fw.token(s, f"scope-{s}") for s in SCOPES}
        spec = self.fw.request("GET", "/openapi.json").json
        routes = spec_routes(spec)
        self.assertTrue(routes)
        for method, path, need in routes:
            for s in SCOPES:
                body = {} if method in ("POST", "PUT", "PATCH") else None
                r = self.fw.request(method, path, token=tokens[s], body=body)
                allowed = SCOPES.index(s) >= SCOPES.index(need)
                with self.subTest(method=method, path=path, scope=s):
                    if allowed:
                        self.assertNotIn(r.status, (401, 403), r)
                    else:
                        self.assertProblem(r, 403)
                r = self.fw.request(method, path, body=body)
                self.assertProblem(r, 401)

    def test_audit_records_mutations(self):
        r = self.fw.request("POST", "/v1/tokens", token=self.admin, body={"name": "audited"},
                            headers={"X-Request-Id": "audit-me"})
        self.assertEqual(r.status, 201)
        time.sleep(1.05)   # 401s are sampled, one a second: this one is the first of its second
        self.fw.request("POST", "/v1/tokens", body={"name": "anon"}, headers={"X-Request-Id": "audit-anon"})
        self.fw.request("GET", "/v1/tokens", token=self.admin, headers={"X-Request-Id": "audit-get"})
        items = self.fw.request("GET", "/v1/audit?limit=500", token=self.admin).json["items"]
        by_id = {e["requestId"]: e for e in items}
        self.assertIn("audit-me", by_id)
        e = by_id["audit-me"]
        self.assertEqual((e["method"], e["path"], e["status"]), ("POST", "/v1/tokens", 201))
        self.assertTrue(e["tokenId"].startswith("tok_"))
        # a 401 is not in the audit trail (a flood of them would push the real entries out) but in
        # the sampled record of unauthenticated requests
        self.assertNotIn("audit-anon", by_id)
        self.assertNotIn(401, {e["status"] for e in items})
        r = self.fw.request("GET", "/v1/audit/unauthenticated", token=self.admin)
        self.assertEqual(r.status, 200, r)
        anon = r.json["items"]
        self.assertIn(("audit-anon", "POST", "/v1/tokens", "no token", "127.0.0.1"),
                      [(e["requestId"], e["method"], e["path"], e["reason"], e["address"]) for e in anon])
        self.assertNotIn("audit-get", by_id)
        # Newest first, paged by cursor.
        self.assertEqual(self.fw.request("POST", "/v1/tokens", token=self.admin, body={"name": "audited2"}).status, 201)
        page = self.fw.request("GET", "/v1/audit?limit=1", token=self.admin).json
        self.assertEqual(len(page["items"]), 1)
        nxt = self.fw.request("GET", f"/v1/audit?limit=1&cursor={page['nextCursor']}", token=self.admin).json
        self.assertLess(nxt["items"][0]["id"], page["items"][0]["id"])

    def test_token_create_cli(self):
        r = self.fw.run("token", "create", "--scope", "root", "--name", "x")
        self.assertEqual(r.returncode, 2)
        r = self.fw.run("token", "create", "--scope", "read")
        self.assertEqual(r.returncode, 2)
        r = self.fw.run("token", "create", "--scope", "read", "--name", "cli")
        self.assertEqual(r.returncode, 0, r.stderr)
        tok = r.stdout.strip()
        self.assertRegex(tok, r"^fw_[A-Za-z0-9_-]{43}$")
        self.assertNotIn(tok, r.stderr)
        self.assertEqual(self.fw.request("GET", "/healthz", token=tok).status, 200)


class LastAdmin(ServiceTestCase):
    """The last admin token cannot delete itself, however many tokens there are: admins are
    counted over every page, not the first 500."""

    def own_id(self, token, name):
        cursor, found = None, []
        while True:
            r = self.fw.request("GET", "/v1/tokens?limit=500" + (f"&cursor={cursor}" if cursor else ""),
                                token=token).json
            found += [t["id"] for t in r["items"] if t["name"] == name]
            cursor = r["nextCursor"]
            if not cursor:
                return found[0]

    def test_last_admin_however_many_tokens(self):
        first = self.own_id(self.admin, "admin")
        self.assertProblem(self.fw.request("DELETE", f"/v1/tokens/{first}", token=self.admin), 409)
        for i in range(600):                      # read tokens made before the second admin
            r = self.fw.request("POST", "/v1/tokens", token=self.admin, body={"name": f"r{i}", "scope": "read"})
            self.assertEqual(r.status, 201, r)
        second = self.fw.request("POST", "/v1/tokens", token=self.admin, body={"name": "second", "scope": "admin"})
        self.assertEqual(second.status, 201, second)
        # the second admin is past the first page of 500: the first admin may go
        r = self.fw.request("DELETE", f"/v1/tokens/{first}", token=self.admin)
        self.assertEqual(r.status, 204, r)
        # and now the second is the last one
        tok2 = second.json["token"]
        self.assertProblem(self.fw.request("DELETE", f"/v1/tokens/{second.json['id']}", token=tok2), 409)
