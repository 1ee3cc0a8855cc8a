"""A small evaluator of fleetwarden's own IAM policies (deploy/iam) against the AWS calls the
emulator logged (GET /__emu/calls): which IAM actions, on which resource ARNs, with which
condition keys each call needs, and whether an Allow statement of the policy grants them.

It knows exactly what deploy/iam uses: Allow statements with Action, Resource and the condition
operators StringEquals, StringLike, ArnEquals, ArnLike (a missing key fails them, several values
are alternatives). Anything else in a policy (Deny, NotAction, NotResource, another operator)
raises, so a policy this cannot judge is never judged "allowed".

What each call needs comes from the Service Authorization Reference (the resource types and
condition keys of each action): e.g. iot:CreateRoleAlias acts on the role alias ARN and passes
its role (iam:PassRole with iam:PassedToService iot.amazonaws.com); iam:AttachRolePolicy acts
on the role, with iam:PolicyARN and iam:PermissionsBoundary (the boundary the role carries at
that moment, followed through the log by Roles).
"""
import fnmatch
import json

ACCOUNT = "123456789012"
REGION = "us-east-1"
IOT_SVC = "iot.amazonaws.com"


def _arn(svc, res, region=REGION):
    if svc == "iam":
        return "arn:aws:iam::%s:%s" % (ACCOUNT, res)
    return "arn:aws:%s:%s:%s:%s" % (svc, region, ACCOUNT, res)


def _role_arn(name):
    return _arn("iam", "role/" + name)


# operation -> (resource ARN from the parameters, or "*"); "iam"/"iot"/... is the call's service.
def _iam_role(p):
    return _role_arn(p["RoleName"])


IAM = {
    "CreateRole": _iam_role, "GetRole": _iam_role, "DeleteRole": _iam_role, "UpdateAssumeRolePolicy": _iam_role,
    "ListAttachedRolePolicies": _iam_role, "AttachRolePolicy": _iam_role, "DetachRolePolicy": _iam_role,
    "PutRolePermissionsBoundary": _iam_role, "DeleteRolePermissionsBoundary": _iam_role,
    "CreatePolicy": lambda p: _arn("iam", "policy%s%s" % (p.get("Path") or "/", p["PolicyName"])),
    "GetPolicy": lambda p: p["PolicyArn"], "DeletePolicy": lambda p: p["PolicyArn"],
    "GetPolicyVersion": lambda p: p["PolicyArn"], "CreatePolicyVersion": lambda p: p["PolicyArn"],
    "DeletePolicyVersion": lambda p: p["PolicyArn"], "ListPolicyVersions": lambda p: p["PolicyArn"],
    "SetDefaultPolicyVersion": lambda p: p["PolicyArn"],
}


def _iot(kind, member):
    return lambda p: _arn("iot", "%s/%s" % (kind, p[member]))


IOT = {
    "CreateRoleAlias": _iot("rolealias", "roleAlias"), "DescribeRoleAlias": _iot("rolealias", "roleAlias"),
    "UpdateRoleAlias": _iot("rolealias", "roleAlias"), "DeleteRoleAlias": _iot("rolealias", "roleAlias"),
    "CreatePolicy": _iot("policy", "policyName"), "GetPolicy": _iot("policy", "policyName"),
    "DeletePolicy": _iot("policy", "policyName"), "CreatePolicyVersion": _iot("policy", "policyName"),
    "DeletePolicyVersion": _iot("policy", "policyName"), "ListPolicyVersions": _iot("policy", "policyName"),
    "ListTargetsForPolicy": _iot("policy", "policyName"),
    # AttachPolicy/DetachPolicy act on the target (a certificate ARN), not on the policy
    "AttachPolicy": lambda p: p["target"], "DetachPolicy": lambda p: p["target"],
    "DescribeCertificate": _iot("cert", "certificateId"), "UpdateCertificate": _iot("cert", "certificateId"),
    "DeleteCertificate": _iot("cert", "certificateId"),
    "CreateProvisioningTemplate": _iot("provisioningtemplate", "templateName"),
    "DescribeProvisioningTemplate": _iot("provisioningtemplate", "templateName"),
    "UpdateProvisioningTemplate": _iot("provisioningtemplate", "templateName"),
    "DeleteProvisioningTemplate": _iot("provisioningtemplate", "templateName"),
    "CreateProvisioningTemplateVersion": _iot("provisioningtemplate", "templateName"),
    "ListProvisioningTemplateVersions": _iot("provisioningtemplate", "templateName"),
    "DescribeProvisioningTemplateVersion": _iot("provisioningtemplate", "templateName"),
    "DeleteProvisioningTemplateVersion": _iot("provisioningtemplate", "templateName"),
    "CreateThingGroup": _iot("thinggroup", "thingGroupName"), "DescribeThingGroup": _iot("thinggroup", "thingGroupName"),
    "DeleteThingGroup": _iot("thinggroup", "thingGroupName"),
    "ListThingsInThingGroup": _iot("thinggroup", "thingGroupName"),
    "CreateKeysAndCertificate": None, "CreateCertificateFromCsr": None, "ListCertificates": None,
    "ListProvisioningTemplates": None, "DescribeEndpoint": None,
    # a fleet verification's cleanup (issue 15): its thing, found through its certificate
    "DescribeThing": _iot("thing", "thingName"), "DeleteThing": _iot("thing", "thingName"),
    "DetachThingPrincipal": _iot("thing", "thingName"), "ListThingGroupsForThing": _iot("thing", "thingName"),
    "RemoveThingFromThingGroup": _iot("thing", "thingName"),   # and the group (a second statement allows it)
    "ListPrincipalThings": None, "ListAttachedPolicies": None,
}
CLOUDWATCH = {"GetMetricData": None, "ListMetrics": None}
STS = {"GetCallerIdentity": None, "AssumeRole": lambda p: p["RoleArn"]}
SERVICES = {"iam": IAM, "iot": IOT, "cloudwatch": CLOUDWATCH, "monitoring": CLOUDWATCH, "sts": STS}
PREFIX = {"monitoring": "cloudwatch"}
# the role a call passes to IoT (iam:PassRole): operation -> parameter holding its ARN
PASSES = {"CreateRoleAlias": "roleArn", "UpdateRoleAlias": "roleArn", "CreateProvisioningTemplate":
          "provisioningRoleArn", "UpdateProvisioningTemplate": "provisioningRoleArn"}
BOUNDARY_KEYED = {"CreateRole", "PutRolePermissionsBoundary", "DeleteRolePermissionsBoundary", "UpdateAssumeRolePolicy",
                  "AttachRolePolicy", "DetachRolePolicy", "DeleteRole", "GetRole"}


class Unknown(Exception):
    """A call (or a policy element) this evaluator does not know: add it, do not guess."""


class Roles:
    """The permissions boundary each role carries, followed call by call (iam:PermissionsBoundary
    of an action on an existing role is the boundary the role has when the call is made)."""

    def __init__(self, initial=None):
        self.boundary = dict(initial or {})

    def after(self, op, p, ok):
        if not ok:
            return
        if op == "CreateRole":
            self.boundary[p["RoleName"]] = p.get("PermissionsBoundary")
        elif op == "PutRolePermissionsBoundary":
            self.boundary[p["RoleName"]] = p["PermissionsBoundary"]
        elif op in ("DeleteRolePermissionsBoundary", "DeleteRole"):
            self.boundary[p["RoleName"]] = None


def requests(call, roles):
    """[(action, resource, context)] one logged call needs."""
    svc, op, p = call["service"], call["operation"], call.get("parameters") or {}
    table = SERVICES.get(svc)
    if table is None or op not in table:
        raise Unknown("no resource mapping for %s:%s (add it to tests/lib/iam_eval.py)" % (svc, op))
    res = table[op](p) if table[op] else "*"
    ctx = {"aws:RequestedRegion": "us-east-1" if svc in ("iam", "sts") else REGION}
    if svc == "iam" and op in BOUNDARY_KEYED:
        b = p.get("PermissionsBoundary") if op in ("CreateRole", "PutRolePermissionsBoundary") \
            else roles.boundary.get(p.get("RoleName"))
        if b:
            ctx["iam:PermissionsBoundary"] = b
    if svc == "iam" and op in ("AttachRolePolicy", "DetachRolePolicy"):
        ctx["iam:PolicyARN"] = p["PolicyArn"]
    out = [("%s:%s" % (PREFIX.get(svc, svc), op), res, ctx)]
    if svc == "iot" and op in PASSES and p.get(PASSES[op]):
        out.append(("iam:PassRole", p[PASSES[op]], {"iam:PassedToService": IOT_SVC, "aws:RequestedRegion": REGION}))
    return out


def _as_list(v):
    return v if isinstance(v, list) else [v]


def _match(pattern, value, ci=False):
    if ci:
        pattern, value = pattern.lower(), value.lower()
    return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))


def _condition_ok(cond, ctx):
    for op, keys in cond.items():
        if op not in ("StringEquals", "StringLike", "ArnEquals", "ArnLike"):
            raise Unknown("condition operator %s" % op)
        for key, want in keys.items():
            have = ctx.get(key)
            if have is None:
                return False
            like = op.endswith("Like")
            if not any(_match(w, have) if like else w == have for w in _as_list(want)):
                return False
    return True


def statement_allows(st, action, resource, ctx):
    if st.get("Effect") != "Allow" or "NotAction" in st or "NotResource" in st:
        raise Unknown("only Allow statements with Action and Resource: %s" % st.get("Sid"))
    if not any(_match(a, action, ci=True) for a in _as_list(st["Action"])):
        return False
    if not any(_match(r, resource) for r in _as_list(st["Resource"])):
        return False
    return _condition_ok(st.get("Condition", {}), ctx)


def allows(policy, action, resource, ctx):
    return any(statement_allows(st, action, resource, ctx) for st in policy["Statement"])


def load(path, placeholders):
    with open(path) as f:
        text = f.read()
    for k, v in placeholders.items():
        text = text.replace(k, v)
    return json.loads(text)


def denials(policy, calls, initial_boundaries=None):
    """[(call, action, resource, context)] for every request of calls the policy does not allow.
    Calls that failed before the service parsed them (no parameters) are judged on what they name."""
    roles = Roles(initial_boundaries)
    out = []
    for c in calls:
        for action, res, ctx in requests(c, roles):
            if not allows(policy, action, res, ctx):
                out.append((c, action, res, ctx))
        roles.after(c["operation"], c.get("parameters") or {}, 200 <= int(c.get("status") or 0) < 300)
    return out


def actions_used(calls, initial_boundaries=None):
    roles = Roles(initial_boundaries)
    used = set()
    for c in calls:
        for action, _, _ in requests(c, roles):
            used.add(action)
        roles.after(c["operation"], c.get("parameters") or {}, 200 <= int(c.get("status") or 0) < 300)
    return used
