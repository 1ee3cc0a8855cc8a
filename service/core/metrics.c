/*
 * metrics.c - request counters and latency histograms in Prometheus format.
 *
 * Series are keyed by (method, route pattern, status). Route patterns come
 * from the static route table (or "unmatched"), so the number of series is
 * bounded by the table, not by what clients send. A mutex guards the
 * table; one lock per request is cheap next to the Redis round trip.
 */
#include "service/core/metrics.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/core/mem.h"

#define MAX_SERIES 512
#define MAX_ROUTES 128
#define MAX_COLLECTORS 16

static const double s_bounds[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                  0.5,   1,     2.5,  5,     10,   30};
#define NBOUNDS (sizeof s_bounds / sizeof s_bounds[0])

struct req_series {
    char method[8];
    const char *route;
    int status;
    unsigned long long count;
};

struct route_hist {
    const char *route;
    unsigned long long buckets[NBOUNDS]; /* cumulative at render time, per-bucket here */
    unsigned long long count;
    double sum;
};

struct metrics {
    pthread_mutex_t lock; /* guards everything below */
    struct req_series series[MAX_SERIES];
    int nseries;
    struct route_hist hists[MAX_ROUTES];
    int nhists;
    struct {
        metrics_collect_fn *fn;
        void *ud;
    } collectors[MAX_COLLECTORS];
    int ncollectors; /* written before threads start */
};

struct metrics *metrics_new(void)
{
    struct metrics *m = xcalloc(1, sizeof *m);
    pthread_mutex_init(&m->lock, 0);
    return m;
}

void metrics_free(struct metrics *m)
{
    if (!m)
        return;
    pthread_mutex_destroy(&m->lock);
    free(m);
}

static struct req_series *find_series(struct metrics *m, const char *method, const char *route,
                                      int status)
{
    for (int i = 0; i < m->nseries; i++) {
        struct req_series *s = &m->series[i];
        if (s->status == status && s->route == route && !strcmp(s->method, method))
            return s;
    }
    if (m->nseries == MAX_SERIES)
        return 0;
    struct req_series *s = &m->series[m->nseries++];
    snprintf(s->method, sizeof s->method, "%s", method);
    s->route = route;
    s->status = status;
    return s;
}

static struct route_hist *find_hist(struct metrics *m, const char *route)
{
    for (int i = 0; i < m->nhists; i++)
        if (m->hists[i].route == route)
            return &m->hists[i];
    if (m->nhists == MAX_ROUTES)
        return 0;
    struct route_hist *h = &m->hists[m->nhists++];
    h->route = route;
    return h;
}

void metrics_observe_request(struct metrics *m, const char *method, const char *route, int status,
                             double seconds)
{
    if (!m)
        return;
    /* Unknown methods are folded so clients cannot mint series. */
    static const char *const known[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
    const char *mth = "OTHER";
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (!strcmp(method, known[i]))
            mth = known[i];
    pthread_mutex_lock(&m->lock);
    struct req_series *s = find_series(m, mth, route, status);
    if (s)
        s->count++;
    struct route_hist *h = find_hist(m, route);
    if (h) {
        for (size_t i = 0; i < NBOUNDS; i++) {
            if (seconds <= s_bounds[i]) {
                h->buckets[i]++;
                break;
            }
        }
        h->count++;
        h->sum += seconds;
    }
    pthread_mutex_unlock(&m->lock);
}

void metrics_add_collector(struct metrics *m, metrics_collect_fn *fn, void *ud)
{
    if (m->ncollectors == MAX_COLLECTORS)
        return;
    m->collectors[m->ncollectors].fn = fn;
    m->collectors[m->ncollectors].ud = ud;
    m->ncollectors++;
}

static void render_hist(const struct route_hist *h, struct buf *out)
{
    unsigned long long cum = 0;
    for (size_t i = 0; i < NBOUNDS; i++) {
        cum += h->buckets[i];
        buf_printf(
            out, "fleetwarden_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
            h->route, s_bounds[i], cum);
    }
    buf_printf(out,
               "fleetwarden_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n",
               h->route, h->count);
    buf_printf(out, "fleetwarden_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", h->route,
               h->sum);
    buf_printf(out, "fleetwarden_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
               h->route, h->count);
}

void metrics_render(struct metrics *m, struct buf *out)
{
    buf_puts(
        out,
        "# HELP fleetwarden_build_info Build information.\n# TYPE fleetwarden_build_info gauge\n");
    buf_printf(out, "fleetwarden_build_info{version=\"%s\"} 1\n", FW_VERSION);
    buf_puts(out,
             "# HELP fleetwarden_http_requests_total HTTP requests by method, route and status.\n"
             "# TYPE fleetwarden_http_requests_total counter\n");
    pthread_mutex_lock(&m->lock);
    for (int i = 0; i < m->nseries; i++) {
        const struct req_series *s = &m->series[i];
        buf_printf(
            out, "fleetwarden_http_requests_total{method=\"%s\",route=\"%s\",status=\"%d\"} %llu\n",
            s->method, s->route, s->status, s->count);
    }
    buf_puts(out, "# HELP fleetwarden_http_request_duration_seconds Request latency by route.\n"
                  "# TYPE fleetwarden_http_request_duration_seconds histogram\n");
    for (int i = 0; i < m->nhists; i++)
        render_hist(&m->hists[i], out);
    pthread_mutex_unlock(&m->lock);
    for (int i = 0; i < m->ncollectors; i++)
        m->collectors[i].fn(out, m->collectors[i].ud);
}
