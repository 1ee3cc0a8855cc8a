/*
 * test_render.h - the check the list renderer tests share: the bytes a fast
 * text renderer wrote against json_out_compact of the tree the API's
 * renderer built (tests/unit/claims/claims_text_test.c,
 * tests/unit/jobs/job_text_test.c, tests/unit/jobs/job_record_test.c).
 * Include it after cmocka.h.
 */
#ifndef FW_TESTS_UNIT_TEST_RENDER_H
#define FW_TESTS_UNIT_TEST_RENDER_H

#include <string.h>
#include <jansson.h>

#include "service/core/buf.h"
#include "service/core/json_out.h"

/* Fails the test unless text holds exactly json_out_compact(tree); returns
 * that compact text (malloc'd) for further checks. */
static inline char *test_same_text(const json_t *tree, const struct buf *text)
{
    size_t len = 0;
    char *want = json_out_compact(tree, &len);
    assert_non_null(want);
    if (text->len != len || memcmp(text->ptr, want, len))
        fail_msg("differ:\n tree %s\n text %s", want, text->ptr);
    return want;
}

#endif
