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
#include "service/core/json_out.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/core/buf.h"

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
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || (cp >= 0xd800 && cp <= 0xdfff) ||
        cp > 0x10ffff)
        return 0;
    return len;
}

/* Writes the escape of c (a control character, '"' or '\\') at o; its length. */
static size_t put_escape(char *o, unsigned char c)
{
    static const char hex[] = "0123456789ABCDEF";
    const char *named = c == '"'    ? "\\\""
                        : c == '\\' ? "\\\\"
                        : c == '\b' ? "\\b"
                        : c == '\f' ? "\\f"
                        : c == '\n' ? "\\n"
                        : c == '\r' ? "\\r"
                        : c == '\t' ? "\\t"
                                    : 0;
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
int json_out_string(struct buf *b, const char *str, size_t n)
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
            if (!k) {
                b->ptr[b->len] = '\0';
                return -1;
            }
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
    for (void *it = json_object_iter((json_t *)v); !rc && it;
         it = json_object_iter_next((json_t *)v, it)) {
        if (!first)
            rc = buf_append(b, ",", 1);
        first = 0;
        const char *key = json_object_iter_key(it);
        rc = rc ? rc : json_out_string(b, key, json_object_iter_key_len(it));
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
    case JSON_STRING: return json_out_string(b, json_string_value(v), json_string_length(v));
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

int json_out_value(struct buf *b, const json_t *v)
{
    return put_value(b, v, 0);
}

/* ---- canonical text check ----
 * Accepts only text that json_loads(JSON_DECODE_ANY) takes and
 * json_dumps(JSON_COMPACT | JSON_ENCODE_ANY) writes back unchanged, and
 * refuses (returns -1) whatever it is not sure of: whitespace, reals, "-0",
 * integers of more than 18 digits, escapes jansson would not write (\/,
 * \u other than a control character in upper-case hex), duplicate or more
 * than CANON_MAX_KEYS keys in an object, nesting deeper than
 * CANON_MAX_DEPTH. A refusal only means the caller takes the slow path. */
#define CANON_MAX_DEPTH 64
#define CANON_MAX_KEYS 64

static int hexup(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* A \uXXXX escape at s (after the backslash-u) as jansson writes it. */
static int canon_u_escape(const char *s)
{
    int hi = hexup(s[2]), lo = hexup(s[3]);
    if (s[0] != '0' || s[1] != '0' || hi < 0 || hi > 1 || lo < 0)
        return 0;
    int c = hi * 16 + lo;
    return c != 0 && c != '\b' && c != '\t' && c != '\n' && c != '\f' && c != '\r';
}

static int canon_string(const char **pp)
{
    const unsigned char *s = (const unsigned char *)*pp + 1;
    for (;;) {
        unsigned char c = *s;
        if (c == '"')
            break;
        if (c < 0x20)
            return -1; /* the end of the text, or a raw control character */
        if (c == '\\') {
            char e = (char)s[1];
            if (e == 'u' && canon_u_escape((const char *)s + 2))
                s += 6;
            else if (e && strchr("\"\\bfnrt", e))
                s += 2;
            else
                return -1;
        } else if (c >= 0x80) {
            size_t k = utf8_seq(s, 4); /* the NUL at the end stops a short sequence */
            if (!k)
                return -1;
            s += k;
        } else {
            s++;
        }
    }
    *pp = (const char *)s + 1;
    return 0;
}

static int canon_number(const char **pp)
{
    const char *s = *pp, *d = s + (*s == '-');
    size_t n = 0;
    while (d[n] >= '0' && d[n] <= '9')
        n++;
    if (n == 0 || n > 18 || (d[0] == '0' && (n > 1 || d != s)) || d[n] == '.' || d[n] == 'e' ||
        d[n] == 'E')
        return -1;
    *pp = d + n;
    return 0;
}

static int canon_value(const char **pp, int depth);

static int canon_array(const char **pp, int depth)
{
    const char *s = *pp + 1;
    if (*s == ']') {
        *pp = s + 1;
        return 0;
    }
    for (;;) {
        if (canon_value(&s, depth + 1))
            return -1;
        if (*s == ']')
            break;
        if (*s++ != ',')
            return -1;
    }
    *pp = s + 1;
    return 0;
}

/* Keys are compared as text: a canonical escape is the only spelling of
 * its character, so equal text is equal keys. */
static int canon_object(const char **pp, int depth)
{
    struct str keys[CANON_MAX_KEYS];
    size_t nkeys = 0;
    const char *s = *pp + 1;
    if (*s == '}') {
        *pp = s + 1;
        return 0;
    }
    for (;;) {
        const char *k = s;
        if (*s != '"' || canon_string(&s) || *s++ != ':' || nkeys == CANON_MAX_KEYS)
            return -1;
        size_t klen = (size_t)(s - 1 - k);
        for (size_t i = 0; i < nkeys; i++)
            if (keys[i].len == klen && !memcmp(keys[i].ptr, k, klen))
                return -1;
        keys[nkeys++] = (struct str){k, klen};
        if (canon_value(&s, depth + 1))
            return -1;
        if (*s == '}')
            break;
        if (*s++ != ',')
            return -1;
    }
    *pp = s + 1;
    return 0;
}

static int canon_value(const char **pp, int depth)
{
    const char *s = *pp;
    if (depth > CANON_MAX_DEPTH)
        return -1;
    switch (*s) {
    case '{': return canon_object(pp, depth);
    case '[': return canon_array(pp, depth);
    case '"': return canon_string(pp);
    case 't': *pp += 4; return strncmp(s, "true", 4) ? -1 : 0;
    case 'f': *pp += 5; return strncmp(s, "false", 5) ? -1 : 0;
    case 'n': *pp += 4; return strncmp(s, "null", 4) ? -1 : 0;
    default: return canon_number(pp);
    }
}

int json_out_is_compact(const char *text)
{
    const char *s = text;
    return text && !canon_value(&s, 0) && *s == '\0';
}
