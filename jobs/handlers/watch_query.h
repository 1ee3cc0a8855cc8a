/*
 * watch_query.h - the CloudWatch metric queries of one watch group (one
 * region and account), built without AWS: pure, unit-tested.
 *
 * Each query gets the id "q<index>", so a result maps back to its query
 * in O(1). Queries of one owner (a claim, or a fleet's template) that ask
 * for the same metric, statistic and period are sent once and shared by
 * the rules that need them, so a claim whose rules all use the defaults
 * costs one query, and 1,200 claims fit in three GetMetricData calls.
 */
#ifndef FW_JOBS_HANDLERS_WATCH_QUERY_H
#define FW_JOBS_HANDLERS_WATCH_QUERY_H

#include <stddef.h>

#include "aws/cloudwatch.h"

#define WATCH_NS "AWS/IoT"
#define WATCH_M_REG "ApproximateNumberOfThingsRegistered"
#define WATCH_M_FAIL "RegisterThingFailed"
#define WATCH_M_KEYS "CreateKeysAndCertificateFailed"
/* The CSR failure metric: copies of AWS's guide name it either way; it is
 * queried only under the name ListMetrics lists. */
#define WATCH_CSR_NAMES 2
extern const char *const watch_csr_names[WATCH_CSR_NAMES];
#define WATCH_D_CLAIM "ClaimCertificateId"
#define WATCH_D_TEMPLATE "TemplateName"

enum watch_metric { WATCH_MET_REG = 0, WATCH_MET_FAIL, WATCH_MET_KEYS, WATCH_MET_CSR };

struct watch_q {
    enum watch_metric metric;
    long owner; /* claim or fleet index; -1 for the account */
    int period_s;
    char stat[16];
    const char *dim_value;   /* borrowed; NULL for the account metric */
    const char *metric_name; /* borrowed; NULL = the metric's usual name */
};

struct watch_qset {
    struct watch_q *q;
    size_t n, cap;
    /* built by watch_qset_build, parallel to q */
    struct cw_metric_query *cw;
    struct cw_dimension *dims;
    char (*ids)[16];
};

/* Adds a query unless the same owner already has one with the same
 * metric, stat and period (checked against its last `window` queries).
 * Returns the query's index. */
size_t watch_qset_add(struct watch_qset *s, enum watch_metric m, long owner, const char *stat,
                      int period_s, const char *dim_value, size_t window);
/* Fills the cw_* arrays (rebuilt on every call; borrowed strings must
 * outlive the set). */
void watch_qset_build(struct watch_qset *s);
void watch_qset_cleanup(struct watch_qset *s);
/* Index of query id "q<index>" or -1. */
long watch_qset_index(const char *id);
/* AWS calls a set of n queries needs at the least: ceil(n / 500). */
size_t watch_qset_min_calls(size_t n);

#endif
