/*
 * queue_internal.h - what queue*.c share among themselves (not for
 * routes or handlers): running a jobs script.
 */
#ifndef FW_JOBS_QUEUE_INTERNAL_H
#define FW_JOBS_QUEUE_INTERNAL_H

#include "jobs/jobs_lua.h" /* generated: jobs_lua_<name> for each lua/<name>.lua */

struct redisReply;

/* Runs jobs script s with ARGV = key prefix, args[0..nargs) through the
 * Redis runner (service/redis/script.h). 0 with *out the reply (free with
 * freeReplyObject), FW_EUNAVAILABLE, FW_EREDIS, or a code the script
 * raised (fw_error). */
int queue__run(const struct redis_script *s, const char *const *args, int nargs,
               struct redisReply **out);
/* queue__run on the process's shared connection, pipelined with the other
 * threads' calls of the moment (service/redis/script_group.h); with many,
 * s's batch form, the calls of s among them run as one script. */
int queue__run_grouped(const struct redis_script *s, const struct redis_script *many,
                       const char *const *args, int nargs, struct redisReply **out);
/* Redis server time in epoch ms. 0, FW_EUNAVAILABLE or FW_EREDIS. */
int queue__server_time(long long *ms);

#endif
