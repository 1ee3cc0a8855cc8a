/*
 * watch_schedule.h - when the misuse watch runs: the recurring watch.cycle
 * schedule (FLEETWARDEN_WATCH_INTERVAL) that GET /v1/watch shows and the
 * job runtime's scheduler ticks. The cycle itself is the watch.cycle job
 * (jobs/handlers/watch_cycle.h).
 */
#ifndef FW_DOMAIN_WATCH_SCHEDULE_H
#define FW_DOMAIN_WATCH_SCHEDULE_H

#define WATCH_SCHEDULE_NAME "watch.cycle"

/* FLEETWARDEN_WATCH_INTERVAL (read once; default 300; 0 = no schedule, cycles only on demand;
 * otherwise 60..86400): seconds between scheduled cycles. Thread-safe. */
long watch_interval_s(void);

/* Creates or updates the recurring schedule (or leaves it when the interval is 0). Uses the
 * calling thread's Redis connection. 0, or the jobs_schedule_upsert error. */
int watch_schedule_install(void);

#endif
