/*
 * queue_events.h - job state changes as they happen: a blocking wait for
 * one job, and the ids of the event feed behind GET /v1/events.
 *
 * Every state-change script appends the change (fields s, i, t, r: the
 * state digit, id, type, resource) to the capped stream P events:log, the
 * one event feed (no pub/sub); its readers make the event served,
 * {"state","type":"job","resource","id","ts","jobType"}, with the entry
 * id's ms as ts (event_hub_job_event). Incident changes go into the same
 * feed as JSON {"type":"incident",...} (service/domain/store_watch.h). The API reads
 * the feed through the process's one event hub (event_hub.h); jobs_wait
 * reads it on a Redis connection of its own and blocks its thread (tools).
 */
#ifndef FW_JOBS_QUEUE_EVENTS_H
#define FW_JOBS_QUEUE_EVENTS_H

/* Waits until job id is finished (succeeded, dead or canceled), at most
 * timeout_ms, woken by its finish in the event log, with a 1 s re-check
 * as a safety net.
 * 0 (finished, or the time is up: read the job afterwards), FW_ENOTFOUND,
 * FW_EUNAVAILABLE, FW_EREDIS. Blocks the calling thread. */
int jobs_wait(const char *id, int timeout_ms);

#define JOBS_EVENT_ID_MAX 48

/* 1 when s looks like an event id ("<ms>-<seq>"). */
int jobs_event_id_valid(const char *s);

#endif
