/* buf.c - capped growable buffers. */
#include "service/core/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/core/err.h"
#include "service/core/mem.h"

void buf_init(struct buf *b, size_t max)
{
    b->ptr = 0;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

static int grow(struct buf *b, size_t need)
{
    if (need > b->max)
        return FW_ETOOBIG;
    if (need + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need + 1)
        cap *= 2;
    b->ptr = xrealloc(b->ptr, cap);
    b->cap = cap;
    return 0;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
    if (n > b->max || b->len > b->max - n)
        return FW_ETOOBIG;
    int rc = grow(b, b->len + n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->ptr + b->len, p, n);
    b->len += n;
    b->ptr[b->len] = '\0';
    return 0;
}

int buf_reserve(struct buf *b, size_t n)
{
    if (n > b->max || b->len > b->max - n)
        return FW_ETOOBIG;
    return grow(b, b->len + n);
}

int buf_puts(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = 0;
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0)
        return FW_EINTERNAL;
    int rc = buf_append(b, s, (size_t)n);
    free(s);
    return rc;
}

const char *buf_cstr(const struct buf *b)
{
    return b->ptr ? b->ptr : "";
}

char *buf_steal(struct buf *b)
{
    char *p = b->ptr ? b->ptr : xstrdup("");
    b->ptr = 0;
    b->len = 0;
    b->cap = 0;
    return p;
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->ptr)
        b->ptr[0] = '\0';
}

void buf_free(struct buf *b)
{
    free(b->ptr);
    b->ptr = 0;
    b->len = 0;
    b->cap = 0;
}

void buf_free_secure(struct buf *b)
{
    xwipe(b->ptr, b->cap);
    buf_free(b);
}
