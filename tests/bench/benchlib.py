"""Shared by the Python benchmarks: the test harness (tests/lib/harness.py) for a build directory."""
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def harness_for(build):
    """The harness module, starting the fleetwarden binary of `build`; the integration tests'
    helpers (claims_lib, multiproc_lib, ...) become importable too."""
    os.environ["FW_BUILD_DIR"] = os.path.abspath(build)
    sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
    sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
    import harness
    return harness
