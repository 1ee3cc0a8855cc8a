#!/usr/bin/env python3
"""Provisioning throughput through the emulated AWS IoT data plane: devices per minute that real
device clients (tests/devices, AWS IoT Device SDK v2 for JavaScript) provision through claims made by
fleetwarden, with one claim and with ten claims (ten production lines at once, one simulator process
each), at the quotas AWS documents for the APIs the devices call, set in the emulator for the run.

AWS's published throttling limits (AWS General Reference, "AWS IoT Core endpoints and quotas", AWS
IoT throttling limits table): RegisterThing 10 TPS, CreateCertificateFromCsr 15 TPS. The table has no
line for CreateKeysAndCertificate; its Service Quotas entry (L-40B55430) exists without a published
default, and the emulator's default, 10 TPS, is used. They are per account and region: ten claims
share them. The ceiling of a run is the lowest quota of the APIs its devices call, x 60.

Every device stops once RegisterThing accepted it (the provisioning this measures); one more run
does the whole flow (connect as the thing, credentials) to show what the rest costs. Devices retry a
Throttling answer (as AWS's guidance says) up to 20 times; the throttled answers are counted.

usage: bench.py [--devices N] [--concurrency C] [--out RESULTS.md]
"""
import argparse
import concurrent.futures
import os
import platform
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

import devices_lib as dl  # noqa: E402

QUOTAS = {"fleetprov:CreateKeysAndCertificate": 10, "fleetprov:CreateCertificateFromCsr": 15,
          "fleetprov:RegisterThing": 10}
API_QUOTA = {"keys": ("CreateKeysAndCertificate", 10), "csr": ("CreateCertificateFromCsr", 15)}


def ceiling_per_min(api, quotas_on):
    if not quotas_on:
        return None
    return min(API_QUOTA[api][1], QUOTAS["fleetprov:RegisterThing"]) * 60


class Bench:
    def __init__(self, devices, concurrency):
        self.n, self.c = devices, concurrency
        self.env = dl.DeviceEnv()
        self.rows = []
        f = self.env.make_fleet("bench", claimPolicyAllowCsr=True)
        first = self.env.first_claim(f)
        claims = [first] + [self.env.new_claim("bench") for _ in range(9)]
        self.bundles = [self.env.bundle(c["id"]) for c in claims]
        self.prefix = 0

    def quotas(self, on):
        self.env.emu.control("POST", "quotas", {"enabled": on, "quotas": QUOTAS})

    def run_lines(self, lines, api, until="registerThing"):
        """`lines` simulator processes at once, one claim each, n/lines devices and c/lines concurrent
        devices each. Returns (ok, seconds, throttled answers, failures by error)."""
        per, conc = self.n // lines, max(1, self.c // lines)
        # A device waits up to 3 minutes for each answer: on a loaded machine the emulator's RSA keys take
        # long, and a device that gives up leaves its request to be served for nobody.
        extra = ["--retry-throttled", "20", "--timeout-ms", "180000"] + (["--until", until] if until else [])

        def one(i):
            self.prefix += 1
            return self.env.provision(self.bundles[i], devices=per, api=api, concurrency=conc, credentials=False,
                                      prefix="b%d-%d" % (self.prefix, i), extra=extra, timeout=3600)

        t0 = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(lines) as pool:
            reports = list(pool.map(one, range(lines)))
        secs = time.monotonic() - t0
        ok = sum(r["summary"]["ok"] for r in reports)
        throttled = sum(s.get("throttled", 0) for r in reports for d in r["devices"] for s in d["steps"])
        errors = {}
        for r in reports:
            for k, v in r["summary"]["errors"].items():
                errors[k] = errors.get(k, 0) + v
        return ok, per * lines, secs, throttled, errors

    def row(self, what, lines, api, quotas_on=True, until="registerThing"):
        self.quotas(quotas_on)
        ok, n, secs, throttled, errors = self.run_lines(lines, api, until)
        rate = ok * 60 / secs
        ceil = ceiling_per_min(api, quotas_on)
        self.rows.append((what, "%d/%d" % (ok, n), "%.1f" % secs, "%.0f" % rate,
                          "%d/min" % ceil if ceil else "off", "%.2f" % (rate / ceil) if ceil else "-",
                          str(throttled), ", ".join("%s %d" % kv for kv in sorted(errors.items())) or "-"))
        print("| %s |" % " | ".join(self.rows[-1]), flush=True)

    def run(self):
        print("| run | devices ok | s | devices/min | quota ceiling | ratio | throttled answers | failures |")
        print("|---|---:|---:|---:|---:|---:|---:|---|")
        self.row("1 claim, CreateKeysAndCertificate + RegisterThing", 1, "keys")
        self.row("10 claims, CreateKeysAndCertificate + RegisterThing", 10, "keys")
        self.row("1 claim, CreateCertificateFromCsr + RegisterThing", 1, "csr")
        self.row("10 claims, CreateCertificateFromCsr + RegisterThing", 10, "csr")
        self.row("1 claim, CSR, emulator quotas off (the emulator's own ceiling)", 1, "csr", quotas_on=False)
        self.row("1 claim, keys, whole flow (+ connect as the thing, credentials)", 1, "keys", until=None)

    def stop(self):
        self.env.stop()


def write(out, rows, args, took):
    with open(out, "w") as f:
        f.write("# Provisioning throughput through the emulator (tests/bench/devices)\n\n")
        f.write("Generated by `tests/bench/devices/run.sh` on %s (%s, %d cores) in %.0f s: %d devices per run, "
                "%d concurrent devices in all (split over the claims), MQTT 3.1.1, the debugoptimized build. The "
                "machine is shared with other engineers' runs: read the figures as +/-20%% or worse.\n\n"
                % (time.strftime("%Y-%m-%d %H:%MZ", time.gmtime()), platform.node(), os.cpu_count(), took,
                   args.devices, args.concurrency))
        f.write("Quotas set in the emulator for the run: AWS's published throttling limits RegisterThing 10 TPS, "
                "CreateCertificateFromCsr 15 TPS (AWS General Reference, AWS IoT Core quotas, throttling limits "
                "table); CreateKeysAndCertificate 10 TPS (not in that table; the emulator's default). Per account: "
                "ten claims share them. Ceiling = the lowest quota of the APIs a device calls, x 60.\n\n")
        f.write("| run | devices ok | s | devices/min | quota ceiling | ratio | throttled answers | failures |\n")
        f.write("|---|---:|---:|---:|---:|---:|---:|---|\n")
        for r in rows:
            f.write("| %s |\n" % " | ".join(r))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--devices", type=int, default=150)
    ap.add_argument("--concurrency", type=int, default=20)
    ap.add_argument("--out", default=os.path.join(HERE, "RESULTS.md"))
    args = ap.parse_args()
    if args.devices < 10 or args.concurrency < 1:
        ap.error("--devices >= 10 (ten claims), --concurrency >= 1")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))   # a stopped run still stops what it started
    t0 = time.monotonic()
    b = Bench(args.devices, args.concurrency)
    try:
        b.run()
    finally:
        b.stop()
    write(args.out, b.rows, args, time.monotonic() - t0)


if __name__ == "__main__":
    main()
