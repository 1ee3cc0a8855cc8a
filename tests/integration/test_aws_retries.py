"""Transport, errors and retries of aws/ (http.c, client.c, retry.c) against
the AWS emulator's fault injection and small local servers: throttling
(IoT's ThrottlingException with HTTP 400) retried then succeeding, 5xx
retried, AccessDenied never retried, attempts and backoff, connection reuse,
proxies and NO_PROXY, the response size cap, and no secret in any output."""
import calendar
import email.utils
import json
import os
import sys
import time
import unittest

import harness

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_aws_helpers import SECRET, TRUST_IOT, AwsCase, iot_policy  # noqa: E402


class Retries(AwsCase):
    def setUp(self):
        super().setUp()
        self.ok("iot.create-policy", name="P", doc=iot_policy())
        self.emu.control("DELETE", "calls")

    def test_iot_throttling_400_retried_then_succeeds(self):
        self.emu.fault(operation="GetPolicy", status=400, code="ThrottlingException", message="Rate exceeded",
                       count=2)
        res = self.call("iot.get-policy", name="P")
        self.assertTrue(res["ok"], res)
        self.assertEqual(res["attempts"], 3)
        self.assertEqual(len(res["sleeps"]), 2)
        self.assertTrue(0 <= res["sleeps"][0] < 1000 and 0 <= res["sleeps"][1] < 2000, res["sleeps"])
        codes = [c["errorCode"] for c in self.emu.calls(operation="GetPolicy")]
        self.assertEqual(codes, ["ThrottlingException", "ThrottlingException", None])

    def test_throttling_gives_up_after_max_attempts(self):
        self.emu.fault(operation="GetPolicy", status=400, code="ThrottlingException", count=10)
        res = self.call("iot.get-policy", name="P")
        self.assertFalse(res["ok"])
        self.assertEqual(res["rc"], "FW_ETHROTTLED")
        self.assertEqual(res["error"]["class"], "throttling")
        self.assertTrue(res["error"]["retryable"])
        self.assertEqual(res["attempts"], 3)
        self.assertEqual(len(self.emu.calls(operation="GetPolicy")), 3)

    def test_max_attempts_from_environment(self):
        self.emu.fault(operation="GetPolicy", status=400, code="ThrottlingException", count=10)
        res = self.call("iot.get-policy", env=self.emu.env(AWS_MAX_ATTEMPTS="5"), name="P")
        self.assertEqual(res["attempts"], 5)
        self.emu.control("DELETE", "faults")
        self.emu.fault(operation="GetPolicy", status=400, code="ThrottlingException", count=10)
        res = self.call("iot.get-policy", env=self.emu.env(AWS_MAX_ATTEMPTS="1"), name="P")
        self.assertEqual(res["attempts"], 1)
        self.assertEqual(res["sleeps"], [])
        res = self.call("iot.get-policy", env=self.emu.env(AWS_MAX_ATTEMPTS="nope"), name="P")
        self.assertFalse(res["ok"])
        self.assertIn("AWS_MAX_ATTEMPTS", res["error"]["message"])

    def test_legacy_mode_accepted(self):
        self.emu.fault(operation="GetPolicy", status=400, code="ThrottlingException", count=3)
        res = self.call("iot.get-policy", env=self.emu.env(AWS_RETRY_MODE="legacy"), name="P")
        self.assertTrue(res["ok"])
        self.assertEqual(res["attempts"], 4)
        res = self.call("iot.get-policy", env=self.emu.env(AWS_RETRY_MODE="adaptive"), name="P")
        self.assertTrue(res["ok"])
        res = self.call("iot.get-policy", env=self.emu.env(AWS_RETRY_MODE="fast"), name="P")
        self.assertFalse(res["ok"])
        self.assertIn("AWS_RETRY_MODE", res["error"]["message"])

    def test_500_retried_on_rest_json_and_query(self):
        self.emu.fault(operation="GetPolicy", status=500, code="InternalFailureException", count=1)
        res = self.call("iot.get-policy", name="P")
        self.assertTrue(res["ok"], res)
        self.assertEqual(res["attempts"], 2)
        self.emu.fault(operation="GetCallerIdentity", status=503, code="ServiceUnavailable", count=1)
        res = self.call("sts.get-caller-identity")
        self.assertTrue(res["ok"], res)
        self.assertEqual(res["attempts"], 2)
        self.emu.fault(operation="ListPolicies", service="iam", status=500, count=0)

    def test_iam_throttling_retried(self):
        self.ok("iam.create-role", name="R", doc=TRUST_IOT)
        self.emu.fault(operation="GetRole", status=400, code="Throttling", count=1)
        res = self.call("iam.get-role", name="R")
        self.assertTrue(res["ok"], res)
        self.assertEqual(res["attempts"], 2)

    def test_access_denied_not_retried(self):
        self.emu.fault(operation="GetPolicy", status=403, code="AccessDeniedException", message="no", count=5)
        res = self.call("iot.get-policy", name="P")
        self.assertFalse(res["ok"])
        self.assertEqual(res["attempts"], 1)
        self.assertEqual(res["sleeps"], [])
        self.assertEqual(res["error"]["class"], "access")
        self.assertFalse(res["error"]["retryable"])
        self.assertEqual(len(self.emu.calls(operation="GetPolicy")), 1)

    def test_other_4xx_not_retried(self):
        self.emu.fault(operation="GetPolicy", status=400, code="InvalidRequestException", count=5)
        res = self.call("iot.get-policy", name="P")
        self.assertEqual(res["attempts"], 1)
        self.assertEqual(res["rc"], "FW_EINVAL")

    def test_emulator_quota_throttles_and_client_recovers(self):
        self.emu.control("POST", "quotas", {"enabled": True, "quotas": {"iot:GetPolicy": {"rate": 20, "burst": 1}}})
        res = self.call("iot.get-policy", env=self.emu.env(AWS_MAX_ATTEMPTS="6"), name="P", repeat=3, real_sleep=1)
        self.assertTrue(res["ok"], res)
        throttled = [c for c in self.emu.calls(operation="GetPolicy") if c["errorCode"] == "ThrottlingException"]
        self.assertGreater(len(throttled), 0)

    def test_timeout_retried_then_succeeds(self):
        self.emu.fault(operation="GetPolicy", delayMs=1500, delayOnly=True, count=1)
        res = self.call("iot.get-policy", name="P", timeout_ms=400)
        self.assertTrue(res["ok"], res)
        self.assertEqual(res["attempts"], 2)

    def test_timeouts_exhaust_attempts(self):
        self.emu.fault(operation="GetPolicy", delayMs=1000, delayOnly=True, count=3)
        res = self.call("iot.get-policy", name="P", timeout_ms=300)
        self.assertEqual(res["rc"], "FW_ETIMEOUT")
        self.assertEqual(res["error"]["code"], "ClientTimeout")
        self.assertEqual(res["error"]["class"], "transient")
        self.assertEqual(res["attempts"], 3)

    def test_connection_refused_retried_then_unavailable(self):
        res = self.call("sts.get-caller-identity", env=self.emu.env(AWS_ENDPOINT_URL="http://127.0.0.1:1"))
        self.assertEqual(res["rc"], "FW_EUNAVAILABLE")
        self.assertEqual(res["error"]["code"], "ConnectionError")
        self.assertEqual(res["error"]["httpStatus"], 0)
        self.assertEqual(res["attempts"], 3)


class Transport(AwsCase):
    def test_connection_reuse(self):
        res = self.call("iot.describe-endpoint", repeat=20)
        self.assertTrue(res["ok"])
        self.assertEqual(res["connections"], 1)
        res = self.call("iot.describe-endpoint", repeat=5, fresh=1)
        self.assertEqual(res["connections"], 5)
        res = self.call("sts.get-caller-identity", repeat=10)
        self.assertEqual(res["connections"], 1)

    def test_proxy_from_environment_and_no_proxy(self):
        dead_proxy = "http://127.0.0.1:1"
        res = self.call("sts.get-caller-identity", env=self.emu.env(http_proxy=dead_proxy))
        self.assertFalse(res["ok"], "the proxy variable was ignored")
        self.assertEqual(res["error"]["code"], "ConnectionError")
        for var in ("NO_PROXY", "no_proxy"):
            res = self.call("sts.get-caller-identity", env=self.emu.env(http_proxy=dead_proxy, **{var: "127.0.0.1"}))
            self.assertTrue(res["ok"], "%s did not bypass the proxy: %s" % (var, res.get("error")))

    def test_proxy_is_used(self):
        body = b"<ErrorResponse><Error><Code>ProxySaysNo</Code><Message>x</Message></Error></ErrorResponse>"
        with harness.StubServer(lambda req: (400, {}, body)) as proxy:
            env = self.emu.env(http_proxy=proxy.url, AWS_ENDPOINT_URL="http://sts.example.invalid")
            res = self.call("sts.get-caller-identity", env=env)
        self.assertEqual(res["error"]["code"], "ProxySaysNo")
        self.assertEqual([r["path"] for r in proxy.requests], ["http://sts.example.invalid/"])

    def test_response_body_cap(self):
        with harness.StubServer(lambda req: (200, {}, b"x" * (9 * 1024 * 1024))) as huge:
            res = self.call("sts.get-caller-identity", env=self.emu.env(AWS_ENDPOINT_URL=huge.url))
        self.assertEqual(res["rc"], "FW_ETOOBIG")
        self.assertEqual(res["error"]["code"], "ResponseTooLarge")
        self.assertIn("larger than 8388608 bytes", res["error"]["message"])
        self.assertEqual(res["attempts"], 1)

    def test_malformed_answer(self):
        with harness.StubServer(lambda req: (200, {}, b"<GetCallerIdentityResponse><unclosed>")) as garbage:
            res = self.call("sts.get-caller-identity", env=self.emu.env(AWS_ENDPOINT_URL=garbage.url))
        self.assertEqual(res["error"]["code"], "MalformedResponse")
        self.assertEqual(res["attempts"], 1)

    def test_clock_skew_learnt_from_date_header(self):
        """The server's clock is an hour ahead: the first answer is a skew error whose
        Date header tells the client the offset; the re-signed request succeeds."""
        ahead = 3600
        seen = []

        def skewed(req):
            amz = req["headers"].get("X-Amz-Date")
            signed_at = calendar.timegm(time.strptime(amz, "%Y%m%dT%H%M%SZ"))
            seen.append(signed_at)
            date = {"Date": email.utils.formatdate(time.time() + ahead, usegmt=True)}
            if abs(signed_at - (time.time() + ahead)) > 300:
                return 403, date, (b"<ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code>"
                                   b"<Message>Signature expired: " + amz.encode() + b" is now earlier than "
                                   b"the server time - 5 min.</Message></Error><RequestId>x</RequestId>"
                                   b"</ErrorResponse>")
            return 200, date, (b"<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::1:user/s"
                               b"</Arn><UserId>U</UserId><Account>1</Account></GetCallerIdentityResult>"
                               b"</GetCallerIdentityResponse>")

        with harness.StubServer(skewed) as srv:
            env = self.emu.env(AWS_ENDPOINT_URL=srv.url, AWS_MAX_ATTEMPTS="1")
            res, err = self.emu_probe_all_output("sts.get-caller-identity", env=env, repeat=3)
        self.assertTrue(res["ok"], res)
        self.assertEqual(res["out"]["account"], "1")
        self.assertEqual(len(seen), 4)  # one refused, then three signed with the server's clock
        self.assertTrue(all(abs(t - seen[1]) < 60 for t in seen[1:]))
        self.assertIn("clock skew", err)

    def test_https_verification_is_on(self):
        # A plain-HTTP server spoken to over https fails the TLS handshake: no silent fallback.
        res = self.call("sts.get-caller-identity",
                        env=self.emu.env(AWS_ENDPOINT_URL="https://127.0.0.1:%d" % self.emu.port))
        self.assertFalse(res["ok"])
        self.assertIn(res["error"]["code"], ("TLSError", "ConnectionError"))

    def test_secrets_never_printed(self):
        res, err = self.emu_probe_all_output("iot.create-keys-and-certificate", active=1)
        self.assertNotIn(SECRET, err)
        state = self.emu.control("GET", "state")
        keys = [c.get("privateKey") or c.get("PrivateKey") for c in state["iot"]["certificates"].values()
                if isinstance(c, dict)]
        for k in keys:
            if k:
                self.assertNotIn(k.splitlines()[1], err + json.dumps(res))

    def emu_probe_all_output(self, op, env=None, **args):
        from test_aws_helpers import probe
        return probe(self.emu, op, env=env, **args)


if __name__ == "__main__":
    unittest.main()
