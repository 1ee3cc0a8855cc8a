/* log.c - JSON-lines logging to stderr. */
#include "service/core/log.h"

#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "service/core/buf.h"
#include "service/core/err.h"
#include "service/core/mem.h"

static atomic_int s_level = LOG_INFO;
static const char *const s_names[] = {"debug", "info", "warn", "error"};

int log_level_parse(const char *s, enum log_level *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, s_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return FW_EINVAL;
}

void log_set_level(enum log_level level)
{
    atomic_store(&s_level, (int)level);
}

int log_enabled(enum log_level level)
{
    return (int)level >= atomic_load(&s_level);
}

static void put_escaped(struct buf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            buf_append(b, e, 2);
        } else if (c < 0x20) {
            buf_printf(b, "\\u%04x", c);
        } else {
            buf_append(b, s, 1);
        }
    }
}

static void put_time(struct buf *b)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char t[32];
    strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%S", &tm);
    buf_printf(b, "\"ts\":\"%s.%03ldZ\"", t, ts.tv_nsec / 1000000L);
}

static void put_field(struct buf *b, const struct log_field *f)
{
    buf_printf(b, ",\"%s\":", f->name);
    switch (f->type) {
    case LOG_FIELD_STR:
        if (!f->s) {
            buf_puts(b, "null");
            return;
        }
        buf_puts(b, "\"");
        put_escaped(b, f->s);
        buf_puts(b, "\"");
        return;
    case LOG_FIELD_INT: buf_printf(b, "%lld", f->i); return;
    case LOG_FIELD_BOOL: buf_puts(b, f->i ? "true" : "false"); return;
    case LOG_FIELD_DBL:
        if (isfinite(f->d))
            buf_printf(b, "%.6g", f->d);
        else
            buf_puts(b, "null");
        return;
    }
}

void log_fieldv(enum log_level level, const char *msg, const struct log_field *f, size_t n)
{
    if (!log_enabled(level))
        return;
    struct buf b;
    buf_init(&b, 64 * 1024);
    buf_puts(&b, "{");
    put_time(&b);
    buf_printf(&b, ",\"level\":\"%s\",\"msg\":\"", s_names[level]);
    put_escaped(&b, msg);
    buf_puts(&b, "\"");
    for (size_t i = 0; i < n; i++)
        put_field(&b, &f[i]);
    buf_puts(&b, "}\n");
    ssize_t w = write(STDERR_FILENO, b.ptr, b.len);
    (void)w;
    buf_free(&b);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    if (!log_enabled(level))
        return;
    va_list ap;
    va_start(ap, fmt);
    char *m = 0;
    int n = vasprintf(&m, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    log_fieldv(level, m, 0, 0);
    free(m);
}
