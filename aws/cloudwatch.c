/*
 * cloudwatch.c - GetMetricData in batches of 500 with paging, ListMetrics.
 *
 * The watch cycle asks for a handful of metrics per active claim, so one
 * cycle can need thousands of queries. AWS takes at most 500 per call and
 * pages long answers with NextToken; this file hides both. Parameters use
 * the query protocol's list encoding:
 * MetricDataQueries.member.N.MetricStat.Metric.Dimensions.member.M.Name.
 */
#include "aws/cloudwatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/client.h"
#include "aws/xml.h"
#include "service/core/mem.h"

#define CW_VERSION "2010-08-01"

/* NextToken pages one listing may take before it is given up. A GetMetricData batch needs a
 * few at most (AWS pages at 100,800 data points; 500 queries of a day at one-minute periods are
 * about 8 pages); ListMetrics gives 500 metrics a page. An answer past these, or one that hands
 * back the token it was sent, would otherwise be paged for ever. */
#define CW_MAX_DATA_PAGES 100
#define CW_MAX_LIST_PAGES 1000

static void iso8601(time_t t, char out[32])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void param_at(struct aws_call *call, const char *prefix, const char *name, const char *value)
{
    char key[384];
    snprintf(key, sizeof key, "%s%s", prefix, name);
    aws_call_param(call, key, value);
}

static void param_int_at(struct aws_call *call, const char *prefix, const char *name,
                         long long value)
{
    char key[384];
    snprintf(key, sizeof key, "%s%s", prefix, name);
    aws_call_param_int(call, key, value);
}

static void add_dimensions(struct aws_call *call, const char *prefix,
                           const struct cw_dimension *dims, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char p[320];
        snprintf(p, sizeof p, "%sDimensions.member.%zu.", prefix, i + 1);
        param_at(call, p, "Name", dims[i].name);
        param_at(call, p, "Value", dims[i].value);
    }
}

static void add_query(struct aws_call *call, size_t index, const struct cw_metric_query *q)
{
    char p[128];
    snprintf(p, sizeof p, "MetricDataQueries.member.%zu.", index);
    param_at(call, p, "Id", q->id);
    param_at(call, p, "Label", q->label);
    if (q->return_data >= 0)
        param_at(call, p, "ReturnData", q->return_data ? "true" : "false");
    if (q->expression) {
        param_at(call, p, "Expression", q->expression);
        if (q->period_s > 0)
            param_int_at(call, p, "Period", q->period_s);
        return;
    }
    char m[192];
    snprintf(m, sizeof m, "%sMetricStat.", p);
    param_int_at(call, m, "Period", q->period_s);
    param_at(call, m, "Stat", q->stat);
    param_at(call, m, "Unit", q->unit);
    char mm[256];
    snprintf(mm, sizeof mm, "%sMetric.", m);
    param_at(call, mm, "MetricName", q->metric_name);
    param_at(call, mm, "Namespace", q->namespace_);
    add_dimensions(call, mm, q->dims, q->ndims);
}

static struct cw_metric_result *result_for(struct cw_metric_data *out, const char *id)
{
    for (size_t i = 0; i < out->nresults; i++)
        if (strcmp(out->results[i].id, id) == 0)
            return &out->results[i];
    out->results = xrealloc(out->results, (out->nresults + 1) * sizeof *out->results);
    struct cw_metric_result *r = &out->results[out->nresults++];
    memset(r, 0, sizeof *r);
    r->id = xstrdup(id);
    return r;
}

/* A StatusCode that says the result is not (and will not become) data: InternalError,
 * Forbidden, anything unknown. PartialData is fine while more pages follow. */
static int status_failed(const char *s)
{
    return !s || (strcmp(s, "Complete") && strcmp(s, "PartialData"));
}

/* Appends one <member> of MetricDataResults; Timestamps and Values pair up. A failed status
 * stays: a later page's Complete does not bring back what the failed one left out. */
static void add_result(struct cw_metric_data *out, const struct xml_node *m)
{
    struct cw_metric_result *r = result_for(out, xml_text(m, "Id") ? xml_text(m, "Id") : "");
    if (!r->label)
        r->label = xml_strdup(m, "Label");
    if (!r->status_code || !status_failed(r->status_code)) {
        free(r->status_code);
        r->status_code = xml_strdup(m, "StatusCode");
    }
    const struct xml_node *t = xml_child(xml_child(m, "Timestamps"), "member");
    const struct xml_node *v = xml_child(xml_child(m, "Values"), "member");
    for (; t && v; t = xml_next(t), v = xml_next(v)) {
        r->timestamps = xrealloc(r->timestamps, (r->n + 1) * sizeof *r->timestamps);
        r->values = xrealloc(r->values, (r->n + 1) * sizeof *r->values);
        double ts = 0;
        xml_parse_iso8601(t->text, &ts);
        r->timestamps[r->n] = ts;
        r->values[r->n] = strtod(v->text, NULL);
        r->n++;
    }
}

/* One call of one batch; *next gets the NextToken (caller frees) or NULL. */
static int metric_data_page(struct aws_client *c, const struct cw_get_metric_data_input *in,
                            size_t first, size_t count, const char *token, char **next,
                            struct cw_metric_data *out, struct aws_api_error *err)
{
    struct aws_call call;
    aws_call_init_query(&call, AWS_SVC_CLOUDWATCH, "GetMetricData", CW_VERSION);
    char start[32], end[32];
    iso8601(in->start_time, start);
    iso8601(in->end_time, end);
    aws_call_param(&call, "EndTime", end);
    if (in->max_datapoints > 0)
        aws_call_param_int(&call, "MaxDatapoints", in->max_datapoints);
    for (size_t i = 0; i < count; i++)
        add_query(&call, i + 1, &in->queries[first + i]);
    aws_call_param(&call, "NextToken", token);
    aws_call_param(&call, "ScanBy", in->scan_by);
    aws_call_param(&call, "StartTime", start);
    struct aws_reply r;
    int rc = aws_client_call(c, &call, &r, err);
    out->calls++;
    *next = 0;
    if (!rc) {
        const struct xml_node *list = xml_child(r.result, "MetricDataResults");
        for (const struct xml_node *m = xml_child(list, "member"); m; m = xml_next(m))
            add_result(out, m);
        const char *t = xml_text(r.result, "NextToken");
        *next = (t && *t) ? xstrdup(t) : 0;
    }
    aws_reply_cleanup(&r);
    aws_call_cleanup(&call);
    return rc;
}

/* A NextToken that would page for ever: the one just sent back again, or past max pages.
 * Not retried (the next cycle asks again): err names the operation and the page count. */
static int paging_stuck(const char *op, const char *sent, const char *next, int pages, int max,
                        struct aws_api_error *err)
{
    if (!next)
        return 0;
    if (sent && !strcmp(sent, next))
        awserr_set(err, 200, "PaginationLoop",
                   "CloudWatch %s answered page %d with the NextToken it was sent; paging stopped",
                   op, pages);
    else if (pages >= max)
        awserr_set(err, 200, "PaginationLimit",
                   "CloudWatch %s still had a NextToken after %d pages; paging stopped", op, max);
    else
        return 0;
    snprintf(err->operation, sizeof err->operation, "cloudwatch:%s", op);
    err->cls = AWS_ERRC_OTHER;
    err->retryable = 0;
    return awserr_to_fw(err);
}

static const struct cw_metric_result *find_result(const struct cw_metric_data *out, size_t from,
                                                  const char *id)
{
    for (size_t i = from; i < out->nresults; i++)
        if (!strcmp(out->results[i].id, id))
            return &out->results[i];
    return 0;
}

/* Every query of the batch that returns data must end Complete. AWS answers 200 with a
 * per-result StatusCode (Complete | InternalError | PartialData | Forbidden): InternalError,
 * PartialData on the last page and a missing result are no data, not zero data, and fail
 * like a 5xx (retried); Forbidden fails like an access error. */
static int batch_complete(const struct cw_get_metric_data_input *in, size_t first, size_t count,
                          const struct cw_metric_data *out, size_t r0, struct aws_api_error *err)
{
    for (size_t i = first; i < first + count; i++) {
        const struct cw_metric_query *q = &in->queries[i];
        if (q->return_data == 0)
            continue;
        const struct cw_metric_result *r = find_result(out, r0, q->id);
        const char *st = r ? r->status_code : 0;
        if (st && !strcmp(st, "Complete"))
            continue;
        int forbidden = st && !strcmp(st, "Forbidden");
        awserr_set(err, 200,
                   forbidden ? "Forbidden"
                   : st      ? st
                             : "MissingResult",
                   "GetMetricData answered query %s (%s %s) %s%s", q->id,
                   q->metric_name ? q->metric_name : "expression", q->stat ? q->stat : "",
                   r ? "with StatusCode " : "without a result", st ? st : "");
        snprintf(err->operation, sizeof err->operation, "cloudwatch:GetMetricData");
        err->cls = forbidden ? AWS_ERRC_ACCESS : AWS_ERRC_TRANSIENT;
        err->retryable = !forbidden;
        return awserr_to_fw(err);
    }
    return 0;
}

static int metric_data_batch(struct aws_client *c, const struct cw_get_metric_data_input *in,
                             size_t first, size_t count, struct cw_metric_data *out,
                             struct aws_api_error *err)
{
    char *token = 0;
    int rc = 0, pages = 0;
    size_t r0 = out->nresults;
    do {
        char *next = 0;
        rc = metric_data_page(c, in, first, count, token, &next, out, err);
        if (!rc)
            rc = paging_stuck("GetMetricData", token, next, ++pages, CW_MAX_DATA_PAGES, err);
        free(token);
        token = next;
    } while (!rc && token);
    free(token);
    return rc ? rc : batch_complete(in, first, count, out, r0, err);
}

int cw_get_metric_data(struct aws_client *c, const struct cw_get_metric_data_input *in,
                       struct cw_metric_data *out, struct aws_api_error *err)
{
    memset(out, 0, sizeof *out);
    int rc = 0;
    for (size_t first = 0; first < in->nqueries && !rc; first += CW_MAX_QUERIES_PER_CALL) {
        size_t count = in->nqueries - first;
        if (count > CW_MAX_QUERIES_PER_CALL)
            count = CW_MAX_QUERIES_PER_CALL;
        rc = metric_data_batch(c, in, first, count, out, err);
    }
    if (rc)
        cw_metric_data_cleanup(out);
    return rc;
}

void cw_metric_data_cleanup(struct cw_metric_data *x)
{
    if (!x)
        return;
    for (size_t i = 0; i < x->nresults; i++) {
        free(x->results[i].id);
        free(x->results[i].label);
        free(x->results[i].status_code);
        free(x->results[i].timestamps);
        free(x->results[i].values);
    }
    free(x->results);
    memset(x, 0, sizeof *x);
}

/* ------------------------------------------------------------ ListMetrics */

static void add_metric(struct cw_metric_list *out, const struct xml_node *m)
{
    out->items = xrealloc(out->items, (out->n + 1) * sizeof *out->items);
    struct cw_metric *x = &out->items[out->n++];
    memset(x, 0, sizeof *x);
    x->namespace_ = xml_strdup(m, "Namespace");
    x->metric_name = xml_strdup(m, "MetricName");
    const struct xml_node *d = xml_child(xml_child(m, "Dimensions"), "member");
    for (; d; d = xml_next(d)) {
        x->dims = xrealloc(x->dims, (x->ndims + 1) * sizeof *x->dims);
        x->dims[x->ndims].name = xml_strdup(d, "Name");
        x->dims[x->ndims].value = xml_strdup(d, "Value");
        x->ndims++;
    }
}

static int list_metrics_page(struct aws_client *c, const struct cw_list_metrics_input *in,
                             const char *token, char **next, struct cw_metric_list *out,
                             struct aws_api_error *err)
{
    struct aws_call call;
    aws_call_init_query(&call, AWS_SVC_CLOUDWATCH, "ListMetrics", CW_VERSION);
    add_dimensions(&call, "", in->dims, in->ndims);
    aws_call_param(&call, "MetricName", in->metric_name);
    aws_call_param(&call, "Namespace", in->namespace_);
    aws_call_param(&call, "NextToken", token);
    if (in->recently_active)
        aws_call_param(&call, "RecentlyActive", "PT3H");
    struct aws_reply r;
    int rc = aws_client_call(c, &call, &r, err);
    *next = 0;
    if (!rc) {
        const struct xml_node *list = xml_child(r.result, "Metrics");
        for (const struct xml_node *m = xml_child(list, "member"); m; m = xml_next(m))
            add_metric(out, m);
        const char *t = xml_text(r.result, "NextToken");
        *next = (t && *t) ? xstrdup(t) : 0;
    }
    aws_reply_cleanup(&r);
    aws_call_cleanup(&call);
    return rc;
}

int cw_list_metrics(struct aws_client *c, const struct cw_list_metrics_input *in,
                    struct cw_metric_list *out, struct aws_api_error *err)
{
    static const struct cw_list_metrics_input none = {0};
    memset(out, 0, sizeof *out);
    if (!in)
        in = &none;
    char *token = 0;
    int rc = 0, pages = 0;
    do {
        char *next = 0;
        rc = list_metrics_page(c, in, token, &next, out, err);
        if (!rc)
            rc = paging_stuck("ListMetrics", token, next, ++pages, CW_MAX_LIST_PAGES, err);
        free(token);
        token = next;
    } while (!rc && token);
    free(token);
    if (rc)
        cw_metric_list_cleanup(out);
    return rc;
}

void cw_metric_list_cleanup(struct cw_metric_list *x)
{
    if (!x)
        return;
    for (size_t i = 0; i < x->n; i++) {
        free(x->items[i].namespace_);
        free(x->items[i].metric_name);
        for (size_t j = 0; j < x->items[i].ndims; j++) {
            free(x->items[i].dims[j].name);
            free(x->items[i].dims[j].value);
        }
        free(x->items[i].dims);
    }
    free(x->items);
    memset(x, 0, sizeof *x);
}
