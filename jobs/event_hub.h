/*
 * event_hub.h - one reader of the event log per process, shared by every
 * event stream and long poll (GET /v1/events, GET /v1/jobs/{id}?wait=N).
 *
 * A thread with its own Redis connection reads P events:log (XREAD BLOCK
 * from the last id it read, so a reconnect loses nothing the capped log
 * still holds) into a ring of the last EVENT_HUB_RING events, each parsed
 * once. Readers take events from the ring in memory; one that fell behind
 * the ring (or reconnected with an older Last-Event-ID) reads the gap from
 * the log itself (jobs_events_range, one short XRANGE on its thread's
 * connection). Subscribers are woken by a callback after new events
 * arrive: every stream subscriber, and the subscribers of one job when that
 * job reaches a terminal state. So N clients cost one Redis connection and
 * one blocking read, not N. A tool that may block its thread reads the log
 * on a connection of its own (jobs_events_last, jobs_events_read: jobs_wait).
 */
#ifndef FW_JOBS_EVENT_HUB_H
#define FW_JOBS_EVENT_HUB_H

#include "jobs/job.h"
#include "jobs/queue_events.h"

#define EVENT_HUB_RING 4096

/* One event of the log, as readers see it. */
struct hub_event {
    char id[JOBS_EVENT_ID_MAX];      /* the log id ("<ms>-<seq>") */
    char type[16];                   /* "job" or "incident" (the SSE event name) */
    char state[16];                  /* a job's state, "" for an incident */
    char job_type[JOB_TYPE_MAX];     /* jobType, "" when none */
    char resource[JOB_RESOURCE_MAX]; /* resource, "" when none */
    char eid[JOB_ID_MAX];            /* id: a job's or an incident's */
    char *json;                      /* the event's JSON text (malloc'd; the reader frees it) */
};

/* Starts the reader thread (it connects, and reconnects, by itself). watch_key (without the
 * prefix; may be NULL) names a counter the hub reads twice a second besides the log: when
 * it moves, every stream subscriber is woken (the token deletion counter: a deleted
 * token's streams end). 0, or FW_EINTERNAL. */
int event_hub_start(const char *watch_key);
/* The watched counter as last read; -1 before the first read (or without one). */
long long event_hub_watched(void);
/* Tells the reader to end and returns at once (a stop that runs beside others: the reader
 * may be in a read that ends with the command timeout when Redis does not answer). */
void event_hub_signal_stop(void);
/* Stops and joins it, frees the ring. Subscribers must be gone. */
void event_hub_stop(void);
/* 1 once the reader has read the log's position from Redis, 0 before (or never started). */
int event_hub_ready(void);

typedef void(event_hub_wake_fn)(void *ctx);
struct hub_sub;
struct redisContext;
/* wake(ctx) is called on the hub's thread after new events arrive (job_id NULL: every
 * batch), or only when job job_id reaches a terminal state; and after the hub reconnected
 * to Redis (events may have been missed: look again). Never after unsubscribe returned. */
struct hub_sub *event_hub_subscribe(const char *job_id, event_hub_wake_fn *wake, void *ctx);
void event_hub_unsubscribe(struct hub_sub *s);

/* A job's change as the job scripts log it (jobs/lua/prelude.lua, publish): the fields s (the
 * state digit), i (the job's id), t (its type), r (its resource, "" for none) of the log entry
 * entry_id, whose ms are the event's time. Fills e, e->json being the event's JSON (malloc'd;
 * the caller frees it): {"state","type":"job","resource" (null for none),"id","ts","jobType"}.
 * 0, or -1 when they are no job event (a field missing, an unknown state, an entry id without
 * a time, text that is not UTF-8): what the log holds is ours, but never trusted blindly. */
int event_hub_job_event(const char *entry_id, const char *state, const char *id, const char *type,
                        const char *resource, struct hub_event *e);

/* The event after `after` (an event id; "" = now: after becomes the newest position and
 * 0 is returned). 1 with *out filled (out->json to free), 0 none yet, 2 when the ring no
 * longer holds what follows `after` (read it with jobs_events_range). */
int event_hub_next(char after[JOBS_EVENT_ID_MAX], struct hub_event *out);

/* When the log no longer holds what followed `after` either (trimmed): moves after to
 * where the ring begins, so the reader goes on with what there is. */
void event_hub_skip_gap(char after[JOBS_EVENT_ID_MAX]);

/* Reads up to max events after `after` from the log on the calling thread's connection,
 * calling fn for each in order. 0, or FW_EREDIS / FW_EUNAVAILABLE. */
typedef void(hub_event_fn)(const struct hub_event *ev, void *ud);
int jobs_events_range(const char *after, int max, hub_event_fn *fn, void *ud);

/* The newest id of the log into pos ("0-0" when it is empty), read on connection c (a thread's
 * own). 0, or FW_EREDIS / FW_EUNAVAILABLE. */
int jobs_events_last(struct redisContext *c, char pos[JOBS_EVENT_ID_MAX]);
/* One XREAD of the log after pos on c, blocking up to block_ms (> 0) for the first event: calls
 * fn for each event in order (json borrowed for the call) and moves pos past what it read.
 * 0 (events or none), or FW_EREDIS / FW_EUNAVAILABLE (c is then useless). */
int jobs_events_read(struct redisContext *c, char pos[JOBS_EVENT_ID_MAX], int block_ms,
                     hub_event_fn *fn, void *ud);

/* Fills e's fields from an event's JSON text (json borrowed: e->json stays NULL). */
void event_hub_parse(const char *json, struct hub_event *e);
/* <0, 0, >0 as event id a is before, equal to or after b. */
int event_hub_id_cmp(const char *a, const char *b);

#endif
