/*
 * events.c - GET /v1/events: job and incident changes as server-sent events.
 *
 * Each client gets its own reader of the event log (jobs_events_open: the
 * capped stream of the last ~10,000 changes), read from this connection's
 * own thread (the server runs one thread per connection, so blocking here
 * is fine). Every event is sent as
 *   id: <log id>
 *   event: job | incident
 *   data: {"type":"job","id","state","jobType","resource","ts"}
 *         {"type":"incident","id","state","change","fleet","resource","claimId","rule","job","ts"}
 * (the SSE event name is the data's "type"; incident events are written
 * by service/domain/store_watch.c). A ": ping" comment goes out after 15 s of
 * silence so proxies keep the connection. The stream ends within about
 * two seconds of the deletion of the token that opened it (token_watch.h).
 * A client that reconnects with
 * Last-Event-ID gets what it missed (as far as the log reaches). Optional
 * filters: ?event=job|incident, plus at most one of ?type=JOBTYPE (job
 * events only), ?resource=R (a job's resource or an incident's subject,
 * e.g. claim:ID), ?id=ID (a job or an incident).
 */
#include "events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobs/job.h"
#include "jobs/queue_events.h"
#include "service/core/err.h"
#include "service/core/mem.h"
#include "service/core/service.h"
#include "service/domain/token_watch.h"

#define EVENTS_PING_MS 15000   /* a ping after this much silence */
#define EVENTS_READ_MS 1000    /* one blocking read of the log: shutdown and token checks between */

struct sse {
    struct jobs_events *ev;       /* owned subscription */
    struct fw_service *svc;       /* borrowed: ends the stream at shutdown */
    char *pending;                /* owned: formatted bytes not yet sent */
    size_t off, len;
    char filter_key[16];          /* "jobType", "resource", "id" or "" */
    char filter_val[JOB_RESOURCE_MAX];
    char kind[16];                /* ?event=: "job", "incident" or "" (both) */
    struct token_watch tw;        /* the caller's token: deleted, the stream ends */
};

static void sse_free(void *ud)
{
    struct sse *s = ud;
    jobs_events_close(s->ev);
    free(s->pending);
    free(s);
}

/* 1 when the event passes the client's filters; its type (the SSE event
 * name) into kind. */
static int sse_match(const struct sse *s, const char *msg, char kind[16])
{
    json_t *v = json_loads(msg, 0, NULL);
    const char *type = json_string_value(json_object_get(v, "type"));
    snprintf(kind, 16, "%s", type && (!strcmp(type, "job") || !strcmp(type, "incident")) ? type : "job");
    int ok = !s->kind[0] || !strcmp(s->kind, kind);
    if (ok && s->filter_key[0]) {
        const char *got = json_string_value(json_object_get(v, s->filter_key));
        ok = got && strcmp(got, s->filter_val) == 0;
    }
    json_decref(v);
    return ok;
}

/* Copies pending bytes out; returns how many. */
static long sse_drain(struct sse *s, char *buf, size_t max)
{
    size_t n = s->len - s->off < max ? s->len - s->off : max;
    memcpy(buf, s->pending + s->off, n);
    s->off += n;
    if (s->off == s->len) {
        free(s->pending);
        s->pending = NULL;
        s->off = s->len = 0;
    }
    return (long)n;
}

static long sse_ping(char *buf, size_t max)
{
    static const char ping[] = ": ping\n\n";
    if (max < sizeof ping - 1)
        return -1;
    memcpy(buf, ping, sizeof ping - 1);
    return (long)(sizeof ping - 1);
}

static long sse_next(void *ud, char *buf, size_t max)
{
    struct sse *s = ud;
    if (s->pending)
        return sse_drain(s, buf, max);
    char *msg = NULL, id[JOBS_EVENT_ID_MAX], kind[16];
    /* Short blocking reads so a shutdown, or the deletion of the caller's
     * token, ends the stream within ~1-2 s. */
    for (int waited_ms = 0, skipped = 0;; skipped++) {
        if (atomic_load(&s->svc->shutting_down) || token_watch_gone(&s->tw))
            return -1;
        int rc = jobs_events_next(s->ev, EVENTS_READ_MS, &msg, id);
        if (rc < 0)
            return -1;   /* Redis went away: end; the client reconnects with Last-Event-ID */
        if (rc == 1 && sse_match(s, msg, kind))
            break;
        free(msg);
        msg = NULL;
        waited_ms += rc == 0 ? EVENTS_READ_MS : 0;
        if (waited_ms >= EVENTS_PING_MS || skipped == 1000)
            return sse_ping(buf, max);
    }
    s->pending = xasprintf("id: %s\nevent: %s\ndata: %s\n\n", id, kind, msg);
    s->len = strlen(s->pending);
    free(msg);
    return sse_drain(s, buf, max);
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
    static const char *const params[][2] = {{"type", "jobType"}, {"resource", "resource"}, {"id", "id"}};
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
    if (sse_filter(req, resp, s)) {
        free(s);
        return;
    }
    const char *last = http_req_header(req, "Last-Event-ID");
    if (last && !jobs_event_id_valid(last)) {
        free(s);
        http_problem(resp, 400, 0, "invalid Last-Event-ID");
        http_problem_field(resp, "Last-Event-ID", "the id of an event this stream sent");
        return;
    }
    s->ev = jobs_events_open(last);
    if (!s->ev) {
        free(s);
        http_problem_store(resp, FW_EUNAVAILABLE);
        return;
    }
    http_resp_header(resp, "Cache-Control", "no-store");
    http_resp_header(resp, "X-Accel-Buffering", "no");
    http_resp_stream(resp, 200, "text/event-stream", sse_next, sse_free, s);
}

static const struct route s_routes[] = {
    {"GET", "/v1/events", SCOPE_READ, 0, get_events},
};

ROUTE_TABLE(routes_events_table, s_routes);
