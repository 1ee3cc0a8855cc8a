"""docs/OPERATIONS.md stays true to the code: every setting the code reads, every metric it
exports and every deploy/ file it names are in the guide (and exist)."""
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import ROOT, product_c_files  # noqa: E402

GUIDE = os.path.join(ROOT, "docs", "OPERATIONS.md")


def sources():
    for path in product_c_files():
        with open(path, encoding="utf-8") as f:
            yield f.read()


class OperationsGuide(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        with open(GUIDE, encoding="utf-8") as f:
            cls.guide = f.read()
        cls.code = "\n".join(sources())

    def test_every_setting_is_documented(self):
        names = set(re.findall(r'"(FLEETWARDEN_[A-Z_]+)"', self.code))
        self.assertGreater(len(names), 10)
        for name in sorted(names):
            with self.subTest(setting=name):
                self.assertTrue(name.rstrip("_") in self.guide, f"{name} is not in docs/OPERATIONS.md")

    def test_metrics_public_says_what_false_does(self):
        """With FLEETWARDEN_METRICS_PUBLIC=false /metrics answers 401 without a token
        (test_lifecycle.PrivateMetrics); the guide used to say /metrics was always public."""
        row = next(line for line in self.guide.splitlines()
                   if line.startswith("| `FLEETWARDEN_METRICS_PUBLIC`"))
        self.assertNotIn("public in this version", row)
        self.assertIn("401", row)
        self.assertIn("Prometheus", row)
        self.assertIn("--scope read", row)

    def test_every_metric_is_documented(self):
        names = set(re.findall(r'"(?:# TYPE |# HELP )?(fleetwarden_[a-z_]+)', self.code))
        families = {re.sub(r"_(bucket|sum|count)$", "", n) for n in names}
        self.assertGreater(len(families), 10)
        for fam in sorted(families):
            with self.subTest(metric=fam):
                self.assertTrue(re.search(rf"`{fam}[`{{]", self.guide), f"add {fam} to 'What to monitor'")

    def test_named_deploy_files_exist(self):
        # deploy/secrets/kek and redis_password are made by the operator (and gitignored).
        for path in sorted(set(re.findall(r"`?((?:deploy|docs|tests)/[A-Za-z0-9_./@-]+[A-Za-z0-9_@-])", self.guide))
                           - {"deploy/secrets/kek", "deploy/secrets/redis_password"}):
            with self.subTest(path=path):
                self.assertTrue(os.path.exists(os.path.join(ROOT, path)), path)


if __name__ == "__main__":
    unittest.main()
