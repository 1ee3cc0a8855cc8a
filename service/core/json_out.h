/*
 * json_out.h - JSON text of a response body, fast.
 *
 * json_out_compact gives exactly the bytes of jansson's
 * json_dumps(v, JSON_COMPACT) (insertion order, the same escapes, the same
 * failures) at a fraction of its cost: jansson checks every array and
 * object against a hash table of parents (a malloc each), calls back once
 * per piece of text and decodes every string character by character. A
 * list page (50 claims or jobs, ~50 KB) spent a third of its time there.
 */
#ifndef FW_JSON_OUT_H
#define FW_JSON_OUT_H

#include <stddef.h>
#include <jansson.h>

#include "service/core/buf.h"

/* The compact text of an array or object; the caller frees it. NULL when
 * json_dumps(v, JSON_COMPACT) would fail: v is not an array or object, a
 * string is not UTF-8 (made with a _nocheck call), or v nests deeper than
 * JSON_OUT_MAX_DEPTH (jansson refuses cycles; we refuse depth). *len gets
 * the length when len is not NULL. */
#define JSON_OUT_MAX_DEPTH 2048
char *json_out_compact(const json_t *v, size_t *len);

/* Appends the quoted, escaped string s (n bytes) to b as jansson writes it;
 * -1 (b unchanged in length) when s is not UTF-8, or buf's error. */
int json_out_string(struct buf *b, const char *s, size_t n);

/* Appends the compact text of any value (scalars too); -1 as above. */
int json_out_value(struct buf *b, const json_t *v);

/* 1 when text is exactly what json_dumps(json_loads(text, JSON_DECODE_ANY),
 * JSON_COMPACT | JSON_ENCODE_ANY) gives, so it can be copied into a body
 * as it is; 0 when it is not or may not be (the caller parses it then). */
int json_out_is_compact(const char *text);

#endif
