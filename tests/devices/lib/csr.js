'use strict';
/*
 * csr.js - a device's own key and a PKCS#10 certificate signing request for it, in memory, as a
 * device that uses CreateCertificateFromCsr makes them (Greengrass Lite always does; the Java
 * plugin with csrPath). Node's crypto makes keys and signatures but no CSRs, so the request is
 * written here in DER (RFC 2986): CertificationRequestInfo { version 0, subject CN, the key's
 * SubjectPublicKeyInfo, no attributes }, signed with SHA-256 (ECDSA or RSA PKCS#1 v1.5).
 */
const crypto = require('crypto');

function len(n) {
  if (n < 0x80) return Buffer.from([n]);
  const bytes = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag, body) {
  return Buffer.concat([Buffer.from([tag]), len(body.length), body]);
}

const seq = (...parts) => tlv(0x30, Buffer.concat(parts));

function oid(dotted) {
  const arcs = dotted.split('.').map(Number);
  const out = [40 * arcs[0] + arcs[1]];
  for (const a of arcs.slice(2)) {
    const chunk = [a & 0x7f];
    for (let v = a >> 7; v > 0; v >>= 7) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

const OID_CN = '2.5.4.3';
const SIG_ALG = {
  ec: seq(oid('1.2.840.10045.4.3.2')), // ecdsa-with-SHA256 (no parameters, RFC 5758)
  rsa: seq(oid('1.2.840.113549.1.1.11'), Buffer.from([0x05, 0x00])), // sha256WithRSAEncryption, NULL
};

function toPem(der, label) {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/* kind: "ec" (P-256) or "rsa" (2048). Returns {privateKeyPem, csrPem}. */
function makeKeyAndCsr(commonName, kind = 'ec') {
  const { publicKey, privateKey } =
    kind === 'rsa'
      ? crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
      : crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const subject = seq(tlv(0x31, seq(oid(OID_CN), tlv(0x0c, Buffer.from(commonName, 'utf8')))));
  const info = seq(
    Buffer.from([0x02, 0x01, 0x00]), // version 0
    subject,
    publicKey.export({ type: 'spki', format: 'der' }),
    Buffer.from([0xa0, 0x00]), // attributes [0]: none
  );
  const sig = crypto.sign('sha256', info, privateKey); // DER ECDSA-Sig-Value for EC keys
  const csr = seq(info, SIG_ALG[kind], tlv(0x03, Buffer.concat([Buffer.from([0]), sig])));
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }),
    csrPem: toPem(csr, 'CERTIFICATE REQUEST'),
  };
}

module.exports = { makeKeyAndCsr };
