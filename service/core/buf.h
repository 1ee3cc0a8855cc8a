/*
 * buf.h - an owning, growable byte buffer with a hard cap (curl's dynbuf).
 *
 * buf_init() requires the cap: every buffer filled from outside has one.
 * The content is always NUL-terminated so it can be handed to C APIs, but
 * the length travels with it and may contain NUL bytes.
 */
#ifndef FW_BUF_H
#define FW_BUF_H

#include <stddef.h>

struct buf {
    char *ptr;  /* NUL-terminated content, or NULL before the first append */
    size_t len; /* bytes used, excluding the terminator */
    size_t cap; /* bytes allocated */
    size_t max; /* the cap: appends past it fail with FW_ETOOBIG */
};

/* A borrowed view of bytes; not owned, not NUL-terminated. */
struct str {
    const char *ptr;
    size_t len;
};

void buf_init(struct buf *b, size_t max);
/* Appends n bytes. 0, or FW_ETOOBIG (the buffer is left unchanged). */
int buf_append(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
/* Makes room for n more bytes (and the terminator) without adding any, for
 * a writer that fills ptr + len itself and then sets len. 0, FW_ETOOBIG. */
int buf_reserve(struct buf *b, size_t n);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Returns the content as a C string ("" when empty); borrowed. */
const char *buf_cstr(const struct buf *b);
/* Takes the content out; the caller frees it. The buffer is reset. */
char *buf_steal(struct buf *b);
void buf_reset(struct buf *b);
/* Frees the content; safe on a zeroed or already freed buffer. */
void buf_free(struct buf *b);
/* As buf_free, but wipes the bytes first (secrets). */
void buf_free_secure(struct buf *b);

#endif
