/*
 * fuzz_job_payload.c - job payloads and records (jobs/job.c,
 * job_record.c, job_text.c): the payload check every enqueue runs, the name
 * checks, and reading a job from its stored hash fields and rendering it
 * both ways (the tree and the list's text must give the same bytes).
 *
 * Input: the whole input is the payload text; then, cut at '\n', the lines
 * are alternating stored hash field names and values (job_record.h) and
 * each line is checked as a type, token, lane, state and secret key name.
 */
#include <jansson.h>

#include "fuzz_common.h"
#include "jobs/job.h"
#include "jobs/job_record.h"
#include "jobs/job_text.h"
#include "service/core/json_out.h"

/* Renders a read job both ways; aborts when they differ. */
static void render_both(const char *const *kv, size_t nkv)
{
    static struct job_fields f;
    if (job_record_expand("j_fuzz", kv, nkv, &f) != 0)
        return;
    json_t *tree = job_render(&f);
    size_t len = 0;
    char *want = json_out_compact(tree, &len);
    struct buf b;
    buf_init(&b, (size_t)1 << 24);
    if (!want || job_render_text(&f, &b) != 0 || b.len != len || memcmp(b.ptr, want, len))
        abort();
    buf_free(&b);
    free(want);
    json_decref(tree);
}

#define NKV 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 128 * 1024)
        return 0;
    char *text = fuzz_cstr(data, size);
    char why[200];
    (void)job_payload_check(text, why, sizeof why);
    const char *kv[NKV];
    size_t nkv = 0;
    for (char *line = text, *next; line && nkv < NKV; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        kv[nkv++] = line;
        (void)job_type_valid(line);
        (void)job_token_valid(line, 128);
        (void)job_lane_parse(line);
        (void)job_state_valid(line);
        (void)job_state_terminal(line);
        (void)job_key_is_secret(line);
    }
    render_both(kv, nkv & ~(size_t)1);
    free(text);
    return 0;
}
