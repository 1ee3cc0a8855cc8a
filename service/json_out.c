/*
 * json_out.c - compact JSON text, byte for byte as jansson writes it.
 *
 * jansson (dump.c) escapes '"', '\\' and the control characters below 0x20
 * (\b \f \n \r \t by name, the others as \u00XX in upper-case hex), leaves
 * '/' and non-ASCII text as it is, writes integers with %lld and keys in
 * insertion order. Reals go through jansson itself (its dtostr rules are
 * intricate and our bodies hardly carry reals). A string that is not valid
 * UTF-8 fails the whole dump, as in jansson.
 */
#include "json_out.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

#define OUT_MAX ((size_t)1 << 30)

/* Length of the UTF-8 sequence at s (at most n bytes), 0 when invalid:
 * overlong forms, surrogates and code points above U+10FFFF are refused,
 * as jansson's utf8_check_full does. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
    if (c >= 0xf5 || c == 0xc0 || c == 0xc1 || len == 0 || len > n)
        return 0;
    unsigned cp = c & (0x3fu >> (len - 1));
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
        return 0;
    return len;
}

/* Writes the escape of c (a control character, '"' or '\\') at o; its length. */
static size_t put_escape(char *o, unsigned char c)
{
    static const char hex[] = "0123456789ABCDEF";
    const char *named = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\b' ? "\\b" : c == '\f' ? "\\f"
                      : c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : 0;
    if (named) {
        memcpy(o, named, 2);
        return 2;
    }
    memcpy(o, "\\u00", 4);
    o[4] = hex[c >> 4];
    o[5] = hex[c & 15];
    return 6;
}

/* A quoted string. Room for the worst case (every byte as \u00XX) is made
 * once, then plain bytes are copied without a call per run. */
static int put_string(struct buf *b, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    if (n > (OUT_MAX - b->len) / 6 - 2)
        return -1;
    size_t at = b->len;
    int rc = buf_reserve(b, n * 6 + 2);
    if (rc)
        return rc;
    char *o = b->ptr + at;
    *o++ = '"';
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            *o++ = (char)c;
            i++;
        } else if (c >= 0x80) {
            size_t k = utf8_seq(s + i, n - i);
            if (!k)
                return -1;
            memcpy(o, s + i, k);
            o += k;
            i += k;
        } else {
            o += put_escape(o, c);
            i++;
        }
    }
    *o++ = '"';
    b->len = (size_t)(o - b->ptr);
    b->ptr[b->len] = '\0';
    return 0;
}

static int put_integer(struct buf *b, json_int_t v)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%" JSON_INTEGER_FORMAT, v);
    return buf_append(b, tmp, (size_t)n);
}

static int put_real(struct buf *b, const json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    int rc = s ? buf_append(b, s, strlen(s)) : -1;
    free(s);
    return rc;
}

static int put_value(struct buf *b, const json_t *v, int depth);

static int put_array(struct buf *b, const json_t *v, int depth)
{
    size_t n = json_array_size(v);
    int rc = buf_append(b, "[", 1);
    for (size_t i = 0; !rc && i < n; i++) {
        if (i)
            rc = buf_append(b, ",", 1);
        rc = rc ? rc : put_value(b, json_array_get(v, i), depth + 1);
    }
    return rc ? rc : buf_append(b, "]", 1);
}

static int put_object(struct buf *b, const json_t *v, int depth)
{
    int rc = buf_append(b, "{", 1);
    int first = 1;
    for (void *it = json_object_iter((json_t *)v); !rc && it; it = json_object_iter_next((json_t *)v, it)) {
        if (!first)
            rc = buf_append(b, ",", 1);
        first = 0;
        const char *key = json_object_iter_key(it);
        rc = rc ? rc : put_string(b, key, json_object_iter_key_len(it));
        rc = rc ? rc : buf_append(b, ":", 1);
        rc = rc ? rc : put_value(b, json_object_iter_value(it), depth + 1);
    }
    return rc ? rc : buf_append(b, "}", 1);
}

static int put_value(struct buf *b, const json_t *v, int depth)
{
    if (!v || depth > JSON_OUT_MAX_DEPTH)
        return -1;
    switch (json_typeof(v)) {
    case JSON_NULL: return buf_append(b, "null", 4);
    case JSON_TRUE: return buf_append(b, "true", 4);
    case JSON_FALSE: return buf_append(b, "false", 5);
    case JSON_INTEGER: return put_integer(b, json_integer_value(v));
    case JSON_REAL: return put_real(b, v);
    case JSON_STRING: return put_string(b, json_string_value(v), json_string_length(v));
    case JSON_ARRAY: return put_array(b, v, depth);
    case JSON_OBJECT: return put_object(b, v, depth);
    }
    return -1;
}

char *json_out_compact(const json_t *v, size_t *len)
{
    struct buf b;
    if (!json_is_array(v) && !json_is_object(v))
        return 0;
    buf_init(&b, OUT_MAX);
    if (put_value(&b, v, 0)) {
        buf_free(&b);
        return 0;
    }
    if (len)
        *len = b.len;
    return buf_steal(&b);
}
