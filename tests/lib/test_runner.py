"""The runner's scratch directories (tests/lib/runner.py): a test class's temporary files are
removed when it passes and kept, and named, when it fails. Runs the runner on two generated test
modules (no server), with TMPDIR pointed at a fresh directory, and looks at what is left there."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest

RUNNER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "runner.py")

# Each test makes a directory with tempfile and a file in it, as the harness does (fw-redis-*),
# and prints where, so the test below can tell whose directory is gone.
MODULE = '''
import os, tempfile, unittest

class %s(unittest.TestCase):
    def test_writes(self):
        d = tempfile.mkdtemp(prefix="fw-gen-")
        with open(os.path.join(d, "data"), "w") as f:
            f.write("x")
        print("MADE " + d)
        self.assertTrue(%s)
'''


class Scratch(unittest.TestCase):
    RUN_COST_S = 2

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="fw-runner-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.tests = os.path.join(self.tmp, "tests")
        self.temp = os.path.join(self.tmp, "temp")
        os.mkdir(self.tests)
        os.mkdir(self.temp)
        for mod, cls, ok in (("test_gen_a", "Passing", True), ("test_gen_b", "Failing", False)):
            with open(os.path.join(self.tests, mod + ".py"), "w") as f:
                f.write(textwrap.dedent(MODULE % (cls, ok)))

    def run_runner(self, *args):
        """The runner as at the top level: TMPDIR the fresh directory, and no FW_TEST_SCRATCH
        (this test's own runner set it: here it would say the scratch directory is made)."""
        env = {k: v for k, v in os.environ.items() if k != "FW_TEST_SCRATCH"}
        env["TMPDIR"] = self.temp
        r = subprocess.run([sys.executable, RUNNER, self.tests, *args], env=env,
                           capture_output=True, text=True, timeout=120)
        return r.returncode, r.stdout + r.stderr

    def made(self, out):
        return re.findall(r"MADE (\S+)", out)

    def test_parallel_removes_the_passing_class_and_keeps_the_failing(self):
        rc, out = self.run_runner("--parallel", "2")
        self.assertEqual(rc, 1, out)
        self.assertTrue(out.rstrip().endswith("1 passed, 1 failed, 0 skipped"), out)
        left = os.listdir(self.temp)
        self.assertEqual(len(left), 1, (left, out))
        kept = os.path.join(self.temp, left[0])
        self.assertTrue(left[0].startswith("fw-t-Failing-"), left)
        self.assertIn("kept %s (" % kept, out)
        with open(os.path.join(kept, "CLASS")) as f:
            self.assertEqual(f.read().strip(), "test_gen_b.Failing")
        made = self.made(out)
        self.assertEqual(len(made), 2, out)
        inside = r"^%s/fw-t-(Passing|Failing)-[^/]+/fw-gen-[^/]+$" % re.escape(self.temp)
        for d in made:                     # each test's mkdtemp went into its class's directory
            self.assertRegex(d, inside)
        failing = [d for d in made if "/fw-t-Failing-" in d][0]
        self.assertTrue(os.path.exists(os.path.join(failing, "data")))
        # The child made no second level: the class's directory holds CLASS and the test's own.
        self.assertEqual(sorted(os.listdir(kept)), sorted(["CLASS", os.path.basename(failing)]))

    def test_serial_run_keeps_its_directory_on_failure(self):
        rc, out = self.run_runner()
        self.assertEqual(rc, 1, out)
        left = os.listdir(self.temp)
        self.assertEqual(len(left), 1, (left, out))
        self.assertTrue(left[0].startswith("fw-t-run-"), left)
        self.assertIn("kept %s (" % os.path.join(self.temp, left[0]), out)
        self.assertEqual(len(self.made(out)), 2, out)
        for d in self.made(out):
            self.assertTrue(d.startswith(os.path.join(self.temp, left[0]) + "/"), d)

    def test_serial_run_removes_its_directory_on_success(self):
        rc, out = self.run_runner("-k", "Passing")
        self.assertEqual(rc, 0, out)
        self.assertEqual(len(self.made(out)), 1, out)
        self.assertEqual(os.listdir(self.temp), [], out)
        self.assertNotIn("kept ", out)


if __name__ == "__main__":
    unittest.main()
