/*
 * fuzz_creds_answers.c - what credential endpoints answer
 * (aws/creds_*.c): the JSON of the container and IMDS endpoints
 * (creds__parse_json_creds) and STS's XML (creds__sts_parse).
 *
 * Input: the first byte picks the parser (and the HTTP status for STS);
 * the rest is the body.
 */
#include "aws/creds_internal.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    struct creds c;
    struct aws_api_error e;
    memset(&c, 0, sizeof c);
    awserr_clear(&e);
    if (data[0] & 1)
        (void)creds__parse_json_creds(body, len, "fuzz", &c, &e);
    else
        (void)creds__sts_parse(body, len, (data[0] & 2) ? 403 : 200, "fuzz", &c, &e);
    creds_cleanup(&c);
    return 0;
}
