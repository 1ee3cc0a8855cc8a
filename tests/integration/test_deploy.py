"""deploy/: the files that take fleetwarden to production, checked without running them.

No container engine or cluster is needed: YAML parses, the required fields are
there (Kubernetes kinds, probes, securityContext, resources; Compose services
and profiles; Dockerfile stages, USER, HEALTHCHECK), systemd units carry the
sandboxing keys and pass `systemd-analyze verify` where it exists, every
setting named in deploy/ is one the binary reads, and the IAM policy allows
exactly the AWS operations aws/ implements (plus iam:PassRole, limited).
"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import FW_BIN, ROOT, product_c_files  # noqa: E402

DEPLOY = os.path.join(ROOT, "deploy")
# What a stop may take beyond FLEETWARDEN_SHUTDOWN_GRACE (and a pause before SIGTERM): the
# listener's close (at most 1 s), then, even when Redis does not answer, at most 12 s for the job
# runtime's lease releases and threads (jobs/runtime.c STOP_TAIL_MS; docs/OPERATIONS.md,
# Upgrades). A supervisor's stop timeout must be longer, or it kills the process first.
STOP_TAIL_S = 13
K8S = os.path.join(DEPLOY, "k8s")
SYSTEMD = os.path.join(DEPLOY, "systemd")
POLICY = os.path.join(DEPLOY, "iam", "fleetwarden-policy.json")

# AWS operations in aws/ that the service's own IAM identity never needs permission for:
# they are how the credentials chain obtains that identity. AssumeRoleWithWebIdentity (IRSA)
# is authorized by the role's trust policy, not by an identity policy. AssumeRole is both: a
# profile's role_arn (the source profile's identity, not this policy) and a fleet's assumeRole
# (this identity assumes the fleet's role: allowed on role/FleetwardenFleet* only).
CREDENTIAL_CHAIN_OPS = {"sts:AssumeRoleWithWebIdentity"}
FLEET_ROLES = "arn:aws:iam::*:role/FleetwardenFleet*"
# Actions that support no resource-level permissions: the only ones allowed on Resource "*".
NO_RESOURCE_LEVEL = {"sts:GetCallerIdentity", "iot:CreateKeysAndCertificate", "iot:CreateCertificateFromCsr",
                     "iot:ListCertificates", "iot:ListProvisioningTemplates", "iot:DescribeEndpoint",
                     "cloudwatch:GetMetricData", "cloudwatch:ListMetrics",
                     # read-only lists of a fleet verification's cleanup: whether AWS scopes these two to a
                     # resource could not be checked here, so they are region-wide (deploy/iam/README.md)
                     "iot:ListPrincipalThings", "iot:ListAttachedPolicies"}
SERVICE_PREFIX = {"IAM": "iam", "STS": "sts", "IOT": "iot", "CLOUDWATCH": "cloudwatch"}
FILE_SERVICE = {"iam.c": "iam", "sts.c": "sts", "iot.c": "iot", "iotthing.c": "iot", "cloudwatch.c": "cloudwatch"}


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def aws_operations():
    """IAM action names ("iot:CreatePolicy") of every operation aws/{iam,sts,iot,iotthing,cloudwatch}.c calls.

    Each operation is one C function that starts a call with its AWS name: aws_call_init_query /
    aws_call_init_rest (with the service constant) or the files' small helpers (init_labeled,
    init_version, alias_write, target_call, list_all, thing_call) whose first string argument is the
    operation name.
    """
    ops = set()
    for name, svc in FILE_SERVICE.items():
        text = read(os.path.join(ROOT, "aws", name))
        for m in re.finditer(r'aws_call_init_(?:query|rest|json)\(\s*&?\w+\s*,\s*AWS_SVC_(\w+)\s*,\s*"(\w+)"', text):
            ops.add(f"{SERVICE_PREFIX[m.group(1)]}:{m.group(2)}")
        for m in re.finditer(r'\b(?:init_labeled|init_version|alias_write|target_call|list_all|thing_call)\(\s*&?\w+\s*,\s*"([A-Z]\w+)"',
                             text):
            ops.add(f"{svc}:{m.group(1)}")
    return ops


def known_settings():
    """FLEETWARDEN_* names the code reads (string literals in service/, routes/, jobs/)."""
    names = set()
    for path in product_c_files():
        names.update(re.findall(r'"(FLEETWARDEN_[A-Z_]+)"', read(path)))
    return names


def setting_ok(name, known):
    if name.startswith("AWS_"):
        return True
    return name in known or any(k.endswith("_") and name.startswith(k) for k in known)


class Dockerfile(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.text = read(os.path.join(DEPLOY, "Dockerfile"))
        cls.lines = [ln.strip() for ln in re.sub(r"\\\n", " ", cls.text).splitlines()
                     if ln.strip() and not ln.strip().startswith("#")]
        cls.stages = []
        for ln in cls.lines:
            if ln.upper().startswith("FROM "):
                cls.stages.append([])
            if cls.stages:
                cls.stages[-1].append(ln)

    def test_multi_stage_on_debian_12_slim(self):
        self.assertGreaterEqual(len(self.stages), 2)
        self.assertIn("ARG DEBIAN_IMAGE=debian:12-slim", self.lines)
        for stage in self.stages:
            self.assertRegex(stage[0], r"^FROM \$\{DEBIAN_IMAGE\} AS \w+$")
        runtime = self.stages[-1]
        self.assertTrue(any(ln.startswith("COPY --from=build") for ln in runtime))

    def test_runtime_stage_is_non_root_with_healthcheck(self):
        runtime = self.stages[-1]
        users = [ln.split()[1] for ln in runtime if ln.startswith("USER ")]
        self.assertTrue(users)
        self.assertNotIn(users[-1].split(":")[0], ("root", "0"))
        self.assertRegex(users[-1], r"^\d+:\d+$", "numeric, so Kubernetes runAsNonRoot can check it")
        hc = [ln for ln in runtime if ln.startswith("HEALTHCHECK")]
        self.assertEqual(len(hc), 1)
        self.assertIn("/healthz", hc[0])
        self.assertIn('ENTRYPOINT ["/usr/local/bin/fleetwarden"]', runtime)

    def test_build_stage_inputs_exist(self):
        for ln in self.stages[0]:
            if ln.startswith("COPY ") and "--from" not in ln:
                for src in ln.split()[1:-1]:
                    self.assertTrue(os.path.exists(os.path.join(ROOT, src)), src)
        self.assertIn("option('tests'", read(os.path.join(ROOT, "meson_options.txt")))
        self.assertTrue(os.path.exists(os.path.join(DEPLOY, "Dockerfile.dockerignore")))

    def test_runtime_packages_are_debian_12_packages(self):
        if not shutil.which("apt-cache"):
            self.skipTest("no apt-cache")
        runtime = " ".join(self.stages[-1])
        pkgs = re.search(r"--no-install-recommends\s+(.*?)\s+&&", runtime).group(1).split()
        for p in pkgs:
            with self.subTest(package=p):
                r = subprocess.run(["apt-cache", "show", "--no-all-versions", p], capture_output=True, text=True)
                if r.returncode != 0 and "No packages found" not in r.stderr:
                    self.skipTest("apt lists not available")
                self.assertEqual(r.returncode, 0, f"{p}: {r.stderr}")


class Compose(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.doc = yaml.safe_load(read(os.path.join(DEPLOY, "docker-compose.yml")))
        cls.svcs = cls.doc["services"]

    def test_stop_timeout_outlasts_the_stop(self):
        grace = int(self.doc["x-env"]["FLEETWARDEN_SHUTDOWN_GRACE"])
        for name, s in self.svcs.items():
            if (s.get("command") or [""])[0] in ("serve", "worker"):
                with self.subTest(service=name):
                    self.assertGreater(int(s["stop_grace_period"].rstrip("s")), grace + STOP_TAIL_S)

    def test_redis_appendonly(self):
        cmd = self.svcs["redis"]["command"]
        self.assertEqual(cmd[cmd.index("--appendonly") + 1], "yes")
        self.assertNotIn("profiles", self.svcs["redis"])
        self.assertIn("redis-data:/data", self.svcs["redis"]["volumes"])

    def test_one_api_two_workers_per_profile(self):
        for profile, api, worker in (("aws", "api", "worker"), ("local", "api-local", "worker-local")):
            with self.subTest(profile=profile):
                self.assertEqual(self.svcs[api]["profiles"], [profile])
                self.assertEqual(self.svcs[api]["command"], ["serve", "--no-workers"])
                self.assertEqual(self.svcs[worker]["command"], ["worker"])
                self.assertEqual(self.svcs[worker]["deploy"]["replicas"], 2)
                for s in (api, worker):
                    env = self.svcs[s]["environment"]
                    self.assertEqual(env["FLEETWARDEN_REDIS_URL"], "redis://redis:6379/0")
                    self.assertEqual(env["FLEETWARDEN_KEK_FILE"], "/run/secrets/kek")
                    self.assertEqual(self.svcs[s]["depends_on"]["redis"]["condition"], "service_healthy")
                    self.assertEqual(self.svcs[s]["build"]["dockerfile"], "deploy/Dockerfile")
                    self.assertTrue(self.svcs[s]["read_only"])
        for p in self.svcs["api"]["ports"] + self.svcs["api-local"]["ports"]:
            self.assertTrue(p.startswith("127.0.0.1:"), "publish on the host's loopback only")

    def test_local_profile_uses_the_emulator(self):
        self.assertEqual(self.svcs["awsemu"]["profiles"], ["local"])
        self.assertEqual(self.svcs["awsemu"]["build"]["target"], "awsemu")
        self.assertIn("AS awsemu", read(os.path.join(DEPLOY, "Dockerfile")))
        for s in ("api-local", "worker-local"):
            self.assertEqual(self.svcs[s]["environment"]["AWS_ENDPOINT_URL"], "http://awsemu:4566")
        for s in ("api", "worker"):
            self.assertNotIn("AWS_ENDPOINT_URL", self.svcs[s]["environment"])

    def test_settings_are_real(self):
        known = known_settings()
        for name, s in self.svcs.items():
            for var in s.get("environment", {}):
                with self.subTest(service=name, var=var):
                    self.assertTrue(setting_ok(var, known), f"{var} is not read by fleetwarden")

    def test_secret_file_is_ignored_by_git(self):
        self.assertEqual(self.doc["secrets"]["kek"]["file"], "${FLEETWARDEN_KEK_SECRET:-./secrets/kek}")
        self.assertEqual(self.doc["secrets"]["redis_password"]["file"],
                         "${FLEETWARDEN_REDIS_PASSWORD_SECRET:-./secrets/redis_password}")
        for f in ("kek", "redis_password"):
            r = subprocess.run(["git", "check-ignore", "-q", "deploy/secrets/" + f], cwd=ROOT)
            self.assertEqual(r.returncode, 0, "deploy/secrets/%s must be gitignored" % f)

    def test_redis_has_a_password_from_a_secret(self):
        """Issue 17: Redis wanted no password. Now requirepass comes from the secret (never an
        argument or a variable), every fleetwarden reads it from its file, and the health check
        authenticates."""
        redis = self.svcs["redis"]
        self.assertIn("redis_password", redis["secrets"])
        script = redis["entrypoint"][2]
        self.assertIn("requirepass", script)
        self.assertIn("/run/secrets/redis_password", script)
        self.assertIn("exec gosu redis redis-server /tmp/auth.conf", script)
        self.assertIn("/tmp", redis["tmpfs"])
        self.assertIn("REDISCLI_AUTH", redis["healthcheck"]["test"][1])
        for name in ("api", "worker", "api-local", "worker-local"):
            with self.subTest(service=name):
                s = self.svcs[name]
                self.assertEqual(s["environment"]["FLEETWARDEN_REDIS_PASSWORD_FILE"], "/run/secrets/redis_password")
                self.assertNotIn("@", s["environment"]["FLEETWARDEN_REDIS_URL"])
                self.assertEqual(sorted(s["secrets"]), ["kek", "redis_password"])
                self.assertEqual(s["ulimits"], {"core": 0})

    def test_secrets_script_makes_0400_files(self):
        """deploy/secrets/init.sh makes 0400 files (the chown to uid 10001 needs root or Podman, so
        here it is run with a stand-in for sudo that records what it was asked)."""
        tmp = tempfile.mkdtemp()
        shutil.copy(os.path.join(DEPLOY, "secrets", "init.sh"), tmp)
        bindir = os.path.join(tmp, "bin")
        os.mkdir(bindir)
        with open(os.path.join(bindir, "sudo"), "w") as f:
            f.write('#!/bin/sh\necho "$@" > "$(dirname "$0")/../sudo-args"\n')
        os.chmod(os.path.join(bindir, "sudo"), 0o755)
        env = dict(os.environ, PATH=bindir + ":" + os.environ["PATH"])
        r = subprocess.run(["sh", os.path.join(tmp, "init.sh"), "docker"], env=env, capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        for f, n in (("kek", 64), ("redis_password", 48)):
            st = os.stat(os.path.join(tmp, f))
            self.assertEqual(st.st_mode & 0o777, 0o400, f)
            if os.getuid() == 0:
                self.assertEqual((st.st_uid, st.st_gid), (10001, 10001), f)
            with open(os.path.join(tmp, f)) as fh:
                self.assertRegex(fh.read(), "^[0-9a-f]{%d}\n$" % n)
        if os.getuid() != 0:
            with open(os.path.join(tmp, "sudo-args")) as fh:
                self.assertEqual(fh.read().split(), ["chown", "10001:10001", "kek", "redis_password"])
        r = subprocess.run(["sh", os.path.join(tmp, "init.sh"), "docker"], env=env, capture_output=True, text=True)
        self.assertIn("kek exists: kept", r.stdout)
        shutil.rmtree(tmp, ignore_errors=True)


class Kubernetes(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.docs = []
        for path in sorted(glob.glob(os.path.join(K8S, "*.yaml"))):
            for d in yaml.safe_load_all(read(path)):
                if d:
                    cls.docs.append((os.path.basename(path), d))

    def kind(self, kind):
        return [d for _, d in self.docs if d.get("kind") == kind]

    def test_kinds(self):
        kinds = sorted(d["kind"] for _, d in self.docs)
        for k in ("Namespace", "ServiceAccount", "ConfigMap", "Service", "Kustomization"):
            self.assertIn(k, kinds)
        self.assertEqual(kinds.count("Deployment"), 2)
        self.assertEqual(kinds.count("PodDisruptionBudget"), 2)
        self.assertEqual(kinds.count("HorizontalPodAutoscaler"), 2)
        secrets = {d["metadata"]["name"] for d in self.kind("Secret")}
        self.assertTrue({"fleetwarden-kek", "fleetwarden-tokens"} <= secrets, secrets)

    def test_kustomization_lists_every_file(self):
        k = self.kind("Kustomization")[0]
        files = {os.path.basename(p) for p in glob.glob(os.path.join(K8S, "*.yaml"))} - {"kustomization.yaml"}
        self.assertEqual(set(k["resources"]), files)

    def test_irsa_service_account(self):
        """Workers get the IRSA role; the API pods (serve --no-workers, which never call AWS) a
        service account without one (issue 17)."""
        accounts = {sa["metadata"]["name"]: sa for sa in self.kind("ServiceAccount")}
        self.assertEqual(set(accounts), {"fleetwarden", "fleetwarden-api"})
        self.assertRegex(accounts["fleetwarden"]["metadata"]["annotations"]["eks.amazonaws.com/role-arn"],
                         r"^arn:aws:iam::\d{12}:role/")
        self.assertNotIn("eks.amazonaws.com/role-arn", accounts["fleetwarden-api"]["metadata"].get("annotations", {}))
        self.assertIs(accounts["fleetwarden-api"]["automountServiceAccountToken"], False)
        deps = {d["metadata"]["labels"]["app.kubernetes.io/component"]: d for d in self.kind("Deployment")}
        self.assertEqual(deps["worker"]["spec"]["template"]["spec"]["serviceAccountName"], "fleetwarden")
        self.assertEqual(deps["api"]["spec"]["template"]["spec"]["serviceAccountName"], "fleetwarden-api")

    def test_deployments(self):
        deps = {d["metadata"]["labels"]["app.kubernetes.io/component"]: d for d in self.kind("Deployment")}
        self.assertEqual(set(deps), {"api", "worker"})
        self.assertEqual(deps["api"]["spec"]["template"]["spec"]["containers"][0]["args"], ["serve", "--no-workers"])
        worker = deps["worker"]["spec"]["template"]["spec"]["containers"][0]
        self.assertEqual(worker["args"], ["worker"])
        env = {e["name"]: e.get("value") for e in worker["env"]}
        port = worker["livenessProbe"]["httpGet"]["port"]
        self.assertEqual(port, "http")
        self.assertEqual(env["FLEETWARDEN_HEALTH_LISTEN"], "0.0.0.0:%d" % worker["ports"][0]["containerPort"],
                         "the worker's probes reach its health listener")
        for comp, d in deps.items():
            with self.subTest(component=comp):
                spec = d["spec"]["template"]["spec"]
                self.assertEqual(d["spec"]["selector"]["matchLabels"].items() - d["spec"]["template"]["metadata"][
                    "labels"].items(), set())
                self.assertIs(spec["securityContext"]["runAsNonRoot"], True)
                self.assertNotEqual(spec["securityContext"].get("runAsUser"), 0)
                self.assertEqual(spec["securityContext"]["seccompProfile"]["type"], "RuntimeDefault")
                c = spec["containers"][0]
                self.assertEqual(c["livenessProbe"]["httpGet"]["path"], "/healthz")
                self.assertEqual(c["readinessProbe"]["httpGet"]["path"], "/readyz")
                for kind in ("requests", "limits"):
                    self.assertTrue({"cpu", "memory"} <= set(c["resources"][kind]))
                sc = c["securityContext"]
                self.assertIs(sc["allowPrivilegeEscalation"], False)
                self.assertIs(sc["readOnlyRootFilesystem"], True)
                self.assertEqual(sc["capabilities"]["drop"], ["ALL"])
                port = {p["name"]: p["containerPort"] for p in c["ports"]}["http"]
                cm = self.kind("ConfigMap")[0]["data"]
                self.assertTrue(cm["FLEETWARDEN_LISTEN"].endswith(f":{port}"))
                mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
                self.assertTrue(cm["FLEETWARDEN_KEK_FILE"].startswith(mounts["kek"] + "/"))
                grace = int(cm["FLEETWARDEN_SHUTDOWN_GRACE"])
                pause = int(c["lifecycle"]["preStop"]["exec"]["command"][1])
                self.assertGreater(spec["terminationGracePeriodSeconds"], pause + grace + STOP_TAIL_S)

    def test_service_pdb_hpa_point_at_the_deployments(self):
        deps = {d["metadata"]["name"]: d for d in self.kind("Deployment")}
        svc = self.kind("Service")[0]
        api = deps["fleetwarden-api"]["spec"]["template"]["metadata"]["labels"]
        self.assertEqual(svc["spec"]["selector"].items() - api.items(), set())
        worker = deps["fleetwarden-worker"]["spec"]["template"]["metadata"]["labels"]
        self.assertNotEqual(svc["spec"]["selector"].items() - worker.items(), set(), "workers take no API traffic")
        labels = [d["spec"]["template"]["metadata"]["labels"] for d in deps.values()]
        for pdb in self.kind("PodDisruptionBudget"):
            sel = pdb["spec"]["selector"]["matchLabels"]
            self.assertEqual(sum(1 for lab in labels if sel.items() <= lab.items()), 1, pdb["metadata"]["name"])
        for hpa in self.kind("HorizontalPodAutoscaler"):
            self.assertIn(hpa["spec"]["scaleTargetRef"]["name"], deps)
            self.assertLessEqual(hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"])

    def test_settings_are_real(self):
        known = known_settings()
        for var in self.kind("ConfigMap")[0]["data"]:
            self.assertTrue(setting_ok(var, known), var)
        for d in self.kind("Deployment"):
            for e in d["spec"]["template"]["spec"]["containers"][0].get("env", []):
                self.assertTrue(setting_ok(e["name"], known), e["name"])


def parse_unit(text):
    """{section: [(key, value), ...]} (systemd allows repeated keys)."""
    out, section = {}, None
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line.strip("[]")
            out.setdefault(section, [])
            continue
        k, _, v = line.partition("=")
        out[section].append((k.strip(), v.strip()))
    return out


class Systemd(unittest.TestCase):
    UNITS = {"fleetwarden-serve.service": "serve --no-workers", "fleetwarden-worker@.service": "worker"}
    REQUIRED = {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
                "PrivateDevices": "yes", "CapabilityBoundingSet": "", "DynamicUser": "yes"}

    def test_sandboxing_keys(self):
        for name, cmd in self.UNITS.items():
            with self.subTest(unit=name):
                svc = parse_unit(read(os.path.join(SYSTEMD, name)))["Service"]
                d = dict(svc)
                for k, v in self.REQUIRED.items():
                    self.assertEqual(d.get(k), v, k)
                self.assertEqual(d["ExecStart"], f"/usr/local/bin/fleetwarden {cmd}")
                self.assertIn("AF_INET", d["RestrictAddressFamilies"])
                self.assertIn(("SystemCallFilter", "@system-service"), svc)
                self.assertTrue(d["EnvironmentFile"].startswith("/etc/fleetwarden/"))
                self.assertEqual(d["LoadCredential"].split(":")[0], "kek")
                self.assertIn(("Environment", "FLEETWARDEN_KEK_FILE=%d/kek"), svc)

    def test_stop_timeout_outlasts_the_stop(self):
        env = dict(line.split("=", 1) for line in read(os.path.join(SYSTEMD, "fleetwarden.env.example")).splitlines()
                   if line and not line.startswith("#"))
        for name in self.UNITS:
            with self.subTest(unit=name):
                d = dict(parse_unit(read(os.path.join(SYSTEMD, name)))["Service"])
                self.assertGreater(int(d["TimeoutStopSec"].rstrip("s")),
                                   int(env["FLEETWARDEN_SHUTDOWN_GRACE"]) + STOP_TAIL_S)

    def test_example_environment_is_real(self):
        known = known_settings()
        for line in read(os.path.join(SYSTEMD, "fleetwarden.env.example")).splitlines():
            if line and not line.startswith("#"):
                self.assertTrue(setting_ok(line.split("=", 1)[0], known), line)

    def test_systemd_analyze_verify(self):
        if not shutil.which("systemd-analyze"):
            self.skipTest("systemd-analyze is not installed")
        if not os.path.exists(FW_BIN):
            self.skipTest("no built binary")
        d = tempfile.mkdtemp(prefix="fw-units-")
        for name in list(self.UNITS) + ["fleetwarden-workers.target"]:
            with open(os.path.join(d, name), "w") as f:
                f.write(read(os.path.join(SYSTEMD, name)).replace("/usr/local/bin/fleetwarden", FW_BIN))
        r = subprocess.run(["systemd-analyze", "verify", os.path.join(d, "fleetwarden-serve.service"),
                            os.path.join(d, "fleetwarden-worker@1.service")],
                           capture_output=True, text=True, timeout=60, cwd=d)
        ours = [ln for ln in (r.stdout + r.stderr).splitlines() if "fleetwarden" in ln]
        self.assertEqual(ours, [])
        self.assertEqual(r.returncode, 0, r.stderr)


class IamPolicy(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.policy = json.loads(read(POLICY))

    def actions(self, st):
        a = st["Action"]
        return [a] if isinstance(a, str) else a

    def test_shape(self):
        self.assertEqual(self.policy["Version"], "2012-10-17")
        sids = [st["Sid"] for st in self.policy["Statement"]]
        self.assertEqual(len(sids), len(set(sids)))
        for st in self.policy["Statement"]:
            self.assertEqual(st["Effect"], "Allow")
            self.assertNotIn("NotAction", st)
            for a in self.actions(st):
                self.assertRegex(a, r"^(iam|sts|iot|cloudwatch):[A-Z][A-Za-z]+$", "no wildcards in actions")

    def test_actions_are_exactly_the_operations_in_aws(self):
        ops = aws_operations()
        self.assertGreater(len(ops), 30)
        allowed = {a for st in self.policy["Statement"] for a in self.actions(st)}
        self.assertEqual(sorted(allowed - ops - {"iam:PassRole"}), [], "allowed but never called by aws/")
        self.assertEqual(sorted(ops - CREDENTIAL_CHAIN_OPS - allowed), [], "called by aws/ but not allowed")
        self.assertEqual(allowed & CREDENTIAL_CHAIN_OPS, set())
        assume = [st for st in self.policy["Statement"] if "sts:AssumeRole" in self.actions(st)]
        self.assertEqual([st["Resource"] for st in assume], [FLEET_ROLES])

    def test_resource_star_only_where_aws_has_no_resource_level_permissions(self):
        for st in self.policy["Statement"]:
            res = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
            if "*" in res:
                self.assertEqual(set(self.actions(st)) - NO_RESOURCE_LEVEL, set(), st["Sid"])
            for r in res:
                self.assertTrue(r == "*" or r.startswith("arn:aws:"), r)

    def test_pass_role_is_limited(self):
        passes = [st for st in self.policy["Statement"] if "iam:PassRole" in self.actions(st)]
        self.assertEqual(len(passes), 2)
        services = {}
        for st in passes:
            self.assertEqual(self.actions(st), ["iam:PassRole"])
            self.assertRegex(st["Resource"], r"^arn:aws:iam::ACCOUNT_ID:role/Greengrass\w+\*$")
            v = st["Condition"]["StringEquals"]["iam:PassedToService"]
            services[st["Resource"]] = set([v] if isinstance(v, str) else v)
        # Each role is passed to the IoT control plane only (CreateRoleAlias, the templates); the
        # credentials provider assumes the token exchange role through its trust policy, it is not
        # a PassRole receiver (issue 17: credentials.iot.amazonaws.com is gone from the policy).
        self.assertEqual(services, {"arn:aws:iam::ACCOUNT_ID:role/GreengrassFleetProvisioningRole*": {"iot.amazonaws.com"},
                                    "arn:aws:iam::ACCOUNT_ID:role/GreengrassV2TokenExchangeRole*": {"iot.amazonaws.com"}})

    def test_roles_are_made_only_with_their_boundary(self):
        """Issue 17: CreateRole with any trust policy made an account admin of a stolen credential.
        Every role write is conditioned on the role's own permissions boundary."""
        writes = {"iam:CreateRole", "iam:PutRolePermissionsBoundary", "iam:AttachRolePolicy", "iam:DetachRolePolicy",
                  "iam:UpdateAssumeRolePolicy", "iam:DeleteRole"}
        seen = set()
        for st in self.policy["Statement"]:
            acts = set(self.actions(st)) & writes
            if not acts:
                continue
            seen |= acts
            b = st["Condition"]["StringEquals"]["iam:PermissionsBoundary"]
            for v in b if isinstance(b, list) else [b]:
                self.assertRegex(v, r"^arn:aws:iam::ACCOUNT_ID:policy/Fleetwarden\w+Boundary$", st["Sid"])
        self.assertEqual(seen, writes)
        allowed = {a for st in self.policy["Statement"] for a in self.actions(st)}
        self.assertNotIn("iam:DeleteRolePermissionsBoundary", allowed)
        for st in self.policy["Statement"]:   # the boundaries themselves are out of reach
            res = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
            self.assertFalse([r for r in res if "Boundary" in r], st["Sid"])

    def test_precreated_policy_has_no_iam_write(self):
        pre = json.loads(read(os.path.join(DEPLOY, "iam", "fleetwarden-policy-precreated.json")))
        iam = {a for st in pre["Statement"] for a in self.actions(st) if a.startswith("iam:")}
        self.assertEqual(iam, {"iam:GetRole", "iam:PassRole"})

    def test_operator_guide_explains_the_placeholders(self):
        guide = read(os.path.join(ROOT, "docs", "OPERATIONS.md"))
        self.assertIn("ACCOUNT_ID", guide)
        self.assertIn("deploy/iam/fleetwarden-policy.json", guide)


if __name__ == "__main__":
    unittest.main()
