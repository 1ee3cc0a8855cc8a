'use strict';
/*
 * credentials.js - what the Greengrass nucleus does for its token exchange service: an HTTPS GET
 * of https://<iotCredEndpoint>/role-aliases/<alias>/credentials with the header
 * x-amzn-iot-thingname, authenticated by the device's own certificate and key, over the CRT's
 * HTTP client (AWS's native TLS stack, the same one the MQTT connections use).
 *
 * A 200 answer must carry {"credentials": {accessKeyId, secretAccessKey, sessionToken,
 * expiration}}; anything else is a StepError with the HTTP status and AWS's message.
 */
const { http, io } = require('aws-iot-device-sdk-v2');
const { StepError, crtError, withTimeout } = require('./connection');

const MAX_BODY = 64 * 1024;
let s_bootstrap = null;

function connect(endpoint, certPem, keyPem, caPem) {
  const opts = io.TlsContextOptions.create_client_with_mtls(certPem, keyPem);
  opts.override_default_trust_store(caPem);
  const tls = new io.TlsConnectionOptions(new io.ClientTlsContext(opts), endpoint.host);
  if (!s_bootstrap) s_bootstrap = new io.ClientBootstrap();
  const conn = new http.HttpClientConnection(s_bootstrap, endpoint.host, endpoint.port, new io.SocketOptions(), tls);
  return new Promise((resolve, reject) => {
    conn.on('connect', () => resolve(conn));
    conn.on('error', (e) => reject(crtError(e, 'TLS_OR_CONNECT_FAILED')));
  });
}

function get(conn, path, headers) {
  return new Promise((resolve, reject) => {
    const req = new http.HttpRequest('GET', path, new http.HttpHeaders(headers));
    const stream = conn.request(req);
    let status = 0;
    const chunks = [];
    let size = 0;
    stream.on('response', (code) => { status = code; });
    stream.on('data', (chunk) => {
      size += chunk.byteLength;
      if (size <= MAX_BODY) chunks.push(Buffer.from(chunk));
    });
    stream.on('end', () => resolve({ status, body: Buffer.concat(chunks).toString('utf8') }));
    stream.on('error', (e) => reject(crtError(e, 'HTTP_ERROR')));
    stream.activate();
  });
}

function parse(status, body) {
  let doc = null;
  try {
    doc = JSON.parse(body);
  } catch (e) {
    doc = null;
  }
  if (status !== 200) {
    const msg = doc && typeof doc.message === 'string' ? doc.message : body.slice(0, 300);
    throw new StepError(`HTTP ${status}`, msg, { statusCode: status });
  }
  const c = doc && doc.credentials;
  for (const k of ['accessKeyId', 'secretAccessKey', 'sessionToken', 'expiration']) {
    if (!c || typeof c[k] !== 'string' || !c[k]) throw new StepError('BAD_ANSWER', `200 without credentials.${k}`);
  }
  return c;
}

async function fetchCredentials(endpoint, roleAlias, thingName, certPem, keyPem, caPem, timeoutMs) {
  const run = async () => {
    const conn = await connect(endpoint, certPem, keyPem, caPem);
    try {
      const path = `/role-aliases/${encodeURIComponent(roleAlias)}/credentials`;
      const hostHeader = endpoint.port === 443 ? endpoint.host : `${endpoint.host}:${endpoint.port}`;
      const r = await get(conn, path, [['host', hostHeader], ['x-amzn-iot-thingname', thingName]]);
      return parse(r.status, r.body);
    } finally {
      conn.close();
    }
  };
  return withTimeout(run(), timeoutMs, 'credentials');
}

module.exports = { fetchCredentials };
