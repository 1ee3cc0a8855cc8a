"""Runs unittest test modules (test_*.py) found under the given folders.

Prints each test as it runs and ends with one line 'N passed, M failed'
(plus skipped); exit code 1 on any failure or error. --json FILE writes the
counts for tests/run.sh to add up.
"""
import argparse
import json
import os
import sys
import unittest


def discover(dirs):
    suite = unittest.TestSuite()
    loader = unittest.TestLoader()
    for d in dirs:
        if not os.path.isdir(d):
            continue
        for dirpath, _, files in sorted(os.walk(d)):
            for f in sorted(files):
                if f.startswith("test_") and f.endswith(".py"):
                    sys.path.insert(0, dirpath)
                    mod = f[:-3]
                    suite.addTests(loader.loadTestsFromName(mod))
                    sys.path.pop(0)
    return suite


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dirs", nargs="+")
    ap.add_argument("--json")
    ap.add_argument("-k", dest="pattern", help="only tests whose id contains this")
    a = ap.parse_args()
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    suite = discover(a.dirs)
    if a.pattern:
        suite = unittest.TestSuite(t for t in _flatten(suite) if a.pattern in t.id())
    res = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    failed = len(res.failures) + len(res.errors) + len(res.unexpectedSuccesses)
    skipped = len(res.skipped)
    passed = res.testsRun - failed - skipped
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"passed": passed, "failed": failed, "skipped": skipped}, f)
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


def _flatten(s):
    for t in s:
        if isinstance(t, unittest.TestSuite):
            yield from _flatten(t)
        else:
            yield t


if __name__ == "__main__":
    sys.exit(main())
