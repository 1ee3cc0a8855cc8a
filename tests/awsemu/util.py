"""Small helpers shared by the service modules."""

import hashlib
import json
import random
import string
import urllib.parse

from errors import AwsError

_rand = random.SystemRandom()


def rand_id(prefix, n=17, alphabet=string.ascii_uppercase + string.digits):
    return prefix + ''.join(_rand.choice(alphabet) for _ in range(n))


def rand_str(n, alphabet=string.ascii_letters + string.digits):
    return ''.join(_rand.choice(alphabet) for _ in range(n))


def url_encode_doc(doc):
    return urllib.parse.quote(doc, safe='-_.~')


def endpoint_prefix(account):
    h = hashlib.sha256(('awsemu:' + account).encode()).hexdigest()
    letters = string.ascii_lowercase + string.digits
    return ''.join(letters[int(h[i:i + 2], 16) % len(letters)] for i in range(0, 28, 2))


def statements(doc):
    st = doc.get('Statement')
    if isinstance(st, dict):
        return [st]
    if isinstance(st, list):
        return st
    return None


def as_list(v):
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def check_policy_json(text, code, kind):
    """Parse and check a policy document. kind: 'identity', 'trust' or 'iot'."""
    try:
        doc = json.loads(text)
    except ValueError:
        raise AwsError(code, 'This policy contains invalid Json' if code != 'MalformedPolicyException'
                       else 'Policy document is malformed', 400)
    if not isinstance(doc, dict):
        raise AwsError(code, 'Syntax errors in policy.', 400)
    sts = statements(doc)
    if not sts:
        raise AwsError(code, 'Syntax errors in policy.' if kind != 'iot' else 'Policy document is malformed', 400)
    for s in sts:
        if not isinstance(s, dict):
            raise AwsError(code, 'Syntax errors in policy.', 400)
        if s.get('Effect') not in ('Allow', 'Deny'):
            raise AwsError(code, 'Syntax errors in policy.' if kind != 'iot'
                           else 'Policy document is malformed: invalid Effect', 400)
        if 'Action' not in s and 'NotAction' not in s:
            raise AwsError(code, 'Policy statement must contain actions.', 400)
        if kind == 'trust':
            if 'Principal' not in s and 'NotPrincipal' not in s:
                raise AwsError(code, 'Missing required field Principal', 400)
            if 'Resource' in s:
                raise AwsError(code, 'Has prohibited field Resource', 400)
        else:
            if 'Principal' in s or 'NotPrincipal' in s:
                raise AwsError(code, 'Policy document should not specify a principal.'
                               if kind == 'identity' else 'Policy document is malformed: Principal not allowed', 400)
            if 'Resource' not in s and 'NotResource' not in s:
                raise AwsError(code, 'Policy statement must contain resources.'
                               if kind == 'identity' else 'Policy document is malformed: missing Resource', 400)
    return doc


def page(items, marker, size):
    """Offset paging: returns (slice, next_marker or None)."""
    try:
        start = int(marker) if marker else 0
    except ValueError:
        raise AwsError.validation('Invalid marker')
    if start < 0:
        raise AwsError.validation('Invalid marker')
    chunk = items[start:start + size]
    nxt = str(start + size) if start + size < len(items) else None
    return chunk, nxt
