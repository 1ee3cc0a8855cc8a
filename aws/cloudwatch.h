/*
 * cloudwatch.h - CloudWatch GetMetricData and ListMetrics (query protocol,
 * 2010-08-01), for the misuse watch.
 *
 * Both page NextToken to the end, at most 100 pages per GetMetricData
 * batch and 1,000 per ListMetrics listing: past that, or when AWS hands back
 * the token it was sent, the call fails (code PaginationLimit or
 * PaginationLoop, class other, not retried). GetMetricData takes any number
 * of queries: they are sent in batches of at most 500 (AWS's limit per
 * call) and the results are merged by query id, in the order AWS gives
 * them. Every query that returns data must end with StatusCode Complete: a
 * 200 answer whose result is InternalError, PartialData on the last page, or
 * missing fails the call as transient (retryable; code = the StatusCode or
 * MissingResult), Forbidden fails it as an access error. An expression
 * query must sit in the same batch of 500 as the queries it references.
 * Return values as everywhere in aws/: 0 or a negative FW_E* with err
 * filled. Outputs own their memory; free with the _cleanup.
 */
#ifndef FW_AWS_CLOUDWATCH_H
#define FW_AWS_CLOUDWATCH_H

#include <stddef.h>
#include <time.h>

#include "aws/awserr.h"

#define CW_MAX_QUERIES_PER_CALL 500

struct aws_client;

struct cw_dimension {
    const char *name;
    const char *value;
};

/* One metric query: either a metric (namespace + name + dimensions, with
 * period and stat) or an expression. */
struct cw_metric_query {
    const char *id;         /* required; [a-z][a-zA-Z0-9_]* */
    const char *namespace_; /* metric queries: "AWS/IoT" */
    const char *metric_name;
    const struct cw_dimension *dims;
    size_t ndims;
    int period_s;           /* required for metric queries */
    const char *stat;       /* "Sum", "SampleCount", ... */
    const char *unit;       /* optional */
    const char *expression; /* instead of a metric */
    const char *label;      /* optional */
    int return_data;        /* -1 = AWS default (true), else 0/1 */
};

struct cw_get_metric_data_input {
    const struct cw_metric_query *queries;
    size_t nqueries;
    time_t start_time;
    time_t end_time;
    const char *scan_by; /* NULL, "TimestampAscending" or "TimestampDescending" */
    int max_datapoints;  /* per call; 0 = AWS default (100,800) */
};

struct cw_metric_result {
    char *id;
    char *label;
    char *status_code;  /* "Complete", "PartialData", ... */
    double *timestamps; /* epoch seconds, n of them */
    double *values;
    size_t n;
};

struct cw_metric_data {
    struct cw_metric_result *results;
    size_t nresults;
    int calls; /* AWS calls made (batches x pages) */
};

struct cw_owned_dimension {
    char *name;
    char *value;
};

struct cw_metric {
    char *namespace_;
    char *metric_name;
    struct cw_owned_dimension *dims;
    size_t ndims;
};

struct cw_metric_list {
    struct cw_metric *items;
    size_t n;
};

struct cw_list_metrics_input {
    const char *namespace_; /* optional filters */
    const char *metric_name;
    const struct cw_dimension *dims; /* value NULL = any value */
    size_t ndims;
    int recently_active; /* 1 = "PT3H" */
};

int cw_get_metric_data(struct aws_client *c, const struct cw_get_metric_data_input *in,
                       struct cw_metric_data *out, struct aws_api_error *err);
void cw_metric_data_cleanup(struct cw_metric_data *x);

int cw_list_metrics(struct aws_client *c, const struct cw_list_metrics_input *in,
                    struct cw_metric_list *out, struct aws_api_error *err);
void cw_metric_list_cleanup(struct cw_metric_list *x);

#endif
