/*
 * job_record.h - the job record's one field table, and the stored hash
 * (P job:ID) read into it.
 *
 * Every field of a job, stored or shown, is one row of JOB_FIELDS. From it
 * come: the enum that names a field in C (JOB_F_*), the stored names that
 * job_record_expand takes from the hash (a list reads the whole hash with
 * HGETALL in jobs/lua/list.lua: the step names are not known in advance
 * and the fields not shown are a few bytes), how each is stored, the JSON
 * view of a job (job_render, jobs/job.c) and the list's text renderer
 * (job_render_text, jobs/job_text.c), which walk the rows in order, and
 * the Lua scripts' field names: jobs/lua/ writes JOB_F_<row>, which
 * service/redis/lua_embed.py replaces with the row's stored name at build
 * time (a name that is no row, or a stored row no script names, fails the
 * build). A new field is one row here plus its property in
 * openapi/openapi.yaml's Job schema (and, where a Lua script must compute
 * it, that script's line, naming it JOB_F_<row>).
 *
 * Every finished job is kept until its TTL, so the stored record is made
 * small: one- or two-letter names, a field at its default value is not
 * stored, the state is one digit, the start and finish times are ms after
 * the creation time.
 *
 * Columns: X(ENUM, stored name, kept as, default, JSON name, view, in)
 *   stored name: the hash field; 0 for the two rows made from the key
 *   kept as: how the stored value becomes the shown one
 *     KEY     the job id (from the key, not stored)
 *     TEXT    as it is
 *     DIGIT   the state digit: 0 queued 1 scheduled 2 running 3 succeeded
 *             4 failed 5 dead 6 canceled (a hash without one is no job)
 *     SINCE_C ms after the creation time c, shown as epoch ms
 *     PREFIX  every field whose name starts with it ("s:NAME": a finished
 *             step's result JSON, kept as it is)
 *     NONE    not stored: a row that only groups others (OBJECT)
 *   default: the value a field has when it is not stored (0: none)
 *   view: how the API shows it
 *     STR     string, null when absent or ""
 *     INT     integer (strtoll), 0 when absent
 *     INT_NULL integer, null when absent
 *     FLAG    "1" -> true, anything else false
 *     TIME    epoch ms -> RFC 3339 with ms, null when absent or ""
 *     JSON    stored JSON text as JSON (a string when it does not parse),
 *             null when absent or ""
 *     ARRAY   JSON text that is an array, else [] (Lua's cjson writes an
 *             empty list as {})
 *     STEPS   object of step name -> JSON (as JSON) of the PREFIX fields
 *     OBJECT  object of the rows whose "in" is this row, in row order
 *     HREF    "/v1/jobs/ID"
 *     NONE    never shown, kept for the scripts: q the creation sequence
 *             (the score in the indexes), n every start, k stalls, u "1"
 *             for a type unique per resource, rp "1" while it holds a
 *             rate-limit token, rw the rate-limit family it waits for
 *             unreserved, xt the retention TTL (ms) a cancel of the
 *             running job asked for, used if it ends while waiting (who
 *             runs a job is its member of P running, not
 *             a field: jobs/lua/prelude.lua lease_member)
 *   in: TOP, or the OBJECT row the member belongs to
 *
 * Pure (no Redis, no clock); unit-tested in tests/unit/jobs/job_record_test.c
 * (golden bytes of every state, both renderers on every row).
 */
#ifndef FW_JOBS_JOB_RECORD_H
#define FW_JOBS_JOB_RECORD_H

#include <stddef.h>

/* clang-format off */
#define JOB_FIELDS(X)                                                                              \
    X(ID,       0,    KEY,     0,         "id",              STR,      TOP)                        \
    X(TYPE,     "t",  TEXT,    0,         "type",            STR,      TOP)                        \
    X(LANE,     "l",  TEXT,    "default", "lane",            STR,      TOP)                        \
    X(STATE,    "s",  DIGIT,   0,         "state",           STR,      TOP)                        \
    X(ATTEMPTS, "a",  TEXT,    0,         "attempts",        INT,      TOP)                        \
    X(MAX,      "m",  TEXT,    0,         "maxAttempts",     INT,      TOP)                        \
    X(PROGRESS, 0,    NONE,    0,         "progress",        OBJECT,   TOP)                        \
    X(PDONE,    "pd", TEXT,    0,         "done",            INT,      PROGRESS)                   \
    X(PTOTAL,   "pt", TEXT,    0,         "total",           INT_NULL, PROGRESS)                   \
    X(PSTEP,    "ps", TEXT,    0,         "step",            STR,      PROGRESS)                   \
    X(STEPS,    "s:", PREFIX,  0,         "steps",           STEPS,    TOP)                        \
    X(PAYLOAD,  "p",  TEXT,    "{}",      "payload",         JSON,     TOP)                        \
    X(RESULT,   "r",  TEXT,    0,         "result",          JSON,     TOP)                        \
    X(ERRORS,   "e",  TEXT,    0,         "errors",          ARRAY,    TOP)                        \
    X(REASON,   "w",  TEXT,    0,         "reason",          STR,      TOP)                        \
    X(RESOURCE, "R",  TEXT,    0,         "resource",        STR,      TOP)                        \
    X(SCHED,    "S",  TEXT,    0,         "schedule",        STR,      TOP)                        \
    X(CANCEL,   "x",  TEXT,    0,         "cancelRequested", FLAG,     TOP)                        \
    X(CREATED,  "c",  TEXT,    0,         "createdAt",       TIME,     TOP)                        \
    X(STARTED,  "b",  SINCE_C, 0,         "startedAt",       TIME,     TOP)                        \
    X(FINISHED, "f",  SINCE_C, 0,         "finishedAt",      TIME,     TOP)                        \
    X(NEXT,     "N",  TEXT,    0,         "nextRunAt",       TIME,     TOP)                        \
    X(HREF,     0,    KEY,     0,         "href",            HREF,     TOP)                        \
    X(SEQ,      "q",  TEXT,    0,         0,                 NONE,     TOP)                        \
    X(RUNS,     "n",  TEXT,    0,         0,                 NONE,     TOP)                        \
    X(STALLS,   "k",  TEXT,    0,         0,                 NONE,     TOP)                        \
    X(UNIQ,     "u",  TEXT,    0,         0,                 NONE,     TOP)                        \
    X(RLPAID,   "rp", TEXT,    0,         0,                 NONE,     TOP)                        \
    X(RLWAIT,   "rw", TEXT,    0,         0,                 NONE,     TOP)                        \
    X(CANCELTTL,"xt", TEXT,    0,         0,                 NONE,     TOP)
/* clang-format on */

enum job_field {
#define JOB_F_ENUM(e, stored, kept, dflt, json, view, in) JOB_F_##e,
    JOB_FIELDS(JOB_F_ENUM)
#undef JOB_F_ENUM
        JOB_NFIELDS,
    JOB_F_TOP = JOB_NFIELDS /* "in" of a top-level member */
};

enum job_kept {
    JOB_KEPT_KEY,
    JOB_KEPT_TEXT,
    JOB_KEPT_DIGIT,
    JOB_KEPT_SINCE_C,
    JOB_KEPT_PREFIX,
    JOB_KEPT_NONE
};

enum job_view {
    JOB_VIEW_STR,
    JOB_VIEW_INT,
    JOB_VIEW_INT_NULL,
    JOB_VIEW_FLAG,
    JOB_VIEW_TIME,
    JOB_VIEW_JSON,
    JOB_VIEW_ARRAY,
    JOB_VIEW_STEPS,
    JOB_VIEW_OBJECT,
    JOB_VIEW_HREF,
    JOB_VIEW_NONE
};

struct job_field_def {
    const char *stored; /* the hash field (the prefix for PREFIX), or NULL */
    enum job_kept kept;
    const char *dflt; /* the value when not stored, or NULL */
    const char *json; /* the API's member name, or NULL (NONE) */
    enum job_view view;
    enum job_field in; /* JOB_F_TOP or an OBJECT row */
};

/* The table, indexed by enum job_field. */
extern const struct job_field_def job_fields_table[JOB_NFIELDS];

/* The state digit of a state name ('0'..'6'), or 0 for an unknown name. */
char job_record_state_code(const char *name);
/* The state name of a stored digit, or NULL. */
const char *job_record_state_name(const char *code);

#define JOB_RECORD_MAX_STEPS 240 /* steps shown; more are left out */

/* One job read into the table's rows: v[f] is field f as shown (the state's
 * name, absolute times, defaults filled in, the id for KEY rows), NULL when
 * it has none; the steps in stored order. Values point into the stored
 * reply, the table or this struct, so it lives no longer than the reply it
 * was made from. */
struct job_fields {
    const char *v[JOB_NFIELDS];
    const char *steps[2 * JOB_RECORD_MAX_STEPS]; /* name without "s:", JSON text, ... */
    size_t nsteps;                               /* entries used in steps (names + values) */
    char num[JOB_NFIELDS][24];                   /* SINCE_C values made absolute */
};

/* Reads the stored fields (alternating stored names and values, as
 * HGETALL answers) of job id into out. 0, or -1 when the record has no
 * valid state (a hash that is not a job, or was half-written by an older
 * layout). */
int job_record_expand(const char *id, const char *const *stored, size_t nstored,
                      struct job_fields *out);

#endif
