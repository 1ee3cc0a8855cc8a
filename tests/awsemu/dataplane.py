"""The emulated AWS IoT data plane: the MQTT broker and the credentials provider, their TLS, the
reserved-topic handlers (fleet provisioning: fleetprov.py), the event log and the
/__emu/dataplane/ control endpoints."""

import importlib
import importlib.util

import broker as broker_mod
import certs
import control
import credprovider
import servertls
import util

EVENT_LIMIT = 5000


def endpoint_names(account, region, endpoint_host):
    """The names the server certificate covers (and SNI may carry): the configured endpoint host,
    localhost, and the AWS-shaped names DescribeEndpoint answers without --endpoint-host."""
    pre = util.endpoint_prefix(account)
    aws = ['%s-ats.iot.%s.amazonaws.com' % (pre, region), '%s.iot.%s.amazonaws.com' % (pre, region),
           '%s.credentials.iot.%s.amazonaws.com' % (pre, region), '%s.jobs.iot.%s.amazonaws.com' % (pre, region)]
    names = [endpoint_host] if endpoint_host else []
    return names + [n for n in ['localhost'] + aws if n != endpoint_host]


def reserved_handlers():
    """fleetprov (part 2 of the data plane) when it is there."""
    if importlib.util.find_spec('fleetprov') is None:
        return []
    return [importlib.import_module('fleetprov')]


class DataPlane:
    def __init__(self, emu, host, mqtt_port, credentials_port, endpoint_host=None, server_ca_file=None):
        self.emu = emu
        self.events = control.CallLog(limit=EVENT_LIMIT)
        self.endpoint_host = endpoint_host
        self.server_ca_file = server_ca_file
        names = endpoint_names(emu.account, emu.region, endpoint_host)
        self.tls = servertls.ServerTls(emu.store, names, certs.ca_export()['certPem'])
        if server_ca_file:
            self.tls.write_ca(server_ca_file)
        self.broker = None
        self.creds = None
        if mqtt_port >= 0:
            self.broker = broker_mod.Broker(emu, host, mqtt_port, self.tls.mqtt, self.record, reserved_handlers())
        if credentials_port >= 0:
            self.creds = credprovider.CredentialsProvider(emu, host, credentials_port, self.tls.https, self.record)

    def start(self):
        for part in (self.broker, self.creds):
            if part:
                part.start()

    def stop(self):
        for part in (self.broker, self.creds):
            if part:
                part.stop()

    def info(self):
        return {'mqttPort': self.broker.port if self.broker else None,
                'credentialsPort': self.creds.port if self.creds else None,
                'endpointHost': self.endpoint_host or 'localhost', 'serverCaFile': self.server_ca_file}

    def record(self, ev):
        ev = dict(ev)
        ev['time'] = self.emu.now().strftime('%Y-%m-%dT%H:%M:%S.%fZ')
        self.events.add(ev)

    def certificate_status_changed(self, cert_id, status):
        """UpdateCertificate took a certificate out of ACTIVE: its connections close (AWS: within minutes;
        here at once). Called with the state lock held, so it does not wait for the broker."""
        if status != 'ACTIVE' and self.broker:
            self.broker.disconnect(certificate_id=cert_id, reason='certificate status changed to %s' % status,
                                   wait=False)

    def reset(self):
        if self.broker:
            self.broker.reset()
            self.broker.keep_alive_min = broker_mod.KEEP_ALIVE_MIN
        self.events.clear()

    # ------------------------------------------------------------ /__emu/dataplane/...

    def handle_control(self, method, route, query, data):
        if route == '/connections' and method == 'GET':
            conns = self.broker.connections() if self.broker else []
            for k, f in (('clientId', 'clientId'), ('certificateId', 'certificateId'), ('thingName', 'thingName')):
                if k in query:
                    conns = [c for c in conns if c.get(f) == query[k]]
            return 200, {'connections': conns}
        if route == '/events':
            if method == 'GET':
                evs = self.events.list()
                for k in ('type', 'clientId', 'certificateId', 'thingName', 'topic'):
                    if k in query:
                        evs = [e for e in evs if str(e.get(k)) == query[k]]
                return 200, {'events': evs}
            if method == 'DELETE':
                self.events.clear()
                return 200, {'cleared': True}
        if route == '/disconnect' and method == 'POST':
            return self._disconnect(data or {})
        if route == '/ca' and method == 'GET':
            return 200, {'certificatePem': self.tls.ca_pem, 'file': self.server_ca_file}
        if route == '/config' and method in ('GET', 'POST'):
            return self._config(method, data or {})
        return None

    def _disconnect(self, data):
        cert_id, client_id = data.get('certificateId'), data.get('clientId')
        if not isinstance(cert_id, (str, type(None))) or not isinstance(client_id, (str, type(None))) or \
                not (cert_id or client_id):
            return 400, {'error': 'give "certificateId" or "clientId" (a string)'}
        n = self.broker.disconnect(cert_id, client_id, 'disconnected through /__emu/dataplane/disconnect') \
            if self.broker else 0
        return 200, {'disconnected': n}

    def _config(self, method, data):
        if method == 'POST' and 'keepAliveMinSeconds' in data:
            n = data['keepAliveMinSeconds']
            if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= broker_mod.KEEP_ALIVE_MAX:
                return 400, {'error': 'keepAliveMinSeconds must be an integer 1..1200'}
            if self.broker:
                self.broker.keep_alive_min = n
        return 200, {'keepAliveMinSeconds': self.broker.keep_alive_min if self.broker else None}
