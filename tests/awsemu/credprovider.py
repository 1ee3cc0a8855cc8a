"""The AWS IoT credentials provider: HTTPS with client certificates, role alias -> STS credentials.

GET /role-aliases/<alias>/credentials (header x-amzn-iot-thingname optional). The checks run in the
order AWS answers them (observed responses in awslabs/aws-iot-core-credential-provider-session-helper,
docs/dev_notes.md): certificate, thing name, iot:AssumeRoleWithCertificate on the alias ARN, the alias,
the role and its trust of credentials.iot.amazonaws.com, the alias duration against the role's
MaxSessionDuration. The credentials are STS session credentials of the emulator (its signature check
accepts them; GetCallerIdentity shows assumed-role/<role>/<certificate id>).
"""

import datetime
import hashlib
import json
import re
import socket
import ssl
import threading
import types
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import iam
import iotpolicy
import sts
from broker import certificate_problem

PATH = re.compile(r'^/role-aliases/([^/?#]{1,128})/credentials/?$')
ALIAS = re.compile(r'^[\w=,@-]+$')
TRUSTED_SERVICE = 'credentials.iot.amazonaws.com'
HANDSHAKE_TIMEOUT = 10.0
MAX_THING_NAME = 128


class Refusal(Exception):
    def __init__(self, status, message, reason):
        super().__init__(message)
        self.status, self.message, self.reason = status, message, reason


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, handler, provider):
        self.address_family = socket.AF_INET6 if ':' in addr[0] else socket.AF_INET
        self.provider = provider
        super().__init__(addr, handler)

    def finish_request(self, request, client_address):
        """The TLS handshake runs in the request's own thread (a slow client holds up nobody)."""
        request.settimeout(HANDSHAKE_TIMEOUT)
        try:
            tls = self.provider.ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            reason = getattr(e, 'reason', None) or str(e)
            self.provider.record({'type': 'credentials-refused', 'remote': '%s:%s' % client_address[:2],
                                  'reason': 'TLS handshake failed: %s' % reason})
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            try:
                tls.close()
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'awsemu-credentials'
    sys_version = ''
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        status, headers, body = self.server.provider.handle(self.path, self.headers, self.connection,
                                                            self.client_address)
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _not_allowed(self):
        self.server.provider.record({'type': 'credentials-refused', 'reason': 'method %s' % self.command})
        body = b'{"message":"Method Not Allowed"}'
        self.send_response(405)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_PUT = do_DELETE = do_PATCH = _not_allowed


class CredentialsProvider:
    def __init__(self, emu, host, port, ssl_context, record):
        self.emu = emu
        self.ctx = ssl_context
        self.record = record
        self.servers = [_Server((host, port), _Handler, self)]
        self.port = self.servers[0].server_address[1]
        if host == '127.0.0.1':  # as the broker: 'localhost' may resolve to ::1 first
            try:
                self.servers.append(_Server(('::1', self.port), _Handler, self))
            except OSError:
                pass

    def start(self):
        for srv in self.servers:
            threading.Thread(target=srv.serve_forever, kwargs={'poll_interval': 0.2},
                             name='awsemu-credentials', daemon=True).start()

    def stop(self):
        for srv in self.servers:
            srv.shutdown()
            srv.server_close()

    # ------------------------------------------------------------ one request

    def handle(self, path, headers, tls_sock, client_address):
        rid = str(uuid.uuid4())
        ev = {'type': 'credentials', 'remote': '%s:%s' % client_address[:2]}
        try:
            m = PATH.match(path.split('?', 1)[0])
            if not m or not ALIAS.match(m.group(1)):
                raise Refusal(404, 'Not Found', 'no such path %s' % path[:200])
            ev['roleAlias'] = alias = m.group(1)
            der = tls_sock.getpeercert(binary_form=True)
            ev['certificateId'] = cert_id = iot_cert_id(der)
            thing = headers.get('x-amzn-iot-thingname')
            ev['thingName'] = thing
            out = self._credentials(cert_id, alias, thing, client_address[0], ev)
            self.record(ev)
            return 200, {'Content-Type': 'application/json', 'x-amzn-RequestId': rid}, json.dumps(out).encode()
        except Refusal as r:
            ev.update({'type': 'credentials-refused', 'status': r.status, 'reason': r.reason})
            self.record(ev)
            h = {'Content-Type': 'application/json', 'x-amzn-RequestId': rid}
            if r.status == 403:
                h['x-amzn-ErrorType'] = 'AccessDeniedException'
            return r.status, h, json.dumps({'message': r.message}).encode()

    def _credentials(self, cert_id, alias, thing, source_ip, ev):
        with self.emu.store.lock:
            st = self.emu.store.data
            now = self.emu.now()
            problem = certificate_problem(st, cert_id, now.timestamp())
            if problem:
                raise Refusal(403, 'Certificate is invalid on this endpoint', problem)
            if thing is not None and (len(thing) > MAX_THING_NAME or
                                      iotpolicy.attached_thing(st, cert_id, thing) is None):
                raise Refusal(403, 'Invalid thing name passed',
                              'thing %r does not exist or is not attached to the certificate' % thing[:128])
            variables = iotpolicy.connection_variables(st, cert_id, None, thing, source_ip)
            arn = 'arn:aws:iot:%s:%s:rolealias/%s' % (self.emu.region, self.emu.account, alias)
            ok, reason = iotpolicy.evaluate(st, cert_id, 'iot:AssumeRoleWithCertificate', arn, variables)
            if not ok:
                raise Refusal(403, 'Access Denied', 'iot:AssumeRoleWithCertificate refused: %s' % reason)
            ra = st['iot']['roleAliases'].get(alias)
            if ra is None:
                raise Refusal(404, 'Role alias does not exist', 'role alias %s does not exist' % alias)
            ctx = types.SimpleNamespace(st=st, account=self.emu.account, now_ts=lambda: round(now.timestamp(), 3))
            role = iam.role_by_arn(ctx.st, ra['roleArn'])
            if role is None or not iam.trusts_service(role, TRUSTED_SERVICE):
                raise Refusal(400, 'Unable to assume the role, or the role to assume does not exist',
                              'role %s missing or not trusting %s' % (ra['roleArn'], TRUSTED_SERVICE))
            duration = ra.get('credentialDurationSeconds', 3600)
            if duration > role.get('MaxSessionDuration', 3600):
                raise Refusal(400, 'The requested CredentialDurationSeconds exceeds the MaxSessionDuration set '
                              'for the role', 'alias duration %d > role MaxSessionDuration' % duration)
            issued = sts.issue_credentials(ctx, role, cert_id, duration)
            self.emu.store.save()
        c = issued['Credentials']
        ev.update({'roleArn': role['Arn'], 'accessKeyId': c['AccessKeyId'], 'durationSeconds': duration})
        exp = datetime.datetime.fromtimestamp(c['Expiration'], datetime.timezone.utc)
        return {'credentials': {'accessKeyId': c['AccessKeyId'], 'secretAccessKey': c['SecretAccessKey'],
                                'sessionToken': c['SessionToken'], 'expiration': exp.strftime('%Y-%m-%dT%H:%M:%SZ')}}


def iot_cert_id(der):
    """AWS's certificateId: the SHA-256 of the DER certificate."""
    return hashlib.sha256(der).hexdigest()
