/*
 * watch_schedule.c - the watch.cycle schedule (see watch_schedule.h).
 */
#include "service/domain/watch_schedule.h"

#include <pthread.h>
#include <stdlib.h>

#include "jobs/queue.h"
#include "service/core/log.h"

static long s_interval_s = 300;
static pthread_once_t s_interval_once = PTHREAD_ONCE_INIT;

static void load_interval(void)
{
    const char *v = getenv("FLEETWARDEN_WATCH_INTERVAL");
    char *end = 0;
    long x = v && *v ? strtol(v, &end, 10) : 300;
    if (v && *v && (*end || (x != 0 && (x < 60 || x > 86400)))) {
        log_msg(LOG_WARN, "FLEETWARDEN_WATCH_INTERVAL must be 0 or 60..86400 seconds; using 300");
        x = 300;
    }
    s_interval_s = x;
}

long watch_interval_s(void)
{
    pthread_once(&s_interval_once, load_interval);
    return s_interval_s;
}

int watch_schedule_install(void)
{
    if (watch_interval_s() == 0)
        return 0;
    return jobs_schedule_upsert(WATCH_SCHEDULE_NAME, "watch.cycle", "{\"reason\":\"schedule\"}", watch_interval_s(), 0);
}
