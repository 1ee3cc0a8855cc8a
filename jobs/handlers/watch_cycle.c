/*
 * watch_cycle.c - the watch.cycle handler: load, read, evaluate, report.
 *
 * A cycle reads everything before it changes anything: a CloudWatch error
 * (throttling included, after the AWS client's own retries) fails the
 * attempt before any evaluation, and the job is retried with backoff
 * (throttling does not use up an attempt), so a throttled cycle is late,
 * never half-evaluated. Evaluation effects are idempotent per incident
 * (watch_eval.c), so a retry after a crash converges.
 *
 * Load: one cycle every FLEETWARDEN_WATCH_INTERVAL seconds; per region and
 * account, four ListMetrics listings and ceil(queries / 500)
 * GetMetricData calls (one query per claim with default rules, two per
 * template, one for the account); per claim two Redis writes.
 */
#include "watch_cycle.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awsctx.h"
#include "jobs/queue.h"
#include "jobs/worker.h"
#include "service/core/buf.h"
#include "service/core/err.h"
#include "service/core/log.h"
#include "service/core/mem.h"
#include "service/core/metrics.h"
#include "service/domain/store.h"
#include "service/domain/store_fleet.h"
#include "service/domain/store_watch.h"
#include "watch_eval.h"

#define MISSING_LIST_MAX 50

/* ---- /metrics: the counters kept in P watch:stats ---- */

/* How each counter is exposed: "prefix:LABEL" fields become one series
 * per label value. */
struct stat_series {
    const char *field; /* field, or its prefix before ':' */
    const char *metric;
    const char *type;
    const char *label; /* NULL for plain fields */
    const char *help;
};

static const struct stat_series s_series[] = {
    {"actions", "fleetwarden_watch_actions_total", "counter", "action",
     "claims disabled or revoked by the watch"},
    {"claims_watched", "fleetwarden_watch_claims_watched", "gauge", 0,
     "claims read by the last cycle"},
    {"cloudwatch_calls_last", "fleetwarden_watch_cloudwatch_calls_last_cycle", "gauge", 0,
     "GetMetricData calls of the last cycle"},
    {"cloudwatch_calls_total", "fleetwarden_watch_cloudwatch_calls_total", "counter", 0,
     "GetMetricData calls"},
    {"cloudwatch_errors", "fleetwarden_watch_cloudwatch_errors_total", "counter", 0,
     "cycle attempts failed by a CloudWatch error (retried)"},
    {"cycles", "fleetwarden_watch_cycles_total", "counter", 0, "watch cycles finished"},
    {"incidents_opened", "fleetwarden_watch_incidents_opened_total", "counter", "rule",
     "incidents opened, by rule"},
    {"listmetrics_calls_last", "fleetwarden_watch_listmetrics_calls_last_cycle", "gauge", 0,
     "ListMetrics calls of the last cycle"},
};

/* One family: HELP/TYPE, then every matching counter (jansson keeps
 * object keys in insertion order, so label values are sorted first). */
static void render_family(struct buf *out, const struct stat_series *m, const json_t *stats)
{
    size_t flen = strlen(m->field);
    const char *k;
    json_t *v;
    buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", m->metric, m->help, m->metric, m->type);
    json_object_foreach((json_t *)stats, k, v)
    {
        if (strncmp(k, m->field, flen))
            continue;
        if (!m->label && !k[flen])
            buf_printf(out, "%s %" JSON_INTEGER_FORMAT "\n", m->metric, json_integer_value(v));
        else if (m->label && k[flen] == ':')
            buf_printf(out, "%s{%s=\"%s\"} %" JSON_INTEGER_FORMAT "\n", m->metric, m->label,
                       k + flen + 1, json_integer_value(v));
    }
}

static int cmp_key(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The counters with their keys in sorted order. */
static json_t *sorted_stats(void)
{
    json_t *raw = 0, *out = json_object();
    if (store_watch_stats(&raw))
        return out;
    size_t n = json_object_size(raw), i = 0;
    const char **keys = xcalloc(n + 1, sizeof *keys);
    const char *k;
    json_t *v;
    json_object_foreach(raw, k, v) keys[i++] = k;
    qsort(keys, n, sizeof *keys, cmp_key);
    for (i = 0; i < n; i++)
        json_object_set(out, keys[i], json_object_get(raw, keys[i]));
    free(keys);
    json_decref(raw);
    return out;
}

static void collect(struct buf *out, void *ud)
{
    (void)ud;
    json_t *stats = sorted_stats();
    for (size_t m = 0; m < sizeof s_series / sizeof s_series[0]; m++)
        render_family(out, &s_series[m], stats);
    json_decref(stats);
}

void watch_metrics_register(struct metrics *m)
{
    if (m)
        metrics_add_collector(m, collect, 0);
}

/* ---- the result ---- */

static const char *presence_name(int m)
{
    return m == WATCH_METRIC_PRESENT   ? "present"
           : m == WATCH_METRIC_MISSING ? "missing"
                                       : "unknown";
}

static json_t *group_json(const struct watch_plan *p, size_t gi)
{
    const struct watch_group *g = &p->g[gi];
    struct watch_series s = watch_plan_series(p, gi, g->q_keys),
                        s2 = watch_plan_series(p, gi, g->q_csr);
    double keys = watch_aggregate(&s, "Sum", p->now_s - 3600, p->now_s + 1, 0);
    double csr = watch_aggregate(&s2, "Sum", p->now_s - 3600, p->now_s + 1, 0);
    size_t mincalls = watch_qset_min_calls(g->qs.n) + watch_qset_min_calls(g->bqs.n);
    return json_pack(
        "{s:s, s:s?, s:I, s:I, s:i, s:i, s:I, s:I, s:{s:s, s:f}, s:{s:s?, s:s, s:f}, s:s?}",
        "region", g->region, "roleArn", g->role, "queries", (json_int_t)g->qs.n, "baselineQueries",
        (json_int_t)g->bqs.n, "getMetricDataCalls", g->gmd_calls, "listMetricsCalls", g->lm_calls,
        "minimumCalls", (json_int_t)mincalls, "claimsMissingMetric", (json_int_t)g->nclaims_missing,
        WATCH_M_KEYS, "metric", presence_name(g->keys_metric), "lastHour", keys, "csrFailures",
        "metricName", g->csr_name, "metric", presence_name(g->csr_metric), "lastHour", csr, "error",
        g->failed ? g->error : 0);
}

static json_t *missing_json(const struct watch_plan *p)
{
    json_t *claims = json_array(), *tmpls = json_array();
    size_t nmiss = 0;
    for (size_t i = 0; i < p->nc; i++) {
        if (p->c[i].metric != WATCH_METRIC_MISSING)
            continue;
        if (nmiss++ < MISSING_LIST_MAX)
            json_array_append_new(claims, json_string(p->c[i].id));
    }
    for (size_t i = 0; i < p->nf; i++)
        if (p->f[i].tmpl_metric == WATCH_METRIC_MISSING)
            json_array_append_new(tmpls, json_string(p->f[i].tmpl));
    return json_pack("{s:o, s:I, s:o}", "claims", claims, "claimsCount", (json_int_t)nmiss,
                     "templates", tmpls);
}

static json_t *result_json(const struct watch_plan *p, struct watch_eval_out *ev, int *calls)
{
    json_t *groups = json_array();
    size_t nq = 0, mincalls = 0, ntmpl = 0;
    int lm = 0;
    *calls = 0;
    for (size_t i = 0; i < p->ng; i++) {
        json_array_append_new(groups, group_json(p, i));
        *calls += p->g[i].gmd_calls;
        lm += p->g[i].lm_calls;
        nq += p->g[i].qs.n + p->g[i].bqs.n;
        mincalls += watch_qset_min_calls(p->g[i].qs.n) + watch_qset_min_calls(p->g[i].bqs.n);
    }
    for (size_t i = 0; i < p->nf; i++)
        ntmpl += p->f[i].q_fail >= 0;
    char start[32], end[32];
    store_format_time((long long)p->start_s * 1000, start);
    store_format_time((long long)p->end_s * 1000, end);
    json_t *incidents =
        json_pack("{s:o, s:o, s:I, s:I}", "opened", ev->opened, "updated", ev->updated,
                  "openedCount", (json_int_t)ev->nopened, "updatedCount", (json_int_t)ev->nupdated);
    return json_pack("{s:I, s:I, s:I, s:I, s:i, s:i, s:I, s:o, s:o, s:o, s:o, s:I, s:{s:s, s:s}}",
                     "fleets", (json_int_t)p->nf, "claims", (json_int_t)p->nc, "templates",
                     (json_int_t)ntmpl, "queries", (json_int_t)nq, "getMetricDataCalls", *calls,
                     "listMetricsCalls", lm, "minimumCalls", (json_int_t)mincalls, "groups", groups,
                     "missingMetrics", missing_json(p), "incidents", incidents, "actions",
                     ev->actions, "actionsCount", (json_int_t)ev->nactions, "window", "start",
                     start, "end", end);
}

/* Shows on each fleet what the watch saw (written only when it changed,
 * so the fleet's ETag does not move every cycle). */
static void fleet_status(const struct watch_plan *p, size_t fi)
{
    size_t n = 0, miss = 0;
    for (size_t i = 0; i < p->nc; i++)
        if (p->c[i].fleet == fi) {
            n++;
            miss += p->c[i].metric == WATCH_METRIC_MISSING;
        }
    const struct watch_fleet *f = &p->f[fi];
    const struct watch_group *g = &p->g[f->group];
    const char *csr = g->csr_metric == WATCH_METRIC_UNKNOWN ? "unknown"
                      : g->csr_name                         ? g->csr_name
                                                            : "none";
    json_t *st =
        json_pack("{s:I, s:I, s:s, s:s}", "claimsWatched", (json_int_t)n, "claimsMissingMetric",
                  (json_int_t)miss, "templateMetric",
                  f->tmpl ? presence_name(f->tmpl_metric) : "none", "csrFailureMetric", csr);
    json_t *doc = 0;
    if (!store_fleet_get(f->name, &doc) && !json_equal(json_object_get(doc, "watchStatus"), st))
        store_fleet_set(f->name, "watchStatus", st);
    json_decref(doc);
    json_decref(st);
}

/* ---- the handler ---- */

/* Reads every group. A failure a retry may fix (throttling, 5xx,
 * timeouts) fails the attempt, so the job is retried and nothing is
 * evaluated on partial data. One a retry cannot fix (a role that cannot
 * be assumed, access denied) only takes its own group out of this cycle:
 * the other accounts are still watched, and the result says which group
 * was not read and why. */
static int fetch_all(struct job_ctx *ctx, struct watch_plan *p)
{
    for (size_t i = 0; i < p->ng; i++) {
        struct aws_api_error err;
        awserr_clear(&err);
        if (job_ctx_cancel_requested(ctx))
            return FW_ECANCELED;
        int rc = watch_group_fetch(p, i, &err);
        if (!rc)
            continue;
        store_watch_stat_add("cloudwatch_errors", 1);
        if (err.retryable || err.cls == AWS_ERRC_THROTTLING || err.cls == AWS_ERRC_TRANSIENT ||
            err.cls == AWS_ERRC_NONE)
            return awsctx_fail(ctx, &err);
        p->g[i].failed = 1;
        snprintf(p->g[i].error, sizeof p->g[i].error, "%.63s: %.200s",
                 err.code[0] ? err.code : "Error", err.message);
        log_msg(LOG_WARN, "misuse watch: %s (region %s) not read: %s",
                p->g[i].role ? p->g[i].role : "own account", p->g[i].region, p->g[i].error);
    }
    return 0;
}

static void stats(const struct watch_plan *p, int calls)
{
    int lm = 0;
    for (size_t i = 0; i < p->ng; i++)
        lm += p->g[i].lm_calls;
    store_watch_stat_add("cycles", 1);
    store_watch_stat_add("cloudwatch_calls_total", calls);
    store_watch_stat_set("cloudwatch_calls_last", calls);
    store_watch_stat_set("listmetrics_calls_last", lm);
    store_watch_stat_set("claims_watched", (long long)p->nc);
}

int watch_cycle_handler(struct job_ctx *ctx, json_t *payload, void *ud)
{
    (void)payload;
    (void)ud;
    struct watch_plan p;
    struct watch_eval_out ev = {0, 0, 0, 0, 0, 0};
    long long now_ms = store_now_ms();
    int rc = watch_plan_load(&p, (double)now_ms / 1000.0);
    if (rc)
        job_ctx_set_error_msg(ctx, JOB_FAIL_TRANSIENT, "StoreError",
                              "could not read fleets and claims: %s", fw_strerror(rc));
    if (!rc)
        rc = fetch_all(ctx, &p);
    if (!rc)
        rc = watch_eval_run(&p, job_ctx_id(ctx), now_ms, &ev);
    if (rc && rc != FW_ECANCELED && ev.opened)
        job_ctx_set_error_msg(ctx, JOB_FAIL_TRANSIENT, "StoreError",
                              "could not record the evaluation: %s", fw_strerror(rc));
    if (!rc) {
        int calls = 0;
        for (size_t i = 0; i < p.nf; i++)
            fleet_status(&p, i);
        json_t *res = result_json(&p, &ev, &calls);
        char *text = json_dumps(res, JSON_COMPACT);
        job_ctx_set_result(ctx, text);
        free(text);
        json_decref(res);
        stats(&p, calls);
    } else {
        json_decref(ev.opened);
        json_decref(ev.updated);
        json_decref(ev.actions);
    }
    watch_plan_cleanup(&p);
    return rc;
}
