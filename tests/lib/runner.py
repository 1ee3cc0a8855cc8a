"""Runs unittest test modules (test_*.py) found under the given folders.

Prints each test as it runs and ends with one line 'N passed, M failed'
(plus skipped); exit code 1 on any failure or error. --json FILE writes the
counts for tests/run.sh to add up.

--parallel N runs the test classes in N child processes at once (most tests
spend their time waiting on processes, leases and timeouts, not on the CPU).
Each class runs whole in one child, longest first (a class's RUN_COST_S, the
wall time it took on the reference machine, default 10), and its output is
printed in one piece when it ends. A class with RUN_EXCLUSIVE = True (a load
test that wants the CPU to itself) runs alone once the others are done. Every child gets a range of TCP ports of
its own (FW_PORT_BASE, read by harness.free_port) outside the kernel's
ephemeral range, so servers started by two children never race for a port.

Scratch directories: every temporary file of a test class (the harness's fw-redis-*, fw-svc-*,
fw-emu-*: Redis's AOF, the service's log and KEK, and what fleetwarden, the emulator and the node
scripts make, all of which honour TMPDIR) goes into one directory of its own, fw-t-<class>-XXXX
under the normal temp dir (a file CLASS in it names the class in full). The runner sets TMPDIR to
it for the child that runs the class. When the class passed and its child exited cleanly, the
directory is removed; when it failed it is kept and named in the class's output ("kept DIR"):
the logs and Redis data of a failed run are how a race is diagnosed after the fact. Without
--parallel (or with --only), a runner at the top level does the same for its whole run, in its
own process. FW_TEST_SCRATCH (set by the parent to the child's directory, next to TMPDIR) tells a
child that its parent made the directory already, so it does not make another level; anything
that runs this runner from inside a test must remove it from the environment.
"""
import argparse
import importlib.util
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest

# Below the ephemeral range (32768-60999): client sockets never take these. FW_PORT_RANGE_BASE moves
# the whole range, so two runs of the suite on one machine (two checkouts) do not share ports.
PORT_BASE = int(os.environ.get("FW_PORT_RANGE_BASE", "20000"))
PORTS_PER_SLOT = 1000
SCRATCH_ENV = "FW_TEST_SCRATCH"


class TimedResult(unittest.TextTestResult):
    """Records the wall time of each test class (set-up and tear-down included: the time since
    the previous test ended), so the slowest can be listed at the end."""

    class_s = {}
    _last = time.monotonic()

    def stopTest(self, test):
        super().stopTest(test)
        now = time.monotonic()
        cid = class_id(test)
        TimedResult.class_s[cid] = TimedResult.class_s.get(cid, 0.0) + now - TimedResult._last
        TimedResult._last = now


def class_id(test):
    return test.id().rsplit(".", 1)[0]


def discover(dirs):
    """Every test_*.py under dirs, each loaded from its own file. A file whose name was already
    used in an earlier folder (tests/awsemu/tests/test_auth.py after tests/integration/
    test_auth.py) is loaded as <folder>_<name>: importing it by name would return the first
    module again, running one twice and the other never."""
    suite = unittest.TestSuite()
    loader = unittest.TestLoader()
    used = set()
    for d in dirs:
        if not os.path.isdir(d):
            continue
        for dirpath, _, files in sorted(os.walk(d)):
            for f in sorted(files):
                if f.startswith("test_") and f.endswith(".py"):
                    stem = f[:-3]
                    name = stem if stem not in used else "%s_%s" % (_folder_tag(dirpath), stem)
                    used.add(name)
                    suite.addTests(loader.loadTestsFromModule(_load(os.path.join(dirpath, f), name, dirpath)))
    return suite


def _folder_tag(dirpath):
    """tests/awsemu/tests -> awsemu: the first folder under tests/ that is not 'tests'."""
    parts = [p for p in os.path.normpath(os.path.abspath(dirpath)).split(os.sep) if p]
    if "tests" in parts:
        parts = parts[parts.index("tests") + 1:]
    parts = [p for p in parts if p != "tests"] or ["tests"]
    return parts[0].replace("-", "_")


def _load(path, name, dirpath):
    sys.path.insert(0, dirpath)
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
        return mod
    finally:
        sys.path.remove(dirpath)


def _flatten(s):
    for t in s:
        if isinstance(t, unittest.TestSuite):
            yield from _flatten(t)
        else:
            yield t


def write_counts(path, passed, failed, skipped, skips=()):
    """skips: [(test id, reason)], printed again at the end of a parallel run, so a test that
    could not run here (no podman, say) is seen in the summary, not only in its class's output."""
    if path:
        with open(path, "w") as f:
            json.dump({"passed": passed, "failed": failed, "skipped": skipped, "skips": list(skips)}, f)


def print_skips(skips):
    for tid, reason in skips:
        print("SKIPPED %s: %s" % (tid, reason))


def print_slowest(class_s):
    slow = sorted(((d, c) for c, d in class_s.items()), reverse=True)[:12]
    print("slowest classes: " + ", ".join("%s %.0fs" % (c, d) for d, c in slow))


def make_scratch(label):
    """A directory for one class's (or one run's) temporary files. Its name stays short (the class
    name, not the module, at most 16 characters): a Unix socket path made under it (chromium's
    singleton socket, say) must fit in 107 bytes. CLASS holds the full label."""
    name = label.rsplit(".", 1)[-1]
    short = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in name)[:16]
    d = tempfile.mkdtemp(prefix="fw-t-%s-" % short)
    with open(os.path.join(d, "CLASS"), "w") as f:
        f.write(label + "\n")
    return d


def close_scratch(d, passed_cleanly):
    """Removes d after a clean pass (ignore_errors: a process a test leaked may still write there);
    otherwise keeps it and returns the line that names it."""
    if passed_cleanly:
        shutil.rmtree(d, ignore_errors=True)
        return ""
    return "kept %s (logs, Redis data of the failed class)\n" % d


def enter_scratch(label):
    """The serial run's own scratch directory: TMPDIR for what the tests start, and tempfile's
    cached tempdir reset so this process's mkdtemp calls land in it too."""
    d = make_scratch(label)
    os.environ["TMPDIR"] = d
    os.environ[SCRATCH_ENV] = d
    tempfile.tempdir = None
    return d


def run_here(tests, json_path, scratch=None):
    res = unittest.TextTestRunner(verbosity=2, stream=sys.stdout, resultclass=TimedResult).run(
        unittest.TestSuite(tests))
    failed = len(res.failures) + len(res.errors) + len(res.unexpectedSuccesses)
    skipped = len(res.skipped)
    # A class whose setUpClass skipped or failed counts one skip or failure and ran no test.
    passed = max(0, res.testsRun - failed - skipped)
    skips = [(t.id(), reason) for t, reason in res.skipped]
    write_counts(json_path, passed, failed, skipped, skips)
    print_skips(skips)
    if scratch:
        sys.stdout.write(close_scratch(scratch, failed == 0))
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


def run_parallel(tests, a):
    """Runs each test class in a child process, a.parallel at a time, longest first."""
    groups = {}
    for t in tests:
        groups.setdefault(class_id(t), []).append(t)
    order = sorted(groups, key=lambda c: (-getattr(type(groups[c][0]), "RUN_COST_S", 10), c))
    alone = [c for c in order if getattr(type(groups[c][0]), "RUN_EXCLUSIVE", False)]
    totals = {"passed": 0, "failed": 0, "skipped": 0, "skips": [], "kept": []}
    class_s, lock = {}, threading.Lock()
    for phase, width in (([c for c in order if c not in alone], a.parallel), (alone, 1)):
        run_phase(phase, width, a, totals, class_s, lock)
    print_slowest(class_s)
    print_skips(totals["skips"])
    sys.stdout.write("".join(totals["kept"]))
    write_counts(a.json, totals["passed"], totals["failed"], totals["skipped"], totals["skips"])
    print("%(passed)d passed, %(failed)d failed, %(skipped)d skipped" % totals)
    return 1 if totals["failed"] else 0


def run_phase(classes, width, a, totals, class_s, lock):
    """Runs the classes in `width` child processes at once."""
    todo = queue.Queue()
    for c in classes:
        todo.put(c)

    def slot(n):
        env = dict(os.environ, FW_PORT_BASE=str(PORT_BASE + n * PORTS_PER_SLOT))
        while True:
            try:
                cid = todo.get_nowait()
            except queue.Empty:
                return
            counts, out, took = run_child(cid, a, env)
            with lock:
                class_s[cid] = took
                for k in totals:
                    totals[k] += counts.get(k, [] if k in ("skips", "kept") else 0)
                sys.stdout.write("---- %s (%.0f s)\n%s" % (cid, took, out))
                sys.stdout.flush()

    threads = [threading.Thread(target=slot, args=(n,)) for n in range(width)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def run_child(cid, a, env):
    """One class in a child runner, in a scratch directory of its own (TMPDIR); a child that dies
    without its counts is one failure."""
    scratch = make_scratch(cid)
    env = dict(env, TMPDIR=scratch, **{SCRATCH_ENV: scratch})
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as jf:
        jpath = jf.name
    cmd = [sys.executable, os.path.abspath(__file__), *a.dirs, "--only", cid, "--json", jpath]
    for pattern in a.pattern or ():
        cmd += ["-k", pattern]
    t0 = time.monotonic()
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    took = time.monotonic() - t0
    out = p.stdout.decode(errors="replace")
    try:
        with open(jpath) as f:
            counts = json.load(f)
    except (OSError, ValueError):
        counts = {"passed": 0, "failed": 1, "skipped": 0, "skips": []}
        out += "child runner for %s exited with %s without its counts\n" % (cid, p.returncode)
    os.unlink(jpath)
    kept = close_scratch(scratch, counts.get("failed") == 0 and p.returncode == 0)
    counts["kept"] = [kept] if kept else []
    return counts, out + kept, took


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dirs", nargs="+")
    ap.add_argument("--json")
    ap.add_argument("-k", dest="pattern", action="append",
                    help="only tests whose id contains this (given again: any of them)")
    ap.add_argument("--only", help="only the tests of this class (module.Class)")
    ap.add_argument("--parallel", type=int, default=1, help="test classes run at once")
    a = ap.parse_args()
    serial = a.parallel <= 1 or a.only
    # A serial runner at the top level makes the run's scratch directory before any test module
    # is loaded; a child of a parallel runner (FW_TEST_SCRATCH set) is already in its own.
    scratch = enter_scratch(a.only or "run") if serial and not os.environ.get(SCRATCH_ENV) else None
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    tests = list(_flatten(discover(a.dirs)))
    if a.pattern:
        tests = [t for t in tests if any(p in t.id() for p in a.pattern)]
    if a.only:
        tests = [t for t in tests if class_id(t) == a.only]
    if not serial:
        return run_parallel(tests, a)
    rc = run_here(tests, a.json, scratch)
    if not a.only:
        print_slowest(TimedResult.class_s)
    return rc


if __name__ == "__main__":
    sys.exit(main())
