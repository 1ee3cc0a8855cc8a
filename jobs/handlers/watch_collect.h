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

enum watch_presence { WATCH_METRIC_UNKNOWN = -1, WATCH_METRIC_MISSING = 0, WATCH_METRIC_PRESENT = 1 };

/* The base query (registrations, Sum) feeds totals and lastHour; the
 * others are per rule (WATCH_RULE_*), -1 when the rule is off. */
#define WATCH_Q_BASE WATCH_NRULES

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
    size_t fleet;
    long q[WATCH_NRULES + 1];
    int metric; /* enum watch_presence */
};

struct watch_group {
    char *region, *role, *ext; /* borrowed from the first fleet of the group */
    struct watch_qset qs;
    long q_keys; /* CreateKeysAndCertificateFailed */
    int keys_metric;
    long q_csr; /* CreateCertificateFromCsrFailed, when the account has it */
    int csr_metric;
    struct cw_metric_data data;
    long *res; /* query index -> result index or -1 */
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
 * and builds each group's queries. now_s is the evaluation time. */
int watch_plan_load(struct watch_plan *p, double now_s);
void watch_plan_cleanup(struct watch_plan *p);

/* Reads the group's metrics: ListMetrics for presence, then GetMetricData
 * (AWS calls counted in the group). 0, or the FW_E* of the failure with
 * err filled (throttling included: the job retries the whole read). */
int watch_group_fetch(struct watch_plan *p, size_t gi, struct aws_api_error *err);

/* The series of query q of group gi (empty when q < 0 or no data). */
struct watch_series watch_plan_series(const struct watch_plan *p, size_t gi, long q);

#endif
