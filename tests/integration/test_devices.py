"""Devices in the loop (issue 14 B): real device clients (tests/devices, AWS IoT Device SDK v2 for
JavaScript) provision through claims that fleetwarden made, from bundles exactly as
GET /v1/claims/{id}/bundle hands them out, against the emulated AWS IoT data plane.

A fleet set up with POST /v1/fleets; 20 devices through its first claim become 20 things in the
fleet's thing group, each with its own ACTIVE certificate carrying the thing policy, each able to
connect as itself and to get credentials that work against STS. A CSR claim with a CSR fleet and
a keys-and-certificate claim both work (and CSR devices are refused by a fleet that does not
allow them). A disabled claim is refused at connect, a revoked one too; enable brings a disabled
one back. Rotation: the old claim works during its grace period and not after; the successor
works.
"""
import time
import unittest

import devices_lib as dl
from devices_lib import DevicesCase
from claims_lib import make_csr
from cryptography.hazmat.primitives import serialization


def key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


class DevicesLine(DevicesCase):
    """One fleet (line7, the defaults: keys and certificate, no CSR) and its claims; tests in order."""

    RUN_COST_S = 110   # wall time measured (loaded machine): the parallel runner starts the longest first
    ENV = {"FLEETWARDEN_ROTATION_SCAN_S": "1"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fleet = cls.env.make_fleet("line7")

    def test_01_twenty_devices_through_the_first_claim(self):
        claim = self.env.first_claim(self.fleet)
        bundle = self.env.bundle(claim["id"])
        report = self.env.provision(bundle, devices=20, concurrency=5, prefix="line7-core")
        self.assertAllOk(report, 20)
        things = sorted(d["thingName"] for d in report["devices"])
        self.assertEqual(things, sorted("line7-core-%d" % i for i in range(20)))
        self.assertEqual(sorted(self.env.things_in_group("line7")), things)
        certs = {d["certificateId"] for d in report["devices"]}
        self.assertEqual(len(certs), 20, "each device has its own certificate")
        self.assertNotIn(claim["certificateId"], certs)
        policy = self.fleet["resources"]["thingPolicy"]["name"]
        for d in report["devices"][:20]:
            self.check_thing(d, policy)

    def check_thing(self, device, policy):
        iot = self.env.iot
        cert = iot.describe_certificate(certificateId=device["certificateId"])["certificateDescription"]
        self.assertEqual(cert["status"], "ACTIVE")
        principals = iot.list_thing_principals(thingName=device["thingName"])["principals"]
        self.assertEqual(principals, [cert["certificateArn"]])
        attached = [p["policyName"] for p in iot.list_attached_policies(target=cert["certificateArn"])["policies"]]
        self.assertEqual(attached, [policy])
        ident = dl.sts_client(device["credentials"], self.env.emu).get_caller_identity()
        self.assertEqual(ident["Arn"], "arn:aws:sts::%s:assumed-role/%s/%s" % (
            dl.ACCOUNT, self.fleet["resources"]["tokenExchangeRole"]["name"], device["certificateId"]))

    def test_02_mqtt5_devices_and_csr_refused_by_a_fleet_without_allowCsr(self):
        claim = self.env.new_claim("line7")
        bundle = self.env.bundle(claim["id"])
        report = self.env.provision(bundle, devices=2, protocol="5", prefix="line7-m5")
        self.assertAllOk(report, 2)
        # The fleet's claim policy has no $aws/certificates/create-from-csr/* topics (allowCsr false):
        # a device that makes its own key is refused the subscription and gets no certificate.
        report = self.env.provision(bundle, devices=1, api="csr", prefix="line7-csr")
        s = dl.failed_step(report["devices"][0])
        self.assertIsNotNone(s, "a CSR device provisioned through a claim policy without allowCsr")
        self.assertEqual((s["step"], s["errorCode"]), ("createCertificate", "SUBACK_FAILURE"), dl.describe(report))

    def test_03_disabled_claim_refused_at_connect_enable_brings_it_back(self):
        claim = self.env.new_claim("line7")
        bundle = self.env.bundle(claim["id"])
        self.env.accepted(self.env.req("POST", "/v1/claims/%s/disable" % claim["id"], body={"reason": "test"}), "disable")
        self.assertEqual(self.env.claim(claim["id"])["state"], "inactive")
        r311 = self.env.provision(bundle, devices=1, protocol="311", prefix="line7-off")
        r5 = self.env.provision(bundle, devices=1, protocol="5", prefix="line7-off5")
        self.assertRefusedAtConnect(r311, "is INACTIVE")
        s5 = self.assertRefusedAtConnect(r5, "is INACTIVE")[0]
        # MQTT 5 hears why: CONNACK 0x87 Not authorized with the reason string.
        self.assertEqual(s5["errorCode"], "CONNACK 0x87")
        self.assertIn("INACTIVE", s5["errorMessage"])
        self.env.accepted(self.env.req("POST", "/v1/claims/%s/enable" % claim["id"]), "enable")
        self.assertAllOk(self.env.provision(bundle, devices=1, prefix="line7-back"), 1)

    def test_04_revoked_claim_refused_for_good(self):
        claim = self.env.new_claim("line7")
        bundle = self.env.bundle(claim["id"])
        r = self.env.req("POST", "/v1/claims/%s/disable" % claim["id"], body={"reason": "leaked", "revoke": True})
        self.env.accepted(r, "revoke")
        self.assertEqual(self.env.claim(claim["id"])["state"], "revoked")
        self.assertRefusedAtConnect(self.env.provision(bundle, devices=1, protocol="5", prefix="line7-rev"),
                                    "is REVOKED")
        self.assertEqual(self.env.req("POST", "/v1/claims/%s/enable" % claim["id"]).status, 409)

    def test_05_rotation_old_claim_during_grace_not_after_successor_works(self):
        old = self.env.new_claim("line7")
        old_bundle = self.env.bundle(old["id"])
        grace_s = 20
        r = self.env.req("POST", "/v1/claims/%s/rotate" % old["id"], body={"graceSeconds": grace_s})
        out = self.env.accepted(r, "rotate")
        started = time.monotonic()
        self.assertEqual(self.env.claim(old["id"])["state"], "rotating")
        successor = self.env.wait_claim(out["successor"]["id"], ("active",))
        during = self.env.provision(old_bundle, devices=1, prefix="line7-grace")
        self.assertLess(time.monotonic() - started, grace_s, "the device ran after the grace period: too slow to tell")
        self.assertAllOk(during, 1)
        self.env.wait_claim(old["id"], ("inactive",), timeout=grace_s + 60)
        self.assertRefusedAtConnect(self.env.provision(old_bundle, devices=1, prefix="line7-late"), "is INACTIVE")
        self.assertAllOk(self.env.provision(self.env.bundle(successor["id"]), devices=1, prefix="line7-next"), 1)


class DevicesCsrFleet(DevicesCase):
    """A fleet whose claim policy allows CreateCertificateFromCsr (allowCsr), a claim made from the
    factory's own CSR (the service never sees that key): CSR devices over MQTT 5 and
    keys-and-certificate devices over MQTT 3.1.1 both provision through it."""

    RUN_COST_S = 50

    def test_csr_claim_with_csr_and_keys_devices(self):
        self.env.make_fleet("csrline", claimPolicyAllowCsr=True)
        factory_key, csr = make_csr("ec256", cn="csrline-factory")
        claim = self.env.new_claim("csrline", body={"keySource": "csr", "csr": csr})
        bundle = self.env.bundle(claim["id"])
        self.assertIsNone(bundle["privateKeyPem"], "a CSR claim's bundle has no key")
        pem = key_pem(factory_key)
        for protocol, api in (("5", "csr"), ("311", "keys"), ("311", "csr")):
            with self.subTest(protocol=protocol, api=api):
                report = self.env.provision(bundle, devices=2, protocol=protocol, api=api, key_pem=pem,
                                            prefix="csrline-%s-%s" % (protocol, api))
                self.assertAllOk(report, 2)
                made = {dl.step(d, "createCertificate")["api"] for d in report["devices"]}
                self.assertEqual(made, {"CreateCertificateFromCsr" if api == "csr" else "CreateKeysAndCertificate"})
        calls = self.env.emu.control("GET", "dataplane/provisioning?api=CreateCertificateFromCsr&outcome=accepted")
        self.assertEqual({c["claimCertificateId"] for c in calls["calls"]}, {claim["certificateId"]})


if __name__ == "__main__":
    unittest.main()
