/*
 * watch.c - POST /v1/watch/run: a misuse-watch cycle now.
 *
 * The cycle itself is a watch.cycle job (jobs/handlers/watch_cycle.c), so
 * the answer is 202 with the job. On-demand cycles share the resource
 * "watch": while one is queued or running, asking again returns that job
 * instead of queueing a second one. The recurring cycles come from the
 * scheduler (FLEETWARDEN_WATCH_INTERVAL). GET /v1/watch shows that
 * interval and the default settings (what a fleet without settings.watch
 * gets), so a portal can show them next to a fleet's overrides.
 */
#include "watch.h"

#include <stdio.h>
#include <string.h>

#include "idempotency.h"
#include "service/domain/watch_rules.h"
#include "service/domain/watch_schedule.h"
#include "jobs/queue.h"

/* The body may be absent or {} (nothing to choose yet). */
static int body_ok(struct http_req *req, struct http_resp *resp)
{
    json_t *b = http_req_optional_object(req);
    int ok = b && json_object_size(b) == 0;
    json_decref(b);
    if (!ok) {
        http_problem(resp, 400, 0, "the body must be empty or {}");
        http_problem_field(resp, "body", "no members are accepted");
    }
    return ok;
}

static void run_watch(struct http_req *req, struct http_resp *resp)
{
    if (!body_ok(req, resp))
        return;
    char id[JOB_ID_MAX], href[JOB_ID_MAX + 16];
    int existed = 0;
    struct job_spec spec = {
        .type = "watch.cycle", .payload_json = "{\"reason\":\"api\"}", .resource = "watch"};
    int rc = jobs_enqueue(&spec, id, &existed);
    if (rc) {
        http_problem_store(resp, rc);
        return;
    }
    snprintf(href, sizeof href, "/v1/jobs/%s", id);
    json_t *job = 0;
    const char *state = "queued";
    if (!jobs_get(id, &job) && json_string_value(json_object_get(job, "state")))
        state = json_string_value(json_object_get(job, "state"));
    http_resp_json(resp, 202,
                   json_pack("{s:{s:s, s:s, s:s}, s:b}", "job", "id", id, "state", state, "href",
                             href, "existing", existed));
    json_decref(job);
    http_resp_header(resp, "Location", href);
}

/* The same Idempotency-Key answers with the same cycle (idempotency.h). */
IDEMPOTENCY_ONCE(run_watch)

/* GET /v1/watch: the schedule and the settings every fleet starts from. */
static void get_watch(struct http_req *req, struct http_resp *resp)
{
    (void)req;
    struct watch_cfg cfg;
    watch_cfg_load(0, &cfg);
    http_resp_json(resp, 200,
                   json_pack("{s:I, s:o}", "intervalSeconds", (json_int_t)watch_interval_s(),
                             "defaults", watch_cfg_json(&cfg)));
}

static const struct route s_routes[] = {
    {"GET", "/v1/watch", SCOPE_READ, 0, get_watch},
    {"POST", "/v1/watch/run", SCOPE_OPERATE, 0, run_watch_once},
};

ROUTE_TABLE(routes_watch_table, s_routes);
