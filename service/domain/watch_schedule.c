/*
 * watch_schedule.c - the watch.cycle schedule (see watch_schedule.h).
 */
#include "service/domain/watch_schedule.h"

#include "jobs/queue.h"
#include "service/core/config.h"

long watch_interval_s(void)
{
    return config_get()->watch_interval_s;
}

int watch_schedule_install(void)
{
    if (watch_interval_s() == 0)
        return 0;
    return jobs_schedule_upsert(WATCH_SCHEDULE_NAME, "watch.cycle", "{\"reason\":\"schedule\"}",
                                watch_interval_s(), 0);
}
