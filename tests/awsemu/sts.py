"""STS: caller identity and temporary credentials (accepted by the signature check)."""

import base64
import json

from errors import AwsError
from util import as_list, rand_id, rand_str, statements

READONLY = {'GetCallerIdentity'}
UNSIGNED = {'AssumeRoleWithWebIdentity', 'AssumeRoleWithSAML'}


def GetCallerIdentity(ctx, p):
    return {'UserId': ctx.caller_user_id, 'Account': ctx.account, 'Arn': ctx.caller_arn}


def _role_from_arn(ctx, arn):
    # arn:aws:iam::ACCOUNT:role/path/name
    parts = arn.split(':', 5)
    if len(parts) != 6 or parts[2] != 'iam' or not parts[5].startswith('role/'):
        raise AwsError('ValidationError', '%s is invalid' % arn, 400)
    name = parts[5].rsplit('/', 1)[1]
    r = ctx.st['iam']['roles'].get(name.lower())
    if r is None or r['Arn'] != arn or parts[4] != ctx.account:
        return None
    return r


def _trusts(role, action, check):
    try:
        doc = json.loads(role['AssumeRolePolicyDocument'])
    except ValueError:
        return False
    for s in statements(doc) or []:
        if s.get('Effect') != 'Allow':
            continue
        acts = as_list(s.get('Action'))
        if not any(a in (action, 'sts:*', '*') for a in acts):
            continue
        if check(s.get('Principal')):
            return True
    return False


def _issue(ctx, role, session_name, duration):
    if duration > role.get('MaxSessionDuration', 3600):
        raise AwsError('ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for '
                       'this role.', 400)
    akid = rand_id('ASIA', 16)
    secret = rand_str(40)
    token = 'FwoGZXIvYXdzE' + rand_str(300)
    exp = ctx.now_ts() + duration
    assumed_id = '%s:%s' % (role['RoleId'], session_name)
    arn = 'arn:aws:sts::%s:assumed-role/%s/%s' % (ctx.account, role['RoleName'], session_name)
    ctx.st['sts']['sessions'][akid] = {'secret': secret, 'token': token, 'expiration': exp,
                                       'arn': arn, 'userId': assumed_id}
    return {'Credentials': {'AccessKeyId': akid, 'SecretAccessKey': secret, 'SessionToken': token,
                            'Expiration': exp},
            'AssumedRoleUser': {'AssumedRoleId': assumed_id, 'Arn': arn}}


def issue_credentials(ctx, role, session_name, duration):
    """Session credentials for a role, as a service (the IoT credentials provider) assumes it."""
    return _issue(ctx, role, session_name, duration)


def AssumeRole(ctx, p):
    role = _role_from_arn(ctx, p['RoleArn'])

    def aws_principal(pr):
        if pr == '*':
            return True
        if not isinstance(pr, dict):
            return False
        for v in as_list(pr.get('AWS')):
            if v == '*' or v == ctx.account or (':%s:' % ctx.account) in v:
                return True
        return False
    if role is None or not _trusts(role, 'sts:AssumeRole', aws_principal):
        raise AwsError('AccessDenied', 'User: %s is not authorized to perform: sts:AssumeRole on resource: %s'
                       % (ctx.caller_arn, p['RoleArn']), 403)
    out = _issue(ctx, role, p['RoleSessionName'], p.get('DurationSeconds', 3600))
    out['PackedPolicySize'] = 0 if p.get('Policy') or p.get('PolicyArns') else None
    return out


def _jwt_claims(token):
    parts = token.split('.')
    if len(parts) != 3:
        return None
    try:
        pad = parts[1] + '=' * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(pad.encode()))
    except (ValueError, TypeError):
        return None
    return claims if isinstance(claims, dict) else None


def AssumeRoleWithWebIdentity(ctx, p):
    claims = _jwt_claims(p['WebIdentityToken'])
    if claims is None:
        raise AwsError('InvalidIdentityToken', 'The ID token provided is not a valid JWT. (You may see this error '
                       'if you sent an Access Token)', 400)
    if 'exp' in claims:
        try:
            if float(claims['exp']) < ctx.now_ts():
                raise AwsError('ExpiredTokenException', 'Token expired: current date/time %d must be before the '
                               'expiration date/time %s' % (ctx.now_ts(), claims['exp']), 400)
        except (TypeError, ValueError):
            raise AwsError('InvalidIdentityToken', 'Invalid exp claim in the web identity token.', 400)
    role = _role_from_arn(ctx, p['RoleArn'])

    def federated(pr):
        return pr == '*' or (isinstance(pr, dict) and bool(as_list(pr.get('Federated'))))
    if role is None or not _trusts(role, 'sts:AssumeRoleWithWebIdentity', federated):
        raise AwsError('AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity', 403)
    out = _issue(ctx, role, p['RoleSessionName'], p.get('DurationSeconds', 3600))
    out['SubjectFromWebIdentityToken'] = str(claims.get('sub', 'unknown'))
    aud = claims.get('aud', 'sts.amazonaws.com')
    out['Audience'] = aud[0] if isinstance(aud, list) and aud else str(aud)
    out['Provider'] = p.get('ProviderId') or str(claims.get('iss', 'accounts.google.com'))
    return out


OPERATIONS = {'GetCallerIdentity': GetCallerIdentity, 'AssumeRole': AssumeRole,
              'AssumeRoleWithWebIdentity': AssumeRoleWithWebIdentity}
