#!/usr/bin/python3
"""awsemu: a local emulator of the AWS IAM, STS, IoT and CloudWatch APIs fleetwarden uses.

One HTTP endpoint for all services; the service is told apart by the SigV4 credential scope.
"""

import argparse
import datetime
import json
import os
import signal
import sys
import threading
import time
import traceback
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import certs  # noqa: E402
import cloudwatch  # noqa: E402
import control  # noqa: E402
import dataplane  # noqa: E402
import fleetprov  # noqa: E402
import fpmetrics  # noqa: E402
import hooks  # noqa: E402
import iam  # noqa: E402
import iot  # noqa: E402
import models  # noqa: E402
import protocols  # noqa: E402
import quotas  # noqa: E402
import sigcheck  # noqa: E402
import sts  # noqa: E402
from errors import AwsError  # noqa: E402
from state import Store  # noqa: E402

DEFAULT_AKID = 'AKIDEXAMPLE'
DEFAULT_SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY'
MODULES = {'iam': iam, 'sts': sts, 'iot': iot, 'cloudwatch': cloudwatch}
QUERY_VERSIONS = {'2010-05-08': 'iam', '2011-06-15': 'sts', '2010-08-01': 'cloudwatch'}
THROTTLE = {'iot': ('ThrottlingException', 'Rate exceeded'), 'iam': ('Throttling', 'Rate exceeded'),
            'sts': ('Throttling', 'Rate exceeded'), 'cloudwatch': ('Throttling', 'Rate exceeded')}
MAX_BODY = 16 * 1024 * 1024
IOT_ERROR_NS = 'http://internal.amazon.com/coral/com.amazonaws.iot/'


def log(msg):
    sys.stderr.write('%s awsemu: %s\n' % (datetime.datetime.utcnow().strftime('%Y-%m-%dT%H:%M:%SZ'), msg))
    sys.stderr.flush()


class Context:
    """What an operation handler sees."""

    def __init__(self, emu, caller):
        self.emu = emu
        self.st = emu.store.data
        self.account = emu.account
        self.region = emu.region
        self._now = emu.now()
        self.caller_arn, self.caller_user_id = caller

    def now_ts(self):
        return round(self._now.timestamp(), 3)


class Emulator:
    def __init__(self, args):
        self.akid = args.access_key_id
        self.secret = args.secret_access_key
        self.account = args.account_id
        self.region = args.region
        self.store = Store(args.state_dir)
        self.quotas = quotas.Quotas()
        if args.quotas:
            with open(args.quotas) as f:
                self.quotas.load(json.load(f))
        if args.no_quotas:
            self.quotas.enabled = False
        self.faults = control.Faults()
        self.calls = control.CallLog()
        self.prov_log = control.CallLog()   # fleet provisioning calls (fleetprov.py)
        self.lambda_endpoints = {}          # pre-provisioning hook Lambda ARN -> local URL (hooks.py)
        self.clock_offset = 0.0
        self.list_metrics_page = cloudwatch.LIST_METRICS_PAGE
        self.iam_propagation_s = 0      # a new or changed role is unassumable by IoT this long (0 = off)
        self.policy_delete_delay_s = 0  # IoT DeletePolicy refused this long after a DetachPolicy (0 = off)
        self.gmd_status_fault = None    # GetMetricData results answered with a failed StatusCode
        self.next_token_loop = {}       # operation -> "repeat" | "fresh": NextToken paging never ends
        self.loop_tokens = 0            # "fresh" loop tokens handed out
        self.started = time.time()
        self.error_type_suffix = not args.no_error_type_suffix
        self.endpoint_host = args.endpoint_host  # DescribeEndpoint's answer for every type when given
        self.dataplane = None
        fpmetrics.bind(self.now, self.store.lock)
        with self.store.lock:
            if self.store.data.get('ca'):
                certs.ca(self.store.data['ca'])
            else:
                certs.ca()
                self.store.data['ca'] = certs.ca_export()
                self.store.save()

    def now(self):
        return datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=self.clock_offset)

    def certificate_status_changed(self, cert_id, status):
        """Called by UpdateCertificate (state lock held)."""
        if self.dataplane:
            self.dataplane.certificate_status_changed(cert_id, status)

    # ------------------------------------------------------------ identity

    def lookup_key(self, akid):
        if akid == self.akid:
            return self.secret, None, None
        s = self.store.data['sts']['sessions'].get(akid)
        if s:
            return s['secret'], s['token'], s['expiration']
        return None

    def caller(self, akid):
        if akid == self.akid:
            return 'arn:aws:iam::%s:user/awsemu' % self.account, 'AIDA' + 'EMULATORUSER00001'
        s = self.store.data['sts']['sessions'].get(akid) if akid else None
        if s:
            return s['arn'], s['userId']
        return 'anonymous', 'anonymous'

    # ------------------------------------------------------------ AWS requests

    def handle_aws(self, method, raw_path, raw_query, headers, body):
        rid = str(uuid.uuid4())
        t0 = time.time()
        rec = {'time': protocols.iso8601(self.now()), 'requestId': rid, 'method': method, 'path': raw_path,
               'service': None, 'operation': None, 'parameters': None, 'accessKeyId': None,
               'signature': None, 'status': None, 'errorCode': None}
        service = 'iot'
        try:
            query_pairs = parse_query(raw_query)
            hmap = {k.lower(): v for k, v in headers}
            form = None
            ctype = hmap.get('content-type', '')
            if method == 'POST' and 'x-www-form-urlencoded' in ctype:
                form = dict(urllib.parse.parse_qsl(body.decode('utf-8', 'replace'), keep_blank_values=True))
            elif method == 'GET' and any(k == 'Action' for k, _ in query_pairs):
                form = dict(query_pairs)
            auth_value = hmap.get('authorization')
            auth = None
            auth_err = None
            if auth_value:
                try:
                    auth = sigcheck.parse_authorization(auth_value)
                except AwsError as e:
                    auth_err = e
            guessed = self.guess_service(form)
            if auth and auth['service'] in sigcheck.SCOPE_SERVICES:
                service = sigcheck.SCOPE_SERVICES[auth['service']]
            else:
                service = guessed
            rec['service'] = service
            op_name = None
            op_model = None
            if service == 'iot':
                op_name, uri_params = models.resolve_rest('iot', method, raw_path, query_pairs)
            else:
                if form is None or not form.get('Action'):
                    raise AwsError('MissingAction', 'Missing Action', 400)
                op_name = form['Action']
                if op_name not in models.service_model(service).operation_names:
                    raise AwsError('InvalidAction', 'Could not find operation %s for version %s'
                                   % (op_name, form.get('Version', 'NO_VERSION_SPECIFIED')), 400)
            rec['operation'] = op_name
            op_model = models.service_model(service).operation_model(op_name)

            # -- authentication
            akid = None
            if auth_err is not None:
                rec['signature'] = 'malformed'
                raise auth_err
            if auth is None:
                if service == 'sts' and op_name in sts.UNSIGNED:
                    rec['signature'] = 'unsigned'
                else:
                    rec['signature'] = 'missing'
                    raise AwsError('MissingAuthenticationToken', 'Request is missing Authentication Token', 403)
            else:
                if auth['service'] not in sigcheck.SCOPE_SERVICES:
                    rec['signature'] = 'invalid'
                    raise AwsError('SignatureDoesNotMatch', "Credential should be scoped to correct service: '%s'. "
                                   % sigcheck.service_scope_name(guessed), 403)
                regions = {self.region}
                if service == 'iam':
                    regions = {'us-east-1'}
                elif service == 'sts':
                    regions = {'us-east-1', self.region}
                rec['accessKeyId'] = auth['access_key']
                rec['signingName'] = auth['service']
                try:
                    with self.store.lock:
                        akid = sigcheck.verify(method, raw_path, query_pairs, headers, body, auth, self.lookup_key,
                                               regions, service, self.now())
                except AwsError:
                    rec['signature'] = 'invalid'
                    raise
                rec['signature'] = 'valid'

            # -- input
            if service == 'iot':
                params = models.parse_rest_json(op_model, uri_params, query_pairs, hmap, body)
            else:
                params = models.parse_query_form(op_model, form)
            rec['parameters'] = control.redact(params)
            errs = models.validate(op_model.input_shape, params)
            if errs:
                raise self.validation_error(service, errs)

            # -- faults and quotas
            rule = self.faults.match(service, op_name)
            if rule:
                control.sleep_ms(rule['delayMs'])
                if not rule['errorFree'] and not rule['afterApply']:
                    raise AwsError(rule['code'], rule['message'], rule['status'], sender=rule['status'] < 500)
            if not self.quotas.take(service, op_name):
                code, msg = THROTTLE[service]
                raise AwsError(code, msg, 400)

            # -- the operation
            mod = MODULES[service]
            fn = mod.OPERATIONS.get(op_name)
            if fn is None:
                raise AwsError('InvalidAction' if service != 'iot' else 'InvalidRequestException',
                               'Operation %s is not implemented by awsemu' % op_name, 400)
            with self.store.lock:
                ctx = Context(self, self.caller(akid))
                fleetprov.expire_pending(ctx.st, ctx.now_ts())
                try:
                    out = fn(ctx, params)
                finally:
                    if op_name not in mod.READONLY:
                        self.store.save()
            if rule and rule['afterApply']:
                # the operation took effect, its answer is lost: what a client sees when AWS made
                # the resource and the connection or a 5xx took the answer
                raise AwsError(rule['code'], rule['message'], rule['status'], sender=rule['status'] < 500)
            if service == 'iot':
                status, rh, rb = protocols.rest_json_success(op_model, out, rid)
            else:
                status, rh, rb = protocols.query_success(service, op_model, out, rid)
        except AwsError as e:
            if service == 'iot':
                e.code = sigcheck.rest_code(e.code)
                if e.kind in ('validation', 'missing'):
                    e.code = 'InvalidRequestException'
                if e.code == 'MissingAuthenticationTokenException':
                    e.message = 'Missing Authentication Token'
                status, rh, rb = protocols.rest_json_error(e, rid)
                if self.error_type_suffix and rec['signature'] in ('valid', 'unsigned'):
                    # past the front door, IoT's service layer names the error with its namespace
                    rh['x-amzn-ErrorType'] = e.code + ':' + IOT_ERROR_NS
                extra = getattr(e, 'extra', None)
                if extra:
                    d = json.loads(rb)
                    d.update(extra)
                    rb = json.dumps(d).encode()
            else:
                if service == 'cloudwatch' and e.kind in ('validation', 'missing'):
                    e.code = 'MissingParameter' if e.kind == 'missing' else 'InvalidParameterValue'
                if e.code == 'IncompleteSignature':
                    e.status = 400  # the query services' documented status (JSON services use 403)
                status, rh, rb = protocols.query_error(service, e, rid)
            rec['errorCode'] = e.code
            rec['errorMessage'] = e.message
        except Exception:
            log('internal error in %s %s:\n%s' % (method, raw_path, traceback.format_exc()))
            e = AwsError('InternalFailure', 'An internal error occurred in awsemu.', 500, sender=False)
            if service == 'iot':
                e.code = 'InternalFailureException'
            status, rh, rb = protocols.render_error(service, e, rid)
            rec['errorCode'] = e.code
        rec['status'] = status
        rec['durationMs'] = int((time.time() - t0) * 1000)
        self.calls.add(rec)
        return status, rh, rb

    def guess_service(self, form):
        if form is None:
            return 'iot'
        v = form.get('Version')
        if v in QUERY_VERSIONS:
            return QUERY_VERSIONS[v]
        action = form.get('Action')
        for svc in ('sts', 'cloudwatch', 'iam'):
            if action in models.service_model(svc).operation_names:
                return svc
        return 'iam'

    def validation_error(self, service, errs):
        msg = models.validation_message(errs)
        if service == 'iot':
            return AwsError('InvalidRequestException', msg, 400)
        if service == 'cloudwatch':
            missing = [e for e in errs if e[1] == 'missing']
            if missing:
                return AwsError('MissingParameter', 'The parameter %s is required.' % missing[0][0], 400)
            return AwsError('InvalidParameterValue', msg, 400)
        return AwsError('ValidationError', msg, 400)

    # ------------------------------------------------------------ control endpoints

    def stored_each(self, fn, specs):
        """fn(state, spec) for each spec, under the store's lock, saved after; their answers."""
        with self.store.lock:
            out = [fn(self.store.data, s) for s in specs]
            self.store.save()
        return out

    def handle_control(self, method, path, raw_query, body, port):
        q = dict(parse_query(raw_query))
        data = None
        if body:
            try:
                data = json.loads(body.decode('utf-8'))
            except (ValueError, UnicodeDecodeError):
                return 400, {'error': 'body is not valid JSON'}
        route = path[len('/__emu'):].rstrip('/') or '/'
        try:
            if route == '/health' and method == 'GET':
                out = {'status': 'ok', 'accountId': self.account, 'region': self.region, 'port': port,
                       'accessKeyId': self.akid, 'uptimeSeconds': round(time.time() - self.started, 3),
                       'pid': os.getpid()}
                out.update(self.dataplane_info())
                return 200, out
            if route == '/dataplane/provisioning' and method in ('GET', 'DELETE'):
                return self.provisioning_control(method, q)
            if route.startswith('/dataplane/'):
                if self.dataplane is None:
                    return 404, {'error': 'the data plane is off (--mqtt-port -1 --credentials-port -1)'}
                answer = self.dataplane.handle_control(method, route[len('/dataplane'):], q, data)
                if answer is not None:
                    return answer
            if route == '/calls':
                if method == 'GET':
                    calls = self.calls.list()
                    for k in ('service', 'operation', 'status', 'errorCode'):
                        if k in q:
                            calls = [c for c in calls if str(c.get(k)) == q[k]]
                    return 200, {'calls': calls}
                if method == 'DELETE':
                    self.calls.clear()
                    return 200, {'cleared': True}
            if route == '/state' and method == 'GET':
                with self.store.lock:
                    st = json.loads(json.dumps(self.store.data))
                st.pop('ca', None)
                st.pop('serverCa', None)
                return 200, st
            if route == '/reset' and method == 'POST':
                self.store.reset()
                self.calls.clear()
                self.prov_log.clear()
                self.faults.clear()
                self.clock_offset = 0.0
                self.iam_propagation_s = self.policy_delete_delay_s = 0
                self.gmd_status_fault = None
                self.next_token_loop = {}
                self.quotas = quotas.Quotas() if not (data or {}).get('keepQuotas') else self.quotas
                if self.dataplane:
                    self.dataplane.reset()
                return 200, {'reset': True}
            if route == '/faults':
                if method == 'POST':
                    return 200, {'faults': [self.faults.add(s) for s in specs_of(data, 'faults')]}
                if method == 'GET':
                    return 200, {'faults': self.faults.list()}
                if method == 'DELETE':
                    self.faults.clear()
                    return 200, {'cleared': True}
            if route == '/metrics':
                if method == 'POST':
                    specs = specs_of(data, 'metrics')
                    return 200, {'metrics': len(specs), 'points': sum(self.stored_each(cloudwatch.inject, specs))}
                if method == 'DELETE':
                    with self.store.lock:
                        self.store.data['cloudwatch']['metrics'] = {}
                        self.store.data.setdefault('fpmetrics', {})['claims'] = {}
                        self.store.save()
                    return 200, {'cleared': True}
                if method == 'GET':
                    with self.store.lock:
                        return 200, {'metrics': list(self.store.data['cloudwatch']['metrics'].values())}
            if route == '/registrations':
                if method == 'POST':
                    specs = specs_of(data, 'registrations')
                    return 200, {'registrations': self.stored_each(fpmetrics.post_registrations, specs)}
                if method == 'GET':
                    return 200, fpmetrics.describe(self.store.data)
            if route == '/provisioning-results' and method == 'POST':
                return 200, {'results': self.stored_each(fpmetrics.post_results, specs_of(data, 'results'))}
            if route == '/quotas':
                if method == 'POST':
                    self.quotas.load(data or {})
                    return 200, self.quotas.describe()
                if method == 'GET':
                    return 200, self.quotas.describe()
            if route == '/clock':
                if method == 'POST':
                    if 'now' in (data or {}):
                        target = models.parse_timestamp(data['now'])
                        self.clock_offset = (target - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
                    else:
                        self.clock_offset = float((data or {}).get('offsetSeconds', 0))
                if method in ('POST', 'GET'):
                    return 200, {'now': protocols.iso8601(self.now()), 'offsetSeconds': self.clock_offset}
            if route == '/config' and method in ('GET', 'POST'):
                return 200, self.config(data if method == 'POST' else None)
            if route == '/ca' and method == 'GET':
                return 200, {'certificatePem': certs.ca_export()['certPem']}
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            return 400, {'error': 'bad request: %s' % e}
        return 404, {'error': 'no control endpoint %s %s' % (method, path)}

    def provisioning_control(self, method, q):
        """GET / DELETE /__emu/dataplane/provisioning: the fleet provisioning calls (fleetprov.py)."""
        if method == 'DELETE':
            self.prov_log.clear()
            return 200, {'cleared': True}
        calls = self.prov_log.list()
        for k in ('api', 'outcome', 'template', 'clientId', 'errorCode'):
            if k in q:
                calls = [c for c in calls if str(c.get(k)) == q[k]]
        return 200, {'calls': calls}

    def dataplane_info(self):
        if self.dataplane:
            return self.dataplane.info()
        return {'mqttPort': None, 'credentialsPort': None, 'endpointHost': self.endpoint_host, 'serverCaFile': None}

    def config(self, data):
        """GET/POST /__emu/config: emulator settings (fleet provisioning metrics ones live in the state)."""
        if data is not None and not isinstance(data, dict):
            raise ValueError('body must be an object')
        data = data or {}
        endpoints = hooks.check_endpoints(data['lambdaEndpoints']) if 'lambdaEndpoints' in data else None
        if 'listMetricsPageSize' in data:
            n = int(data['listMetricsPageSize'])
            if n < 1:
                raise ValueError('listMetricsPageSize must be >= 1')
            self.list_metrics_page = n
        for key, attr in (('iamPropagationSeconds', 'iam_propagation_s'),
                          ('policyDeleteDelaySeconds', 'policy_delete_delay_s')):
            if key in data:
                v = data[key]
                if not isinstance(v, (int, float)) or isinstance(v, bool) or not 0 <= v <= 3600:
                    raise ValueError('%s must be a number of seconds 0..3600' % key)
                setattr(self, attr, v)
        fp = {k: data[k] for k in ('csrFailureMetric', 'sampling', 'publishPeriodSeconds') if k in data}
        with self.store.lock:
            cfg = fpmetrics.configure(self.store.data, fp)
            if fp:
                self.store.save()
        if 'gmdStatusFault' in data:
            self.gmd_status_fault = cloudwatch.check_status_fault(data['gmdStatusFault'])
        if 'nextTokenLoop' in data:
            self.next_token_loop = cloudwatch.check_token_loop(data['nextTokenLoop'])
        if endpoints is not None:
            self.lambda_endpoints = endpoints
        out = {'listMetricsPageSize': self.list_metrics_page, 'iamPropagationSeconds': self.iam_propagation_s,
               'policyDeleteDelaySeconds': self.policy_delete_delay_s, 'lambdaEndpoints': self.lambda_endpoints,
               'gmdStatusFault': self.gmd_status_fault, 'nextTokenLoop': self.next_token_loop}
        out.update(cfg)
        return out


def specs_of(data, key):
    """What a control POST gives: {key: [spec, ...]}, [spec, ...] or one spec; always a list."""
    specs = data.get(key) if isinstance(data, dict) and key in data else data
    return specs if isinstance(specs, list) else [specs]


def parse_query(raw):
    pairs = []
    if not raw:
        return pairs
    for part in raw.split('&'):
        if not part:
            continue
        k, _, v = part.partition('=')
        pairs.append((urllib.parse.unquote(k), urllib.parse.unquote(v)))
    return pairs


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    # Answers go out at once: with Nagle on, a kept-alive client waits for a
    # 40 ms delayed ACK on every call (seen as 22 calls/s from the C client).
    disable_nagle_algorithm = True
    server_version = 'awsemu'
    sys_version = ''
    emu = None

    def version_string(self):
        return self.server_version

    def log_message(self, fmt, *args):
        if os.environ.get('AWSEMU_ACCESS_LOG'):
            log('%s %s' % (self.address_string(), fmt % args))

    def _read_body(self):
        te = (self.headers.get('Transfer-Encoding') or '').lower()
        if 'chunked' in te:
            chunks = []
            total = 0
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b';')[0].strip() or b'0', 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b'\r\n', b'\n', b''):
                        pass
                    break
                total += size
                if total > MAX_BODY:
                    raise ValueError('body too large')
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b''.join(chunks)
        n = int(self.headers.get('Content-Length') or 0)
        if n < 0 or n > MAX_BODY:
            raise ValueError('bad Content-Length')
        return self.rfile.read(n) if n else b''

    def _send(self, status, headers, body):
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(body)

    def _handle(self):
        try:
            try:
                body = self._read_body()
            except (ValueError, OSError):
                self.close_connection = True
                self._send(400, {'Content-Type': 'application/json', 'Connection': 'close'},
                           b'{"message": "Bad request body"}')
                return
            split = urllib.parse.urlsplit(self.path)
            raw_path = split.path or '/'
            if raw_path.startswith('/__emu/') or raw_path == '/__emu':
                status, obj = self.emu.handle_control(self.command, raw_path, split.query, body,
                                                      self.server.server_address[1])
                self._send(status, {'Content-Type': 'application/json'}, json.dumps(obj, default=str).encode())
                return
            status, headers, rbody = self.emu.handle_aws(self.command, raw_path, split.query,
                                                        list(self.headers.items()), body)
            self._send(status, headers, rbody)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception:
            log('handler crash:\n%s' % traceback.format_exc())
            self.close_connection = True
            try:
                self._send(500, {'Content-Type': 'application/json'}, b'{"message": "internal error"}')
            except Exception:
                pass

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def main(argv=None):
    args = parse_args(argv)
    emu = Emulator(args)
    Handler.emu = emu
    srv = Server((args.host, args.port), Handler)
    port = srv.server_address[1]
    if args.mqtt_port >= 0 or args.credentials_port >= 0:
        emu.dataplane = dataplane.DataPlane(emu, args.host, args.mqtt_port, args.credentials_port,
                                            args.endpoint_host, args.server_ca_file)
        emu.dataplane.start()
    url = 'http://%s:%d' % (args.host, port)
    if args.ready_file:
        info = {'url': url, 'port': port, 'pid': os.getpid()}
        info.update(emu.dataplane_info())
        tmp = args.ready_file + '.tmp'
        with open(tmp, 'w') as f:
            json.dump(info, f)
            f.write('\n')
        os.replace(tmp, args.ready_file)
    print('awsemu listening on %s' % url, flush=True)
    # SIGTERM ends serve_forever from another thread (shutdown() waits for the loop), then everything closes
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=srv.shutdown, daemon=True).start())
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        if emu.dataplane:
            emu.dataplane.stop()
        srv.server_close()
        with emu.store.lock:
            emu.store.save()


def parse_args(argv):
    ap = argparse.ArgumentParser(description='AWS IAM/STS/IoT/CloudWatch emulator for fleetwarden')
    ap.add_argument('--host', default='127.0.0.1')
    ap.add_argument('--port', type=int, default=0)
    ap.add_argument('--access-key-id', default=DEFAULT_AKID)
    ap.add_argument('--secret-access-key', default=DEFAULT_SECRET)
    ap.add_argument('--account-id', default='123456789012')
    ap.add_argument('--region', default='us-east-1')
    ap.add_argument('--state-dir')
    ap.add_argument('--ready-file')
    ap.add_argument('--quotas', help='JSON file, same format as POST /__emu/quotas')
    ap.add_argument('--no-quotas', action='store_true', help='disable rate quotas')
    ap.add_argument('--no-error-type-suffix', action='store_true',
                    help="send x-amzn-ErrorType without the ':http://internal.amazon.com/...' suffix")
    ap.add_argument('--mqtt-port', type=int, default=0, help='MQTT over TLS (0: a free port; -1: off)')
    ap.add_argument('--credentials-port', type=int, default=0,
                    help='the IoT credentials provider over HTTPS (0: a free port; -1: off)')
    ap.add_argument('--endpoint-host', help='the host DescribeEndpoint answers for every endpoint type (e.g. '
                    'localhost); default: AWS-shaped names')
    ap.add_argument('--server-ca-file', help='write the root CA of the data plane server certificate here')
    args = ap.parse_args(argv)
    for name in ('mqtt_port', 'credentials_port'):
        if not -1 <= getattr(args, name) <= 65535:
            ap.error('--%s must be -1..65535' % name.replace('_', '-'))
    return args


if __name__ == '__main__':
    main()
