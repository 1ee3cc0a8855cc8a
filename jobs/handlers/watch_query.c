/*
 * watch_query.c - building the metric queries of a watch group.
 *
 * Deduplication is per owner and looks back only a few entries (the
 * queries of one owner are added together), so building 10,000 claims'
 * queries stays linear.
 */
#include "watch_query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/core/mem.h"

const char *const watch_csr_names[WATCH_CSR_NAMES] = {"CreateCertificateFromCsrFailed",
                                                      "CreateCertificateFromCsrMqttApiFailed"};
static const char *const s_metric_names[] = {WATCH_M_REG, WATCH_M_FAIL, WATCH_M_KEYS,
                                             "CreateCertificateFromCsrFailed"};
static const char *const s_dim_names[] = {WATCH_D_CLAIM, WATCH_D_TEMPLATE, 0, 0};

size_t watch_qset_add(struct watch_qset *s, enum watch_metric m, long owner, const char *stat,
                      int period_s, const char *dim_value, size_t window)
{
    for (size_t k = 0; k < window && k < s->n; k++) {
        const struct watch_q *q = &s->q[s->n - 1 - k];
        if (q->owner == owner && q->metric == m && q->period_s == period_s &&
            !strcmp(q->stat, stat))
            return s->n - 1 - k;
    }
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->q = xrealloc(s->q, s->cap * sizeof *s->q);
    }
    struct watch_q *q = &s->q[s->n];
    memset(q, 0, sizeof *q);
    q->metric = m;
    q->owner = owner;
    q->period_s = period_s;
    snprintf(q->stat, sizeof q->stat, "%s", stat);
    q->dim_value = dim_value;
    return s->n++;
}

void watch_qset_build(struct watch_qset *s)
{
    free(s->cw);
    free(s->dims);
    free(s->ids);
    s->cw = xcalloc(s->n ? s->n : 1, sizeof *s->cw);
    s->dims = xcalloc(s->n ? s->n : 1, sizeof *s->dims);
    s->ids = xcalloc(s->n ? s->n : 1, sizeof *s->ids);
    for (size_t i = 0; i < s->n; i++) {
        const struct watch_q *q = &s->q[i];
        struct cw_metric_query *c = &s->cw[i];
        snprintf(s->ids[i], sizeof s->ids[i], "q%u", (unsigned)(i % 1000000000u));
        c->id = s->ids[i];
        c->namespace_ = WATCH_NS;
        c->metric_name = q->metric_name ? q->metric_name : s_metric_names[q->metric];
        c->period_s = q->period_s;
        c->stat = q->stat;
        c->return_data = -1;
        if (q->dim_value && s_dim_names[q->metric]) {
            s->dims[i].name = s_dim_names[q->metric];
            s->dims[i].value = q->dim_value;
            c->dims = &s->dims[i];
            c->ndims = 1;
        }
    }
}

void watch_qset_cleanup(struct watch_qset *s)
{
    free(s->q);
    free(s->cw);
    free(s->dims);
    free(s->ids);
    memset(s, 0, sizeof *s);
}

long watch_qset_index(const char *id)
{
    if (!id || id[0] != 'q' || !id[1])
        return -1;
    char *end = 0;
    long v = strtol(id + 1, &end, 10);
    return *end || v < 0 ? -1 : v;
}

size_t watch_qset_min_calls(size_t n)
{
    return (n + CW_MAX_QUERIES_PER_CALL - 1) / CW_MAX_QUERIES_PER_CALL;
}
