/*
 * queue_events.h - job state changes as they happen: long-poll waits for
 * one job and the event feed behind GET /v1/events.
 *
 * Every state-change script publishes {"type":"job","id","state",
 * "jobType","resource","ts"} on channel P events, and the id on
 * P done:ID when the job finishes. Each subscription or wait uses its own
 * Redis connection (store_conn_open), so it may block its thread.
 * Pub/sub is fire-and-forget: a client that was not connected misses
 * events; it re-reads the jobs it cares about with GET /v1/jobs.
 */
#ifndef FW_JOBS_QUEUE_EVENTS_H
#define FW_JOBS_QUEUE_EVENTS_H

/* Waits until job id is finished (succeeded, dead or canceled), at most
 * timeout_ms, woken by pub/sub with a 1 s re-check as a safety net.
 * 0 (finished, or the time is up: read the job afterwards), FW_ENOTFOUND,
 * FW_EREDIS. Blocks the calling thread. */
int jobs_wait(const char *id, int timeout_ms);

struct jobs_events;

/* Subscribes to the event channel. NULL when Redis cannot be reached. */
struct jobs_events *jobs_events_open(void);
/* Waits up to timeout_ms for the next event: 1 with *out a malloc'd JSON
 * text (free it), 0 on timeout, FW_EREDIS when the connection broke. */
int jobs_events_next(struct jobs_events *ev, int timeout_ms, char **out);
/* Unsubscribes and frees; NULL is a no-op. */
void jobs_events_close(struct jobs_events *ev);

#endif
