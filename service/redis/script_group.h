/*
 * script_group.h - scripts of many threads sent together on shared
 * connections (group commit).
 *
 * Each thread's own connection costs Redis one read, one write and one
 * event-loop pass per script: for a job queue's finish, a fifth to a quarter
 * of Redis's CPU time per job, most of it system time
 * (tests/bench/queue/RESULTS.md, 2026-12-07 06:00).
 * redis_script_run_grouped sends the calls that threads make at about the
 * same time pipelined on a shared connection: the first caller that finds
 * one free sends every call waiting at that moment (its own included), reads
 * their answers in order and hands each to its thread; calls that arrive
 * meanwhile wait and go in the next group, sent by one of their own threads
 * as soon as a connection is free. Two connections, so that one group can
 * be on its way while Redis answers the other. No timer: a call alone goes
 * at once, as redis_script_run would send it.
 *
 * Each script stays one atomic EVALSHA with the answer it has on a thread's
 * connection; only the transport is shared. Batches (redis_script_run_batched)
 * go further: the calls of a group that have the same batch form and first
 * argument run as one EVALSHA of the batch form, which Redis then reads,
 * parses and sets up once (a script made with run_batch of
 * service/redis/lua/runner.lua); each thread gets its own element of the
 * answer, as it would have got the answer of its own call, and the batch
 * runs atomically as a whole. Errors are those of
 * redis_script_run: when the connection breaks, every call of the group
 * without an answer gets FW_EUNAVAILABLE and the connection is dropped (the
 * next group reconnects, with store_conn's backoff); NOSCRIPT loads the
 * script and sends that call again. Thread-safe.
 */
#ifndef FW_REDIS_SCRIPT_GROUP_H
#define FW_REDIS_SCRIPT_GROUP_H

#include "service/redis/script.h"

/* As redis_script_run (script.h), on a shared connection. */
int redis_script_run_grouped(const struct redis_script *s, int nkeys, int argc,
                             const char *const *argv, const size_t *lens, struct redisReply **out);

/* As redis_script_run_grouped of s without keys, run in one batch of many (s's batch form:
 * ARGV is argv[0], shared by the batch, then each call's count of further arguments and those
 * arguments; it answers one element per call, in order) with the calls of the same group that
 * have the same many and argv[0]. A call alone goes as s. */
int redis_script_run_batched(const struct redis_script *s, const struct redis_script *many,
                             int argc, const char *const *argv, const size_t *lens,
                             struct redisReply **out);

/* Closes the shared connections (process shutdown; the next call reconnects).
 * Call when no thread is in redis_script_run_grouped. */
void redis_script_group_close(void);

#endif
