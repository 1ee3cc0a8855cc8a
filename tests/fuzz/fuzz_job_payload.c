/*
 * fuzz_job_payload.c - job payloads and records (jobs/job.c): the payload
 * check every enqueue runs, the name checks, and rendering a job from its
 * Redis hash fields.
 *
 * Input: the whole input is the payload text; then, cut at '\n', the lines
 * are alternating hash field names and values for job_render and each line
 * is checked as a type, token, lane, state and secret key name.
 */
#include <jansson.h>

#include "fuzz_common.h"
#include "jobs/job.h"

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
    json_decref(job_render(kv, nkv & ~(size_t)1));
    free(text);
    return 0;
}
