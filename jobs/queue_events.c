/*
 * queue_events.c - a blocking wait for one job (jobs_wait), for tools that
 * may block their thread; the API's long polls and event streams use the
 * process's event hub instead (event_hub.h).
 *
 * The waiter subscribes to P done:ID: a subscribed hiredis connection only
 * receives pushes, so it owns one (store_conn_open) and reads it with
 * poll(2) deadlines instead of the 5 s command timeout; buffered replies
 * are drained before polling the socket again.
 */
#include "queue_events.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <hiredis/hiredis.h>

#include "job.h"
#include "service/core/clock.h"
#include "job_record.h"
#include "service/core/err.h"
#include "service/core/mem.h"
#include "service/redis/reply.h"
#include "service/redis/store_conn.h"

/* Reads one reply within timeout_ms: 1 got it, 0 timeout, FW_EUNAVAILABLE. */
static int read_reply(redisContext *c, int timeout_ms, redisReply **out)
{
    long long until = clock_mono_ms() + timeout_ms;
    for (;;) {
        void *r = NULL;
        if (redisGetReplyFromReader(c, &r) != REDIS_OK)
            return FW_EUNAVAILABLE;
        if (r) {
            *out = r;
            return 1;
        }
        long long left = until - clock_mono_ms();
        if (left <= 0)
            return 0;
        struct pollfd pfd = {c->fd, POLLIN, 0};
        int pr = poll(&pfd, 1, (int)left);
        if (pr < 0)
            return FW_EUNAVAILABLE;
        if (pr == 0)
            return 0;
        if (redisBufferRead(c) != REDIS_OK)
            return FW_EUNAVAILABLE;
    }
}

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
    redisReply *r = store_conn_cmd(&rc, "HGET %sjob:%s s", store_prefix(), id);
    if (!r)
        return rc;
    const char *name = r->type == REDIS_REPLY_STRING ? job_record_state_name(r->str) : NULL;
    rc = name ? 1 : r->type == REDIS_REPLY_NIL ? 0 : FW_EREDIS;
    if (rc == 1)
        snprintf(st, 16, "%s", name);
    freeReplyObject(r);
    return rc;
}

static redisContext *subscribe_done(const char *id)
{
    redisContext *c = store_conn_open(2000);
    if (!c)
        return NULL;
    int rc;
    redisReply *r = store_conn_cmd_on(c, &rc, "SUBSCRIBE %sdone:%s", store_prefix(), id);
    int ok = r && r->type == REDIS_REPLY_ARRAY;
    if (r)
        freeReplyObject(r);
    if (!ok) {
        store_conn_free(c);
        return NULL;
    }
    return c;
}

int jobs_wait(const char *id, int timeout_ms)
{
    if (!job_token_valid(id, JOB_ID_MAX))
        return FW_ENOTFOUND;
    redisContext *c = subscribe_done(id); /* before the first check: no lost wake-up */
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
        int slice = left > 1000 ? 1000 : (int)left;
        redisReply *r = NULL;
        int got = c ? read_reply(c, slice, &r) : FW_EUNAVAILABLE;
        if (got == 1)
            freeReplyObject(r);
        if (got < 0) { /* no subscription: fall back to a short poll */
            store_conn_free(c);
            c = NULL;
            struct timespec ts = {0, 200 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    store_conn_free(c);
    return rc;
}
