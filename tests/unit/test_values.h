/*
 * test_values.h - what the renderer tests draw their records from: a small
 * reproducible random generator and lists of awkward strings and JSON texts
 * (tests/unit/claims/claims_text_test.c, tests/unit/jobs/job_text_test.c,
 * tests/unit/service/json_out_test.c).
 * Header-only, for one test file each: the lists are macros, so a test puts
 * them into its own array next to values of its own.
 */
#ifndef FW_TESTS_UNIT_TEST_VALUES_H
#define FW_TESTS_UNIT_TEST_VALUES_H

/* xorshift64: the same sequence on every run. */
static unsigned long test_seed = 88172645463325252UL;

static inline unsigned test_pick(unsigned n)
{
    test_seed ^= test_seed << 13;
    test_seed ^= test_seed >> 7;
    test_seed ^= test_seed << 17;
    return (unsigned)(test_seed % n);
}

/* A random element of a fixed-size array. */
#define TEST_ANY(array) (array)[test_pick(sizeof(array) / sizeof *(array))]

/* Strings a renderer must escape or carry: empty, quotes, backslash,
 * slash, control characters, DEL, non-ASCII, four-byte UTF-8. */
#define TEST_ODD_STRINGS                                                                           \
    "", "plain", "q\"uote", "back\\slash", "a/b", "tab\there", "nl\nx\r", "\x01\x1f\x7f",          \
        "caf\xc3\xa9", "\xe2\x82\xac \xf0\x9f\x98\x80"

/* Strings that are not UTF-8: a cut sequence, a byte UTF-8 never has, a
 * surrogate, an overlong form. */
#define TEST_BAD_UTF8 "bad \xc3", "bad \xff utf8", "\xed\xa0\x80 surrogate", "\xc0\xaf overlong"

/* Decimal integers as stored, and what strtoll makes of text that is not. */
#define TEST_INT_TEXTS "", "0", "1", "5", "-3", "12abc", "9223372036854775807", "x", "1000000000"

/* Epoch ms as stored: none, the epoch, before it, not a number, now, the
 * last ms of year 9999. */
#define TEST_MS_TEXTS "", "0", "1", "-5", "abc", "1764300000123", "1764300000000", "253402300799999"

/* JSON texts: compact as jansson writes them, valid but not compact
 * (spaces, reals, "-0", escapes jansson would not write, duplicate keys,
 * deep nesting), and not JSON at all. */
#define TEST_JSON_TEXTS                                                                            \
    "", "{}", "[]", "null", "true", "false", "0", "-1", "-7", "42", "123456789012345678",          \
        "1234567890123456789", "9223372036854775807", "99999999999999999999", "-0", "01", "007",   \
        "1.0", "1.5", "1e2", "1e3", "-0.0", "\"\"", "\"str\"", "\"caf\xc3\xa9\"", "{\"\":0}",      \
        "{\"claimId\":\"c_1\",\"fleet\":\"bench\"}",                                               \
        "{\"a\":[1,{\"b\":null}],\"c\":\"q\\\"\\\\\\b\\f\\n\\r\\t\\u0001\\u001F\x7f\"}",           \
        "{\"b\":{\"c\":[1,2,{\"d\":null}]},\"e\":\"x\\\"y\\\\z\\n\\u0001\\u001F\"}",               \
        "{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8}",                       \
        "[\"a\",{\"code\":\"Throttling\",\"message\":\"Rate exceeded\",\"at\":1764300000000}]",    \
        "{\"a\":1,\"a\":1}", "{\"a\":1,\"a\":2}", " {}", "{} ", "{}\n", "{ \"a\": 1 }", "[1, 2]",  \
        "{\"a\" :1}", "\"\\/\"", "{\"a\":\"\\/\"}", "\"\\u00e9\"", "{\"a\":\"\\u00e9\"}",          \
        "\"\\u001f\"", "{\"a\":\"\\u001f\"}", "\"\\u000A\"", "{\"a\":\"\\u000A\"}", "\"\\u0000\"", \
        "{\"a\":\"\\u0000\"}", "\"\\u0041\"", "{\"a\":\"\\u0008\"}",                               \
        "{\"k\\\"\":\"caf\xc3\xa9 \xf0\x9f\x98\x80\"}", "\"\xc3\"", "{\"a\":\"\xc3\"}",            \
        "\"\xed\xa0\x80\"", "{\"a\":\"\x7f\"}", "\"\t\"", "\"tab\tin string\"", "\"\\q\"",         \
        "[\"\\q\"]", "{\"a\":1", "{\"a\"}", "[1,]", "[,1]", "{,}", "nul", "tru", "truex",          \
        "not json", "\"x", "\"unterminated", "{\"a\":1} x",                                        \
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]"         \
        "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"

#endif
