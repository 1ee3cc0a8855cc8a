/*
 * jobs.c - the jobs API: list, read (with long-poll), cancel, retry.
 *
 * Handlers are thin: parse -> validate -> one jobs/ call -> render. The
 * JSON of a job is made from the field table of jobs/job_record.h
 * (job_render for one job, job_render_text for a list page), so the list
 * and the single view cannot drift. A long poll (?wait=N, at most 30 s) parks its
 * request (no thread held, service/http/http.h) and is woken by the event
 * hub (jobs/event_hub.h: one reader of the event log per process) when the
 * job reaches a terminal state, or at its deadline; it answers with the job
 * as it is then. Each token may have FLEETWARDEN_MAX_LONG_POLLS_PER_TOKEN
 * waiting, the process FLEETWARDEN_MAX_LONG_POLLS (429 / 503 beyond).
 */
#include "jobs.h"

#include "idempotency.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "routes/job_scopes.h"
#include "jobs/event_hub.h"
#include "jobs/queue.h"
#include "jobs/queue_events.h"
#include "service/core/buf.h"
#include "service/core/clock.h"
#include "service/core/err.h"
#include "service/core/json_out.h"

#define JOBS_WAIT_MAX_S 30

/* Parses ?wait= (0..30 seconds). 0, or FW_EINVAL after answering 400. */
static int parse_wait(struct http_req *req, struct http_resp *resp, int *wait_s)
{
    const char *w = http_req_query(req, "wait");
    *wait_s = 0;
    if (!w)
        return 0;
    char *end = NULL;
    long v = strtol(w, &end, 10);
    if (end == w || *end != '\0' || v < 0 || v > JOBS_WAIT_MAX_S) {
        http_problem(resp, 400, 0, "invalid query parameter");
        http_problem_field(resp, "wait", "seconds to wait for the job to finish: 0 to 30");
        return FW_EINVAL;
    }
    *wait_s = (int)v;
    return 0;
}

struct long_poll {
    char id[JOB_ID_MAX];
    long long until_ms;       /* monotonic */
    struct http_waker *waker; /* own reference: the hub wakes it */
    struct hub_sub *sub;
};

static void wake_poll(void *ctx)
{
    http_waker_wake(ctx);
}

static void poll_done(void *ud)
{
    struct long_poll *p = ud;
    event_hub_unsubscribe(p->sub); /* after this the hub never wakes it again */
    http_waker_unref(p->waker);
}

/* Answers with the job when it is finished (or gone, or wait is over): 1; else 0 (the job
 * is still running and there is time: nothing answered). */
static int answer_job(struct http_req *req, struct http_resp *resp, const char *id, int wait_over)
{
    json_t *job = NULL;
    int rc = jobs_get(id, &job);
    if (rc == FW_ENOTFOUND) {
        http_problem(resp, 404, 0, "no such job");
        return 1;
    }
    if (rc) {
        http_problem_store(resp, rc);
        return 1;
    }
    if (!wait_over && !http_req_closing(req) &&
        !job_state_terminal(json_string_value(json_object_get(job, "state")))) {
        json_decref(job);
        return 0;
    }
    http_resp_json(resp, 200, job);
    return 1;
}

static void poll_resume(struct http_req *req, struct http_resp *resp, void *ud)
{
    struct long_poll *p = ud;
    long long left = p->until_ms - clock_mono_ms();
    if (!answer_job(req, resp, p->id, left <= 0))
        http_req_park(req, (int)left, poll_resume, p);
}

static void get_job(struct http_req *req, struct http_resp *resp)
{
    const char *id = http_req_param(req, "id");
    int wait_s = 0;
    if (parse_wait(req, resp, &wait_s) || answer_job(req, resp, id, wait_s == 0))
        return;
    if (http_req_hold(req, resp, HTTP_HOLD_LONG_POLL))
        return;
    struct long_poll *p = http_req_alloc(req, sizeof *p);
    snprintf(p->id, sizeof p->id, "%s", id);
    p->until_ms = clock_mono_ms() + wait_s * 1000LL;
    p->waker = http_req_waker(req);
    http_waker_ref(p->waker);
    p->sub =
        event_hub_subscribe(p->id, wake_poll, p->waker); /* before the next look: no wake lost */
    http_req_on_done(req, poll_done, p);
    poll_resume(req, resp, p);
}

/* Checks the list filters; 0, or FW_EINVAL after answering 400. */
static int parse_filter(struct http_req *req, struct http_resp *resp, struct jobs_filter *f)
{
    f->state = http_req_query(req, "state");
    f->type = http_req_query(req, "type");
    f->resource = http_req_query(req, "resource");
    int bad = 0;
    if (f->state && !job_state_valid(f->state)) {
        bad = 1;
        http_problem(resp, 400, 0, "invalid query parameter");
        http_problem_field(resp, "state",
                           "one of queued, scheduled, running, succeeded, failed, dead, canceled");
    }
    if (f->type && !job_type_valid(f->type)) {
        if (!bad)
            http_problem(resp, 400, 0, "invalid query parameter");
        bad = 1;
        http_problem_field(resp, "type", "a job type such as claim.create");
    }
    if (f->resource && !job_token_valid(f->resource, JOB_RESOURCE_MAX)) {
        if (!bad)
            http_problem(resp, 400, 0, "invalid query parameter");
        bad = 1;
        http_problem_field(resp, "resource", "a resource such as claim:abc");
    }
    return bad ? FW_EINVAL : 0;
}

static void list_jobs(struct http_req *req, struct http_resp *resp)
{
    struct jobs_filter f;
    int limit = 50;
    if (parse_filter(req, resp, &f) || http_req_limit(req, resp, &limit))
        return;
    struct buf body;
    char next[32] = "";
    buf_init(&body, (size_t)1 << 30);
    int rc = buf_puts(&body, "{\"items\":");
    rc = rc ? rc : jobs_list_text(&f, limit, http_req_query(req, "cursor"), &body, next);
    if (rc == FW_EINVAL) {
        http_problem(resp, 400, 0, "invalid query parameter");
        http_problem_field(resp, "cursor", "use the nextCursor of the previous page");
    } else if (rc) {
        http_problem_store(resp, rc);
    } else {
        /* The text of {"items": [...], "nextCursor": string|null}, as the tree was. */
        rc = buf_puts(&body, ",\"nextCursor\":");
        rc = rc        ? rc
             : next[0] ? json_out_string(&body, next, strlen(next))
                       : buf_puts(&body, "null");
        rc = rc ? rc : buf_puts(&body, "}");
        if (rc)
            http_problem_store(resp, rc);
        else
            http_resp_raw(resp, 200, "application/json", body.ptr, body.len);
    }
    buf_free(&body);
}

/* Answers a control action: the job as it is now, or the error. */
static void answer_control(struct http_resp *resp, const char *id, int rc, int status)
{
    json_t *job = NULL;
    if (rc == FW_ENOTFOUND) {
        http_problem(resp, 404, 0, "no such job");
        return;
    }
    if (rc == FW_ECONFLICT) {
        char detail[160] = "the job's state does not allow this";
        if (jobs_get(id, &job) == 0) {
            snprintf(detail, sizeof detail,
                     "the job is %s; this action is not allowed in that state",
                     json_string_value(json_object_get(job, "state")));
            json_decref(job);
        }
        http_problem(resp, 409, 0, detail);
        return;
    }
    if (!rc)
        rc = jobs_get(id, &job);
    if (rc) {
        http_problem_store(resp, rc);
        return;
    }
    http_resp_json(resp, status, job);
}

/* 0 when the caller's token has the scope that creating job id needed
 * (job_scopes.h); else answered 403/404/503. A retry or cancel never runs
 * with less than the request that made the job. */
static int may_control(struct http_req *req, struct http_resp *resp, const char *id)
{
    json_t *job = NULL;
    int rc = jobs_get(id, &job);
    if (rc == FW_ENOTFOUND) {
        http_problem(resp, 404, 0, "no such job");
        return rc;
    }
    if (rc) {
        http_problem_store(resp, rc);
        return rc;
    }
    const char *type = json_string_value(json_object_get(job, "type"));
    enum auth_scope need = job_scope_for(type);
    if (req->token.scope < need) {
        char d[200];
        snprintf(d, sizeof d,
                 "a %s job needs the '%s' scope to be canceled or retried; the token has '%s'",
                 type ? type : "?", auth_scope_name(need), auth_scope_name(req->token.scope));
        http_problem(resp, 403, 0, d);
        rc = FW_EFORBIDDEN;
    }
    json_decref(job);
    return rc;
}

static void cancel_job(struct http_req *req, struct http_resp *resp)
{
    const char *id = http_req_param(req, "id");
    int immediate = 0;
    if (may_control(req, resp, id))
        return;
    int rc = jobs_cancel(id, &immediate);
    /* 200: canceled now; 202: a running job stops at its next step. */
    answer_control(resp, id, rc, immediate ? 200 : 202);
}

static void retry_job(struct http_req *req, struct http_resp *resp)
{
    const char *id = http_req_param(req, "id");
    if (may_control(req, resp, id))
        return;
    int rc = jobs_retry(id);
    /* 202: queued again; it runs as soon as a worker is free. */
    answer_control(resp, id, rc, 202);
}

IDEMPOTENCY_ONCE(cancel_job)
IDEMPOTENCY_ONCE(retry_job)

static const struct route s_routes[] = {
    {"GET", "/v1/jobs", SCOPE_READ, 0, list_jobs},
    {"GET", "/v1/jobs/{id}", SCOPE_READ, 0, get_job},
    {"POST", "/v1/jobs/{id}/cancel", SCOPE_OPERATE, 0, cancel_job_once},
    {"POST", "/v1/jobs/{id}/retry", SCOPE_OPERATE, 0, retry_job_once},
};

ROUTE_TABLE(routes_jobs_table, s_routes);
