/*
 * watch_state.h - what the misuse watch keeps of a claim between cycles,
 * as pure functions (no Redis, no AWS): unit-tested in tests/unit/watch.
 *
 * AWS publishes ApproximateNumberOfThingsRegistered as a running total, so
 * the registrations of a window are the highest total in it minus the
 * total before it. The cycle reads a window starting at an hour mark
 * (start); the total before start comes from the state when a previous
 * cycle recorded it for that very mark, otherwise from a read of what
 * CloudWatch keeps before start (watch_collect.c). Each cycle records the
 * total before its own start and before the next hour mark (the next
 * cycles' start), so a watch that runs at least hourly never needs that
 * read again. Nothing else is kept: the total itself is always AWS's.
 *
 * Stored as one line of text in P watch:claim:
 *   "v2 ewma n job prevEwma prevN metric h0 hw0 h1 hw1"
 * (an older "v1" line - a running total of summed data points - keeps its
 * moving average and loses the rest).
 */
#ifndef FW_SERVICE_DOMAIN_WATCH_STATE_H
#define FW_SERVICE_DOMAIN_WATCH_STATE_H

#include "jobs/job.h"
#include "service/domain/watch_rules.h"

struct watch_claim_state {
    double h0, hw0, h1,
        hw1; /* the total before hour mark h (WATCH_TOTAL_UNKNOWN: nothing readable); h 0 = none */
    double ewma, prev_ewma; /* baselineJump's moving average (prev: before the cycle job) */
    long n, prev_n;
    char job[JOB_ID_MAX]; /* the cycle that last moved the average */
    int metric;           /* the presence last written to the claim (enum watch_presence) */
};

/* Fills w from a stored line (NULL or unreadable: an empty state). */
void watch_state_parse(const char *s, struct watch_claim_state *w);
/* The line to store (allocated). */
char *watch_state_format(const struct watch_claim_state *w);

/* 1 and *base when the state holds the total before start. */
int watch_state_base(const struct watch_claim_state *w, double start_s, double *base);

/* Records the totals before start (base, the baseline the cycle used) and
 * before start + 3600 (from s, the claim's Maximum series from start on). */
void watch_state_advance(struct watch_claim_state *w, const struct watch_series *s, double base,
                         double start_s);

#endif
