/*
 * ops.c - endpoints for load balancers, Prometheus and API clients.
 *
 * /healthz says the process is alive (no dependency checks, so a Redis
 * outage does not get the process killed); /readyz says whether it can do
 * useful work: Redis takes a write and, where workers run here, they are alive.
 */
#include "ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "openapi/openapi.h"
#include "service/core/buf.h"
#include "service/core/err.h"
#include "service/core/metrics.h"
#include "service/core/service.h"
#include "service/domain/store.h"

static void healthz(struct http_req *req, struct http_resp *resp)
{
    (void)req;
    http_resp_json(resp, 200, json_pack("{s:s, s:s}", "status", "ok", "version", FW_VERSION));
}

static void readyz(struct http_req *req, struct http_resp *resp)
{
    struct fw_service *svc = req->svc;
    char why[200];
    json_t *checks = json_object();
    int ready = 1;
    char process[96], host[64] = "", code[40];
    if (gethostname(host, sizeof host))
        host[0] = '\0';
    host[sizeof host - 1] = '\0';
    snprintf(process, sizeof process, "%s:%ld", host, (long)getpid());
    /* A write, not a PING: a read-only replica (after a failover), a full or a misconfigured
     * Redis answers PING but refuses every change the API would make. */
    int rc = store_ready_write(process, code, sizeof code);
    if (rc) {
        ready = 0;
        /* No host, port or reason: /readyz needs no token; `check` and the logs say more. Redis's
         * error code (READONLY, OOM, MISCONF, NOPERM) tells a refusal from an outage. */
        char detail[96];
        if (rc == FW_EREDIS)
            snprintf(detail, sizeof detail, "redis: refuses writes (%s)", code[0] ? code : "error");
        else
            snprintf(detail, sizeof detail, "redis: unavailable");
        json_object_set_new(checks, "redis",
                            json_pack("{s:s, s:s}", "status", "down", "detail", detail));
    } else {
        json_object_set_new(checks, "redis", json_pack("{s:s}", "status", "ok"));
    }
    if (svc->jobs_ready && svc->jobs) {
        int ok = svc->jobs_ready(svc->jobs, why, sizeof why);
        ready &= ok;
        json_object_set_new(checks, "workers",
                            ok ? json_pack("{s:s}", "status", "ok")
                               : json_pack("{s:s, s:s}", "status", "down", "detail", why));
    }
    if (atomic_load(&svc->shutting_down)) {
        ready = 0;
        json_object_set_new(checks, "shutdown", json_pack("{s:s}", "status", "in progress"));
    }
    http_resp_json(
        resp, ready ? 200 : 503,
        json_pack("{s:s, s:o}", "status", ready ? "ready" : "not ready", "checks", checks));
}

static void metrics(struct http_req *req, struct http_resp *resp)
{
    struct buf b;
    buf_init(&b, 16 * 1024 * 1024);
    metrics_render(req->svc->metrics, &b);
    http_resp_raw(resp, 200, "text/plain; version=0.0.4; charset=utf-8", buf_cstr(&b), b.len);
    buf_free(&b);
}

static void openapi(struct http_req *req, struct http_resp *resp)
{
    (void)req;
    http_resp_raw(resp, 200, "application/json", openapi_json, openapi_json_len);
}

static const struct route s_routes[] = {
    {"GET", "/healthz", SCOPE_NONE, 0, healthz},
    {"GET", "/readyz", SCOPE_NONE, 0, readyz},
    {"GET", "/metrics", SCOPE_NONE, ROUTE_METRICS, metrics},
    {"GET", "/openapi.json", SCOPE_NONE, 0, openapi},
};

ROUTE_TABLE(routes_ops_table, s_routes);
