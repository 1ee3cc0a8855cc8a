/*
 * mem.h - allocation that cannot fail.
 *
 * Out of memory aborts the process (aws-c-common's rule): callers of
 * x*alloc never check for NULL. Third-party constructors are still checked.
 */
#ifndef FW_MEM_H
#define FW_MEM_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a new string; caller frees. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Wipes n bytes in a way the compiler keeps (secrets before free). */
void xwipe(void *p, size_t n);
/* Wipes a NUL-terminated secret and frees it; NULL is a no-op. */
void xfree_secret(char *s);

#endif
