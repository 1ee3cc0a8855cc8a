/* Unit tests for jobs/job_text.c: job_render_text gives byte for byte what
 * json_out_compact(job_render(...)) gives (itself tested against
 * json_dumps), on generated records: every state, fields missing or empty,
 * strings with quotes, control characters, non-ASCII and invalid UTF-8,
 * stored JSON that is canonical, not canonical, or not JSON at all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "jobs/job.h"
#include "jobs/job_text.h"
#include "service/core/json_out.h"

static unsigned long s_seed = 88172645463325252UL;

static unsigned pick(unsigned n)
{
    s_seed ^= s_seed << 13;
    s_seed ^= s_seed >> 7;
    s_seed ^= s_seed << 17;
    return (unsigned)(s_seed % n);
}

static const char *const s_strings[] = {
    "",
    "plain",
    "q\"uote",
    "back\\slash",
    "a/b",
    "tab\there",
    "nl\nx\r",
    "\x01\x1f\x7f",
    "caf\xc3\xa9",
    "\xe2\x82\xac \xf0\x9f\x98\x80",
    "bad \xc3",
    "bad \xff utf8",
    "\xed\xa0\x80 surrogate",
    "\xc0\xaf overlong",
    "claim:c_0123456789abcdef",
    "fleet:bench",
    "0 */5 * * *",
    "j_0123456789abcdef01234567",
    ("j_"
     "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3"
     "\xa9\xc3\xa9"
     "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3"
     "\xa9\xc3\xa9"),
};

/* Stored JSON fields: what we write (canonical), what we might not. */
static const char *const s_json[] = {
    "",
    "{}",
    "[]",
    "null",
    "true",
    "false",
    "0",
    "-1",
    "42",
    "9223372036854775807",
    "99999999999999999999",
    "-0",
    "007",
    "1.5",
    "1e3",
    "-0.0",
    "\"str\"",
    "\"\"",
    "{\"claimId\":\"c_1\",\"fleet\":\"bench\"}",
    "{\"a\":1,\"a\":2}",
    "{\"b\":{\"c\":[1,2,{\"d\":null}]},\"e\":\"x\\\"y\\\\z\\n\\u0001\\u001F\"}",
    "{ \"a\": 1 }",
    "[1, 2]",
    "{\"a\":\"\\/\"}",
    "{\"a\":\"\\u00e9\"}",
    "{\"a\":\"\\u001f\"}",
    "{\"a\":\"\\u0000\"}",
    "{\"a\":\"\\u000A\"}",
    "{\"a\":\"\\u0008\"}",
    "{\"k\\\"\":\"caf\xc3\xa9 \xf0\x9f\x98\x80\"}",
    "{\"a\":\"\xc3\"}",
    "{\"a\":\"\x7f\"}",
    "[\"a\",{\"code\":\"Throttling\",\"message\":\"Rate exceeded\",\"at\":1764300000000}]",
    ("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]"
     "]]]]]]]]]]]]]"
     "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"),
    "{\"a\":1",
    "{\"a\"}",
    "[1,]",
    "nul",
    "tru",
    "not json",
    "\"unterminated",
    "{\"a\":1} x",
    " {}",
    "{}\n",
    "{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8}",
    "\"tab\tin string\"",
    "\"\\q\"",
};

static const char *const s_fields[] = {"id",     "type",    "lane",    "state",    "attempts",
                                       "max",    "pdone",   "ptotal",  "pstep",    "payload",
                                       "result", "errors",  "reason",  "resource", "sched",
                                       "cancel", "created", "started", "finished", "next"};
static const char *const s_states[] = {"queued", "scheduled", "running", "succeeded",
                                       "failed", "dead",      "canceled"};
static const char *const s_ints[] = {"", "0", "1", "5", "-3", "12abc", "9223372036854775807", "x"};
static const char *const s_times[] = {"",   "0",   "1764300000123",  "1764300000000",
                                      "-5", "abc", "253402300799999"};
static const char *const s_steps[] = {"s:cert",        "s:thing",   "s:",    "s:\"q\"",
                                      "s:caf\xc3\xa9", "s:bad\xff", "s:n\nl"};

static const char *value_for(const char *field)
{
    if (!strcmp(field, "state"))
        return pick(8) ? s_states[pick(7)] : s_strings[pick(sizeof s_strings / sizeof *s_strings)];
    if (!strcmp(field, "attempts") || !strcmp(field, "max") || !strcmp(field, "pdone") ||
        !strcmp(field, "ptotal"))
        return s_ints[pick(sizeof s_ints / sizeof *s_ints)];
    if (!strcmp(field, "created") || !strcmp(field, "started") || !strcmp(field, "finished") ||
        !strcmp(field, "next"))
        return s_times[pick(sizeof s_times / sizeof *s_times)];
    if (!strcmp(field, "payload") || !strcmp(field, "result") || !strcmp(field, "errors"))
        return s_json[pick(sizeof s_json / sizeof *s_json)];
    if (!strcmp(field, "cancel"))
        return pick(2) ? "1" : "0";
    return s_strings[pick(sizeof s_strings / sizeof *s_strings)];
}

/* A record with each field present or not, in a random order, plus steps. */
static size_t make_record(const char **kv)
{
    size_t n = 0, nf = sizeof s_fields / sizeof *s_fields, ns = sizeof s_steps / sizeof *s_steps;
    size_t start = pick((unsigned)nf);
    for (size_t i = 0; i < nf; i++) {
        const char *f = s_fields[(start + i) % nf];
        if (pick(5) == 0)
            continue;
        kv[n++] = f;
        kv[n++] = value_for(f);
    }
    for (size_t i = 0; i < ns; i++)
        if (pick(3) == 0) {
            kv[n++] = s_steps[i];
            kv[n++] = s_json[pick(sizeof s_json / sizeof *s_json)];
        }
    return n;
}

static void same(const char *const *kv, size_t n)
{
    json_t *tree = job_render(kv, n);
    size_t wlen = 0;
    char *want = json_out_compact(tree, &wlen);
    struct buf b;
    buf_init(&b, (size_t)1 << 24);
    assert_int_equal(job_render_text(kv, n, &b), 0);
    assert_non_null(want);
    if (b.len != wlen || memcmp(b.ptr, want, wlen))
        fail_msg("differ:\n want %s\n got  %s", want, b.ptr);
    free(want);
    json_decref(tree);
    buf_free(&b);
}

static void test_generated_records(void **state)
{
    (void)state;
    const char *kv[128];
    for (int i = 0; i < 20000; i++)
        same(kv, make_record(kv));
}

static void test_every_json_field_value(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof s_json / sizeof *s_json; i++) {
        const char *kv[] = {"id",      "j_1",    "payload", s_json[i], "result",
                            s_json[i], "errors", s_json[i], "s:step",  s_json[i]};
        same(kv, sizeof kv / sizeof *kv);
    }
}

static void test_empty_and_bare_records(void **state)
{
    (void)state;
    same(0, 0);
    const char *kv[] = {"id", "", "state", "", "payload", "", "errors", "", "cancel", ""};
    same(kv, sizeof kv / sizeof *kv);
    const char *odd[] = {"id", "\xff", "type", "a\"b", "href", "ignored"};
    same(odd, sizeof odd / sizeof *odd);
}

/* The fast path is taken for what we store: a canonical field is copied. */
static void test_canonical_fields_copied(void **state)
{
    (void)state;
    const char *kv[] = {"id", "j_1", "payload", "{\"claimId\":\"c_1\",\"n\":[1,-2,{\"x\":null}]}"};
    struct buf b;
    buf_init(&b, 1 << 20);
    assert_int_equal(job_render_text(kv, 4, &b), 0);
    assert_non_null(strstr(b.ptr, "\"payload\":{\"claimId\":\"c_1\",\"n\":[1,-2,{\"x\":null}]}"));
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generated_records),
        cmocka_unit_test(test_every_json_field_value),
        cmocka_unit_test(test_empty_and_bare_records),
        cmocka_unit_test(test_canonical_fields_copied),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
