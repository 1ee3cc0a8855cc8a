/* http_test.c - requests and responses as handlers see them (service/http/http.c): a header past
 * the limit is refused where the caller sees it, never dropped in silence; an optional JSON body is
 * an object or refused; a list read answers its page or its error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "service/core/err.h"
#include "service/http/http.h"

static void free_headers(struct http_resp *r)
{
    for (int i = 0; i < r->nheaders; i++)
        free(r->header_values[i]);
    json_decref(r->json);
}

static void test_thirteenth_header_is_refused(void **state)
{
    (void)state;
    static const char *names[HTTP_MAX_HEADERS + 1] = {"H0", "H1", "H2", "H3",  "H4",  "H5", "H6",
                                                      "H7", "H8", "H9", "H10", "H11", "H12"};
    struct http_resp r = {0};
    for (int i = 0; i < HTTP_MAX_HEADERS; i++)
        assert_int_equal(http_resp_header(&r, names[i], "v"), 0);
    assert_null(r.header_refused);
    assert_int_equal(http_resp_header(&r, names[HTTP_MAX_HEADERS], "v"), FW_ETOOBIG);
    assert_string_equal(r.header_refused, "H12");
    assert_int_equal(r.nheaders, HTTP_MAX_HEADERS);
    /* replacing one already set needs no room */
    assert_int_equal(http_resp_header(&r, "h3", "new"), 0);
    assert_string_equal(r.header_values[3], "new");
    /* the first refused name is the one the server logs */
    assert_int_equal(http_resp_header(&r, "Another", "v"), FW_ETOOBIG);
    assert_string_equal(r.header_refused, "H12");
    free_headers(&r);
}

/* The body of a request as the server hands it: NUL-terminated, len bytes. */
static json_t *optional(const char *body, size_t len)
{
    struct http_req req = {.body = body, .body_len = len};
    return http_req_optional_object(&req);
}

static json_t *optional_text(const char *body)
{
    return optional(body, strlen(body));
}

static void test_no_body_is_an_empty_object(void **state)
{
    (void)state;
    const char *none[] = {"", " ", "\r\n", " \t\n\r "};
    json_t *o = optional(0, 0);
    assert_true(json_is_object(o) && json_object_size(o) == 0);
    json_decref(o);
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
        o = optional_text(none[i]);
        assert_true(json_is_object(o) && json_object_size(o) == 0);
        json_decref(o);
    }
}

static void test_an_object_is_taken(void **state)
{
    (void)state;
    json_t *o = optional_text(" {\"note\": \"x\", \"n\": 1}\n");
    assert_true(json_is_object(o));
    assert_int_equal(json_object_size(o), 2);
    assert_string_equal(json_string_value(json_object_get(o, "note")), "x");
    json_decref(o);
}

static void test_anything_else_is_refused(void **state)
{
    (void)state;
    const char *bad[] = {"null", "[]",      "[{}]",  "1",    "\"x\"",    "true",
                         "{",    "{\"a\":", "{} {}", "\xff", "{'a': 1}", "{\"a\": 1, \"a\": 2}",
                         "\v{}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (optional_text(bad[i]))
            fail_msg("taken: %s", bad[i]);
    /* a NUL inside is no JSON, even after blanks */
    assert_null(optional(" \0{}", 4));
    assert_null(optional("{}\0", 3));
}

static void test_list_page_answered(void **state)
{
    (void)state;
    struct http_resp r = {0};
    json_t *items = json_pack("[{s:i}]", "n", 1);
    http_list_answer(&r, 0, items, strdup("c2"));
    assert_int_equal(r.status, 200);
    assert_int_equal(r.is_problem, 0);
    assert_true(json_equal(json_object_get(r.json, "items"), items));
    assert_string_equal(json_string_value(json_object_get(r.json, "nextCursor")), "c2");
    free_headers(&r);
    r = (struct http_resp){0};
    http_list_answer(&r, 0, json_array(), 0);
    assert_true(json_is_null(json_object_get(r.json, "nextCursor")));
    free_headers(&r);
}

static void test_list_failures_answered(void **state)
{
    (void)state;
    struct http_resp r = {0};
    http_list_answer(&r, FW_EINVAL, 0, 0);
    assert_int_equal(r.status, 400);
    assert_true(r.is_problem);
    json_t *e = json_array_get(json_object_get(r.json, "errors"), 0);
    assert_string_equal(json_string_value(json_object_get(e, "field")), "cursor");
    free_headers(&r);
    r = (struct http_resp){0};
    http_list_answer(&r, FW_EUNAVAILABLE, json_array(), strdup("x"));
    assert_int_equal(r.status, 503);
    assert_int_equal(r.nheaders, 1);
    assert_string_equal(r.header_names[0], "Retry-After");
    free_headers(&r);
    r = (struct http_resp){0};
    assert_int_equal(http_list_failed(&r, 0), 0);
    assert_null(r.json);
    assert_int_equal(http_list_failed(&r, FW_EREDIS), FW_EREDIS);
    assert_int_equal(r.status, 503);
    free_headers(&r);
}

static void test_problem_names_every_field(void **state)
{
    (void)state;
    struct http_resp r = {0};
    json_t *errors = json_pack("[{s:s, s:s}, {s:s, s:s}]", "field", "name", "message", "too long",
                               "field", "template.body/Resources", "message", "required");
    http_problem_fields(&r, errors);
    assert_int_equal(r.status, 400);
    assert_true(r.is_problem);
    assert_string_equal(json_string_value(json_object_get(r.json, "title")), "Invalid request");
    assert_true(json_equal(json_object_get(r.json, "errors"), errors));
    json_decref(errors);
    free_headers(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thirteenth_header_is_refused),
        cmocka_unit_test(test_no_body_is_an_empty_object),
        cmocka_unit_test(test_an_object_is_taken),
        cmocka_unit_test(test_anything_else_is_refused),
        cmocka_unit_test(test_list_page_answered),
        cmocka_unit_test(test_list_failures_answered),
        cmocka_unit_test(test_problem_names_every_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
