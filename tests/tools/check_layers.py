#!/usr/bin/env python3
"""Checks that every #include in the product code goes the right way between layers.

The rules are the table in docs/ARCHITECTURE.md: each folder may include its own headers and
those of the folders listed for it; a third-party header may appear only in the folders that own
that dependency. Prints each violation as FILE:LINE: what and why, and exits 1 when there is any.
Run from the project root: /usr/bin/python3 tests/tools/check_layers.py
"""
import os
import re
import sys

import gate

# folder -> folders whose headers it may include (besides its own). Longest prefix wins.
MAY_INCLUDE = {
    "service/core/": [],
    "service/redis/": ["service/core/"],
    "service/http/": ["service/core/"],
    "jobs/": ["service/core/", "service/redis/"],
    "aws/": ["service/core/"],
    "service/domain/": ["service/core/", "service/redis/", "jobs/"],
    "jobs/handlers/": ["service/core/", "service/redis/", "service/domain/", "jobs/", "aws/"],
    "routes/": ["service/core/", "service/http/", "service/domain/", "jobs/", "openapi/"],
    "openapi/": [],
    "service/main.c": None,   # the composition root: anything
}
# third-party header -> folders (or files) where it may appear
THIRD_PARTY = {
    "microhttpd.h": ["service/http/"],
    "hiredis/hiredis.h": ["service/redis/", "service/domain/", "jobs/"],
    "curl/curl.h": ["aws/http.c", "aws/http.h"],
    "expat.h": ["aws/xml.c"],
    "mosquitto.h": ["aws/iotmqtt.c"],
    "mqtt_protocol.h": ["aws/iotmqtt.c"],
}

INCLUDE = re.compile(r'^\s*#\s*include\s+([<"])([^">]+)[">]')


def layer_of(path):
    best = None
    for prefix in MAY_INCLUDE:
        if path == prefix or (prefix.endswith("/") and path.startswith(prefix)):
            if best is None or len(prefix) > len(best):
                best = prefix
    return best


def allowed(src, target):
    layer = layer_of(src)
    rules = MAY_INCLUDE.get(layer) if layer else None
    if rules is None:
        return True, None
    tlayer = layer_of(target)
    if tlayer == layer or tlayer in rules:
        return True, None
    return False, f"{layer} may include only {', '.join(rules) or 'its own headers'}; not {target}"


def third_party_ok(src, header):
    owners = THIRD_PARTY.get(header)
    if owners is None:
        return True
    return any(src == o or (o.endswith("/") and src.startswith(o)) for o in owners)


def product_files():
    return [f for f in gate.git_files("*.c", "*.h") if layer_of(f) is not None]


def check(files):
    problems = []
    for f in files:
        with open(f, encoding="utf-8", errors="replace") as fh:
            for n, line in enumerate(fh, 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                kind, target = m.groups()
                if kind == "<":
                    if not third_party_ok(f, target):
                        problems.append(f"{f}:{n}: <{target}> belongs to {', '.join(THIRD_PARTY[target])}")
                    continue
                if "/" not in target:
                    target = os.path.normpath(os.path.join(os.path.dirname(f), target))
                ok, why = allowed(f, target)
                if not ok:
                    problems.append(f"{f}:{n}: {why}")
    return problems


def self_test():
    """The rules themselves: a check that cannot fail is no check."""
    bad = [("service/http/server_req.c", "routes/routes.h"), ("service/core/log.c", "service/redis/store_conn.h"),
           ("jobs/worker.h", "aws/awserr.h"), ("routes/watch.c", "jobs/handlers/watch_cycle.h"),
           ("service/domain/claims.c", "jobs/handlers/awsctx.h"), ("aws/iot.c", "jobs/queue.h"),
           ("service/domain/store.c", "service/http/http.h"), ("jobs/queue.c", "service/domain/store.h")]
    good = [("service/main.c", "aws/check.h"), ("jobs/handlers/fleet_iot.c", "aws/iot.h"),
            ("routes/claims.c", "service/domain/claims.h"), ("service/http/server.c", "service/core/log.h"),
            ("jobs/queue.c", "service/redis/store_conn.h")]
    for src, target in bad:
        assert not allowed(src, target)[0], f"rule missing: {src} -> {target}"
    for src, target in good:
        assert allowed(src, target)[0], f"rule too strict: {src} -> {target}"
    assert not third_party_ok("routes/ops.c", "microhttpd.h")
    assert third_party_ok("service/http/server.c", "microhttpd.h")


if __name__ == "__main__":
    sys.exit(gate.run(self_test, lambda: check(product_files()), "layers",
                      "include(s) across a layer the wrong way"))
