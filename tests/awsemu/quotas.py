"""Per-operation request-rate quotas as token buckets (rate per second, burst)."""

import threading
import time

# Published AWS IoT Core API TPS quotas where known; IAM/STS/CloudWatch approximations.
IOT_DEFAULTS = {
    'CreateKeysAndCertificate': 10, 'UpdateCertificate': 10, 'CreateCertificateFromCsr': 15,
    'AttachPolicy': 15, 'DetachPolicy': 15, 'CreatePolicy': 10, 'CreatePolicyVersion': 10, 'DeletePolicy': 10,
    'DeletePolicyVersion': 10, 'GetPolicy': 15, 'GetPolicyVersion': 15, 'ListPolicyVersions': 10,
    'ListTargetsForPolicy': 10, 'DeleteCertificate': 10, 'DescribeCertificate': 10, 'ListCertificates': 10,
    'CreateRoleAlias': 10, 'DescribeRoleAlias': 10, 'UpdateRoleAlias': 10, 'DeleteRoleAlias': 10,
    'CreateProvisioningTemplate': 10, 'DescribeProvisioningTemplate': 10, 'UpdateProvisioningTemplate': 10,
    'DeleteProvisioningTemplate': 10, 'ListProvisioningTemplates': 10, 'CreateProvisioningTemplateVersion': 10,
    'ListProvisioningTemplateVersions': 10, 'DeleteProvisioningTemplateVersion': 10,
    'DescribeProvisioningTemplateVersion': 10, 'CreateThingGroup': 25, 'DescribeThingGroup': 100,
    'DescribeEndpoint': 10, '*': 10,
}
IAM_MUTATING = 15
IAM_READ = 20
STS_DEFAULT = 100
CLOUDWATCH = {'GetMetricData': 50, 'ListMetrics': 25, '*': 25}
# The fleet provisioning MQTT API (fleetprov.py), per account: 10 requests per second each (README.md).
FLEETPROV = {'CreateKeysAndCertificate': 10, 'CreateCertificateFromCsr': 10, 'RegisterThing': 10}


def default_rate(service, op):
    if service == 'iot':
        return IOT_DEFAULTS.get(op, IOT_DEFAULTS['*'])
    if service == 'iam':
        return IAM_READ if op.startswith(('Get', 'List')) else IAM_MUTATING
    if service == 'sts':
        return STS_DEFAULT
    if service == 'fleetprov':
        return FLEETPROV.get(op, 10)
    return CLOUDWATCH.get(op, CLOUDWATCH['*'])


class Quotas:
    def __init__(self):
        self.lock = threading.Lock()
        self.enabled = True
        self.overrides = {}   # "service:Op" or "Op" -> {'rate': r, 'burst': b} (rate None/0 = unlimited)
        self.buckets = {}     # key -> [tokens, last]

    def load(self, cfg):
        """cfg: {"enabled": bool, "quotas": {"iot:CreateKeysAndCertificate": 5 or {"rate":5,"burst":5}}}."""
        with self.lock:
            if 'enabled' in cfg:
                self.enabled = bool(cfg['enabled'])
            for k, v in (cfg.get('quotas') or {}).items():
                if isinstance(v, dict):
                    rate = v.get('rate')
                    burst = v.get('burst', rate)
                else:
                    rate, burst = v, v
                if rate is not None and (not isinstance(rate, (int, float)) or rate < 0):
                    raise ValueError('rate must be a number >= 0 or null')
                self.overrides[k] = {'rate': rate, 'burst': burst}
                self.buckets.pop(k, None)
            if cfg.get('reset'):
                self.overrides = {}
                self.buckets = {}
            self.buckets.clear()

    def describe(self):
        with self.lock:
            return {'enabled': self.enabled, 'quotas': dict(self.overrides)}

    def _limit(self, service, op):
        for k in ('%s:%s' % (service, op), op):
            if k in self.overrides:
                o = self.overrides[k]
                return o['rate'], o['burst'] if o['burst'] is not None else o['rate']
        r = default_rate(service, op)
        return r, r

    def take(self, service, op):
        """True if the call may proceed."""
        with self.lock:
            if not self.enabled:
                return True
            rate, burst = self._limit(service, op)
            if not rate:
                return True
            key = '%s:%s' % (service, op)
            now = time.monotonic()
            b = self.buckets.get(key)
            if b is None:
                b = [float(burst), now]
                self.buckets[key] = b
            b[0] = min(float(burst), b[0] + (now - b[1]) * rate)
            b[1] = now
            if b[0] >= 1.0:
                b[0] -= 1.0
                return True
            return False
