/*
 * watch_collect.c - loading what a watch cycle watches and reading its
 * CloudWatch data.
 *
 * Fleets may live in different regions and accounts (assumeRole), so the
 * claims and templates are grouped by (region, role ARN, external id) and
 * each group is read with its own client: one GetMetricData pass per group,
 * batched by 500 queries and paged to the end inside cw_get_metric_data.
 * Every group reads the same time window, so the rules of all fleets see
 * the same "now".
 *
 * ListMetrics (five filtered listings per group, paged) tells which
 * claims and templates have a metric at all: a claim that never
 * registered a device has none, which is normal, but it is reported
 * (metric "missing") so an account where the metric never appears - wrong
 * region, wrong account, metric renamed - does not read as zero forever.
 * ListMetrics leaves out metrics without data in the past two weeks, so
 * "missing" is also a claim that has been quiet that long.
 *
 * ApproximateNumberOfThingsRegistered is a running total: a claim's
 * registrations are differences of totals, so each claim also needs its
 * total before the window (its base). The state holds it for claims seen
 * by the cycles of the past hour; for the others (first sighting, a watch
 * that was off) one more GetMetricData reads Maximum over everything
 * CloudWatch keeps before the window, for those claims only.
 */
#include "watch_collect.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awsctx.h"
#include "service/domain/claim_fields.h"
#include "service/core/err.h"
#include "service/core/mem.h"
#include "service/domain/store_fleet.h"
#include "service/domain/store_watch.h"

#define CLAIM_PAGE 500

static char *dup_or_null(const char *s)
{
    return s && *s ? xstrdup(s) : 0;
}

static int same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

/* The group of (region, role, ext), added when new. */
static size_t group_of(struct watch_plan *p, const struct watch_fleet *f)
{
    for (size_t i = 0; i < p->ng; i++)
        if (same(p->g[i].region, f->region) && same(p->g[i].role, f->role) &&
            same(p->g[i].ext, f->ext))
            return i;
    p->g = xrealloc(p->g, (p->ng + 1) * sizeof *p->g);
    struct watch_group *g = &p->g[p->ng];
    memset(g, 0, sizeof *g);
    g->region = f->region;
    g->role = f->role;
    g->ext = f->ext;
    g->q_keys = g->q_csr = -1;
    g->keys_metric = g->csr_metric = WATCH_METRIC_UNKNOWN;
    return p->ng++;
}

static const char *path_str(const json_t *doc, const char *a, const char *b, const char *c)
{
    const json_t *v = json_object_get(doc, a);
    if (b)
        v = json_object_get(v, b);
    if (c)
        v = json_object_get(v, c);
    return json_string_value(v);
}

/* Fills f from the fleet document; 0 when the fleet is watched. */
static int fleet_from_doc(struct watch_fleet *f, const char *name, const json_t *doc)
{
    memset(f, 0, sizeof *f);
    watch_cfg_load(json_object_get(json_object_get(doc, "settings"), "watch"), &f->cfg);
    const char *state = json_string_value(json_object_get(doc, "state"));
    if (!f->cfg.enabled || (state && (!strcmp(state, "deleting") || !strcmp(state, "deleted"))))
        return FW_ENOTFOUND;
    const char *region = path_str(doc, "region", 0, 0);
    f->name = xstrdup(name);
    f->region = xstrdup(region                               ? region
                        : path_str(doc, "spec", "region", 0) ? path_str(doc, "spec", "region", 0)
                                                             : "us-east-1");
    const char *role = path_str(doc, "assumeRole", "roleArn", 0);
    f->role = dup_or_null(role ? role : path_str(doc, "spec", "assumeRole", "roleArn"));
    const char *ext = path_str(doc, "assumeRole", "externalId", 0);
    f->ext = dup_or_null(ext ? ext : path_str(doc, "spec", "assumeRole", "externalId"));
    const char *tmpl = path_str(doc, "spec", "template", "name");
    if (!state || !strcmp(state, "ready"))
        f->tmpl = dup_or_null(tmpl ? tmpl : path_str(doc, "resources", "template", "name"));
    f->q_fail = f->q_att = -1;
    f->tmpl_metric = WATCH_METRIC_UNKNOWN;
    return 0;
}

static void claim_add(struct watch_plan *p, size_t fi, const json_t *rec)
{
    const char *id = claim_field_str(rec, CLAIM_F_ID);
    const char *cert = claim_field_str(rec, CLAIM_F_CERT_ID);
    const char *exp = claim_field_str(rec, CLAIM_F_EXPECTED_DEVICES);
    const char *created = claim_field_str(rec, CLAIM_F_CREATED);
    if (!id || !cert || !*cert)
        return;
    if (p->nc == p->capc) {
        p->capc = p->capc ? 2 * p->capc : 256;
        p->c = xrealloc(p->c, p->capc * sizeof *p->c);
    }
    struct watch_claim *c = &p->c[p->nc++];
    memset(c, 0, sizeof *c);
    snprintf(c->id, sizeof c->id, "%s", id);
    c->cert = xstrdup(cert);
    c->expected = exp ? strtoll(exp, 0, 10) : 0;
    c->created_ms = created ? strtoll(created, 0, 10) : 0;
    c->fleet = fi;
    c->metric = WATCH_METRIC_UNKNOWN;
    c->bq = -1;
    c->base = WATCH_TOTAL_UNKNOWN;
}

static int claims_load(struct watch_plan *p, size_t fi, const char *state)
{
    char *cursor = 0;
    do {
        json_t *items = 0;
        char *next = 0;
        int rc = store_claim_list(p->f[fi].name, state, CLAIM_PAGE, cursor, &items, &next);
        free(cursor);
        if (rc)
            return rc;
        size_t i;
        json_t *rec;
        json_array_foreach(items, i, rec) claim_add(p, fi, rec);
        json_decref(items);
        cursor = next;
    } while (cursor);
    return 0;
}

static int fleets_load(struct watch_plan *p)
{
    json_t *names = 0;
    int rc = store_fleet_list_names(&names);
    if (rc)
        return rc;
    p->f = xcalloc(json_array_size(names) + 1, sizeof *p->f);
    size_t i;
    json_t *n;
    json_array_foreach(names, i, n)
    {
        json_t *doc = 0;
        if (store_fleet_get(json_string_value(n), &doc))
            continue;
        if (!fleet_from_doc(&p->f[p->nf], json_string_value(n), doc))
            p->nf++;
        json_decref(doc);
    }
    json_decref(names);
    for (i = 0; !rc && i < p->nf; i++) {
        rc = claims_load(p, i, "active");
        if (!rc)
            rc = claims_load(p, i, "rotating");
    }
    return rc;
}

/* The claim's queries: the base one and one per enabled claim rule, all
 * Maximum of the running total, deduplicated within the claim. */
static void claim_queries(struct watch_plan *p, struct watch_claim *c)
{
    const struct watch_cfg *cfg = &p->f[c->fleet].cfg;
    struct watch_group *g = &p->g[p->f[c->fleet].group];
    long owner = (long)(c - p->c);
    c->q[WATCH_Q_BASE] = (long)watch_qset_add(&g->qs, WATCH_MET_REG, owner, "Maximum",
                                              cfg->rule[WATCH_RULE_TOTAL].period_s, c->cert, 5);
    for (int r = 0; r < WATCH_NRULES; r++) {
        const struct watch_rule_cfg *rc = &cfg->rule[r];
        c->q[r] = -1;
        if (r == WATCH_RULE_FAILED || r == WATCH_RULE_TOTAL || !rc->enabled)
            continue;
        c->q[r] =
            (long)watch_qset_add(&g->qs, WATCH_MET_REG, owner, rc->stat, rc->period_s, c->cert, 5);
    }
    c->q[WATCH_RULE_TOTAL] = c->q[WATCH_Q_BASE];
}

static void fleet_queries(struct watch_plan *p, struct watch_fleet *f)
{
    const struct watch_rule_cfg *r = &f->cfg.rule[WATCH_RULE_FAILED];
    struct watch_group *g = &p->g[f->group];
    long owner = (long)(f - p->f);
    if (!f->tmpl || !r->enabled)
        return;
    f->q_fail = (long)watch_qset_add(&g->qs, WATCH_MET_FAIL, owner, watch_query_stat(r),
                                     r->period_s, f->tmpl, 2);
    f->q_att =
        (long)watch_qset_add(&g->qs, WATCH_MET_FAIL, owner, "SampleCount", r->period_s, f->tmpl, 2);
}

static double lookback_s(const struct watch_plan *p)
{
    double lb = 3600 + 300 + WATCH_LATE_S;
    for (size_t i = 0; i < p->nf; i++)
        for (int r = 0; r < WATCH_NRULES; r++) {
            const struct watch_rule_cfg *rc = &p->f[i].cfg.rule[r];
            double w = (double)rc->window_s + rc->period_s + WATCH_LATE_S;
            lb = w > lb ? w : lb;
        }
    return lb;
}

/* Each claim's state from P watch:claim (absent: an empty state). */
static int states_load(struct watch_plan *p)
{
    const char **ids = xcalloc(p->nc + 1, sizeof *ids);
    char **vals = xcalloc(p->nc + 1, sizeof *vals);
    for (size_t i = 0; i < p->nc; i++)
        ids[i] = p->c[i].id;
    int rc = p->nc ? store_watch_claims_get(ids, p->nc, vals) : 0;
    for (size_t i = 0; i < p->nc; i++) {
        watch_state_parse(rc ? 0 : vals[i], &p->c[i].ws);
        free(vals[i]);
    }
    free(ids);
    free(vals);
    return rc;
}

int watch_plan_load(struct watch_plan *p, double now_s)
{
    memset(p, 0, sizeof *p);
    p->now_s = now_s;
    int rc = fleets_load(p);
    if (!rc)
        rc = states_load(p);
    if (rc)
        return rc;
    for (size_t i = 0; i < p->nf; i++)
        p->f[i].group = group_of(p, &p->f[i]);
    for (size_t i = 0; i < p->nc; i++)
        claim_queries(p, &p->c[i]);
    for (size_t i = 0; i < p->nf; i++)
        fleet_queries(p, &p->f[i]);
    for (size_t i = 0; i < p->ng; i++) {
        if (p->g[i].qs.n)
            p->g[i].q_keys =
                (long)watch_qset_add(&p->g[i].qs, WATCH_MET_KEYS, -1, "Sum", 300, 0, 0);
        watch_qset_build(&p->g[i].qs);
    }
    /* CloudWatch answers fastest for times aligned to the period and the
     * hour: the window starts on an hour and ends on the next 5 minutes. */
    p->end_s = (floor(now_s / 300) + 1) * 300;
    p->start_s = floor((now_s - lookback_s(p)) / 3600) * 3600;
    return 0;
}

void watch_plan_cleanup(struct watch_plan *p)
{
    for (size_t i = 0; i < p->nf; i++) {
        free(p->f[i].name);
        free(p->f[i].region);
        free(p->f[i].role);
        free(p->f[i].ext);
        free(p->f[i].tmpl);
    }
    for (size_t i = 0; i < p->nc; i++)
        free(p->c[i].cert);
    for (size_t i = 0; i < p->ng; i++) {
        watch_qset_cleanup(&p->g[i].qs);
        cw_metric_data_cleanup(&p->g[i].data);
        free(p->g[i].res);
        watch_qset_cleanup(&p->g[i].bqs);
        cw_metric_data_cleanup(&p->g[i].bdata);
    }
    free(p->f);
    free(p->c);
    free(p->g);
    memset(p, 0, sizeof *p);
}

/* ---- reading ---- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted dimension values of metric (value of dim) in the listing. */
static char **listed_values(const struct cw_metric_list *l, const char *dim, size_t *n)
{
    char **v = xcalloc(l->n + 1, sizeof *v);
    *n = 0;
    for (size_t i = 0; i < l->n; i++)
        for (size_t d = 0; d < l->items[i].ndims; d++)
            if (!strcmp(l->items[i].dims[d].name, dim))
                v[(*n)++] = l->items[i].dims[d].value;
    qsort(v, *n, sizeof *v, cmp_str);
    return v;
}

static int present(char **sorted, size_t n, const char *s)
{
    return bsearch(&s, sorted, n, sizeof *sorted, cmp_str) != 0;
}

static int list_metric(struct aws_client *c, struct watch_group *g, const char *metric,
                       const char *dim, struct cw_metric_list *out, struct aws_api_error *err)
{
    struct cw_dimension d = {dim, 0};
    struct cw_list_metrics_input in = {WATCH_NS, metric, dim ? &d : 0, dim ? 1 : 0, 0};
    g->lm_calls++;
    return cw_list_metrics(c, &in, out, err);
}

static void mark_claims(struct watch_plan *p, size_t gi, const struct cw_metric_list *l)
{
    size_t n = 0;
    char **v = listed_values(l, WATCH_D_CLAIM, &n);
    for (size_t i = 0; i < p->nc; i++) {
        if (p->f[p->c[i].fleet].group != gi)
            continue;
        p->c[i].metric = present(v, n, p->c[i].cert) ? WATCH_METRIC_PRESENT : WATCH_METRIC_MISSING;
        p->g[gi].nclaims_missing += p->c[i].metric == WATCH_METRIC_MISSING;
    }
    free(v);
}

static void mark_templates(struct watch_plan *p, size_t gi, const struct cw_metric_list *l)
{
    size_t n = 0;
    char **v = listed_values(l, WATCH_D_TEMPLATE, &n);
    for (size_t i = 0; i < p->nf; i++)
        if (p->f[i].group == gi && p->f[i].tmpl)
            p->f[i].tmpl_metric =
                present(v, n, p->f[i].tmpl) ? WATCH_METRIC_PRESENT : WATCH_METRIC_MISSING;
    free(v);
}

static int presence(struct watch_plan *p, size_t gi, struct aws_client *c,
                    struct aws_api_error *err)
{
    struct watch_group *g = &p->g[gi];
    struct cw_metric_list l = {0};
    int rc = list_metric(c, g, WATCH_M_REG, WATCH_D_CLAIM, &l, err);
    if (!rc)
        mark_claims(p, gi, &l);
    cw_metric_list_cleanup(&l);
    if (!rc)
        rc = list_metric(c, g, WATCH_M_FAIL, WATCH_D_TEMPLATE, &l, err);
    if (!rc)
        mark_templates(p, gi, &l);
    cw_metric_list_cleanup(&l);
    if (!rc)
        rc = list_metric(c, g, WATCH_M_KEYS, 0, &l, err);
    if (!rc)
        g->keys_metric = l.n ? WATCH_METRIC_PRESENT : WATCH_METRIC_MISSING;
    cw_metric_list_cleanup(&l);
    g->csr_metric = WATCH_METRIC_MISSING;
    for (size_t k = 0; !rc && k < WATCH_CSR_NAMES && !g->csr_name; k++) {
        rc = list_metric(c, g, watch_csr_names[k], 0, &l, err);
        if (!rc && l.n)
            g->csr_name = watch_csr_names[k];
        cw_metric_list_cleanup(&l);
    }
    if (rc)
        g->csr_metric = WATCH_METRIC_UNKNOWN;
    else if (g->csr_name)
        g->csr_metric = WATCH_METRIC_PRESENT;
    return rc;
}

/* The CSR failure metric has two names in copies of AWS's guide and is not
 * in every account's metric set: it is read under the name ListMetrics
 * lists, and only then. */
static void add_csr_query(struct watch_group *g)
{
    if (!g->csr_name || g->q_csr >= 0)
        return;
    g->q_csr = (long)watch_qset_add(&g->qs, WATCH_MET_CSR, -1, "Sum", 300, 0, 0);
    g->qs.q[g->q_csr].metric_name = g->csr_name;
    watch_qset_build(&g->qs);
}

static void map_results(struct watch_group *g)
{
    g->res = xcalloc(g->qs.n + 1, sizeof *g->res);
    for (size_t i = 0; i < g->qs.n; i++)
        g->res[i] = -1;
    for (size_t r = 0; r < g->data.nresults; r++) {
        long q = watch_qset_index(g->data.results[r].id);
        if (q >= 0 && (size_t)q < g->qs.n)
            g->res[q] = (long)r;
    }
}

/* ---- each claim's total before the window ---- */

/* 1 when the claim's base is known without reading it: from its state,
 * or 0 for a claim that cannot have registered anything (no metric
 * listed, no data point, created within ListMetrics' two weeks). */
static int base_known(const struct watch_plan *p, size_t gi, struct watch_claim *c)
{
    if (watch_state_base(&c->ws, p->start_s, &c->base))
        return 1;
    struct watch_series s = watch_plan_series(p, gi, c->q[WATCH_Q_BASE]);
    if (c->metric == WATCH_METRIC_MISSING && !s.n && c->created_ms > 0 &&
        (double)c->created_ms / 1000.0 >= p->now_s - WATCH_LISTED_S) {
        c->base = 0;
        return 1;
    }
    return 0;
}

static void base_result(struct watch_plan *p, struct watch_group *g,
                        const struct cw_metric_result *r)
{
    long q = watch_qset_index(r->id);
    if (q < 0 || (size_t)q >= g->bqs.n)
        return;
    struct watch_series s = {r->timestamps, r->values, r->n};
    struct watch_claim *c = &p->c[g->bqs.q[q].owner];
    c->base = watch_total_before(&s, WATCH_TOTAL_UNKNOWN, p->start_s);
}

/* Maximum over everything CloudWatch keeps before the window (one period
 * covering it all; 1-hour data lasts 455 days), for the claims whose base
 * is not known. Nothing there: 0 for a claim younger than that, unknown
 * for an older one (its first reading will be its baseline). */
static int base_read(struct watch_plan *p, size_t gi, struct aws_client *cl,
                     struct aws_api_error *err)
{
    struct watch_group *g = &p->g[gi];
    for (size_t i = 0; i < p->nc; i++)
        if (p->f[p->c[i].fleet].group == gi && !base_known(p, gi, &p->c[i]))
            p->c[i].bq = (long)watch_qset_add(&g->bqs, WATCH_MET_REG, (long)i, "Maximum",
                                              WATCH_BASE_PERIOD_S, p->c[i].cert, 0);
    if (!g->bqs.n)
        return 0;
    watch_qset_build(&g->bqs);
    double from = p->start_s - WATCH_BASE_PERIOD_S;
    struct cw_get_metric_data_input in = {g->bqs.cw,          g->bqs.n, (time_t)from,
                                          (time_t)p->start_s, 0,        0};
    int rc = cw_get_metric_data(cl, &in, &g->bdata, err);
    g->gmd_calls += g->bdata.calls;
    if (rc)
        return rc;
    for (size_t r = 0; r < g->bdata.nresults; r++)
        base_result(p, g, &g->bdata.results[r]);
    for (size_t i = 0; i < p->nc; i++) {
        struct watch_claim *c = &p->c[i];
        if (c->bq >= 0 && c->base < 0 && (double)c->created_ms / 1000.0 >= from)
            c->base = 0;
    }
    return 0;
}

int watch_group_fetch(struct watch_plan *p, size_t gi, struct aws_api_error *err)
{
    struct watch_group *g = &p->g[gi];
    if (!g->qs.n)
        return 0;
    struct aws_client *c = awsctx_client(g->region, g->role, g->ext, err);
    if (!c)
        return awserr_to_fw(err);
    int rc = presence(p, gi, c, err);
    if (rc)
        return rc;
    add_csr_query(g);
    struct cw_get_metric_data_input in = {
        g->qs.cw, g->qs.n, (time_t)p->start_s, (time_t)p->end_s, "TimestampAscending", 0};
    cw_metric_data_cleanup(&g->data);
    rc = cw_get_metric_data(c, &in, &g->data, err);
    g->gmd_calls += g->data.calls;
    if (rc)
        return rc;
    map_results(g);
    return base_read(p, gi, c, err);
}

struct watch_series watch_plan_series(const struct watch_plan *p, size_t gi, long q)
{
    struct watch_series s = {0, 0, 0};
    const struct watch_group *g = &p->g[gi];
    if (q < 0 || !g->res || (size_t)q >= g->qs.n || g->res[q] < 0)
        return s;
    const struct cw_metric_result *r = &g->data.results[g->res[q]];
    s.ts = r->timestamps;
    s.val = r->values;
    s.n = r->n;
    return s;
}
