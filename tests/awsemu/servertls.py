"""TLS for the data plane: the server's own root CA (kept in the state, so a restarted emulator with
--state-dir keeps the CA that devices trust), a server certificate for the endpoint names, and the
SSL contexts of the MQTT and credentials endpoints (client certificates from the IoT CA required).

AWS's data endpoints present a certificate chaining to Amazon's roots; here the emulator's own root
stands in for them (written to --server-ca-file for FLEETWARDEN_ROOT_CA_FILE and devices)."""

import datetime
import ipaddress
import os
import shutil
import ssl
import tempfile

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

import certs

MQTT_ALPN = ['x-amzn-mqtt-ca', 'mqtt']  # AWS: x-amzn-mqtt-ca on port 443; none needed on 8883
CA_NAME = 'awsemu data plane root CA (stands in for Amazon Root CA 1)'


def _pem_key(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _pem_cert(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def new_root():
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, 'awsemu'),
                      x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME)])
    start = datetime.datetime.utcnow() - datetime.timedelta(days=1)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(certs.NOT_AFTER)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .sign(key, hashes.SHA256()))
    return {'keyPem': _pem_key(key), 'certPem': _pem_cert(cert)}


def issue_server_cert(root, names):
    """A server certificate for DNS names and IP addresses, signed by the root."""
    ca_key = serialization.load_pem_private_key(root['keyPem'].encode(), None)
    ca_cert = x509.load_pem_x509_certificate(root['certPem'].encode())
    key = ec.generate_private_key(ec.SECP256R1())
    sans = []
    for n in names:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(n)))
        except ValueError:
            sans.append(x509.DNSName(n))
    start = datetime.datetime.utcnow() - datetime.timedelta(days=1)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(ca_cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(certs.NOT_AFTER)
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return _pem_key(key), _pem_cert(cert)


class ServerTls:
    """The root (persisted in state['serverCa']), the server certificate, and the two SSL contexts."""

    def __init__(self, store, dns_names, iot_ca_pem):
        with store.lock:
            if not store.data.get('serverCa'):
                store.data['serverCa'] = new_root()
                store.save()
            self.root = dict(store.data['serverCa'])
        self.dns_names = [n for n in dns_names if n]
        self.names = self.dns_names + ['127.0.0.1', '::1']
        self.iot_ca_pem = iot_ca_pem
        key_pem, cert_pem = issue_server_cert(self.root, self.names)
        self.mqtt = self._context(key_pem, cert_pem, MQTT_ALPN)
        self.https = self._context(key_pem, cert_pem, ['http/1.1'])

    @property
    def ca_pem(self):
        return self.root['certPem']

    def write_ca(self, path):
        tmp = path + '.tmp'
        with open(tmp, 'w') as f:
            f.write(self.ca_pem)
        os.replace(tmp, path)

    def _context(self, key_pem, cert_pem, alpn):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2  # AWS IoT Core: TLS 1.2 and 1.3
        ctx.options |= ssl.OP_NO_TICKET  # AWS IoT does not support the SessionTicket extension
        d = tempfile.mkdtemp(prefix='awsemu-tls-')
        try:
            kf, cf = os.path.join(d, 'key.pem'), os.path.join(d, 'cert.pem')
            with open(kf, 'w') as f:
                f.write(key_pem)
            with open(cf, 'w') as f:
                f.write(cert_pem + self.root['certPem'])
            ctx.load_cert_chain(cf, kf)
        finally:
            shutil.rmtree(d, ignore_errors=True)
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(cadata=self.iot_ca_pem)
        ctx.set_alpn_protocols(alpn)
        ctx.sni_callback = self._sni
        return ctx

    def _sni(self, sock, server_name, ctx):
        """AWS refuses a connection without SNI, or with a name that is not its endpoint."""
        if server_name is None:
            sock.awsemu_tls_error = 'no SNI (server name indication) in the TLS handshake'
            return ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME
        if server_name.lower() not in (n.lower() for n in self.dns_names):
            sock.awsemu_tls_error = 'SNI %r is not an endpoint of this emulator' % server_name[:255]
            return ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME
        sock.awsemu_sni = server_name
        return None
