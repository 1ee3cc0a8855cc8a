/*
 * events.c - GET /v1/events: job and incident changes as server-sent events.
 *
 * Every stream of the process reads the same in-memory ring, filled by one
 * reader of the event log (jobs/event_hub.h: the capped stream of the last
 * ~10,000 changes), so a thousand clients cost one Redis connection, not a
 * thousand. A stream with nothing to send parks its connection (no thread
 * held, service/http/http.h) and is woken when events arrive; each is sent as
 *   id: <log id>
 *   event: job | incident
 *   data: {"type":"job","id","state","jobType","resource","ts"}
 *         {"type":"incident","id","state","change","fleet","resource","claimId","rule","job","ts"}
 * (the SSE event name is the data's "type"; incident events are written
 * by service/domain/store_watch.c). A ": ping" comment goes out after 15 s of
 * silence so proxies keep the connection (and a client that is gone is
 * noticed). A client that reconnects with Last-Event-ID gets what it missed
 * (as far as the log reaches: what the ring no longer holds is read from the
 * log with a short XRANGE). Optional filters: ?event=job|incident, plus at
 * most one of ?type=JOBTYPE (job events only), ?resource=R (a job's resource
 * or an incident's subject, e.g. claim:ID), ?id=ID (a job or an incident).
 * Each token may hold FLEETWARDEN_MAX_STREAMS_PER_TOKEN streams, the process
 * FLEETWARDEN_MAX_STREAMS (429 / 503 beyond). The stream ends within about
 * a second of the deletion of the token that opened it: the hub watches the
 * deletion counter and wakes every stream when it moves (token_watch.h).
 */
#include "events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jobs/event_hub.h"
#include "jobs/job.h"
#include "service/core/buf.h"
#include "service/core/clock.h"
#include "service/core/err.h"
#include "service/core/mem.h"
#include "service/core/service.h"
#include "service/domain/token_watch.h"

#define EVENTS_PING_MS 15000 /* a ping after this much silence */
#define EVENTS_BATCH 64      /* events formatted per call at most */
#define EVENTS_REPLAY 100    /* events read from the log per XRANGE */

struct sse {
    struct fw_service *svc;       /* borrowed: ends the stream at shutdown */
    struct http_waker *waker;     /* own reference: the hub wakes it */
    struct hub_sub *sub;          /* owned */
    char last[JOBS_EVENT_ID_MAX]; /* the last event looked at ("" until the first call) */
    struct buf pending;           /* formatted bytes not yet sent */
    size_t off;
    long long sent_ms;   /* when bytes last went out */
    char filter_key[16]; /* "jobType", "resource", "id" or "" */
    char filter_val[JOB_RESOURCE_MAX];
    char kind[16];         /* ?event=: "job", "incident" or "" (both) */
    int failed;            /* a replay read failed: end the stream */
    struct token_watch tw; /* the caller's token: deleted, the stream ends */
};

static void sse_free(void *ud)
{
    struct sse *s = ud;
    event_hub_unsubscribe(s->sub); /* after this the hub never wakes it again */
    http_waker_unref(s->waker);
    buf_free(&s->pending);
    free(s);
}

/* 1 when the event passes the client's filters. */
static int sse_match(const struct sse *s, const struct hub_event *e)
{
    if (s->kind[0] && strcmp(s->kind, e->type))
        return 0;
    if (!s->filter_key[0])
        return 1;
    const char *got = !strcmp(s->filter_key, "jobType")    ? e->job_type
                      : !strcmp(s->filter_key, "resource") ? e->resource
                                                           : e->eid;
    return got[0] && !strcmp(got, s->filter_val);
}

/* Takes one event: formats it when it matches. */
static void sse_take(const struct hub_event *e, void *ud)
{
    struct sse *s = ud;
    snprintf(s->last, sizeof s->last, "%s", e->id);
    if (!sse_match(s, e))
        return;
    char head[JOBS_EVENT_ID_MAX + 40];
    snprintf(head, sizeof head, "id: %s\nevent: %s\ndata: ", e->id, e->type);
    if (buf_puts(&s->pending, head) || buf_puts(&s->pending, e->json) ||
        buf_puts(&s->pending, "\n\n"))
        s->failed = 1;
}

/* Formats what there is to send: at most a batch from the ring, or one read of the log (at most
 * EVENTS_REPLAY events) when the ring no longer holds what follows the client's last event. One
 * read a call: its events go out before the next is read, so a client far behind costs one short
 * XRANGE a call and the buffer holds one read at most (a call once went on reading up to 64 times,
 * ~6,400 events, overflowed the buffer and ended the stream before anything was sent: a client
 * that reconnected from an old event got nothing, every time). 1 when more may follow at once
 * (the batch or the read is done, whatever it formatted), 0 when the client is up to date. */
static int sse_fill(struct sse *s)
{
    struct hub_event e;
    for (int n = 0; n < EVENTS_BATCH && !s->failed; n++) {
        int rc = event_hub_next(s->last, &e);
        if (rc == 0)
            return 0;
        if (rc == 2) {
            char before[JOBS_EVENT_ID_MAX];
            snprintf(before, sizeof before, "%s", s->last);
            if (jobs_events_range(before, EVENTS_REPLAY, sse_take, s))
                s->failed = 1;
            else if (!strcmp(before,
                             s->last)) /* trimmed from the log meanwhile: go on from the ring */
                event_hub_skip_gap(s->last);
            return 1;
        }
        sse_take(&e, s);
        free(e.json);
    }
    return 1;
}

static long sse_drain(struct sse *s, char *buf, size_t max)
{
    size_t n = s->pending.len - s->off < max ? s->pending.len - s->off : max;
    memcpy(buf, s->pending.ptr + s->off, n);
    s->off += n;
    if (s->off == s->pending.len) {
        s->pending.len = 0;
        s->off = 0;
    }
    s->sent_ms = clock_mono_ms();
    return (long)n;
}

static long sse_next(void *ud, char *buf, size_t max)
{
    static const char ping[] = ": ping\n\n";
    struct sse *s = ud;
    if (atomic_load(&s->svc->shutting_down) || s->failed ||
        token_watch_gone_at(&s->tw, event_hub_watched()))
        return -1;
    int more = s->pending.len == 0 && sse_fill(s);
    if (s->failed)
        return -1;
    if (s->pending.len)
        return sse_drain(s, buf, max);
    if (more) { /* all filtered out, and more follows: called again at once, not at the next event
                 */
        http_waker_wake(s->waker);
        return HTTP_STREAM_WAIT;
    }
    long long idle = clock_mono_ms() - s->sent_ms;
    if (idle >= EVENTS_PING_MS && max >= sizeof ping - 1) {
        memcpy(buf, ping, sizeof ping - 1);
        s->sent_ms = clock_mono_ms();
        return (long)(sizeof ping - 1);
    }
    http_waker_deadline(s->waker, (int)(EVENTS_PING_MS - idle));
    return HTTP_STREAM_WAIT;
}

static void wake_stream(void *ctx)
{
    http_waker_wake(ctx);
}

/* Reads ?event=; 0, or -1 after answering 400. */
static int sse_kind(struct http_req *req, struct http_resp *resp, struct sse *s)
{
    const char *v = http_req_query(req, "event");
    if (v && strcmp(v, "job") && strcmp(v, "incident")) {
        http_problem(resp, 400, 0, "invalid query parameter");
        http_problem_field(resp, "event", "must be job or incident");
        return -1;
    }
    snprintf(s->kind, sizeof s->kind, "%s", v ? v : "");
    return 0;
}

/* Reads the optional filters; 0, or -1 after answering 400. */
static int sse_filter(struct http_req *req, struct http_resp *resp, struct sse *s)
{
    if (sse_kind(req, resp, s))
        return -1;
    static const char *const params[][2] = {
        {"type", "jobType"}, {"resource", "resource"}, {"id", "id"}};
    for (size_t i = 0; i < sizeof params / sizeof params[0]; i++) {
        const char *v = http_req_query(req, params[i][0]);
        if (!v)
            continue;
        if (!job_token_valid(v, sizeof s->filter_val) || s->filter_key[0]) {
            http_problem(resp, 400, 0, "invalid query parameter");
            http_problem_field(resp, params[i][0], "one filter at most: type, resource or id");
            return -1;
        }
        snprintf(s->filter_key, sizeof s->filter_key, "%s", params[i][1]);
        snprintf(s->filter_val, sizeof s->filter_val, "%s", v);
    }
    return 0;
}

static void get_events(struct http_req *req, struct http_resp *resp)
{
    struct sse *s = xcalloc(1, sizeof *s);
    s->svc = req->svc;
    token_watch_init(&s->tw, req->token.id);
    buf_init(&s->pending, (size_t)1 << 20);
    const char *last = http_req_header(req, "Last-Event-ID");
    int rc = sse_filter(req, resp, s);
    if (!rc && last && !jobs_event_id_valid(last)) {
        http_problem(resp, 400, 0, "invalid Last-Event-ID");
        http_problem_field(resp, "Last-Event-ID", "the id of an event this stream sent");
        rc = -1;
    }
    if (!rc && !event_hub_ready()) {
        http_problem_store(resp, FW_EUNAVAILABLE); /* the hub has not reached Redis yet */
        rc = -1;
    }
    if (rc || http_req_hold(req, resp, HTTP_HOLD_STREAM)) {
        buf_free(&s->pending);
        free(s);
        return;
    }
    snprintf(s->last, sizeof s->last, "%s", last ? last : "");
    if (!s->last[0])
        event_hub_next(s->last, 0); /* from now on: the hub's newest position */
    s->sent_ms = clock_mono_ms();
    s->tw.epoch =
        event_hub_watched(); /* the token was just found: look again when deletions move */
    s->waker = http_req_waker(req);
    http_waker_ref(s->waker);
    s->sub = event_hub_subscribe(0, wake_stream, s->waker);
    http_resp_header(resp, "Cache-Control", "no-store");
    http_resp_header(resp, "X-Accel-Buffering", "no");
    http_resp_stream(resp, 200, "text/event-stream", sse_next, sse_free, s);
}

static const struct route s_routes[] = {
    {"GET", "/v1/events", SCOPE_READ, 0, get_events},
};

ROUTE_TABLE(routes_events_table, s_routes);
