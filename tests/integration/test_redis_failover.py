"""A Redis failover as ElastiCache does it, under load (issue 18).

Two redis-servers, a primary and its replica, behind an endpoint that can be re-pointed (the
test's own TCP forwarder, as ElastiCache's primary endpoint is a DNS name that moves). While
claims are being created and read through the API (serve with workers, plus a worker process):

  failover:  writes paused on the primary until the replica has every write; the replica is
             promoted; the old primary is RESTARTED as a replica of it (connections dropped);
             for 1.5 s the endpoint still points at it, so reconnected clients get READONLY;
             then the endpoint moves to the new primary and drops its connections;
  failback:  the other way, with the old primary demoted in place (REPLICAOF, no restart) and
             the endpoint moved without dropping connections: clients that keep theirs now
             talk to a replica, which answers every write with READONLY until they reconnect.

Every answer must be right or 503: a 202 for a claim, a 200 with that claim for a read, or 503
(Retry-After) while Redis is not usable; no 500 and no other status. Claims are posted with an
Idempotency-Key and posted again with it after a 503, as the contract asks of clients. Afterwards every claim
accepted with 202 ends active, exactly once: one certificate at the emulator per claim (none
made twice by a job run again), no dead job.
"""
import subprocess
import threading
import time
import unittest
import uuid

import claims_lib as cl
import harness
import redisprod_lib as rp


class FailoverEnv(cl.ClaimsEnv):
    def __init__(self):
        self.primary = harness.Redis(appendonly=True).start()
        self.replica = harness.Redis(appendonly=True, extra_args=["--replicaof", "127.0.0.1",
                                                                   str(self.primary.port)]).start()
        self.endpoint = rp.Endpoint(self.primary.port)
        self.redis = self.primary
        self.emu = harness.Emulator().start()
        self.env = dict(self.emu.aws_env(), FLEETWARDEN_WORKERS="4", FLEETWARDEN_ROTATION_SCAN_S="1")
        url = rp.UrlRedis("redis://127.0.0.1:%d/0" % self.endpoint.port)
        self.fw = harness.Fleetwarden(url, env=self.env, args=("serve",)).start()
        self.kek = self.fw.kek_file()
        self.workers = [harness.Fleetwarden(url, env=dict(self.env, FLEETWARDEN_KEK_FILE=self.kek),
                                            args=("worker",)).start(wait=False)]
        self.admin = self.fw.token("admin", "admin")
        self.operate = self.fw.token("operate", "operator")
        self.read = self.fw.token("read", "reader")

    def stop(self):
        self.endpoint.close()
        try:
            harness.stop_stack(self.fw, self.workers, self.emu, self.primary)
        finally:
            self.replica.stop()


def offset(redis):
    info = redis.command("INFO", "replication")
    return int([ln for ln in info.splitlines() if ln.startswith("master_repl_offset:")][0].split(":")[1])


def switch(env, old, new, restart):
    """Fails over from old to new (both harness.Redis): old is restarted as new's replica
    (restart) or made one in place, keeping its clients' connections."""
    old.command("CLIENT", "PAUSE", "10000", "WRITE")
    harness.wait_until(lambda: offset(new) >= offset(old), timeout=10, what="the replica to catch up")
    new.command("REPLICAOF", "NO", "ONE")
    old.extra_args = ["--replicaof", "127.0.0.1", str(new.port)]
    if restart:
        old.stop()
        old.start()                      # the endpoint still points here: READONLY for writes
    else:
        old.command("REPLICAOF", "127.0.0.1", str(new.port))
        old.command("CLIENT", "UNPAUSE")
    time.sleep(1.5)
    env.endpoint.point(new.port, drop=restart)
    env.redis = new


class Failover(unittest.TestCase):
    RUN_COST_S = 60

    @classmethod
    def setUpClass(cls):
        cls.env = FailoverEnv()
        cls.env.make_fleet("fo")

    @classmethod
    def tearDownClass(cls):
        cls.env.stop()

    def post_claim(self, statuses):
        """POSTs a claim as a client of the contract does: with an Idempotency-Key, again with the
        same key while the answer is 503 (or 409 with Retry-After: the key's first request is still
        held). A 503 may come after the claim was written (Redis refused a later write of the same
        request); without the key that claim would be one the client never learns of."""
        key = "fo-" + uuid.uuid4().hex
        for _ in range(300):
            r = self.env.req("POST", "/v1/fleets/fo/claims", body={}, headers={"Idempotency-Key": key})
            statuses.append(r.status)
            if r.status != 503 and not (r.status == 409 and r.header("Retry-After")):
                return r
            time.sleep(0.1)
        return r

    def load(self, stop, accepted, wrong, statuses):
        mine = []
        while not stop.is_set():
            r = self.post_claim(statuses)
            if r.status == 202:
                mine.append(r.json["claim"]["id"])
                accepted.append(r.json["claim"]["id"])
            else:
                wrong.append(("POST", r.status, r.body[:200]))
            if mine:
                g = self.env.req("GET", "/v1/claims/" + mine[-1], token=self.env.read)
                statuses.append(g.status)
                if g.status == 200:
                    if g.json["id"] != mine[-1]:
                        wrong.append(("GET", "another claim", g.body[:200]))
                elif g.status != 503:
                    wrong.append(("GET", g.status, g.body[:200]))
            time.sleep(0.1)

    def unheld(self, certs, held):
        """What the emulator knows of certificates no active claim holds, and which other
        certificates share its public key (a second certificate for one claim's key, or the
        certificate of a claim the API lost)."""
        def pub(pem):
            return subprocess.run(["openssl", "x509", "-pubkey", "-noout"], input=pem.encode(),
                                  capture_output=True).stdout
        keys = {cid: pub(c.get("certificatePem", "")) for cid, c in certs.items()}
        out = []
        for cid, c in certs.items():
            if cid not in held:
                twins = [x for x, k in keys.items() if x != cid and k == keys[cid]]
                out.append({"id": cid, "status": c.get("status"), "created": c.get("creationDate"),
                            "sameKey": twins})
        return out

    def test_failover_and_back_under_load(self):
        env = self.env
        stop, accepted, wrong, statuses = threading.Event(), [], [], []
        threads = [threading.Thread(target=self.load, args=(stop, accepted, wrong, statuses)) for _ in range(3)]
        for t in threads:
            t.start()
        try:
            time.sleep(3)
            switch(env, env.primary, env.replica, restart=True)
            time.sleep(4)
            switch(env, env.replica, env.primary, restart=False)
            time.sleep(4)
        finally:
            stop.set()
            for t in threads:
                t.join()
        self.assertEqual(wrong, [])
        self.assertIn(503, statuses, "the failover was seen (else this test proves nothing)")
        self.assertGreater(len(accepted), 30)
        harness.wait_until(lambda: env.req("GET", "/readyz").status == 200, timeout=30, what="readyz")
        states = {}
        for cid in accepted:
            c = env.wait_claim(cid, ["active", "failed"], timeout=120)
            states.setdefault(c["state"], []).append(c)
        self.assertEqual(set(states), {"active"}, {k: len(v) for k, v in states.items()})
        cert_ids = [c["certificateId"] for c in states["active"]]
        self.assertEqual(len(set(cert_ids)), len(cert_ids))
        certs = env.emu_certs()
        if len(certs) != len(accepted) + 1:
            self.fail("%d certificates for %d claims (+ the fleet's first); not held by a claim: %s"
                      % (len(certs), len(accepted), self.unheld(certs, set(cert_ids))))
        dead = env.req("GET", "/v1/jobs?state=dead&limit=10", token=env.read).json["items"]
        self.assertEqual(dead, [])
        print("\n  %d claims accepted, %d answers 503 of %d during two failovers"
              % (len(accepted), statuses.count(503), len(statuses)))


if __name__ == "__main__":
    unittest.main()
