/*
 * register.h - registers every job type the handlers implement.
 */
#ifndef FW_JOBS_HANDLERS_REGISTER_H
#define FW_JOBS_HANDLERS_REGISTER_H

/* Registers all handler job types (jobs/registry.h). Call once at start-up,
 * before jobs_runtime_start() and before the API may enqueue them. Not
 * thread-safe. 0, or the first jobs_register error. */
int handlers_register_all(void);

/* The i-th job type this file registers (0-based), or NULL past the last:
 * lets a test check that every type has a line elsewhere (routes/job_scopes.c). */
const char *handlers_type_at(int i);

#endif
