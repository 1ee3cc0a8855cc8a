#!/usr/bin/env node
'use strict';
/*
 * simulate.js - N devices provisioning through one claim bundle, concurrently, each doing what
 * Greengrass's FleetProvisioningByClaim plugin does (lib/device.js), on AWS's IoT Device SDK v2.
 *
 *   node tests/devices/simulate.js --bundle bundle.json [--devices N] [--concurrency C]
 *        [--protocol 311|5] [--api keys|csr] [--key-type ec|rsa] [--thing-prefix P]
 *        [--param NAME=VALUE ...] [--timeout-ms MS] [--retry-throttled N] [--until registerThing]
 *        [--report FILE] [--emit-credentials]
 *
 * The bundle is the JSON of GET /v1/claims/{id}/bundle as downloaded ("-" reads stdin). The report
 * (stdout, or FILE) is JSON: {"devices": [{index, clientId, thingName, certificateId, ok,
 * steps: [{step, ok, ms, errorCode, errorMessage, statusCode, ...}]}], "summary": {...}}.
 * --emit-credentials adds each device's temporary AWS credentials to its entry (for tests that
 * use them); private keys are never written anywhere. --until registerThing stops each device once
 * it is provisioned (no connection as the thing, no credentials): the traffic the misuse watch
 * sees, at less cost. --retry-throttled N asks again up to N times when AWS answers Throttling. Exit code: 0 all devices ok, 1 some failed,
 * 2 bad usage or bundle.
 */
const fs = require('fs');
const { load, BundleError } = require('./lib/bundle');
const { DeviceRun } = require('./lib/device');

const USAGE = 'usage: simulate.js --bundle FILE|- [--devices N] [--concurrency C] [--protocol 311|5] [--api keys|csr] '
  + '[--key-type ec|rsa] [--thing-prefix P] [--param NAME=VALUE] [--timeout-ms MS] [--retry-throttled N] '
  + '[--until registerThing] [--report FILE] [--emit-credentials]';
const LIMITS = { devices: [1, 10000], concurrency: [1, 500], 'timeout-ms': [100, 600000], 'retry-throttled': [0, 20] };
const CHOICES = { protocol: ['311', '5'], api: ['keys', 'csr'], 'key-type': ['ec', 'rsa'], until: ['registerThing', 'credentials'] };

class UsageError extends Error {}

function integer(name, v) {
  const [lo, hi] = LIMITS[name];
  if (!/^[0-9]{1,7}$/.test(v) || Number(v) < lo || Number(v) > hi) throw new UsageError(`--${name} must be ${lo}..${hi}`);
  return Number(v);
}

function parseArgs(argv) {
  const o = { devices: 1, concurrency: 20, protocol: '311', api: 'keys', 'key-type': 'ec', 'thing-prefix': 'device',
    'timeout-ms': 30000, 'retry-throttled': 0, until: 'credentials', params: {}, emitCredentials: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const name = a.replace(/^--/, '');
    if (a === '--emit-credentials') { o.emitCredentials = true; continue; }
    if (!a.startsWith('--') || i + 1 >= argv.length) throw new UsageError(`bad argument ${a}`);
    const v = argv[++i];
    if (name === 'param') {
      const m = /^([^=]{1,2048})=(.{0,4096})$/s.exec(v);
      if (!m) throw new UsageError('--param NAME=VALUE');
      o.params[m[1]] = m[2];
    } else if (LIMITS[name]) o[name] = integer(name, v);
    else if (CHOICES[name]) {
      if (!CHOICES[name].includes(v)) throw new UsageError(`--${name} must be one of ${CHOICES[name].join(', ')}`);
      o[name] = v;
    } else if (name === 'bundle' || name === 'report') o[name] = v;
    else if (name === 'thing-prefix') {
      if (!/^[a-zA-Z0-9:_-]{1,100}$/.test(v)) throw new UsageError('--thing-prefix: 1-100 of [a-zA-Z0-9:_-]');
      o[name] = v;
    } else throw new UsageError(`unknown option ${a}`);
  }
  if (!o.bundle) throw new UsageError('--bundle is required');
  return o;
}

async function runAll(bundle, o) {
  const devices = new Array(o.devices);
  let next = 0;
  const opts = { protocol: o.protocol, api: o.api, keyType: o['key-type'], thingPrefix: o['thing-prefix'],
    params: o.params, timeoutMs: o['timeout-ms'], retryThrottled: o['retry-throttled'], until: o.until,
    emitCredentials: o.emitCredentials };
  const worker = async () => {
    while (next < o.devices) {
      const i = next++;
      devices[i] = await new DeviceRun(bundle, i, opts).run();
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency, o.devices) }, worker));
  return devices;
}

function summary(devices, ms) {
  const s = { devices: devices.length, ok: 0, failed: 0, failedAt: {}, errors: {}, elapsedMs: ms };
  for (const d of devices) {
    if (d.ok) { s.ok++; continue; }
    s.failed++;
    const f = d.steps.find((x) => !x.ok);
    s.failedAt[f.step] = (s.failedAt[f.step] || 0) + 1;
    s.errors[f.errorCode] = (s.errors[f.errorCode] || 0) + 1;
  }
  s.devicesPerMinute = ms > 0 ? Math.round((s.ok * 60000 / ms) * 10) / 10 : null;
  return s;
}

async function main() {
  let o;
  let bundle;
  try {
    o = parseArgs(process.argv.slice(2));
    bundle = load(fs.readFileSync(o.bundle === '-' ? 0 : o.bundle, 'utf8'));
  } catch (e) {
    if (!(e instanceof UsageError || e instanceof BundleError || e.code === 'ENOENT')) throw e;
    process.stderr.write(`simulate.js: ${e.message}\n${e instanceof UsageError ? USAGE + '\n' : ''}`);
    return 2;
  }
  const t0 = Date.now();
  const devices = await runAll(bundle, o);
  const report = { claimId: bundle.claimId || null, protocol: o.protocol, api: o.api, devices,
    summary: summary(devices, Date.now() - t0) };
  const text = JSON.stringify(report, null, 1) + '\n';
  if (o.report) fs.writeFileSync(o.report, text, { mode: 0o600 });
  else process.stdout.write(text);
  process.stderr.write(`simulate.js: ${report.summary.ok}/${devices.length} devices provisioned\n`);
  return report.summary.failed ? 1 : 0;
}

main().then((code) => process.exit(code), (e) => {
  process.stderr.write(`simulate.js: ${(e && e.stack) || e}\n`);
  process.exit(2);
});
