/*
 * queue_events.h - job state changes as they happen: long-poll waits for
 * one job and the event feed behind GET /v1/events.
 *
 * Every state-change script publishes {"type":"job","id","state",
 * "jobType","resource","ts"} on channel P events, appends it to the
 * capped stream P events:log, and publishes the state on P done:ID when
 * the job finishes. Incident changes go into the same feed as
 * {"type":"incident",...} (service/domain/store_watch.h). Each reader or wait uses its own Redis connection
 * (store_conn_open), so it may block its thread.
 */
#ifndef FW_JOBS_QUEUE_EVENTS_H
#define FW_JOBS_QUEUE_EVENTS_H

/* Waits until job id is finished (succeeded, dead or canceled), at most
 * timeout_ms, woken by pub/sub with a 1 s re-check as a safety net.
 * 0 (finished, or the time is up: read the job afterwards), FW_ENOTFOUND,
 * FW_EUNAVAILABLE, FW_EREDIS. Blocks the calling thread. */
int jobs_wait(const char *id, int timeout_ms);

struct jobs_events;

#define JOBS_EVENT_ID_MAX 48

/* Opens a reader of the event log (the stream P events:log, the last
 * ~10,000 state changes). after_id is the id of the last event the client
 * saw (SSE Last-Event-ID) to replay what came after it, or NULL/"" for
 * new events only. NULL when Redis cannot be reached. An after_id older
 * than the log replays from its oldest entry. */
struct jobs_events *jobs_events_open(const char *after_id);
/* Waits up to timeout_ms for the next event: 1 with *out a malloc'd JSON
 * text (free it) and id its log id, 0 on timeout, FW_EUNAVAILABLE when the
 * connection broke. */
int jobs_events_next(struct jobs_events *ev, int timeout_ms, char **out, char id[JOBS_EVENT_ID_MAX]);
/* Frees; NULL is a no-op. */
void jobs_events_close(struct jobs_events *ev);
/* 1 when s looks like an event id ("<ms>-<seq>"). */
int jobs_event_id_valid(const char *s);

#endif
