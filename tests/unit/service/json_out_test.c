/* Unit tests for service/core/json_out.c: the same bytes as json_dumps(JSON_COMPACT), the same
 * failures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "service/core/json_out.h"
#include "tests/unit/test_values.h"

/* Both writers on v: equal text, or both refuse. */
static void same(const json_t *v)
{
    char *want = json_dumps(v, JSON_COMPACT);
    size_t n = 0;
    char *got = json_out_compact(v, &n);
    if (!want) {
        assert_null(got);
        return;
    }
    assert_non_null(got);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(got, want, n + 1);
    free(want);
    free(got);
}

static void test_documents(void **state)
{
    (void)state;
    const char *docs[] = {
        "{}",
        "[]",
        "[{}]",
        "{\"a\":[]}",
        "[null,true,false,0,-1,9223372036854775807,-9223372036854775808]",
        "{\"z\":1,\"a\":2,\"m\":{\"y\":[1,{\"b\":null}]}}",
        "[\"plain\",\"\",\"q\\\"uote\",\"back\\\\slash\",\"a/"
        "b\",\"\\b\\f\\n\\r\\t\",\"\\u0000x\\u0001\\u001f\\u007f\"]",
        "[\"caf\\u00e9\",\"\\u20ac\",\"\\ud83d\\ude00\",\"\\uffff\",\"mixed \\u00e9\\n\\\"x\\\" "
        "\\ud83d\\ude00 end\"]",
        "{\"\\n key\\u00e9\":\"v\",\"k\\\"\":[1.5,-0.0,1e300,3.0,0.1,123456789.123]}",
        "[[[[[[[[[[[[[[[[[[[[\"deep\"]]]]]]]]]]]]]]]]]]]]",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        json_error_t e;
        json_t *v = json_loads(docs[i], JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
        assert_non_null(v);
        same(v);
        json_decref(v);
    }
}

/* Every single byte and many short random byte strings as values: invalid
 * UTF-8 made with a _nocheck call must fail as jansson fails. As a key,
 * valid text must match; invalid text is refused (jansson ignores the
 * failure there and writes a broken document such as {":true}). */
static void test_bytes(void **state)
{
    (void)state;
    uint32_t seed = 12345;
    for (int round = 0; round < 20000; round++) {
        unsigned char s[8];
        size_t n = round < 256 ? 1 : 1 + round % 7;
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            s[i] = round < 256 ? (unsigned char)round : (unsigned char)(seed >> 16);
        }
        json_t *a = json_array();
        json_array_append_new(a, json_stringn_nocheck((const char *)s, n));
        same(a);
        char key[9];
        memcpy(key, s, n);
        key[n] = 0;
        json_t *o = json_object();
        json_object_set_new_nocheck(o, key, json_true());
        char *valid = json_dumps(a, JSON_COMPACT);
        if (valid && strlen(key) == n)
            same(o);
        free(valid);
        json_decref(o);
        json_decref(a);
    }
}

static void test_bad_key_refused(void **state)
{
    (void)state;
    json_t *o = json_object();
    json_object_set_new_nocheck(o, "\x80", json_true());
    assert_null(json_out_compact(o, 0));
    json_decref(o);
}

static void test_refused(void **state)
{
    (void)state;
    json_t *s = json_string("x");
    assert_null(json_out_compact(s, 0));
    json_decref(s);
    json_t *deep = json_array(), *at = deep;
    for (int i = 0; i < JSON_OUT_MAX_DEPTH + 5; i++) {
        json_t *next = json_array();
        json_array_append_new(at, next);
        at = next;
    }
    assert_null(json_out_compact(deep, 0));
    json_decref(deep);
}

/* json_out_is_compact accepts only text that jansson would write back
 * unchanged, and does accept the compact text jansson writes. */
static void test_is_compact(void **state)
{
    (void)state;
    const char *texts[] = {TEST_JSON_TEXTS};
    int accepted = 0;
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        json_t *v = json_loads(texts[i], JSON_DECODE_ANY, NULL);
        char *back = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : 0;
        int same_text = back && !strcmp(back, texts[i]);
        if (json_out_is_compact(texts[i])) {
            accepted++;
            if (!same_text)
                fail_msg("accepted but jansson writes it differently: %s", texts[i]);
        }
        free(back);
        json_decref(v);
    }
    /* the 21 of TEST_JSON_TEXTS that are compact: the scalars, "", "str", the
     * two UTF-8 strings, and the objects and array without a space, real,
     * "\/", lowercase \u escape or duplicate key (not the deeply nested one) */
    assert_int_equal(accepted, 21);
    assert_false(json_out_is_compact(0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_documents),  cmocka_unit_test(test_bytes),
        cmocka_unit_test(test_refused),    cmocka_unit_test(test_bad_key_refused),
        cmocka_unit_test(test_is_compact),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
