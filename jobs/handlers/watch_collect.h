/*
 * watch_collect.h - the first half of a watch cycle: what to watch (fleets,
 * their active claims and templates, grouped by region and account) and
 * the CloudWatch reads (ListMetrics, then GetMetricData in batches of 500).
 *
 * A struct watch_plan lives for one handler call on one worker thread.
 */
#ifndef FW_JOBS_HANDLERS_WATCH_COLLECT_H
#define FW_JOBS_HANDLERS_WATCH_COLLECT_H

#include <jansson.h>
#include <stddef.h>

#include "aws/awserr.h"
#include "aws/cloudwatch.h"
#include "service/domain/store_claim.h"
#include "watch_query.h"
#include "service/domain/watch_rules.h"
#include "service/domain/watch_state.h"

enum watch_presence {
    WATCH_METRIC_UNKNOWN = -1,
    WATCH_METRIC_MISSING = 0,
    WATCH_METRIC_PRESENT = 1
};

/* The base query (registrations, Maximum) feeds totals and lastHour; the
 * others are per rule (WATCH_RULE_*), -1 when the rule is off. */
#define WATCH_Q_BASE WATCH_NRULES

/* How far back a claim's total before the window is read: CloudWatch
 * keeps 1-hour data points 455 days (GetMetricData reference), and data
 * older than 63 days only for periods that are multiples of an hour. */
#define WATCH_BASE_PERIOD_S (455 * 86400)
/* ListMetrics lists only metrics with data in the past two weeks. */
#define WATCH_LISTED_S (14.0 * 86400)
/* Margin for data points AWS publishes late (every minute, then CloudWatch). */
#define WATCH_LATE_S 900

struct watch_fleet {
    char *name;
    struct watch_cfg cfg;
    char *region, *role, *ext, *tmpl; /* owned; role/ext/tmpl may be NULL */
    size_t group;
    long q_fail, q_att; /* template failures (rule stat) and attempts, or -1 */
    int tmpl_metric;    /* enum watch_presence */
};

struct watch_claim {
    char id[CLAIM_ID_MAX];
    char *cert; /* certificateId, owned */
    long long expected;
    long long created_ms;
    size_t fleet;
    long q[WATCH_NRULES + 1];
    long bq;    /* its query in the group's baseline read, or -1 */
    int metric; /* enum watch_presence */
    double
        base; /* its total before the query window (WATCH_TOTAL_UNKNOWN when it cannot be known) */
    struct watch_claim_state ws;
};

struct watch_group {
    char *region, *role, *ext; /* borrowed from the first fleet of the group */
    struct watch_qset qs;
    long q_keys; /* CreateKeysAndCertificateFailed */
    int keys_metric;
    long q_csr;           /* the CSR failure metric, when the account has it */
    int csr_metric;       /* present when ListMetrics lists either name */
    const char *csr_name; /* the name it lists (AWS's guide has two), or NULL */
    struct cw_metric_data data;
    long *res; /* query index -> result index or -1 */
    /* the baseline read: claims whose total before the window is not in
     * their state, each one Maximum over what CloudWatch keeps */
    struct watch_qset bqs;
    struct cw_metric_data bdata;
    int gmd_calls, lm_calls;
    size_t nclaims_missing;
    int failed;      /* 1: not read (error below); its claims are not evaluated */
    char error[300]; /* "Code: message" of a failure no retry can fix */
};

struct watch_plan {
    struct watch_fleet *f;
    size_t nf;
    struct watch_claim *c;
    size_t nc, capc;
    struct watch_group *g;
    size_t ng;
    double now_s, start_s, end_s; /* evaluation time and the query window */
};

/* Loads every fleet with the watch enabled and its active and rotating
 * claims that have a certificate, grouped by (region, role, external id),
 * with each claim's state, and builds each group's queries. now_s is the
 * evaluation time. */
int watch_plan_load(struct watch_plan *p, double now_s);
void watch_plan_cleanup(struct watch_plan *p);

/* Reads the group's metrics: ListMetrics for presence, then GetMetricData
 * over the window, then (only for claims whose total before the window
 * the state does not hold) GetMetricData over what CloudWatch keeps before
 * it; sets each claim's base. AWS calls are counted in the group. 0, or
 * the FW_E* of the failure with err filled (throttling included: the job
 * retries the whole read). */
int watch_group_fetch(struct watch_plan *p, size_t gi, struct aws_api_error *err);

/* The series of query q of group gi (empty when q < 0 or no data). */
struct watch_series watch_plan_series(const struct watch_plan *p, size_t gi, long q);

#endif
