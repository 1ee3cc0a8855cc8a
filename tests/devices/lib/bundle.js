'use strict';
/*
 * bundle.js - reads a claim bundle as GET /v1/claims/{id}/bundle hands it out and takes from its
 * greengrassConfig what Greengrass's FleetProvisioningByClaim plugin takes from config.yaml:
 * iotDataEndpoint, mqttPort (default 8883), iotCredentialEndpoint (a "host:port" carries a port,
 * as the nucleus reads it: "https://" + iotCredEndpoint), iotRoleAlias, provisioningTemplate,
 * templateParameters, awsRegion. The files the config points at on a device (claim certificate and
 * key, root CA) are the bundle's certificatePem, privateKeyPem and rootCaPem here.
 *
 * Every value is checked: a bundle a device could not use is an error naming the key, never a
 * crash further on.
 */
const YAML = require('yaml');

const PLUGIN = 'aws.greengrass.FleetProvisioningByClaim';
const MAX_BUNDLE_BYTES = 1 << 20;
const HOST_RE = /^[A-Za-z0-9.-]{1,253}$/;
const PLACEHOLDER_RE = /^<[A-Z0-9_]{1,64}>$/;

class BundleError extends Error {}

function need(obj, key, what) {
  const v = obj[key];
  if (typeof v !== 'string' || v.length === 0) {
    throw new BundleError(`${what}: ${key} is missing or not a string`);
  }
  return v;
}

function port(v, dflt, what) {
  if (v === undefined || v === null) return dflt;
  const n = typeof v === 'number' ? v : /^[0-9]{1,5}$/.test(String(v)) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new BundleError(`${what} is not a port number: ${v}`);
  return n;
}

/* "host" or "host:port" (the nucleus's reading of iotCredEndpoint); 443 by default. */
function hostPort(value, dflt, what) {
  const m = /^([^:]+)(?::([0-9]{1,5}))?$/.exec(value);
  if (!m || !HOST_RE.test(m[1])) throw new BundleError(`${what} is not host[:port]: ${value}`);
  return { host: m[1], port: port(m[2], dflt, what) };
}

function pem(bundle, key, label, optional) {
  const v = bundle[key];
  if ((v === null || v === undefined) && optional) return null;
  if (typeof v !== 'string' || !v.includes(`-----BEGIN ${label}`)) {
    throw new BundleError(`bundle ${key} is not a PEM ${label}`);
  }
  return v;
}

function templateParameters(cfg) {
  const raw = cfg.templateParameters === undefined ? {} : cfg.templateParameters;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new BundleError('templateParameters is not a map');
  }
  const out = {};
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v === 'object' && v !== null) throw new BundleError(`templateParameters.${k} is not a scalar`);
    out[k] = String(v); // the plugin sends v.toString()
  }
  return out;
}

function pluginConfig(yamlText) {
  let doc;
  try {
    doc = YAML.parse(yamlText);
  } catch (e) {
    throw new BundleError(`greengrassConfig is not YAML: ${e.message}`);
  }
  const cfg = doc && doc.services && doc.services[PLUGIN] && doc.services[PLUGIN].configuration;
  if (!cfg || typeof cfg !== 'object') throw new BundleError(`greengrassConfig has no ${PLUGIN} configuration`);
  const what = `greengrassConfig ${PLUGIN}`;
  const cred = cfg.iotCredentialEndpoint ? hostPort(String(cfg.iotCredentialEndpoint), 443, 'iotCredentialEndpoint') : null;
  const data = need(cfg, 'iotDataEndpoint', what);
  if (!HOST_RE.test(data)) throw new BundleError(`iotDataEndpoint is not a host name: ${data}`);
  return {
    dataEndpoint: data,
    mqttPort: port(cfg.mqttPort, 8883, 'mqttPort'),
    credentialEndpoint: cred,
    roleAlias: cfg.iotRoleAlias ? String(cfg.iotRoleAlias) : null,
    template: need(cfg, 'provisioningTemplate', what),
    region: cfg.awsRegion ? String(cfg.awsRegion) : null,
    templateParameters: templateParameters(cfg),
  };
}

/* The placeholders a device must fill ("<THING_NAME>" -> "ThingName"): the bundle's perDevice
 * list where it has one, else every parameter whose value looks like "<NAME>". */
function placeholders(bundle, params) {
  const out = {};
  if (Array.isArray(bundle.perDevice)) {
    for (const p of bundle.perDevice) {
      if (p && typeof p.parameter === 'string') out[p.parameter] = String(p.placeholder || '');
    }
  }
  for (const [k, v] of Object.entries(params)) if (PLACEHOLDER_RE.test(v)) out[k] = v;
  return out;
}

function load(text) {
  if (Buffer.byteLength(text) > MAX_BUNDLE_BYTES) throw new BundleError('bundle over 1 MiB');
  let b;
  try {
    b = JSON.parse(text);
  } catch (e) {
    throw new BundleError(`bundle is not JSON: ${e.message}`);
  }
  if (!b || typeof b !== 'object') throw new BundleError('bundle is not an object');
  const cfg = pluginConfig(need(b, 'greengrassConfig', 'bundle'));
  return {
    claimId: b.claimId,
    claimCertificateId: b.certificateId,
    certificatePem: pem(b, 'certificatePem', 'CERTIFICATE'),
    privateKeyPem: pem(b, 'privateKeyPem', '', true),
    rootCaPem: pem(b, 'rootCaPem', 'CERTIFICATE'),
    config: cfg,
    placeholders: placeholders(b, cfg.templateParameters),
  };
}

module.exports = { load, BundleError };
