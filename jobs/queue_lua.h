/*
 * queue_lua.h - the Lua scripts behind every job state change.
 *
 * The sources live in jobs/lua/ (one .lua file per script); jobs/lua/embed.py turns them into
 * queue_lua_gen.c at build time (prelude.lua prepended to each). The enum
 * order must match the file order in jobs/meson.build.
 */
#ifndef FW_JOBS_QUEUE_LUA_H
#define FW_JOBS_QUEUE_LUA_H

enum queue_lua_id {
    QL_ENQUEUE = 0,
    QL_CLAIM,
    QL_FINISH,
    QL_RENEW,
    QL_REAP,
    QL_CANCEL,
    QL_RETRY,
    QL_STEP,
    QL_LIST,
    QL_RLDEFER,
    QL_RLTAKE,
    QL_TICK,
    QL_SCHEDUP,
    QL_SCHEDDEL,
    QUEUE_LUA_COUNT
};

/* Each script as a NULL-terminated array of lines (read-only tables). */
extern const char *const *const queue_lua_lines[QUEUE_LUA_COUNT];
/* Script names for logs ("claim"). */
extern const char *const queue_lua_name[QUEUE_LUA_COUNT];

#endif
