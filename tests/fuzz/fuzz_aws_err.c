/*
 * fuzz_aws_err.c - AWS error answers (aws/awserr.c): the rest-json parser
 * (x-amzn-ErrorType header and body) and the query-protocol XML one, then
 * classification, hints and the FW_E* mapping.
 *
 * Input: "ERRORTYPE\nREQUESTID\n" then the body; the first byte's low bit
 * picks JSON or XML, the next bits the HTTP status.
 */
#include "aws/awserr.h"
#include "fuzz_common.h"

static const int s_status[] = {400, 403, 404, 409, 429, 500, 503, 200};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned sel = data[0];
    char *f[3];
    size_t flen[3];
    fuzz_split(data + 1, size - 1, '\n', f, flen, 3);
    const char *type = f[0] && f[0][0] ? f[0] : 0;
    const char *rid = f[1] && f[1][0] ? f[1] : 0;
    const char *body = f[2] ? f[2] : "";
    size_t len = flen[2]; /* the body keeps its embedded NULs */
    struct aws_api_error e;
    awserr_clear(&e);
    snprintf(e.operation, sizeof e.operation, "fuzz:Op");
    int status = s_status[(sel >> 1) & 7];
    if (sel & 1)
        awserr_from_xml(&e, status, body, len, rid);
    else
        awserr_from_json(&e, status, type, body, len, rid);
    awserr_add_hint(&e);
    awserr_append(&e, "%s", "fuzz");
    (void)awserr_to_fw(&e);
    (void)awserr_class_name(e.cls);
    (void)awserr_class_of_code(e.code);
    (void)awserr_is_throttle_code(e.code);
    fuzz_split_free(f, 3);
    return 0;
}
