/*
 * queue_events.c - a blocking wait for one job (jobs_wait), for tools that
 * may block their thread; the API's long polls and event streams use the
 * process's event hub instead (event_hub.h).
 *
 * The waiter reads the event log (P events:log, the one event feed) on a
 * connection of its own, from the newest entry as it was before its first
 * look at the job (so no finish falls between the look and the read), and
 * looks at the job again when the log shows it finished or every second.
 */
#include "queue_events.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <hiredis/hiredis.h>

#include "event_hub.h"
#include "job.h"
#include "service/core/clock.h"
#include "job_record.h"
#include "service/core/err.h"
#include "service/redis/store_conn.h"

#define WAIT_RECHECK_MS 1000

int jobs_event_id_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0, dash = 0;
    if (n == 0 || n >= JOBS_EVENT_ID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '-' && i > 0 && i + 1 < n && !dash)
            dash = i;
        else if (s[i] < '0' || s[i] > '9')
            return 0;
    }
    return dash > 0;
}

/* The job's state name into st: 1 found, 0 not found, FW_EUNAVAILABLE, FW_EREDIS. */
static int job_state(const char *id, char st[16])
{
    int rc;
    redisReply *r = store_conn_cmd(&rc, "HGET %sjob:%s %s", store_prefix(), id,
                                   job_fields_table[JOB_F_STATE].stored);
    if (!r)
        return rc;
    const char *name = r->type == REDIS_REPLY_STRING ? job_record_state_name(r->str) : NULL;
    rc = name ? 1 : r->type == REDIS_REPLY_NIL ? 0 : FW_EREDIS;
    if (rc == 1)
        snprintf(st, 16, "%s", name);
    freeReplyObject(r);
    return rc;
}

/* A log reader of its own, positioned at the newest entry; NULL when Redis cannot be read. */
static redisContext *open_log(char pos[JOBS_EVENT_ID_MAX])
{
    redisContext *c = store_conn_open(2000);
    if (c && jobs_events_last(c, pos) != 0) {
        store_conn_free(c);
        c = NULL;
    }
    return c;
}

struct done_watch {
    const char *id;
    int seen; /* the log showed the job finished */
};

static void on_event(const struct hub_event *e, void *ud)
{
    struct done_watch *w = ud;
    if (!strcmp(e->type, "job") && !strcmp(e->eid, w->id) && job_state_terminal(e->state))
        w->seen = 1;
}

/* Reads the log on c until job id's finish shows up or ms pass: 0, or an FW_E* code. */
static int await_finish(redisContext *c, char pos[JOBS_EVENT_ID_MAX], const char *id, int ms)
{
    long long until = clock_mono_ms() + ms;
    struct done_watch w = {id, 0};
    for (long long left = ms; left > 0 && !w.seen; left = until - clock_mono_ms()) {
        int rc = jobs_events_read(c, pos, (int)left, on_event, &w);
        if (rc)
            return rc;
    }
    return 0;
}

int jobs_wait(const char *id, int timeout_ms)
{
    if (!job_token_valid(id, JOB_ID_MAX))
        return FW_ENOTFOUND;
    char pos[JOBS_EVENT_ID_MAX];
    redisContext *c = open_log(pos); /* before the first look: no lost finish */
    long long until = clock_mono_ms() + timeout_ms;
    int rc;
    for (;;) {
        char st[16];
        rc = job_state(id, st);
        if (rc <= 0) {
            rc = rc == 0 ? FW_ENOTFOUND : rc;
            break;
        }
        rc = 0;
        long long left = until - clock_mono_ms();
        if (job_state_terminal(st) || left <= 0)
            break;
        int slice = left > WAIT_RECHECK_MS ? WAIT_RECHECK_MS : (int)left;
        if (!c || await_finish(c, pos, id, slice) != 0) { /* no log reader: a short poll */
            store_conn_free(c);
            c = NULL;
            struct timespec ts = {0, 200 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    store_conn_free(c);
    return rc;
}
