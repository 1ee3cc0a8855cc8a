/*
 * fuzz_common.h - small helpers shared by the libFuzzer targets.
 *
 * Fuzz input is a byte string; most of our parsers want NUL-terminated
 * text or a few fields. fuzz_cstr copies the input with a NUL appended
 * (embedded NULs stay: the parser sees a shorter string, which is what a
 * C caller would pass). fuzz_split cuts the input at a separator byte into
 * at most n fields, each a NUL-terminated copy.
 *
 * The request helpers build what a route handler sees (struct http_req
 * backed by the server's own struct req_state, so http_req_alloc works)
 * and free it with the server's own server__req_free.
 */
#ifndef FW_TESTS_FUZZ_COMMON_H
#define FW_TESTS_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/core/mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-terminated copy of data[0..size). Free with free(). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = xmalloc(size + 1);
    if (size)
        memcpy(s, data, size);
    s[size] = 0;
    return s;
}

/* Cuts data at sep into at most n fields (the last takes the rest).
 * Returns how many were found; each field[i] is a NUL-terminated copy to
 * free with fuzz_split_free, and len[i] (when len is not NULL) its length
 * in bytes, embedded NULs included. Unfound fields are NULL with length 0. */
static inline size_t fuzz_split(const uint8_t *data, size_t size, uint8_t sep, char **field,
                                size_t *len, size_t n)
{
    size_t k = 0, start = 0;
    for (size_t i = 0; i < n; i++) {
        field[i] = NULL;
        if (len)
            len[i] = 0;
    }
    for (size_t i = 0; i <= size && k < n; i++) {
        if (i == size || (data[i] == sep && k + 1 < n)) {
            field[k] = fuzz_cstr(data + start, i - start);
            if (len)
                len[k] = i - start;
            k++;
            start = i + 1;
        }
    }
    return k;
}

static inline void fuzz_split_free(char **field, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(field[i]);
}

#endif
