/*
 * log.h - one JSON object per line on stderr.
 *
 * Every line has "ts" (RFC 3339 UTC, ms), "level" and "msg"; callers add
 * fields as a preformatted JSON fragment. Secrets never go through here:
 * name where a credential came from, never its value.
 * Thread-safe: each line is written with a single write(2).
 */
#ifndef FW_LOG_H
#define FW_LOG_H

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Parses "debug", "info", "warn", "error". 0, or FW_EINVAL. */
int log_level_parse(const char *s, enum log_level *out);
void log_set_level(enum log_level level);
int log_enabled(enum log_level level);

/* Logs msg with printf-style formatting (message text is JSON-escaped). */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Logs a line whose extra fields are given as JSON object members without
 * braces, e.g. "\"job\":\"abc\",\"attempt\":2". fields may be NULL. */
void log_fields(enum log_level level, const char *msg, const char *fields);

#endif
