'use strict';
/*
 * device.js - one device doing what Greengrass's FleetProvisioningByClaim plugin and then the
 * nucleus do, each a step in its report:
 *   connectClaim       MQTT over TLS to iotDataEndpoint:mqttPort with the claim (client id: a
 *                      random UUID, the plugin's default deviceId)
 *   createCertificate  CreateKeysAndCertificate, or CreateCertificateFromCsr with a key and CSR
 *                      the device makes
 *   registerThing      RegisterThing through provisioningTemplate with templateParameters (the
 *                      placeholders filled per device)
 *   connectThing       MQTT again with the new certificate, client id = the thing name (the
 *                      nucleus's)
 *   credentials        the credentials provider through iotRoleAlias (when the config names both)
 * The first failed step ends the device, as the plugin stops there.
 */
const crypto = require('crypto');
const { Connection, StepError } = require('./connection');
const prov = require('./provision');
const { makeKeyAndCsr } = require('./csr');
const { fetchCredentials } = require('./credentials');

function stepError(e) {
  if (e instanceof StepError) return { errorCode: e.code, errorMessage: e.message, ...e.extra };
  return { errorCode: 'SIMULATOR_ERROR', errorMessage: String((e && e.stack) || e).slice(0, 500) };
}

class DeviceRun {
  constructor(bundle, index, opts) {
    this.b = bundle;
    this.opts = opts; // {protocol, api, keyType, thingPrefix, params, timeoutMs, retryThrottled, until, emitCredentials}
    this.report = { index, clientId: crypto.randomUUID(), thingName: null, certificateId: null, ok: false, steps: [] };
  }

  /* Runs fn(callOpts) as step `name`; its report entry says ok or AWS's error (and how often AWS
   * answered Throttling before it went through). */
  async step(name, fn) {
    const t0 = Date.now();
    const callOpts = { timeoutMs: this.opts.timeoutMs, retryThrottled: this.opts.retryThrottled, stats: {} };
    let entry;
    try {
      entry = { step: name, ok: true, ...((await fn(callOpts)) || {}) };
    } catch (e) {
      entry = { step: name, ok: false, ...stepError(e) };
    }
    this.report.steps.push({ ...entry, ms: Date.now() - t0, ...callOpts.stats });
    return entry.ok;
  }

  /* templateParameters with this device's values in place of the placeholders. */
  parameters() {
    const out = { ...this.b.config.templateParameters };
    const name = `${this.opts.thingPrefix}-${this.report.index}`;
    for (const p of Object.keys(this.b.placeholders)) out[p] = name;
    return { ...out, ...this.opts.params };
  }

  connection(certPem, keyPem, clientId) {
    const c = this.b.config;
    return new Connection({ host: c.dataEndpoint, port: c.mqttPort, clientId, certPem, keyPem, caPem: this.b.rootCaPem,
      protocol: this.opts.protocol, timeoutMs: this.opts.timeoutMs });
  }

  async run() {
    if (!this.b.privateKeyPem) {
      await this.step('connectClaim', async () => { throw new StepError('NO_CLAIM_KEY', 'the bundle has no private key'); });
      return this.report;
    }
    const claim = this.connection(this.b.certificatePem, this.b.privateKeyPem, this.report.clientId);
    let device = null;
    try {
      if (!(await this.step('connectClaim', () => claim.connect()))) return this.report;
      const made = await this.step('createCertificate', async (o) => {
        device = await this.createCertificate(claim, o);
        return { api: device.api };
      });
      if (!made || !(await this.step('registerThing', (o) => this.registerThing(claim, device, o)))) return this.report;
    } finally {
      await claim.close();
    }
    if (this.opts.until !== 'registerThing') await this.asThing(device);
    this.report.ok = this.report.steps.every((s) => s.ok);
    return this.report;
  }

  async createCertificate(conn, t) {
    if (this.opts.api === 'csr') {
      const k = makeKeyAndCsr(this.report.clientId, this.opts.keyType);
      const r = await prov.createCertificateFromCsr(conn, k.csrPem, t);
      this.report.certificateId = r.certificateId;
      return { api: 'CreateCertificateFromCsr', certPem: r.certificatePem, keyPem: k.privateKeyPem, token: r.certificateOwnershipToken };
    }
    const r = await prov.createKeysAndCertificate(conn, t);
    this.report.certificateId = r.certificateId;
    return { api: 'CreateKeysAndCertificate', certPem: r.certificatePem, keyPem: r.privateKey, token: r.certificateOwnershipToken };
  }

  async registerThing(conn, device, o) {
    const r = await prov.registerThing(conn, this.b.config.template, device.token, this.parameters(), o);
    if (!r.thingName) throw new StepError('NO_THING', 'RegisterThing accepted without a thingName');
    this.report.thingName = r.thingName;
    return { thingName: r.thingName, deviceConfiguration: r.deviceConfiguration || {} };
  }

  async asThing(device) {
    const name = this.report.thingName;
    const conn = this.connection(device.certPem, device.keyPem, name);
    const connected = await this.step('connectThing', () => conn.connect());
    await conn.close();
    const c = this.b.config;
    if (!connected || !c.credentialEndpoint || !c.roleAlias) return;
    await this.step('credentials', async () => {
      const cr = await fetchCredentials(c.credentialEndpoint, c.roleAlias, name, device.certPem, device.keyPem,
        this.b.rootCaPem, this.opts.timeoutMs);
      const out = { accessKeyId: cr.accessKeyId, expiration: cr.expiration };
      if (this.opts.emitCredentials) this.report.credentials = cr;
      return out;
    });
  }
}

module.exports = { DeviceRun };
