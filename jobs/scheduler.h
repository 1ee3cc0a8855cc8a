/*
 * scheduler.h - the scheduler/reaper thread (runtime_internal.h declares
 * its body, scheduler__main). Recurring schedules are created with
 * jobs_schedule_upsert (queue.h). Nothing else is public.
 *
 * Leaderless: every process may run this thread. Schedule ticks are
 * claimed with a compare-and-set on the due time (lua/tick.lua) and the
 * reaper runs at most once per FLEETWARDEN_REAPER_MS cluster-wide (a
 * SET NX PX gate), so more copies add no duplicate work.
 */
#ifndef FW_JOBS_SCHEDULER_H
#define FW_JOBS_SCHEDULER_H

/* The job id of a schedule's slot: "s_<name>_<slot ms>". */
void scheduler_job_id(const char *name, long long slot_ms, char *out, unsigned long outlen);

#endif
