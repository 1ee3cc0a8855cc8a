/*
 * log.h - one JSON object per line on stderr.
 *
 * Every line has "ts" (RFC 3339 UTC, ms), "level" and "msg"; callers add
 * fields as typed values, which log.c writes as JSON (strings escaped,
 * numbers as numbers), so no caller builds a JSON fragment by hand:
 *
 *     log_event(LOG_INFO, "aws call retried", LOG_STR("op", op), LOG_INT("attempt", n));
 *
 * Secrets never go through here: name where a credential came from, never
 * its value. Thread-safe: each line is written with a single write(2).
 */
#ifndef FW_LOG_H
#define FW_LOG_H

#include <stddef.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Parses "debug", "info", "warn", "error". 0, or FW_EINVAL. */
int log_level_parse(const char *s, enum log_level *out);
void log_set_level(enum log_level level);
int log_enabled(enum log_level level);

/* Logs msg with printf-style formatting (message text is JSON-escaped). */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One field of a line: name (a string literal of [A-Za-z0-9_]) and a typed
 * value. Made with the LOG_* macros below; borrowed for the call. */
enum log_field_type { LOG_FIELD_STR, LOG_FIELD_INT, LOG_FIELD_BOOL, LOG_FIELD_DBL };
struct log_field {
    const char *name;
    enum log_field_type type;
    const char *s; /* LOG_FIELD_STR; NULL is written as null */
    long long i;   /* LOG_FIELD_INT, LOG_FIELD_BOOL */
    double d;      /* LOG_FIELD_DBL (NaN and infinities as null) */
};
#define LOG_STR(name, v) ((struct log_field){(name), LOG_FIELD_STR, (v), 0, 0})
#define LOG_INT(name, v) ((struct log_field){(name), LOG_FIELD_INT, 0, (long long)(v), 0})
#define LOG_BOOL(name, v) ((struct log_field){(name), LOG_FIELD_BOOL, 0, !!(v), 0})
#define LOG_DBL(name, v) ((struct log_field){(name), LOG_FIELD_DBL, 0, 0, (double)(v)})

/* Logs msg with the n fields f (f may be NULL when n is 0). */
void log_fieldv(enum log_level level, const char *msg, const struct log_field *f, size_t n);
/* log_event(level, msg, LOG_STR(...), ...): one or more fields. */
#define log_event(level, msg, ...)                                                                 \
    log_fieldv((level), (msg), (const struct log_field[]){__VA_ARGS__},                            \
               sizeof((const struct log_field[]){__VA_ARGS__}) / sizeof(struct log_field))

#endif
