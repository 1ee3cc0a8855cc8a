"""Claims (issue 7) end to end: the real binary, a real Redis, the AWS emulator.

Each key source end to end (the emulator's certificate holds the key the
bundle gives, or the CSR's key), the bundle exactly once (also under
concurrent downloads), TTL erasure of an undownloaded key, rotation with
grace and retention, automatic rotation, disable/enable/revoke, delete,
input validation, and at the end a scan of every log and of the emulator's
recorded calls for private keys and API tokens.
"""
import collections
import json
import threading
import time
import unittest
import urllib.parse

import claims_lib as cl

ROOT_CA_PATH = "/usr/share/ca-certificates/mozilla/Amazon_Root_CA_1.crt"


class ClaimsBase(unittest.TestCase):
    env_vars = {}

    @classmethod
    def setUpClass(cls):
        cls.env = cl.ClaimsEnv(env=cls.env_vars)
        cls.policy = cls.env.make_fleet("f1", rotation={"graceSeconds": 2, "retentionSeconds": 2})

    @classmethod
    def tearDownClass(cls):
        try:
            hits = cl.find_secrets(cls.env.all_logs())
            calls = json.dumps(cls.env.emu.control("GET", "calls"))
            hits += cl.find_secrets(calls)
            if hits:
                raise AssertionError("secrets in logs or recorded AWS calls: %s" % hits[:5])
        finally:
            cls.env.stop()

    def create(self, body=None, fleet="f1", wait=True):
        r = self.env.req("POST", "/v1/fleets/%s/claims" % fleet, body=body or {})
        self.assertEqual(r.status, 202, r)
        # the claim as it is when the answer is written: a worker of this process may have made it
        # active already (seen on a loaded machine)
        self.assertIn(r.json["claim"]["state"], ("creating", "active"))
        self.assertEqual(r.header("Location"), r.json["job"]["href"])
        cid = r.json["claim"]["id"]
        if wait:
            c = self.env.wait_claim(cid, ["active", "failed"])
            self.assertEqual(c["state"], "active", c)
            return c
        return r.json

    def emu_cert(self, cert_id):
        return self.env.emu_certs().get(cert_id)

    def bundle(self, cid):
        return self.env.req("GET", "/v1/claims/%s/bundle" % cid)


class KeySources(ClaimsBase):
    def check_active_cert(self, c):
        cert = self.emu_cert(c["certificateId"])
        self.assertIsNotNone(cert)
        self.assertEqual(cert["status"], "ACTIVE")
        self.assertIn(c["certificateArn"], self.env.emu_targets(self.policy))
        return cert

    def test_generated_ec_default(self):
        c = self.create({"expectedDevices": 25, "note": "line 3"})
        self.assertEqual((c["keySource"], c["keyType"]), ("generated", "ec-p256"))
        self.assertEqual(c["expectedDevices"], 25)
        self.assertEqual(c["note"], "line 3")
        self.assertIsNone(c["registrations"])
        self.assertTrue(c["privateKeyHeld"])
        self.assertEqual(c["expiresAt"], "2049-12-31T23:59:59.000Z")
        cert = self.check_active_cert(c)
        b = self.bundle(c["id"])
        self.assertEqual(b.status, 200, b)
        self.assertEqual(b.header("Cache-Control"), "no-store")
        body = b.json
        self.assertEqual(cl.cert_spki(cert["certificatePem"]), cl.key_spki(body["privateKeyPem"]))
        self.assertEqual(body["certificatePem"].strip(), cert["certificatePem"].strip())
        with open(ROOT_CA_PATH) as f:
            self.assertEqual(body["rootCaPem"].strip(), f.read().strip())
        self.assertIn("/greengrass/v2/claim-certs/claim.pem.crt", body["greengrassConfig"])
        after = self.env.claim(c["id"])
        self.assertTrue(after["bundleDownloaded"])
        self.assertFalse(after["privateKeyHeld"])
        self.assertIsNotNone(after["bundleDownloadedAt"])
        again = self.bundle(c["id"])
        self.assertEqual(again.status, 410, again)
        self.assertEqual(again.header("Content-Type"), "application/problem+json")
        audit = self.env.req("GET", "/v1/audit?limit=100", token=self.env.admin).json["items"]
        paths = [(a.get("method"), a.get("path"), a.get("status")) for a in audit]
        self.assertIn(("GET", "/v1/claims/%s/bundle" % c["id"], 200), paths)
        self.assertIn(("GET", "/v1/claims/%s/bundle" % c["id"], 410), paths)

    def test_generated_rsa2048(self):
        c = self.create({"keyType": "rsa2048"})
        self.assertEqual(c["keyType"], "rsa2048")
        cert = self.check_active_cert(c)
        key = self.bundle(c["id"]).json["privateKeyPem"]
        self.assertEqual(cl.cert_spki(cert["certificatePem"]), cl.key_spki(key))
        from cryptography.hazmat.primitives import serialization
        self.assertEqual(serialization.load_pem_private_key(key.encode(), None).key_size, 2048)

    def test_csr(self):
        for kind in ("ec256", "ec384", "rsa2048"):
            key, csr = cl.make_csr(kind)
            c = self.create({"keySource": "csr", "csr": csr, "expectedDevices": 5})
            self.assertEqual(c["keySource"], "csr")
            self.assertFalse(c["privateKeyHeld"])
            cert = self.check_active_cert(c)
            self.assertEqual(cl.cert_spki(cert["certificatePem"]), cl.spki_der(key.public_key()))
            b = self.bundle(c["id"]).json
            self.assertIsNone(b["privateKeyPem"])
            self.assertEqual(cl.cert_spki(b["certificatePem"]), cl.spki_der(key.public_key()))

    def test_aws(self):
        c = self.create({"keySource": "aws"})
        self.assertEqual((c["keySource"], c["keyType"]), ("aws", "rsa2048"))
        self.assertTrue(c["privateKeyHeld"])
        cert = self.check_active_cert(c)
        key = self.bundle(c["id"]).json["privateKeyPem"]
        self.assertEqual(cl.cert_spki(cert["certificatePem"]), cl.key_spki(key))
        self.assertEqual(self.bundle(c["id"]).status, 410)

    def test_idempotency_key(self):
        h = {"Idempotency-Key": "batch-42"}
        r1 = self.env.req("POST", "/v1/fleets/f1/claims", body={"note": "a"}, headers=h)
        r2 = self.env.req("POST", "/v1/fleets/f1/claims", body={"note": "a"}, headers=h)
        self.assertEqual((r1.status, r2.status), (202, 202), (r1, r2))
        self.assertEqual(r1.json["claim"]["id"], r2.json["claim"]["id"])
        self.assertEqual(r1.json["job"]["id"], r2.json["job"]["id"])
        r3 = self.env.req("POST", "/v1/fleets/f1/claims", body={"note": "b"}, headers=h)
        self.assertEqual(r3.status, 422, r3)
        other = self.env.req("POST", "/v1/fleets/f1/claims", body={"note": "a"}, headers={"Idempotency-Key": "k2"})
        self.assertNotEqual(other.json["claim"]["id"], r1.json["claim"]["id"])
        self.env.wait_claim(r1.json["claim"]["id"], ["active"])

    def test_list_filters_and_paging(self):
        ids = [self.create(wait=False)["claim"]["id"] for _ in range(3)]
        for cid in ids:
            self.env.wait_claim(cid, ["active"])
        r = self.env.req("GET", "/v1/claims?fleet=f1&state=active&limit=2", token=self.env.read)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(len(r.json["items"]), 2)
        self.assertTrue(all(i["state"] == "active" and i["fleet"] == "f1" for i in r.json["items"]))
        seen, cursor = [], None
        while True:
            q = "/v1/claims?fleet=f1&limit=2" + ("&cursor=" + cursor if cursor else "")
            page = self.env.req("GET", q, token=self.env.read).json
            seen += [i["id"] for i in page["items"]]
            cursor = page["nextCursor"]
            if not cursor:
                break
        self.assertTrue(set(ids) <= set(seen))
        self.assertEqual(len(seen), len(set(seen)))
        self.assertEqual(self.env.req("GET", "/v1/claims?fleet=nope", token=self.env.read).json["items"], [])


class PagingWhileCreating(ClaimsBase):
    """GET /v1/claims pages newest first while claims are being created (a
    bulk creation or a rotation is when operators look): no claim shows
    twice, and every claim that existed before the first page shows once."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ids = [cls.env.req("POST", "/v1/fleets/f1/claims", body={}).json["claim"]["id"] for _ in range(12)]
        for cid in ids:
            cls.env.wait_claim(cid, ["active"])

    def one_page(self, query):
        r = self.env.req("GET", "/v1/claims?limit=500&" + query, token=self.env.read)
        self.assertEqual(r.status, 200, r)
        self.assertIsNone(r.json["nextCursor"])
        return [i["id"] for i in r.json["items"]]

    def page_while_creating(self, query):
        """Pages with limit=5, creating 5 claims before each next page.
        Returns (ids before, ids seen, items seen, the last nextCursor)."""
        before = self.one_page(query)
        self.assertGreaterEqual(len(before), 12)
        seen, items, made, cursor = [], [], [], None
        for _ in range(len(before) // 5 + 2):  # an offset cursor never ends here: new claims keep pushing
            q = "/v1/claims?limit=5&" + query + ("&cursor=" + urllib.parse.quote(cursor) if cursor else "")
            r = self.env.req("GET", q, token=self.env.read)
            self.assertEqual(r.status, 200, r)
            self.assertLessEqual(len(r.json["items"]), 5)
            items += r.json["items"]
            cursor = r.json["nextCursor"]
            if not cursor:
                break
            made += [self.create(wait=False)["claim"]["id"] for _ in range(5)]
        for cid in made:
            self.env.wait_claim(cid, ["active"])
        return before, [i["id"] for i in items], items, cursor

    def check(self, before, seen, cursor):
        dups = [cid for cid, n in collections.Counter(seen).items() if n > 1]
        self.assertEqual(dups, [])
        self.assertEqual([cid for cid in before if cid not in seen], [])
        self.assertIsNone(cursor, "paging did not end")

    def test_all_states(self):
        before, seen, _, cursor = self.page_while_creating("fleet=f1")
        self.check(before, seen, cursor)
        self.assertEqual(seen, before)  # newest first, and nothing created after the first page

    def test_state_filter(self):
        before, seen, items, cursor = self.page_while_creating("fleet=f1&state=active")
        self.check(before, seen, cursor)
        self.assertTrue(all(i["state"] == "active" and i["fleet"] == "f1" for i in items))

    # Records written straight into Redis (the store_claim.h and store_claim_index.h layout):
    # many claims in one millisecond, and more claims than a page could scan.
    SEED_LUA = """
for i = 1, tonumber(ARGV[2]) do
  local id = 'clm_' .. ARGV[5] .. string.format('%016x', i * tonumber(ARGV[6]))
  redis.call('HSET', 'fw:claim:' .. id, 'id', id, 'fleet', ARGV[1], 'state', ARGV[4], 'keySource', 'generated',
             'keyType', 'ec-p256', 'bundleDownloaded', '0', 'keyHeld', '0', 'created', ARGV[3], 'updated', ARGV[3])
  redis.call('ZADD', 'fw:claims:f:' .. ARGV[1], ARGV[3], id)
  redis.call('ZADD', 'fw:claims:fs:' .. ARGV[1] .. ':' .. ARGV[4], ARGV[3], id)
  redis.call('ZADD', 'fw:claims:s:' .. ARGV[4], ARGV[3], id)
end
"""

    def seed(self, fleet, n, ms, state, tag, step=1):
        self.env.redis.command("EVAL", self.SEED_LUA, "0", fleet, n, ms, state, tag, step)
        return ["clm_%s%016x" % (tag, i * step) for i in range(1, n + 1)]

    def page_all(self, query):
        pages, cursor = [], None
        while True:
            q = "/v1/claims?limit=5&" + query + ("&cursor=" + urllib.parse.quote(cursor) if cursor else "")
            r = self.env.req("GET", q, token=self.env.read)
            self.assertEqual(r.status, 200, r)
            pages.append([i["id"] for i in r.json["items"]])
            cursor = r.json["nextCursor"]
            if not cursor or len(pages) > 50:
                return pages, cursor

    def test_one_millisecond_pages_by_id(self):
        same = self.seed("ties", 12, 1700000000000, "active", "aaaaaaaa", step=2)
        older = self.seed("ties", 3, 1699999999999, "active", "bbbbbbbb")
        pages, cursor = self.page_all("fleet=ties")
        self.assertIsNone(cursor)
        self.assertEqual([len(p) for p in pages], [5, 5, 5])
        self.assertEqual(sum(pages, []), sorted(same, reverse=True) + sorted(older, reverse=True))
        # A cursor names a position, not an entry: an id between two of that
        # millisecond's goes on with the smaller ones, then the older claims.
        between = "1700000000000.clm_aaaaaaaa%016x" % 13
        r = self.env.req("GET", "/v1/claims?fleet=ties&limit=500&cursor=" + between, token=self.env.read)
        self.assertEqual(r.status, 200, r)
        self.assertEqual([i["id"] for i in r.json["items"]],
                         ["clm_aaaaaaaa%016x" % i for i in (12, 10, 8, 6, 4, 2)] + sorted(older, reverse=True))

    def test_sparse_filter_gives_full_pages(self):
        """Two active claims behind 6,000 newer inactive ones: the state index gives them on the
        first page (a scan of the fleet's claims gave an empty page and a cursor after 5,000)."""
        wanted = self.seed("sparse", 2, 1600000000000, "active", "cccccccc")
        self.seed("sparse", 6000, 1600000000001, "inactive", "dddddddd")
        pages, cursor = self.page_all("fleet=sparse&state=active")
        self.assertIsNone(cursor)
        self.assertEqual(pages, [sorted(wanted, reverse=True)])
        r = self.env.req("GET", "/v1/claims?state=active&limit=500", token=self.env.read)
        self.assertTrue(set(wanted) <= {i["id"] for i in r.json["items"]}, r)

    def test_malformed_cursor_is_400(self):
        for bad in ("5", "abc", "1795845939294", "1795845939294.clm_zz", "-1.clm_000000000000000000000000",
                    "1795845939294.clm_000000000000000000000000x", "x" * 300):
            r = self.env.req("GET", "/v1/claims?fleet=f1&cursor=" + urllib.parse.quote(bad), token=self.env.read)
            self.assertEqual(r.status, 400, (bad, r))
            self.assertEqual(r.header("Content-Type"), "application/problem+json")
            self.assertIn("cursor", [e["field"] for e in r.json["errors"]], r)


class ClaimIndexUpgrade(unittest.TestCase):
    """A Redis holding claims of a version without the state indexes: `serve` indexes them at
    start-up (in the background; P claims:idx marks the end), and filtered lists are right
    before and after. The migration also repairs what an older process left in a wrong index."""

    OLD_LUA = """
for i = 1, tonumber(ARGV[2]) do
  local id = 'clm_' .. ARGV[5] .. string.format('%016x', i)
  local ms = tonumber(ARGV[3]) + i
  redis.call('HSET', 'fw:claim:' .. id, 'id', id, 'fleet', ARGV[1], 'state', ARGV[4], 'keySource', 'generated',
             'keyType', 'ec-p256', 'bundleDownloaded', '0', 'keyHeld', '0', 'created', ms, 'updated', ms)
  redis.call('ZADD', 'fw:claims', ms, id)
  redis.call('ZADD', 'fw:claims:f:' .. ARGV[1], ms, id)
end
"""

    @classmethod
    def setUpClass(cls):
        cls.redis = cl.harness.Redis().start()
        old = cls.redis.command
        cls.active = ["clm_aaaaaaaa%016x" % i for i in (3, 2, 1)]
        old("EVAL", cls.OLD_LUA, "0", "old", 3, 1600000000000, "active", "aaaaaaaa")
        old("EVAL", cls.OLD_LUA, "0", "old", 6000, 1600000001000, "revoked", "bbbbbbbb")
        old("EVAL", cls.OLD_LUA, "0", "other", 2, 1600000009000, "active", "cccccccc")
        cls.fw = None

    @classmethod
    def tearDownClass(cls):
        try:
            if cls.fw:
                code = cls.fw.stop()
                assert code == 0, cls.fw.logs()[-3000:]
        finally:
            cls.redis.stop()

    def serve(self):
        if self.__class__.fw:
            self.assertEqual(self.__class__.fw.stop(), 0)
        fw = self.__class__.fw = cl.harness.Fleetwarden(self.redis, args=("serve", "--no-workers")).start()
        cl.harness.wait_until(lambda: self.redis.command("GET", "fw:claims:idx") == "1", timeout=60,
                              what="the claims' state indexes")
        return fw, fw.token("read", "reader")

    def ids(self, fw, tok, query):
        r = fw.request("GET", "/v1/claims?limit=50&" + query, token=tok)
        self.assertEqual(r.status, 200, r)
        return [i["id"] for i in r.json["items"]], r.json["nextCursor"]

    def test_1_old_claims_are_indexed_at_start_up(self):
        fw, tok = self.serve()
        self.assertEqual(self.redis.command("ZCARD", "fw:claims:s:revoked"), 6000)
        self.assertEqual(self.redis.command("ZCARD", "fw:claims:fs:old:active"), 3)
        self.assertEqual(self.ids(fw, tok, "fleet=old&state=active"), (self.active, None))
        got, cursor = self.ids(fw, tok, "state=active")
        self.assertEqual(got, ["clm_cccccccc%016x" % i for i in (2, 1)] + self.active)
        self.assertIsNone(cursor)
        got, cursor = self.ids(fw, tok, "fleet=old&state=revoked")
        self.assertEqual(len(got), 50)
        self.assertEqual(got[0], "clm_bbbbbbbb%016x" % 6000)
        self.assertIsNotNone(cursor)
        self.assertIn("claims indexed by state", fw.logs())

    def test_2_entries_in_a_wrong_index_are_skipped_then_repaired(self):
        fw, tok = self.serve()
        stale = "clm_bbbbbbbb%016x" % 6000     # revoked, as an older process may leave it in "active"
        self.redis.command("ZADD", "fw:claims:s:active", 1600000007000, stale)
        self.redis.command("ZADD", "fw:claims:fs:old:active", 1600000007000, stale)
        self.assertEqual(self.ids(fw, tok, "fleet=old&state=active"), (self.active, None))
        self.redis.command("DEL", "fw:claims:idx")   # what an operator does to re-run the migration
        fw, tok = self.serve()
        self.assertIsNone(self.redis.command("ZSCORE", "fw:claims:fs:old:active", stale))
        self.assertIsNone(self.redis.command("ZSCORE", "fw:claims:s:active", stale))
        self.assertEqual(self.ids(fw, tok, "fleet=old&state=active"), (self.active, None))


class Validation(ClaimsBase):
    def bad(self, body, field, status=400, fleet="f1"):
        r = self.env.req("POST", "/v1/fleets/%s/claims" % fleet, body=body)
        self.assertEqual(r.status, status, r)
        if field:
            self.assertIn(field, [e["field"] for e in r.json.get("errors", [])], r)
        return r

    def test_fields(self):
        self.bad({"keySource": "hsm"}, "keySource")
        self.bad({"keyType": "ed25519"}, "keyType")
        self.bad({"keySource": "aws", "keyType": "ec-p256"}, "keyType")
        self.bad({"keySource": "csr"}, "csr")
        self.bad({"csr": "x"}, "csr")
        self.bad({"expectedDevices": 0}, "expectedDevices")
        self.bad({"expectedDevices": "5"}, "expectedDevices")
        self.bad({"note": "x" * 501}, "note")
        self.bad({"surprise": 1}, "surprise")
        self.assertEqual(self.env.req("POST", "/v1/fleets/f1/claims", body={"note": "é" * 500}).status, 202)

    def test_bad_csrs(self):
        self.bad({"keySource": "csr", "csr": "not a pem"}, "csr")
        _, weak = cl.make_csr("rsa1024")
        r = self.bad({"keySource": "csr", "csr": weak}, "csr")
        self.assertIn("2048", json.dumps(r.json))
        _, good = cl.make_csr("ec256")
        lines = good.splitlines()
        mid = len(lines) // 2
        tampered = lines[:mid] + [lines[mid][:10] + ("A" if lines[mid][10] != "A" else "B") + lines[mid][11:]] \
            + lines[mid + 1:]
        self.bad({"keySource": "csr", "csr": "\n".join(tampered) + "\n"}, "csr")
        self.bad({"keySource": "csr", "csr": good + good}, "csr")

    def test_optional_bodies(self):
        """enable and rotate take an optional body: none, empty, blank or {} are taken (enable queues
        its job: 202), what is not one JSON object is 400 Malformed JSON, an unknown member 400
        naming it (test_optional_body.py checks the watch and incident routes)."""
        c = self.create()
        enable, rotate = "/v1/claims/%s/enable" % c["id"], "/v1/claims/%s/rotate" % c["id"]
        json_type = {"Content-Type": "application/json"}
        for raw in (None, b"", b" \r\n\t", b"{}"):
            r = self.env.req("POST", enable, raw=raw, headers=json_type if raw else {})
            self.assertEqual(r.status, 202, (raw, r))
            self.assertEqual(self.env.wait_job(r.json["job"]["id"])["state"], "succeeded")
        for path in (enable, rotate):
            for raw in (b"null", b"[]", b"1", b'"x"', b"{", b"{} {}", b"\xff", b'{"a": 1, "a": 2}'):
                r = self.env.req("POST", path, raw=raw, headers=json_type)
                self.assertEqual(r.status, 400, (path, raw, r))
                self.assertEqual((r.json["title"], r.json["detail"]),
                                 ("Malformed JSON", "the body must be a JSON object"), (path, raw))
            r = self.env.req("POST", path, body={"surprise": 1})
            self.assertEqual(r.status, 400, r)
            self.assertEqual([e["field"] for e in r.json["errors"]], ["surprise"])
        self.assertEqual(self.env.claim(c["id"])["state"], "active")

    def test_scopes_and_unknowns(self):
        r = self.env.req("POST", "/v1/fleets/f1/claims", body={}, token=self.env.read)
        self.assertEqual(r.status, 403)
        self.bad({}, None, status=404, fleet="nofleet")
        self.assertEqual(self.env.req("GET", "/v1/claims/clm_000000000000000000000000", token=self.env.read).status,
                         404)
        self.assertEqual(self.env.req("GET", "/v1/claims/../x", token=self.env.read).status, 404)
        self.assertEqual(self.env.req("GET", "/v1/claims?state=sleepy", token=self.env.read).status, 400)
        r = self.env.req("GET", "/v1/claims/clm_000000000000000000000000/bundle", token=self.env.read)
        self.assertEqual(r.status, 403)


class Bundle(ClaimsBase):
    def test_concurrent_downloads_exactly_one_key(self):
        for _ in range(3):
            c = self.create()
            results = []
            barrier = threading.Barrier(12)

            def get():
                barrier.wait()
                results.append(self.bundle(c["id"]))
            ts = [threading.Thread(target=get) for _ in range(12)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            ok = [r for r in results if r.status == 200]
            self.assertEqual(len(ok), 1, [r.status for r in results])
            self.assertEqual(sorted(r.status for r in results), [200] + [410] * 11)
            self.assertIn("PRIVATE KEY", ok[0].json["privateKeyPem"])

    def test_creating_claim_is_409(self):
        self.env.emu.control("POST", "faults", {"operation": "CreateCertificateFromCsr", "count": 1,
                                                "delayMs": 1500, "delayOnly": True})
        r = self.create(wait=False)
        b = self.bundle(r["claim"]["id"])
        self.assertEqual(b.status, 409, b)
        self.env.wait_claim(r["claim"]["id"], ["active"])
        self.assertEqual(self.bundle(r["claim"]["id"]).status, 200)


class KeyTtl(ClaimsBase):
    env_vars = {"FLEETWARDEN_CLAIM_KEY_TTL": "2"}

    def test_undownloaded_key_is_erased(self):
        c = self.create()
        self.assertTrue(c["privateKeyHeld"])
        self.assertEqual(self.env.redis.command("EXISTS", "fw:claimkey:" + c["id"]), 1)
        ttl = self.env.redis.command("TTL", "fw:claimkey:" + c["id"])
        self.assertTrue(0 < ttl <= 2, ttl)
        time.sleep(3)
        self.assertEqual(self.env.redis.command("EXISTS", "fw:claimkey:" + c["id"]), 0)
        b = self.bundle(c["id"])
        self.assertEqual(b.status, 410, b)
        self.assertIn("time to live", b.json["detail"])
        after = self.env.claim(c["id"])
        self.assertFalse(after["privateKeyHeld"])
        self.assertEqual(after["state"], "active")


class Lifecycle(ClaimsBase):
    def test_rotation_with_grace_and_retention(self):
        old = self.create()
        r = self.env.req("POST", "/v1/claims/%s/rotate" % old["id"], body={"graceSeconds": 2})
        self.assertEqual(r.status, 202, r)
        succ = r.json["successor"]["id"]
        self.assertEqual(r.json["successor"]["predecessor"], old["id"])
        s = self.env.wait_claim(succ, ["active"])
        self.assertEqual(s["predecessor"], old["id"])
        o = self.env.wait_claim(old["id"], ["rotating"])
        self.assertEqual(o["successor"], succ)
        self.assertEqual(self.emu_cert(o["certificateId"])["status"], "ACTIVE")   # grace: still active
        self.assertIn(s["certificateArn"], self.env.emu_targets(self.policy))
        o = self.env.wait_claim(old["id"], ["inactive", "deleted"], timeout=20)
        if o["state"] == "inactive":
            self.assertEqual(self.emu_cert(o["certificateId"])["status"], "INACTIVE")
        o = self.env.wait_claim(old["id"], ["deleted"], timeout=20)     # retention 2 s (fleet setting)
        self.assertIsNone(self.emu_cert(o["certificateId"]))
        self.assertNotIn(o["certificateArn"], self.env.emu_targets(self.policy))
        self.assertIsNotNone(o["retiredAt"])
        self.assertEqual(self.env.req("POST", "/v1/claims/%s/rotate" % old["id"]).status, 409)

    def test_a_rotation_after_a_failed_successor_makes_a_new_one(self):
        # The first rotation's successor fails for good (AWS refuses its policy attach): the old
        # claim stays active, alone. Rotating again must make a new successor and move the old
        # claim to rotating only once that one is active; reusing the failed successor moved the
        # old claim to rotating behind a claim that devices cannot use.
        old = self.create()
        self.env.emu.control("POST", "faults", {"operation": "AttachPolicy", "count": 1, "status": 403,
                                                "code": "AccessDeniedException", "message": "denied"})
        r = self.env.req("POST", "/v1/claims/%s/rotate" % old["id"], body={"graceSeconds": 60})
        self.assertEqual(r.status, 202, r)
        first = r.json["successor"]["id"]
        self.assertEqual(self.env.wait_job(r.json["job"]["id"])["state"], "dead")
        self.assertEqual(self.env.wait_claim(first, ["failed"])["state"], "failed")
        self.assertEqual(self.env.claim(old["id"])["state"], "active")
        r = self.env.req("POST", "/v1/claims/%s/rotate" % old["id"], body={"graceSeconds": 60})
        self.assertEqual(r.status, 202, r)
        second = r.json["successor"]["id"]
        self.assertNotEqual(second, first)
        self.assertEqual(self.env.wait_job(r.json["job"]["id"])["state"], "succeeded")
        self.assertEqual(self.env.claim(second)["state"], "active")
        o = self.env.claim(old["id"])
        self.assertEqual((o["state"], o["successor"]), ("rotating", second))

    def test_the_successor_of_a_canceled_rotation_can_be_deleted(self):
        # The rotation is canceled while it makes the successor (its certificate call in flight):
        # the successor stays creating, and no job will finish it. DELETE answered 409 for ever
        # (the rule looked for a canceled claim.create only; a successor's job is the claim.rotate).
        old = self.create()
        self.env.emu.control("POST", "faults", {"operation": "CreateCertificateFromCsr", "count": 1,
                                                "delayMs": 1500, "delayOnly": True})
        r = self.env.req("POST", "/v1/claims/%s/rotate" % old["id"], body={"graceSeconds": 60})
        self.assertEqual(r.status, 202, r)
        succ, jid = r.json["successor"]["id"], r.json["job"]["id"]
        cl.harness.wait_until(lambda: self.env.req("GET", "/v1/jobs/" + jid).json["state"] == "running",
                              timeout=10, what="the rotation running")
        self.assertEqual(self.env.req("POST", "/v1/jobs/%s/cancel" % jid).status, 202)   # asked of a running job
        self.assertEqual(self.env.wait_job(jid)["state"], "canceled")
        s = self.env.claim(succ)
        self.assertEqual(s["state"], "creating", s)
        self.assertEqual(self.env.claim(old["id"])["state"], "active")
        r = self.env.req("DELETE", "/v1/claims/" + succ)
        self.assertEqual(r.status, 202, r)
        s = self.env.wait_claim(succ, ["deleted"], timeout=20)
        if s.get("certificateId"):
            self.assertIsNone(self.emu_cert(s["certificateId"]), "its certificate is deleted too")
        # and a new rotation makes a new successor
        r = self.env.req("POST", "/v1/claims/%s/rotate" % old["id"], body={"graceSeconds": 60})
        self.assertEqual(r.status, 202, r)
        self.assertNotEqual(r.json["successor"]["id"], succ)
        self.assertEqual(self.env.wait_job(r.json["job"]["id"])["state"], "succeeded")

    def test_a_rotation_after_the_successor_was_revoked_makes_a_new_one(self):
        # A was rotated to B; B leaked and was revoked; A was enabled again (devices still carry
        # it). Rotating A must make a new successor: B was taken again, every rotation died with
        # SuccessorNotActive, and A could never be rotated.
        a = self.create()
        r = self.env.req("POST", "/v1/claims/%s/rotate" % a["id"], body={"graceSeconds": 0})
        self.assertEqual(r.status, 202, r)
        b = r.json["successor"]["id"]
        self.env.wait_claim(a["id"], ["inactive"], timeout=20)
        r = self.env.req("POST", "/v1/claims/%s/disable" % b, body={"reason": "leaked", "revoke": True})
        self.assertEqual(self.env.wait_job(r.json["job"]["id"])["state"], "succeeded")
        r = self.env.req("POST", "/v1/claims/%s/enable" % a["id"])
        self.assertEqual(self.env.wait_job(r.json["job"]["id"])["state"], "succeeded")
        r = self.env.req("POST", "/v1/claims/%s/rotate" % a["id"], body={"graceSeconds": 60})
        self.assertEqual(r.status, 202, r)
        self.assertNotEqual(r.json["successor"]["id"], b)
        self.assertEqual(self.env.wait_job(r.json["job"]["id"])["state"], "succeeded")
        o = self.env.claim(a["id"])
        self.assertEqual((o["state"], o["successor"]), ("rotating", r.json["successor"]["id"]))

    def test_enabled_again_after_rotation_is_not_deleted(self):
        old = self.create()
        r = self.env.req("POST", "/v1/claims/%s/rotate" % old["id"], body={"graceSeconds": 0})
        self.assertEqual(r.status, 202, r)
        self.env.wait_claim(old["id"], ["inactive"], timeout=20)
        r = self.env.req("POST", "/v1/claims/%s/enable" % old["id"])
        self.assertEqual(self.env.wait_job(r.json["job"]["id"])["state"], "succeeded")
        time.sleep(3.5)                              # past the fleet's 2 s retention
        o = self.env.claim(old["id"])
        self.assertEqual(o["state"], "active")
        self.assertEqual(self.emu_cert(o["certificateId"])["status"], "ACTIVE")

    def test_disable_enable_revoke(self):
        c = self.create()
        r = self.env.req("POST", "/v1/claims/%s/disable" % c["id"], body={"reason": "leaked on a forum"})
        self.assertEqual(r.status, 202, r)
        job = self.env.wait_job(r.json["job"]["id"])
        self.assertEqual(job["state"], "succeeded", job)
        self.assertEqual(job["lane"], "critical")
        c2 = self.env.claim(c["id"])
        self.assertEqual((c2["state"], c2["disableReason"]), ("inactive", "leaked on a forum"))
        self.assertEqual(self.emu_cert(c["certificateId"])["status"], "INACTIVE")
        r = self.env.req("POST", "/v1/claims/%s/enable" % c["id"])
        self.assertEqual(r.status, 202, r)
        self.assertEqual(self.env.wait_job(r.json["job"]["id"])["state"], "succeeded")
        self.assertEqual(self.env.claim(c["id"])["state"], "active")
        self.assertEqual(self.emu_cert(c["certificateId"])["status"], "ACTIVE")
        r = self.env.req("POST", "/v1/claims/%s/disable" % c["id"], body={"reason": "stolen", "revoke": True})
        self.assertEqual(self.env.wait_job(r.json["job"]["id"])["state"], "succeeded")
        c3 = self.env.claim(c["id"])
        self.assertEqual(c3["state"], "revoked")
        self.assertFalse(c3["privateKeyHeld"])
        self.assertEqual(self.emu_cert(c["certificateId"])["status"], "REVOKED")
        r = self.env.req("POST", "/v1/claims/%s/enable" % c["id"])
        self.assertEqual(r.status, 409, r)
        self.assertIn("revoked", r.json["detail"])
        self.assertEqual(self.bundle(c["id"]).status, 410)

    def test_disable_validation_and_replace(self):
        c = self.create()
        r = self.env.req("POST", "/v1/claims/%s/disable" % c["id"], body={})
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json["errors"][0]["field"], "reason")
        r = self.env.req("POST", "/v1/claims/%s/disable" % c["id"], body={"reason": "x", "revoke": "yes"})
        self.assertEqual(r.json["errors"][0]["field"], "revoke")
        r = self.env.req("POST", "/v1/claims/%s/disable" % c["id"],
                         body={"reason": "misuse", "revoke": True, "replace": True})
        self.assertEqual(self.env.wait_job(r.json["job"]["id"])["state"], "succeeded")
        old = self.env.claim(c["id"])
        self.assertEqual(old["state"], "revoked")
        new = self.env.wait_claim(old["successor"], ["active"])
        self.assertEqual(new["predecessor"], c["id"])
        self.assertEqual(self.emu_cert(new["certificateId"])["status"], "ACTIVE")

    def test_delete(self):
        c = self.create()
        r = self.env.req("DELETE", "/v1/claims/" + c["id"])
        self.assertEqual(r.status, 202, r)
        self.assertEqual(self.env.wait_job(r.json["job"]["id"])["state"], "succeeded")
        d = self.env.claim(c["id"])
        self.assertEqual(d["state"], "deleted")
        self.assertIsNotNone(d["deletedAt"])
        self.assertIsNone(self.emu_cert(c["certificateId"]))
        self.assertNotIn(c["certificateArn"], self.env.emu_targets(self.policy))


class AutoRotation(ClaimsBase):
    def test_scheduled_rotation_spreads_and_rotates(self):
        self.env.make_fleet("auto", rotation={"periodDays": 4 / 86400, "graceSeconds": 1, "retentionSeconds": 1})
        ids = []
        for _ in range(4):
            r = self.env.req("POST", "/v1/fleets/auto/claims", body={})
            self.assertEqual(r.status, 202, r)
            ids.append(r.json["claim"]["id"])
        for cid in ids:
            self.env.wait_claim(cid, ["active", "rotating", "inactive", "deleted"])
        dues = self.env.redis.command("ZRANGE", "fw:claims:rotdue", "0", "-1", "WITHSCORES")
        succ = {}
        for cid in ids:
            c = self.env.wait_claim(cid, ["deleted"], timeout=40)
            self.assertIsNotNone(c["successor"])
            succ[cid] = c["successor"]
            s = self.env.wait_claim(c["successor"], ["active", "rotating", "inactive", "deleted"])
            self.assertEqual(s["predecessor"], cid)
        if dues:
            scores = [float(x) for x in dues[1::2]]
            self.assertGreaterEqual(len(set(scores)), 1)

    def test_rotation_period_set_after_the_claims_exist(self):
        self.env.make_fleet("later")
        c = self.create(fleet="later")
        rotation = {"periodDays": 2 / 86400, "graceSeconds": 1, "retentionSeconds": 60}
        g = self.env.req("GET", "/v1/fleets/later", token=self.env.read)
        r = None
        if g.status == 200 and g.header("ETag"):
            r = self.env.req("PATCH", "/v1/fleets/later", body={"rotation": rotation}, token=self.env.admin,
                             headers={"If-Match": g.header("ETag")})
        if r is None or r.status != 200:
            self.env.redis.command("HSET", "fw:fleet:later", "j:settings",
                                   json.dumps({"rotation": rotation, "watch": {}}))
        o = self.env.wait_claim(c["id"], ["rotating", "inactive"], timeout=30)
        self.assertIsNotNone(o["successor"])
        self.env.wait_claim(o["successor"], ["active", "rotating", "inactive"])


class AutoRotationAfterAFailure(ClaimsBase):
    def test_automatic_rotation_goes_on_after_a_failed_successor(self):
        # One automatic rotation's successor fails for good (AWS refuses its policy attach once):
        # the claim must still be rotated by a later scan. A claim with a successor, failed or
        # not, was skipped for ever: the fleet's rotation policy silently stopped for it.
        self.env.make_fleet("again")
        live = [c["id"] for c in self.env.req("GET", "/v1/claims?fleet=again", token=self.env.read).json["items"]
                if c["state"] == "active"]
        live.append(self.create(fleet="again")["id"])
        self.env.emu.control("POST", "faults", {"operation": "AttachPolicy", "count": 1, "status": 403,
                                                "code": "AccessDeniedException", "message": "denied"})
        g = self.env.req("GET", "/v1/fleets/again", token=self.env.read)
        r = self.env.req("PATCH", "/v1/fleets/again", token=self.env.admin, headers={"If-Match": g.header("ETag")},
                         body={"rotation": {"periodDays": 2 / 86400, "graceSeconds": 1, "retentionSeconds": 60}})
        self.assertEqual(r.status, 200, r)
        for cid in live:
            o = self.env.wait_claim(cid, ["rotating", "inactive"], timeout=60)
            self.assertIn(self.env.claim(o["successor"])["state"], ("active", "rotating", "inactive"))
        failed = [c for c in self.env.req("GET", "/v1/claims?fleet=again&state=failed&limit=100",
                                          token=self.env.read).json["items"]]
        self.assertEqual(len(failed), 1, failed)
        self.assertIn(failed[0]["predecessor"], live)


class FleetDeleting(unittest.TestCase):
    """A fleet being deleted gets no claim and no live certificate: nothing may outlive it ACTIVE
    (it did: a claim posted meanwhile was made, kept the claim policy at AWS after the teardown
    "succeeded", and blocked the fleet's next incarnation). One worker process, stopped while a
    test queues its requests, so the order of what runs is the test's."""

    @classmethod
    def setUpClass(cls):
        cls.env = cl.ClaimsEnv(workers_in_api=False, worker_procs=1)

    @classmethod
    def tearDownClass(cls):
        cls.env.stop_checked()

    def pause_workers(self):
        for w in self.env.workers:
            w.stop()
        self.env.workers = []

    def resume_workers(self):
        self.env.workers.append(self.env.start_worker())

    def fleet_claims(self, fleet):
        return self.env.req("GET", "/v1/claims?fleet=" + fleet, token=self.env.read).json["items"]

    def live_certs(self, fleet):
        certs = self.env.emu_certs()
        return [c["certificateId"] for c in self.fleet_claims(fleet)
                if c.get("certificateId") and certs.get(c["certificateId"], {}).get("status") == "ACTIVE"]

    def test_nothing_is_made_rotated_enabled_or_replaced_while_deleting(self):
        self.env.make_fleet("del1")
        first = self.fleet_claims("del1")[0]
        off = self.env.new_claim("del1")
        r = self.env.req("POST", "/v1/claims/%s/disable" % off["id"], body={"reason": "spare"})
        self.assertEqual(self.env.wait_job(r.json["job"]["id"])["state"], "succeeded")
        self.pause_workers()
        try:
            r = self.env.req("DELETE", "/v1/fleets/del1?force=true", token=self.env.admin)
            self.assertEqual(r.status, 202, r)
            td = r.json["job"]["id"]
            for method, path, body in (("POST", "/v1/fleets/del1/claims", {}),
                                       ("POST", "/v1/claims/%s/rotate" % first["id"], None),
                                       ("POST", "/v1/claims/%s/enable" % off["id"], None),
                                       ("POST", "/v1/claims/%s/disable" % first["id"],
                                        {"reason": "leaked", "replace": True})):
                r = self.env.req(method, path, body=body)
                self.assertEqual(r.status, 409, (path, r))
                self.assertIn("state deleting", r.json["detail"], (path, r))
            # a plain disable makes nothing: still allowed
            r = self.env.req("POST", "/v1/claims/%s/disable" % first["id"], body={"reason": "going"})
            self.assertEqual(r.status, 202, r)
        finally:
            self.resume_workers()
        job = self.env.wait_job(td, timeout=120)
        self.assertEqual(job["state"], "succeeded", job)
        self.assertEqual(self.env.req("GET", "/v1/fleets/del1", token=self.env.read).status, 404)
        self.assertEqual(len(self.fleet_claims("del1")), 2, "no claim was added")
        self.assertEqual(self.live_certs("del1"), [])

    def test_a_claim_written_before_the_delete_gets_no_certificate(self):
        # the claim is recorded and its job queued, then the fleet is deleted (force): the job,
        # running after the DELETE, finds the fleet deleting and fails the claim before any AWS call
        self.env.make_fleet("del2")
        self.pause_workers()
        try:
            before = set(self.env.emu_certs())
            r = self.env.req("POST", "/v1/fleets/del2/claims", body={})
            self.assertEqual(r.status, 202, r)
            cid, cj = r.json["claim"]["id"], r.json["job"]["id"]
            r = self.env.req("DELETE", "/v1/fleets/del2?force=true", token=self.env.admin)
            self.assertEqual(r.status, 202, r)
            td = r.json["job"]["id"]
        finally:
            self.resume_workers()
        c = self.env.wait_claim(cid, ["failed", "active", "inactive"], timeout=60)
        self.assertEqual(c["state"], "failed", c)
        self.assertIsNone(c["certificateId"], c)
        job = self.env.wait_job(cj)
        self.assertEqual((job["state"], (job["errors"] or [{}])[-1].get("code")), ("dead", "FleetDeleting"), job)
        job = self.env.wait_job(td, timeout=120)
        self.assertEqual(job["state"], "succeeded", job)
        self.assertEqual(set(self.env.emu_certs()) - before, set(), "no certificate made for it")

    def disabled_first_claim(self, fleet):
        self.env.make_fleet(fleet)
        first = self.fleet_claims(fleet)[0]
        r = self.env.req("POST", "/v1/claims/%s/disable" % first["id"], body={"reason": "spare"})
        self.assertEqual(self.env.wait_job(r.json["job"]["id"])["state"], "succeeded")
        return first

    def test_an_enable_queued_before_the_delete_does_not_run_after_it(self):
        first = self.disabled_first_claim("del3")
        self.pause_workers()
        try:
            r = self.env.req("POST", "/v1/claims/%s/enable" % first["id"])
            self.assertEqual(r.status, 202, r)
            ej = r.json["job"]["id"]
            r = self.env.req("DELETE", "/v1/fleets/del3", token=self.env.admin)
            self.assertEqual(r.status, 202, r)
            td = r.json["job"]["id"]
        finally:
            self.resume_workers()
        job = self.env.wait_job(ej)
        self.assertEqual((job["state"], (job["errors"] or [{}])[-1].get("code")), ("dead", "FleetDeleting"), job)
        self.assertEqual(self.env.wait_job(td, timeout=120)["state"], "succeeded")
        self.assertEqual(self.env.claim(first["id"])["state"], "inactive")
        self.assertEqual(self.env.emu_certs()[first["certificateId"]]["status"], "INACTIVE")

    def test_a_claim_enabled_while_the_claim_policy_goes_stops_the_teardown(self):
        # An enable that checked the fleet just before the DELETE (its UpdateCertificate is slow)
        # makes the claim active while the teardown deletes the claim policy (slower still): the
        # teardown counts the live claims again after that step and refuses, instead of deleting
        # the fleet and leaving the claim ACTIVE behind it (AWS keeps the policy, attached to the
        # claim's certificate). Whichever order the machine's load gives, the teardown refuses.
        first = self.disabled_first_claim("del4")
        self.env.emu.control("POST", "faults", {"faults": [
            {"operation": "UpdateCertificate", "service": "iot", "count": 1, "delayMs": 3000,
             "delayOnly": True},
            {"operation": "DeletePolicy", "service": "iot", "count": 1, "delayMs": 6000,
             "delayOnly": True}]})
        try:
            r = self.env.req("POST", "/v1/claims/%s/enable" % first["id"])
            self.assertEqual(r.status, 202, r)
            deadline = time.monotonic() + 30
            while self.env.req("GET", "/v1/jobs/" + r.json["job"]["id"],
                               token=self.env.read).json["state"] != "running":
                self.assertLess(time.monotonic(), deadline, "the enable never ran")
                time.sleep(0.02)
            time.sleep(0.5)                   # its UpdateCertificate is now in flight
            r = self.env.req("DELETE", "/v1/fleets/del4", token=self.env.admin)
            self.assertEqual(r.status, 202, r)
            job = self.env.wait_job(r.json["job"]["id"], timeout=120)
        finally:
            self.env.emu.control("DELETE", "faults")
        self.assertEqual(self.env.claim(first["id"])["state"], "active")
        self.assertEqual(job["state"], "dead", job)
        self.assertEqual(job["errors"][-1]["code"], "ActiveClaims", job)
        f = self.env.req("GET", "/v1/fleets/del4", token=self.env.read)
        self.assertEqual((f.status, f.json["state"]), (200, "deleting"), f)

    def pages(self, query):
        ids, cursor = [], None
        for _ in range(50):
            q = query + ("&cursor=" + urllib.parse.quote(cursor) if cursor else "")
            page = self.env.req("GET", "/v1/claims?" + q, token=self.env.read).json
            ids += [c["id"] for c in page["items"]]
            cursor = page["nextCursor"]
            if not cursor:
                return ids
        self.fail("paging never ended")

    def test_a_fleet_made_again_has_none_of_the_old_fleets_claims(self):
        # The per-fleet indexes are keyed by name: the claims of a torn-down fleet stay in them.
        # A fleet made again under that name must not take them for its own (it took the old
        # first claim as already made, listed and counted them).
        self.env.make_fleet("gen")
        uid1 = self.env.req("GET", "/v1/fleets/gen", token=self.env.read).json["uid"]
        old = [c["id"] for c in self.fleet_claims("gen")] + [self.env.new_claim("gen")["id"]]
        r = self.env.req("DELETE", "/v1/fleets/gen?force=true", token=self.env.admin)
        self.assertEqual(self.env.wait_job(r.json["job"]["id"], timeout=120)["state"], "succeeded")
        # a claim left live by an earlier fleet (a teardown before this change could leave one)
        ms = self.env.redis.command("ZSCORE", "fw:claims", old[0])
        self.env.redis.command("HSET", "fw:claim:" + old[0], "state", "active")
        for idx in ("fw:claims:s:", "fw:claims:fs:gen:"):
            self.env.redis.command("ZREM", idx + "inactive", old[0])
            self.env.redis.command("ZADD", idx + "active", ms, old[0])

        self.env.make_fleet("gen")
        f = self.env.req("GET", "/v1/fleets/gen", token=self.env.read).json
        self.assertNotEqual(f["uid"], uid1)
        first = f["resources"]["firstClaim"]["claimId"]
        self.assertNotIn(first, old, "the new fleet got a first claim of its own")
        self.assertEqual(self.env.wait_claim(first, ["active", "failed"])["state"], "active")
        self.assertEqual(self.pages("fleet=gen&limit=1"), [first])
        self.assertEqual(self.pages("fleet=gen&state=active&limit=1"), [first])
        self.assertEqual(self.pages("fleet=gen&state=inactive"), [])
        every = self.pages("limit=100")
        self.assertTrue(set(old) <= set(every), "the old claims stay in the unfiltered list")
        self.assertEqual(self.env.claim(old[1])["fleet"], "gen")

        r = self.env.req("DELETE", "/v1/claims/" + first)
        self.assertEqual(self.env.wait_job(r.json["job"]["id"])["state"], "succeeded")
        r = self.env.req("DELETE", "/v1/fleets/gen", token=self.env.admin)
        self.assertEqual(r.status, 202, r)
        self.assertEqual(self.env.wait_job(r.json["job"]["id"], timeout=120)["state"], "succeeded")


class StartupNeedsKek(unittest.TestCase):
    """serve and worker refuse to start without a usable key-encryption key."""

    def test_missing_or_bad_kek_exits_2(self):
        import os
        import subprocess
        import harness
        redis = harness.Redis().start()
        try:
            fw = harness.Fleetwarden(redis)
            bad = os.path.join(fw.dir, "short")
            with open(bad, "w") as f:
                f.write("abcd\n")
            for cmd in ("serve", "worker"):
                for kek, words in (("", "FLEETWARDEN_KEK_FILE is required"),
                                   (bad, "FLEETWARDEN_KEK_FILE"), ("/nonexistent/kek", "cannot open")):
                    fw.extra_env = {"FLEETWARDEN_KEK_FILE": kek}
                    try:
                        r = fw.run(cmd, timeout=10)
                    except subprocess.TimeoutExpired:
                        self.fail("%s started without a key-encryption key (%r)" % (cmd, kek))
                    self.assertEqual(r.returncode, 2, (cmd, kek, r.stderr))
                    self.assertIn(words, r.stderr)
        finally:
            redis.stop()


KEK_CHECK_LABEL = b"fleetwarden key-encryption key check v1"


def kek_check_value(path):
    """The check value a process keeps in Redis for the hex KEK in path."""
    import hashlib
    import hmac
    with open(path) as f:
        key = bytes.fromhex(f.read().strip())
    return hmac.new(key, KEK_CHECK_LABEL, hashlib.sha256).hexdigest()


class KekMatchesRedis(unittest.TestCase):
    """A process whose KEK is not the one this Redis's data was sealed with refuses to run: it
    would seal claim keys no other process can open (every download of them a 500)."""

    def other_kek(self, fw):
        import os
        path = os.path.join(fw.dir, "kek-other")
        with open(path, "w") as f:
            f.write(os.urandom(32).hex() + "\n")
        os.chmod(path, 0o600)
        return path

    def assert_refused(self, r, kek_paths):
        out = r.stdout + r.stderr  # check says it on stdout, serve and worker on stderr
        self.assertEqual(r.returncode, 2, out)
        self.assertIn("FLEETWARDEN_KEK_FILE", out)
        self.assertIn("differs from the one", out)
        for path in kek_paths:  # neither key nor its check value is ever printed
            with open(path) as f:
                self.assertNotIn(f.read().strip(), r.stdout + r.stderr)
            self.assertNotIn(kek_check_value(path), r.stdout + r.stderr)

    def test_a_worker_or_check_with_another_kek_exits_2(self):
        import subprocess
        import harness
        redis = harness.Redis().start()
        fw = harness.Fleetwarden(redis, args=("serve", "--no-workers")).start()
        same = None
        try:
            self.assertEqual(redis.command("GET", "fw:kek:check"), kek_check_value(fw.kek_file()))
            env = {"FLEETWARDEN_KEK_FILE": self.other_kek(fw)}
            other = harness.Fleetwarden(redis, env=env, args=("worker",))
            for cmd in (("worker",), ("serve",), ("check",)):
                try:
                    r = other.run(*cmd, timeout=20)
                except subprocess.TimeoutExpired:
                    self.fail("%s started with another key-encryption key" % (cmd,))
                self.assert_refused(r, [fw.kek_file(), env["FLEETWARDEN_KEK_FILE"]])
            r = harness.Fleetwarden(redis, env={"FLEETWARDEN_KEK_FILE": fw.kek_file()}).run("check")
            self.assertIn("kek: the one this Redis's data was sealed with", r.stdout)
            # the same KEK runs
            same = harness.Fleetwarden(redis, env={"FLEETWARDEN_KEK_FILE": fw.kek_file()},
                                       args=("worker",)).start(wait=False)
            harness.wait_until(lambda: "fleetwarden worker running" in same.logs(), timeout=20,
                               what="the worker with the same KEK running")
            self.assertIsNone(same.proc.poll())
        finally:
            if same:
                self.assertEqual(same.stop(), 0)
            fw.stop()
            redis.stop()

    def test_compared_once_redis_comes_when_it_was_away_at_start_up(self):
        import harness
        redis = harness.Redis(appendonly=True).start()
        w = None
        try:
            fw = harness.Fleetwarden(redis, args=("worker",))
            redis.command("SET", "fw:kek:check", kek_check_value(fw.kek_file()))
            redis.stop()
            w = harness.Fleetwarden(redis, env={"FLEETWARDEN_KEK_FILE": self.other_kek(fw)},
                                    args=("worker",)).start(wait=False)
            harness.wait_until(lambda: "fleetwarden worker running" in w.logs(), timeout=20,
                               what="the worker running while Redis is away")
            redis.start()
            harness.wait_until(lambda: w.proc.poll() is not None, timeout=30,
                               what="the worker with another KEK to stop once Redis answers")
            self.assertEqual(w.proc.returncode, 2, w.logs()[-2000:])
            self.assertIn("wrong key-encryption key", w.logs())
            self.assertIn("FLEETWARDEN_KEK_FILE", w.logs())
        finally:
            if w:
                w.stop()
            redis.stop()


def ca_bundle(path, min_bytes):
    """A file of whole PEM certificates from the system's trust store, at least min_bytes."""
    with open("/etc/ssl/certs/ca-certificates.crt") as f:
        certs = ["-----BEGIN CERTIFICATE-----" + c.split("-----END CERTIFICATE-----")[0]
                 + "-----END CERTIFICATE-----\n"
                 for c in f.read().split("-----BEGIN CERTIFICATE-----")[1:]]
    out = ""
    for c in certs:
        out += c
        if len(out) >= min_bytes:
            break
    with open(path, "w") as f:
        f.write(out)
    return out


class RootCaFile(unittest.TestCase):
    """FLEETWARDEN_ROOT_CA_FILE is read whole at start-up: a file over 8 KiB used to be cut at
    8191 bytes, so bundles carried a corrupt PEM."""

    def test_a_root_ca_file_over_8_kib_reaches_the_bundle_whole(self):
        import os
        import tempfile
        path = os.path.join(tempfile.mkdtemp(dir=os.environ.get("TMPDIR")), "roots.pem")
        pem = ca_bundle(path, 20000)
        env = cl.ClaimsEnv(env={"FLEETWARDEN_ROOT_CA_FILE": path})
        try:
            env.make_fleet("bigca")
            c = env.new_claim("bigca")
            b = env.take_bundle(c["id"])
            self.assertEqual(b["rootCaPem"], pem)
        finally:
            env.stop()


if __name__ == "__main__":
    unittest.main()
