"""deploy/k8s checked by Kubernetes' own tools and schemas (issue 18).

- Every object of deploy/k8s/*.yaml validates against the Kubernetes API's OpenAPI schemas
  (npm package kubernetes-models, pinned in tests/tools/package.json; tests/tools/k8s-validate.mjs):
  required fields, types, enums, formats. A manifest broken on purpose is refused, so the check
  can fail.
- kustomization.yaml renders with kustomize (`kubectl kustomize`) to exactly the objects of the
  files it lists, every namespaced one in its namespace, and the render validates too.
- Both Deployments carry the TLS tunnel to Redis as a native sidecar whose port is the one the
  Redis URL in the Secret points at.
Skipped, with the reason, where node or the npm package (tests/tools/install-npm-tools.sh) or
kubectl (Debian: kubernetes-client) is missing.
"""
import copy
import glob
import json
import os
import shutil
import subprocess
import unittest
import urllib.parse

import yaml

import harness

K8S = os.path.join(harness.ROOT, "deploy", "k8s")
TOOLS = os.path.join(harness.ROOT, "tests", "tools")
VALIDATE = os.path.join(TOOLS, "k8s-validate.mjs")
CLUSTER_SCOPED = {"Namespace"}


def manifest_docs():
    docs = []
    for path in sorted(glob.glob(os.path.join(K8S, "*.yaml"))):
        with open(path) as f:
            docs += [d for d in yaml.safe_load_all(f) if d and d.get("kind") != "Kustomization"]
    return docs


def schemas_missing():
    """Why the schema check cannot run here, or None."""
    if not shutil.which("node"):
        return "node is not installed (Debian: nodejs)"
    if not os.path.isdir(os.path.join(TOOLS, "node_modules", "kubernetes-models")):
        return "kubernetes-models is not installed: bash tests/tools/install-npm-tools.sh"
    return None


def validate(docs):
    r = subprocess.run(["node", VALIDATE], input=json.dumps(docs), capture_output=True, text=True, timeout=120)
    if r.returncode == 2:
        raise AssertionError("no schema for some kinds: %s" % r.stdout)
    return json.loads(r.stdout), r.returncode


class KubernetesSchemas(unittest.TestCase):
    RUN_COST_S = 8

    @classmethod
    def setUpClass(cls):
        why = schemas_missing()
        if why:
            raise unittest.SkipTest(why)
        cls.docs = manifest_docs()

    def test_every_manifest_matches_the_kubernetes_api_schemas(self):
        results, code = validate(self.docs)
        self.assertEqual([r for r in results if r["error"]], [])
        self.assertEqual(code, 0)
        self.assertEqual(len(results), len(self.docs))

    def test_a_broken_manifest_is_refused(self):
        dep = copy.deepcopy(next(d for d in self.docs if d["kind"] == "Deployment"))
        dep["spec"]["replicas"] = "two"
        del dep["spec"]["template"]["spec"]["containers"][0]["name"]
        results, code = validate([dep])
        self.assertEqual(code, 1)
        self.assertIn("replicas must be integer", results[0]["error"])
        self.assertIn("must have required property name", results[0]["error"])

    def test_the_tls_sidecar_serves_the_secrets_redis_url(self):
        url = next(d for d in self.docs if d["kind"] == "Secret" and d["metadata"]["name"] == "fleetwarden-redis")
        u = urllib.parse.urlsplit(url["stringData"]["FLEETWARDEN_REDIS_URL"])
        self.assertEqual((u.scheme, u.hostname), ("redis", "127.0.0.1"))
        self.assertTrue(u.username, "an ACL user")
        for d in (d for d in self.docs if d["kind"] == "Deployment"):
            with self.subTest(deployment=d["metadata"]["name"]):
                side = d["spec"]["template"]["spec"]["initContainers"][0]
                self.assertEqual(side["restartPolicy"], "Always", "a native sidecar: up before, down after")
                env = {e["name"]: e["value"] for e in side["env"]}
                self.assertEqual(env["REDIS_TLS_LISTEN"], "127.0.0.1:%d" % u.port)
                self.assertEqual(side["startupProbe"]["tcpSocket"]["port"], u.port)
                self.assertIn("stunnel", side["image"])


class Kustomize(unittest.TestCase):
    RUN_COST_S = 8

    @classmethod
    def setUpClass(cls):
        if not shutil.which("kubectl"):
            raise unittest.SkipTest("kubectl is not installed (Debian: kubernetes-client), so kustomize cannot run")
        r = subprocess.run(["kubectl", "kustomize", K8S], capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise AssertionError("kubectl kustomize failed: %s" % r.stderr)
        cls.rendered = [d for d in yaml.safe_load_all(r.stdout) if d]
        with open(os.path.join(K8S, "kustomization.yaml")) as f:
            cls.kust = yaml.safe_load(f)

    def test_renders_exactly_the_listed_resources(self):
        listed = []
        for res in self.kust["resources"]:
            with open(os.path.join(K8S, res)) as f:
                listed += [(d["kind"], d["metadata"]["name"]) for d in yaml.safe_load_all(f) if d]
        got = [(d["kind"], d["metadata"]["name"]) for d in self.rendered]
        self.assertEqual(sorted(got), sorted(listed))

    def test_namespace_applied(self):
        for d in self.rendered:
            if d["kind"] not in CLUSTER_SCOPED:
                self.assertEqual(d["metadata"].get("namespace"), self.kust["namespace"], d["metadata"]["name"])

    def test_render_matches_the_schemas(self):
        why = schemas_missing()
        if why:
            self.skipTest(why)
        results, code = validate(self.rendered)
        self.assertEqual([r for r in results if r["error"]], [])
        self.assertEqual(code, 0)


if __name__ == "__main__":
    unittest.main()
