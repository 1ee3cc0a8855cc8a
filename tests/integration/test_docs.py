"""/docs: the API reference page, its assets, and how it renders in a real browser.

- GET /docs is HTML that loads docs/redoc.standalone.js and openapi.json from
  the service itself (no CDN); GET /docs/{file} serves only the known names.
- FLEETWARDEN_DOCS_DIR picks the directory; without the bundle both answer
  503 "docs assets not installed".
- The build step (routes/docs_assets/fetch_redoc.py) never fails the build
  when npm is missing, and is a no-op when the bundle is already there.
- Headless Chromium renders the page: the DOM names the spec's routes.
  (Chromium is installed with apt-get here when missing and we are root.)
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import openapi_check  # noqa: E402
from harness import BUILD_DIR, ROOT, Fleetwarden, Redis, ServiceTestCase  # noqa: E402

ASSETS = os.path.join(BUILD_DIR, "routes", "docs_assets", "www")
FETCH = os.path.join(ROOT, "routes", "docs_assets", "fetch_redoc.py")
LOCK = os.path.join(ROOT, "routes", "docs_assets", "redoc.lock.json")
BUNDLE = "redoc.standalone.js"


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def ensure_chromium():
    """The chromium binary, installed with apt-get when missing (root only)."""
    path = find_chromium()
    if path or os.geteuid() != 0 or not shutil.which("apt-get"):
        return path
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]
    if subprocess.run(cmd, env=env, capture_output=True, timeout=1200).returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, capture_output=True, timeout=600)
        subprocess.run(cmd, env=env, capture_output=True, timeout=1200)
    return find_chromium()


class DocsServed(ServiceTestCase):

    @classmethod
    def setUpClass(cls):
        if not os.path.exists(os.path.join(ASSETS, BUNDLE)):
            raise AssertionError(f"{ASSETS}/{BUNDLE} is missing: the build could not install the Redoc "
                                 "bundle from npm (see routes/docs_assets/fetch_redoc.py)")
        super().setUpClass()

    def test_page_loads_the_bundle_and_the_spec_from_the_service(self):
        r = self.fw.request("GET", "/docs")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header("Content-Type").startswith("text/html"))
        page = r.body.decode()
        self.assertIn('src="docs/redoc.standalone.js"', page)
        self.assertIn('spec-url="openapi.json"', page)
        self.assertNotRegex(page, r"(src|href)=\"(https?:)?//", "the page must load nothing from elsewhere")

    def test_bundle_is_the_installed_file(self):
        r = self.fw.request("GET", "/docs/redoc.standalone.js")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.header("Content-Type").startswith("application/javascript"))
        self.assertEqual(r.header("X-Content-Type-Options"), "nosniff")
        with open(os.path.join(ASSETS, BUNDLE), "rb") as f:
            self.assertEqual(r.body, f.read())
        lock = json.load(open(LOCK))
        for name in lock["files"].values():
            self.assertEqual(self.fw.request("GET", f"/docs/{name}").status, 200, name)

    def test_only_known_names(self):
        for path in ("/docs/.installed", "/docs/passwd", "/docs/redoc.js", "/docs/..%2F..%2Fopenapi.json",
                     "/docs/%2e%2e%2fREADME.md", "/docs/..", "/docs/redoc.standalone.js.map",
                     "/docs/redoc.standalone.js/x", "/docs/../../../etc/passwd"):
            with self.subTest(path=path):
                r = self.fw.request("GET", path)
                self.assertIn(r.status, (404, 405), r)
                self.assertNotIn(b"root:", r.body)

    def test_head_and_wrong_method(self):
        self.assertEqual(self.fw.request("HEAD", "/docs").status, 200)
        r = self.fw.request("POST", "/docs", body={})
        self.assertProblem(r, 405)


class DocsDir(unittest.TestCase):
    """FLEETWARDEN_DOCS_DIR: an empty directory gives 503; another directory is used."""

    def start(self, docs_dir):
        fw = Fleetwarden(self.redis, env={"FLEETWARDEN_DOCS_DIR": docs_dir}, args=("serve", "--no-workers"))
        return fw.start()

    def setUp(self):
        self.redis = Redis().start()
        self.addCleanup(self.redis.stop)

    def test_missing_assets_answer_503(self):
        fw = self.start(tempfile.mkdtemp(prefix="fw-docs-empty-"))
        try:
            for path in ("/docs", "/docs/redoc.standalone.js"):
                r = fw.request("GET", path)
                self.assertEqual(r.status, 503, r)
                self.assertEqual(r.header("Content-Type"), "application/problem+json")
                self.assertEqual(r.json["title"], "docs assets not installed")
                self.assertIn("FLEETWARDEN_DOCS_DIR", r.json["detail"])
            self.assertEqual(fw.request("GET", "/openapi.json").status, 200)
        finally:
            fw.stop()

    def test_directory_from_environment(self):
        d = tempfile.mkdtemp(prefix="fw-docs-")
        with open(os.path.join(d, BUNDLE), "w") as f:
            f.write("/* a bundle of our own */\n")
        fw = self.start(d)
        try:
            self.assertEqual(fw.request("GET", "/docs").status, 200)
            self.assertEqual(fw.request("GET", "/docs/redoc.standalone.js").body, b"/* a bundle of our own */\n")
            self.assertEqual(fw.request("GET", "/docs/redoc-LICENSE.txt").status, 503)
        finally:
            fw.stop()


class BuildStep(unittest.TestCase):
    """routes/docs_assets/fetch_redoc.py, as the build runs it."""

    def run_fetch(self, out_dir, env=None):
        stamp = os.path.join(tempfile.mkdtemp(prefix="fw-stamp-"), "stamp")
        r = subprocess.run(["/usr/bin/python3", FETCH, LOCK, out_dir, stamp], capture_output=True, text=True,
                           timeout=300, env=env)
        with open(stamp) as f:
            return r, f.read().strip()

    def test_without_npm_the_build_goes_on(self):
        out = tempfile.mkdtemp(prefix="fw-www-")
        env = dict(os.environ, PATH="/nonexistent")
        r, stamp = self.run_fetch(out, env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(stamp, "missing")
        self.assertIn("docs assets not installed", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(out, BUNDLE)))

    def test_installed_bundle_is_kept(self):
        # The build directory's copy is complete, so the step makes no npm call at all.
        env = dict(os.environ, PATH="/nonexistent")
        r, stamp = self.run_fetch(ASSETS, env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(stamp, "ok")
        with open(os.path.join(ASSETS, ".installed")) as f:
            lock = json.load(open(LOCK))
            self.assertEqual(f.read().split(), [f"redoc@{lock['version']}", lock["integrity"]])


class Browser(ServiceTestCase):
    """The page as a developer sees it: headless Chromium, DOM after Redoc rendered."""

    @classmethod
    def setUpClass(cls):
        cls.chromium = ensure_chromium()
        if not cls.chromium:
            raise AssertionError("chromium is not installed and could not be installed (apt-get install chromium)")
        super().setUpClass()

    def dump_dom(self, url):
        profile = tempfile.mkdtemp(prefix="fw-chromium-")
        try:
            r = subprocess.run([self.chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                                "--no-first-run", "--disable-background-networking", "--disable-component-update",
                                "--disable-sync", f"--user-data-dir={profile}", "--virtual-time-budget=10000",
                                "--dump-dom", url], capture_output=True, text=True, timeout=120)
        finally:
            shutil.rmtree(profile, ignore_errors=True)
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        return r.stdout

    def test_rendered_page_names_every_route(self):
        dom = self.dump_dom(f"http://127.0.0.1:{self.fw.port}/docs")
        text = re.sub(r"<[^>]+>", " ", dom)
        self.assertIn(openapi_check.load_spec()["info"]["title"], text)
        for path in openapi_check.load_spec()["paths"]:
            with self.subTest(path=path):
                self.assertIn(path, text, "Redoc did not render this path")
        self.assertNotIn("Something went wrong", text)


if __name__ == "__main__":
    unittest.main()
