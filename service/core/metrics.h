/*
 * metrics.h - Prometheus text exposition for /metrics.
 *
 * The server records each request (route pattern, status, duration); other
 * modules (jobs/) add their own series through collectors, which are
 * called at scrape time and append exposition text.
 */
#ifndef FW_METRICS_H
#define FW_METRICS_H

#include "service/core/buf.h"

struct metrics;

typedef void(metrics_collect_fn)(struct buf *out, void *ud);

struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);
/* Thread-safe. route is the matched pattern (static string) or "unmatched". */
void metrics_observe_request(struct metrics *m, const char *method, const char *route, int status,
                             double seconds);
/* Registers a collector (at most 16); call before threads start. */
void metrics_add_collector(struct metrics *m, metrics_collect_fn *fn, void *ud);
/* Renders everything in Prometheus text format 0.0.4. */
void metrics_render(struct metrics *m, struct buf *out);

#endif
