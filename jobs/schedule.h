/*
 * schedule.h - recurring schedules: parsing and the next-tick rule.
 * Pure functions, unit-tested; the scheduler thread (scheduler.c) and the
 * tick script (lua/tick.lua) do the rest.
 *
 * A schedule runs every N seconds (slots aligned to multiples of N since
 * the epoch) or daily at HH:MM UTC. After downtime the next tick is the
 * first slot after now: missed slots are collapsed into the one run that
 * is due now, never replayed one by one.
 */
#ifndef FW_JOBS_SCHEDULE_H
#define FW_JOBS_SCHEDULE_H

struct schedule_spec {
    long every_s;  /* > 0 for "every N seconds", else 0 */
    int daily_min; /* minute of the UTC day for "daily HH:MM", else -1 */
};

/* Parses "HH:MM" (00:00..23:59) into a minute of the day. 0 or FW_EINVAL. */
int schedule_parse_daily(const char *s, int *minute_of_day);
/* 0 when exactly one of every_s (1..31 days) / daily_min is set, else FW_EINVAL. */
int schedule_spec_check(const struct schedule_spec *s);
/* The first slot strictly after now_ms (epoch ms). */
long long schedule_next_ms(const struct schedule_spec *s, long long now_ms);

#endif
