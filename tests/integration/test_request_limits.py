"""Inputs AWS would refuse later are refused at the API (issue 13, item 4): a CSR over
CreateCertificateFromCsr's 4,096 characters, and a template description with a character of
Unicode category C (AWS's pattern [^\\p{C}]*). The emulator enforces both as AWS does, so before
this check they became a failed claim or a failed fleet instead of a 400 naming the field.
"""
import unittest

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

import claims_lib as cl


def big_csr(target=4100):
    """A valid CSR whose PEM is just over target characters (many subjectAltNames)."""
    key = ec.generate_private_key(ec.SECP256R1())
    n = 10
    while True:
        names = [x509.DNSName("device-%04d.factory.example.com" % i) for i in range(n)]
        csr = (x509.CertificateSigningRequestBuilder()
               .subject_name(x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "claim")]))
               .add_extension(x509.SubjectAlternativeName(names), critical=False)
               .sign(key, hashes.SHA256()))
        pem = csr.public_bytes(serialization.Encoding.PEM).decode()
        if len(pem) > target:
            return pem
        n += 5


class RequestLimits(cl.ClaimsCase):
    FLEET = "lim"

    def test_csr_over_4096_characters(self):
        pem = big_csr()
        self.assertGreater(len(pem), 4096)
        r = self.env.req("POST", "/v1/fleets/lim/claims", body={"keySource": "csr", "csr": pem})
        self.assertEqual(r.status, 400, r)
        self.assertEqual([e["field"] for e in r.json["errors"]], ["csr"])
        self.assertIn("4096", r.json["errors"][0]["message"])
        _, small = cl.make_csr("ec256")
        r = self.env.req("POST", "/v1/fleets/lim/claims", body={"keySource": "csr", "csr": small})
        self.assertEqual(r.status, 202, r)

    def test_template_description_without_control_characters(self):
        for text in ("line 7\tnight shift", "zero\u200bwidth", "private \ue000 use", "bell\x07"):
            r = self.env.req("POST", "/v1/fleets", token=self.env.admin,
                             body={"name": "desc", "template": {"description": text}})
            self.assertEqual(r.status, 400, (text, r))
            self.assertEqual([e["field"] for e in r.json["errors"]], ["template.description"], text)
            r = self.env.req("POST", "/v1/templates", token=self.env.admin, body={
                "name": "desc-t", "provisioningRoleArn": "arn:aws:iam::%s:role/p" % cl.ACCOUNT,
                "description": text, "body": {"Resources": {}}})
            self.assertEqual(r.status, 400, (text, r))
            self.assertIn("description", [e["field"] for e in r.json["errors"]], text)
        r = self.env.req("POST", "/v1/fleets", token=self.env.admin,
                         body={"name": "desc", "template": {"description": "Ligne 7 — équipe de nuit ✓"}})
        self.assertEqual(r.status, 202, r)


if __name__ == "__main__":
    unittest.main()
