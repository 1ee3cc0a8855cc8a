/*
 * runtime.h - starting and stopping the jobs runtime (for service/main.c
 * and the jobs-probe test tool).
 *
 * A runtime is N worker threads (each with its own Redis connections), a
 * heartbeat thread renewing the leases of the jobs they run, and
 * optionally the scheduler/reaper thread. Register job types
 * (registry.h) before starting it.
 */
#ifndef FW_JOBS_RUNTIME_H
#define FW_JOBS_RUNTIME_H

#include <stddef.h>

struct fw_service;
struct jobs_runtime;

/* Starts nworkers (0..64) workers and, when run_scheduler_and_reaper, the
 * schedule ticker and the lease reaper (safe to run in every process).
 * Registers the jobs metrics collector when svc->metrics is set (call it
 * before the HTTP server starts). Never NULL (threads that cannot start
 * abort, like memory). svc is borrowed and must outlive the runtime. */
struct jobs_runtime *jobs_runtime_start(struct fw_service *svc, int nworkers,
                                        int run_scheduler_and_reaper);

/* The start of a stop, at once: workers take no new job (the running ones go on) and the
 * scheduler/reaper ends. For a process that has other things to finish first (serve's
 * requests) before jobs_runtime_stop. NULL is a no-op. */
void jobs_runtime_begin_stop(struct jobs_runtime *rt);

/* Graceful stop: jobs_runtime_begin_stop if not done; running jobs get grace_ms to finish;
 * the leases of the rest are given back (the jobs go back to the front of their lane
 * without using up an attempt; when Redis does not answer, they are left to expire) and
 * their handlers see cancel; every thread is joined within 12 s of the grace's end. Then
 * frees rt (a thread that did not end is left to the exiting process, rt with it). NULL is a
 * no-op. */
void jobs_runtime_stop(struct jobs_runtime *rt, long long grace_ms);

/* Number of worker threads still running. */
int jobs_runtime_workers_alive(struct jobs_runtime *rt);

/* For /readyz (struct fw_service.jobs_ready): 1 when every worker thread
 * is alive, else 0 with the reason in why. */
int jobs_runtime_ready(struct jobs_runtime *rt, char *why, size_t whylen);

#endif
