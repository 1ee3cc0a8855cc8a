"""Keys and certificates (python3-cryptography): a local test CA signs everything."""

import datetime
import hashlib
import threading

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from errors import AwsError

NOT_AFTER = datetime.datetime(2049, 12, 31, 23, 59, 59)

_lock = threading.Lock()
_ca = None


def _pem_key(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption()).decode()


def ca(state_ca=None):
    """The emulator's CA as (key, cert); state_ca = {'keyPem','certPem'} to reuse a persisted one."""
    global _ca
    with _lock:
        if state_ca:
            key = serialization.load_pem_private_key(state_ca['keyPem'].encode(), None)
            cert = x509.load_pem_x509_certificate(state_ca['certPem'].encode())
            _ca = (key, cert)
        if _ca is None:
            key = ec.generate_private_key(ec.SECP256R1())
            name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, 'Amazon Web Services O=Amazon.com Inc. L=Seattle ST=Washington C=US (awsemu test CA)')])
            now = datetime.datetime.utcnow() - datetime.timedelta(days=1)
            cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                    .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(NOT_AFTER)
                    .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                    .sign(key, hashes.SHA256()))
            _ca = (key, cert)
        return _ca


def ca_export():
    key, cert = ca()
    return {'keyPem': _pem_key(key), 'certPem': cert.public_bytes(serialization.Encoding.PEM).decode()}


def _issue(public_key):
    ca_key, ca_cert = ca()
    now = datetime.datetime.utcnow() - datetime.timedelta(minutes=5)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'AWS IoT Certificate')])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(ca_cert.subject)
            .public_key(public_key).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(NOT_AFTER)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256()))
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    der = cert.public_bytes(serialization.Encoding.DER)
    cert_id = hashlib.sha256(der).hexdigest()
    return cert_id, pem, cert


def public_pem(key):
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def create_keys_and_certificate():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert_id, pem, cert = _issue(key.public_key())
    return {'certificateId': cert_id, 'certificatePem': pem, 'publicKey': public_pem(key.public_key()),
            'privateKey': _pem_key(key), 'validity': _validity(cert)}


def create_from_csr(csr_pem):
    try:
        csr = x509.load_pem_x509_csr(csr_pem.encode() if isinstance(csr_pem, str) else csr_pem)
    except Exception:
        raise AwsError('InvalidRequestException', 'The certificate signing request is not valid.', 400)
    if not csr.is_signature_valid:
        raise AwsError('InvalidRequestException', 'The certificate signing request signature is not valid.', 400)
    pub = csr.public_key()
    if isinstance(pub, rsa.RSAPublicKey):
        if pub.key_size < 2048:
            raise AwsError('InvalidRequestException', 'RSA keys must be at least 2048 bits.', 400)
    elif isinstance(pub, ec.EllipticCurvePublicKey):
        if pub.curve.name not in ('secp256r1', 'secp384r1', 'secp521r1'):
            raise AwsError('InvalidRequestException', 'Unsupported elliptic curve.', 400)
    else:
        raise AwsError('InvalidRequestException', 'Unsupported key type in the certificate signing request.', 400)
    cert_id, pem, cert = _issue(pub)
    return {'certificateId': cert_id, 'certificatePem': pem, 'validity': _validity(cert)}


def _validity(cert):
    return {'notBefore': cert.not_valid_before.replace(tzinfo=datetime.timezone.utc).timestamp(),
            'notAfter': cert.not_valid_after.replace(tzinfo=datetime.timezone.utc).timestamp()}
