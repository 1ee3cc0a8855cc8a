"""What devices get (issue 13, item 3): the provisioning template's OverrideSettings as the
Greengrass guide has them, the <THING_NAME> placeholder explained in the config and the bundle,
a template option that derives the thing name on AWS's side, and the nucleus version as a fleet
setting with a current default.

Real fleetwarden, Redis and the AWS emulator; the template is read back from the emulator.
"""
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_fleets import FleetCase  # noqa: E402

NUCLEUS_DEFAULT = "2.16.1"   # AWS IoT Greengrass V2 document history: nucleus v2.16.1, 2025-12-23


class WhatDevicesGet(FleetCase):
    def setup(self, body):
        _, job = self.env.setup_fleet(body)
        self.assertEqual(job["state"], "succeeded", job)
        return self.env.fleet(body["name"])

    def template_body(self, name):
        t = self.env.emu.control("GET", "state")["iot"]["templates"][name]
        return json.loads(t["versions"][str(t["defaultVersionId"])]["templateBody"])

    def config(self, fleet, query=""):
        r = self.env.req("GET", "/v1/fleets/%s/greengrass-config%s" % (fleet, query))
        self.assertEqual(r.status, 200, r)
        return r.body.decode()

    def bundle(self, fleet):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            items = self.env.req("GET", "/v1/claims?fleet=" + fleet).json["items"]
            if items and items[0]["state"] == "active":
                r = self.env.req("GET", "/v1/claims/%s/bundle" % items[0]["id"])
                self.assertEqual(r.status, 200, r)
                return r.json
            time.sleep(0.2)
        self.fail("no active claim")

    def test_override_settings_as_the_guide_has_them(self):
        self.setup({"name": "ov"})
        thing = self.template_body("ov-template")["Resources"]["MyThing"]
        self.assertEqual(thing["OverrideSettings"],
                         {"AttributePayload": "REPLACE", "ThingGroups": "REPLACE", "ThingTypeName": "REPLACE"})

    def test_thing_name_placeholder_is_explained(self):
        self.setup({"name": "ph"})
        y = self.config("ph")
        self.assertIn('ThingName: "<THING_NAME>"', y)
        self.assertIn("# <THING_NAME>: replace it on each device", y)
        self.assertNotIn("# <THING_NAME>", self.config("ph", "?thingName=core-1"))
        b = self.bundle("ph")
        self.assertEqual([p["placeholder"] for p in b["perDevice"]], ["<THING_NAME>"])
        self.assertEqual(b["perDevice"][0]["parameter"], "ThingName")
        self.assertIn("[a-zA-Z0-9:_-]", b["perDevice"][0]["rule"])

    def test_thing_name_derived_on_awss_side(self):
        f = self.setup({"name": "line7", "template": {"thingName": {"from": "certificateId", "prefix": "line7-"}}})
        self.assertEqual(f["spec"]["template"]["thingName"], {"from": "certificateId", "prefix": "line7-"})
        body = self.template_body("line7-template")
        self.assertEqual(body["Resources"]["MyThing"]["Properties"]["ThingName"],
                         {"Fn::Join": ["", ["line7-", {"Ref": "AWS::IoT::Certificate::Id"}]]})
        self.assertNotIn("ThingName", body["Parameters"])
        y = self.config("line7")
        self.assertNotIn("ThingName", y)
        self.assertNotIn("<", y, "one config for the whole production line: nothing to fill in")
        self.assertEqual(self.bundle("line7")["perDevice"], [])
        f = self.setup({"name": "line8", "template": {"thingName": {"from": "serialNumber", "prefix": "l8-"}}})
        body = self.template_body("line8-template")
        self.assertEqual(body["Resources"]["MyThing"]["Properties"]["ThingName"],
                         {"Fn::Join": ["", ["l8-", {"Ref": "SerialNumber"}]]})
        self.assertIn('SerialNumber: "<SERIAL_NUMBER>"', self.config("line8"))
        for bad, field in (({"from": "macAddress"}, "template.thingName.from"),
                           ({"from": "certificateId", "prefix": "a b"}, "template.thingName.prefix"),
                           ({"from": "certificateId", "prefix": "x" * 65}, "template.thingName.prefix"),
                           ({"prefix": "p-"}, "template.thingName.prefix"),
                           ({"from": "certificateId", "bogus": 1}, "template.thingName.bogus")):
            r = self.env.req("POST", "/v1/fleets", body={"name": "tnbad", "template": {"thingName": bad}})
            self.assertEqual(r.status, 400, (bad, r))
            self.assertIn(field, [e["field"] for e in r.json["errors"]], (bad, r.json))

    def test_nucleus_version_is_a_fleet_setting(self):
        self.setup({"name": "nv"})
        self.assertIn('version: "%s"' % NUCLEUS_DEFAULT, self.config("nv"))
        r = self.env.req("PATCH", "/v1/fleets/nv", body={"greengrass": {"nucleusVersion": "2.15.0"}})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["settings"]["greengrass"], {"nucleusVersion": "2.15.0"})
        self.assertIn('version: "2.15.0"', self.config("nv"))
        self.assertIn('version: "2.15.1"', self.config("nv", "?nucleusVersion=2.15.1"))
        self.assertIn('version: "2.15.0"', self.bundle("nv")["greengrassConfig"])
        for bad in ("latest", "2.x", "2." + "9" * 40, 2):
            r = self.env.req("PATCH", "/v1/fleets/nv", body={"greengrass": {"nucleusVersion": bad}})
            self.assertEqual(r.status, 400, r)
            self.assertEqual([e["field"] for e in r.json["errors"]], ["greengrass.nucleusVersion"])
        r = self.env.req("POST", "/v1/fleets", body={"name": "nv2", "greengrass": {"nucleusVersion": "2.16.0"}})
        self.assertEqual(r.status, 202, r)


if __name__ == "__main__":
    unittest.main()
