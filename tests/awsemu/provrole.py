"""The provisioning role of a template, as RegisterThing uses it: the role must exist, trust iot.amazonaws.com
and allow every registry action the template needs (AWSIoTThingsRegistration, or an equivalent customer
managed policy attached to the role). IAM's evaluation is kept to what decides these calls: Allow/Deny
statements, Action/NotAction and Resource/NotResource with * and ? wildcards, an explicit Deny wins. A
statement with a Condition is read the safe way: it never allows, and it always denies."""

import json
import re

import iam
from provtemplate import ProvError

_pattern_cache = {}


def _regex(pattern, ignore_case):
    key = (pattern, ignore_case)
    rx = _pattern_cache.get(key)
    if rx is None:
        body = ''.join('.*' if ch == '*' else '.' if ch == '?' else re.escape(ch) for ch in pattern)
        rx = re.compile('^' + body + '$', re.IGNORECASE if ignore_case else 0)
        if len(_pattern_cache) < 4096:
            _pattern_cache[key] = rx
    return rx


def _as_list(v):
    return v if isinstance(v, list) else [v]


def _matches(stmt, key, value, ignore_case):
    """Whether stmt's key (Action or Resource) covers value; NotKey inverts; neither means no match."""
    if key in stmt:
        return any(isinstance(p, str) and _regex(p, ignore_case).match(value) for p in _as_list(stmt[key]))
    if 'Not' + key in stmt:
        return not any(isinstance(p, str) and _regex(p, ignore_case).match(value) for p in _as_list(stmt['Not' + key]))
    return False


def _statements(documents):
    for text in documents:
        try:
            doc = json.loads(text)
        except ValueError:
            continue
        st = doc.get('Statement') if isinstance(doc, dict) else None
        for s in _as_list(st) if st is not None else []:
            if isinstance(s, dict):
                yield s


def allowed(documents, action, resource):
    """IAM's decision for one action on one resource over identity policy documents (JSON texts)."""
    allow = False
    for s in _statements(documents):
        if not (_matches(s, 'Action', action, True) and _matches(s, 'Resource', resource, False)):
            continue
        if s.get('Effect') == 'Deny':
            return False
        if s.get('Effect') == 'Allow' and 'Condition' not in s:
            allow = True
    return allow


def role_documents(st, role):
    """The default-version documents of the managed policies attached to a role."""
    docs = []
    for arn in role.get('Attached', []):
        pol = st['iam']['policies'].get(arn)
        if pol:
            docs.append(pol['Versions'][pol['DefaultVersionId']]['Document'])
    return docs


def check(st, role_arn, needs):
    """Raises ProvError unless the role exists, trusts AWS IoT and allows each (action, resource) in needs."""
    role = iam.role_by_arn(st, role_arn)
    if role is None:
        raise ProvError(403, 'AccessDenied', 'The provisioning role %s of the template does not exist' % role_arn)
    if not iam.trusts_service(role, 'iot.amazonaws.com'):
        raise ProvError(403, 'AccessDenied', 'The provisioning role %s cannot be assumed by AWS IoT: its trust '
                        'policy does not allow iot.amazonaws.com to call sts:AssumeRole' % role_arn)
    docs = role_documents(st, role)
    for action, resource in needs:
        if not allowed(docs, action, resource):
            raise ProvError(403, 'AccessDenied', 'The provisioning role %s is not authorized to perform: %s on '
                            'resource: %s' % (role_arn, action, resource))
