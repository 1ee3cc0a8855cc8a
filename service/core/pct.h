/*
 * pct.h - hex digits and RFC 3986 percent-decoding, shared by the
 * configuration (a Redis URL's user and password), SigV4 (canonical query
 * strings) and IAM (policy documents come back URL-encoded).
 */
#ifndef FW_CORE_PCT_H
#define FW_CORE_PCT_H

#include <stddef.h>

/* 0..15 for a hex digit (either case), else -1. */
int pct_hexval(int ch);

/* A new string: s[0..n) with each %XX decoded; a '%' not followed by two
 * hex digits stays as it is (AWS's lenient reading). *outlen (may be NULL)
 * gets the decoded length, which may hold NUL bytes. */
char *pct_decode(const char *s, size_t n, size_t *outlen);

#endif
