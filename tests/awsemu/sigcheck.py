"""SigV4 verification with botocore's own signer, rebuilt from the raw request."""

import datetime
import email.utils
import hmac
import re

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from errors import AwsError

SCOPE_SERVICES = {'execute-api': 'iot', 'iot': 'iot', 'iam': 'iam', 'sts': 'sts', 'monitoring': 'cloudwatch'}
MAX_SKEW = datetime.timedelta(minutes=15)

_AUTH_RE = re.compile(r'^AWS4-HMAC-SHA256\s+(.*)$', re.S)


class _Signer(SigV4Auth):
    """SigV4Auth that signs exactly the headers the client listed."""

    def __init__(self, credentials, service, region, header_map):
        super().__init__(credentials, service, region)
        self._header_map = header_map

    def headers_to_sign(self, request):
        return self._header_map


def parse_authorization(value):
    """Return dict with credential, signedheaders, signature or raise AwsError."""
    m = _AUTH_RE.match(value.strip())
    if not m:
        raise AwsError('IncompleteSignature',
                       "Authorization header requires 'Credential' parameter. Authorization header requires "
                       "'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. "
                       "Authorization=%s" % value[:40], 403)
    parts = {}
    for item in re.split(r'\s*,\s*', m.group(1).strip()):
        k, eq, v = item.partition('=')
        if eq:
            parts[k.strip()] = v.strip()
    missing = [k for k in ('Credential', 'SignedHeaders', 'Signature') if not parts.get(k)]
    if missing:
        raise AwsError('IncompleteSignature',
                       ' '.join("Authorization header requires '%s' parameter." % k for k in missing), 403)
    cred = parts['Credential'].split('/')
    if len(cred) != 5 or cred[4] != 'aws4_request':
        raise AwsError('IncompleteSignature',
                       "Credential should be scoped to a valid region. ", 403)
    return {'access_key': cred[0], 'date': cred[1], 'region': cred[2], 'service': cred[3],
            'signed_headers': [h.strip().lower() for h in parts['SignedHeaders'].split(';') if h.strip()],
            'signature': parts['Signature']}


def parse_amz_date(value):
    return datetime.datetime.strptime(value, '%Y%m%dT%H%M%SZ').replace(tzinfo=datetime.timezone.utc)


def rest_code(code):
    """Map query-protocol auth error codes to the rest-json (IoT) ones."""
    return {
        'SignatureDoesNotMatch': 'InvalidSignatureException',
        'InvalidClientTokenId': 'UnrecognizedClientException',
        'MissingAuthenticationToken': 'MissingAuthenticationTokenException',
        'IncompleteSignature': 'IncompleteSignatureException',
        'ExpiredToken': 'ExpiredTokenException',
    }.get(code, code)


def verify(method, raw_path, query_pairs, headers, body, auth, lookup_key, expected_region, service, now):
    """Check the signature. headers: list of (name, value).

    auth: parsed Authorization. lookup_key(akid) -> (secret, token or None, expiration or None) or None.
    Returns the access key id. Raises AwsError (query-protocol codes; the caller maps for rest-json).
    """
    hmap = {}
    for k, v in headers:
        hmap.setdefault(k.lower(), []).append(v)
    signed = auth['signed_headers']
    if 'host' not in signed:
        raise AwsError('SignatureDoesNotMatch', "'Host' must be a 'SignedHeader' in the AWS Authorization.", 403)
    amz = hmap.get('x-amz-date', [None])[0]
    if amz is not None and 'x-amz-date' in signed:
        try:
            when = parse_amz_date(amz.strip())
        except ValueError:
            raise AwsError('IncompleteSignature', "Date must be in ISO-8601 'basic format'. Got '%s'." % amz, 403)
        timestamp = amz.strip()
    elif 'date' in signed and hmap.get('date'):
        try:
            when = email.utils.parsedate_to_datetime(hmap['date'][0]).astimezone(datetime.timezone.utc)
        except (TypeError, ValueError):
            raise AwsError('IncompleteSignature', "Invalid Date header.", 403)
        timestamp = when.strftime('%Y%m%dT%H%M%SZ')
    else:
        raise AwsError('IncompleteSignature',
                       "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header "
                       "(and it must be a signed header).", 403)
    for h in signed:
        if h not in hmap:
            raise AwsError('SignatureDoesNotMatch',
                           "The request signature we calculated does not match the signature you provided. "
                           "Signed header '%s' is not present in the request." % h, 403)
    if auth['date'] != timestamp[:8]:
        raise AwsError('SignatureDoesNotMatch',
                       "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
                       "'%s' != '%s', from '%s'." % (auth['date'], timestamp[:8], timestamp), 403)
    if auth['region'] not in expected_region:
        raise AwsError('SignatureDoesNotMatch',
                       "Credential should be scoped to a valid region, not '%s'. " % auth['region'], 403)
    if SCOPE_SERVICES.get(auth['service']) != service:
        raise AwsError('SignatureDoesNotMatch',
                       "Credential should be scoped to correct service: '%s'. " % service_scope_name(service), 403)
    found = lookup_key(auth['access_key'])
    if found is None:
        raise AwsError('InvalidClientTokenId', 'The security token included in the request is invalid.', 403)
    secret, token, expiration = found
    given_token = hmap.get('x-amz-security-token', [None])[0]
    if token is not None or given_token is not None:
        if token is None or given_token is None or not hmac.compare_digest(token, given_token):
            raise AwsError('InvalidClientTokenId', 'The security token included in the request is invalid.', 403)
        if expiration is not None and now.timestamp() > expiration:
            raise AwsError('ExpiredToken', 'The security token included in the request is expired', 403)
    if abs(now - when) > MAX_SKEW:
        if when < now:
            msg = "Signature expired: %s is now earlier than %s (%s - 15 min.)" % (
                timestamp, (now - MAX_SKEW).strftime('%Y%m%dT%H%M%SZ'), now.strftime('%Y%m%dT%H%M%SZ'))
        else:
            msg = "Signature not yet current: %s is still later than %s (%s + 15 min.)" % (
                timestamp, (now + MAX_SKEW).strftime('%Y%m%dT%H%M%SZ'), now.strftime('%Y%m%dT%H%M%SZ'))
        raise AwsError('SignatureDoesNotMatch', msg, 403)

    header_map = {}
    for h in signed:
        header_map[h] = ','.join(' '.join(v.split()) for v in hmap[h])
    host = hmap['host'][0]
    req = AWSRequest(method=method, url='http://%s%s' % (host, raw_path), data=body or b'',
                     params=list(query_pairs) if query_pairs else None)
    req.context['timestamp'] = timestamp
    signer = _Signer(Credentials(auth['access_key'], secret, token), auth['service'], auth['region'],
                     _HeaderMap(header_map))
    canonical = signer.canonical_request(req)
    sts = signer.string_to_sign(req, canonical)
    expected = signer.signature(sts, req)
    if not hmac.compare_digest(expected, auth['signature']):
        raise AwsError('SignatureDoesNotMatch',
                       'The request signature we calculated does not match the signature you provided. '
                       'Check your AWS Secret Access Key and signing method. Consult the service documentation '
                       'for details.', 403)
    return auth['access_key']


def service_scope_name(service):
    return {'iot': 'execute-api', 'cloudwatch': 'monitoring'}.get(service, service)


class _HeaderMap(dict):
    """Enough of botocore's HTTPHeaders for canonical_headers()."""

    def get_all(self, key):
        return [self[key]]
