/*
 * fuzz_sigv4.c - SigV4 canonicalisation and signing (aws/sigv4.c).
 *
 * Input lines: METHOD, PATH, QUERY ("-" for none), then up to 16 header
 * lines "Name:value", an empty line, and the body. The first byte's bits
 * choose normalize_path, add_content_sha256 and a session token. Runs the
 * canonical request, signing and presigning, and URI encoding.
 */
#include "aws/sigv4.h"
#include "fuzz_common.h"
#include "service/buf.h"

#define NHDR 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 16384)
        return 0;
    unsigned sel = data[0];
    char *text = fuzz_cstr(data + 1, size - 1);
    size_t textlen = size - 1;
    char *line[3 + NHDR] = {0};
    struct sigv4_header h[NHDR + 1];
    size_t nh = 0, nl = 0;
    char *p = text, *body = 0;
    /* Method, path, query, then headers until an empty line. */
    while (p && nl < 3 + NHDR) {
        char *nl_at = memchr(p, '\n', textlen - (size_t)(p - text));
        if (nl_at)
            *nl_at = 0;
        if (nl >= 3 && !*p) {
            body = nl_at ? nl_at + 1 : 0;
            break;
        }
        line[nl++] = p;
        p = nl_at ? nl_at + 1 : 0;
    }
    h[nh++] = (struct sigv4_header){"Host", "example.amazonaws.com"};
    for (size_t i = 3; i < nl; i++) {
        char *colon = strchr(line[i], ':');
        if (!colon)
            continue;
        *colon = 0;
        h[nh++] = (struct sigv4_header){line[i], colon + 1};
    }
    struct sigv4_request req = {
        .method = nl > 0 ? line[0] : "GET",
        .path = nl > 1 ? line[1] : "/",
        .query = nl > 2 && strcmp(line[2], "-") ? line[2] : 0,
        .headers = h,
        .nheaders = nh,
        .body = body,
        .body_len = body ? textlen - (size_t)(body - text) : 0,
    };
    struct sigv4_params prm = {
        .access_key_id = "AKIDEXAMPLE",
        .secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        .session_token = (sel & 4) ? "token/with+chars=" : 0,
        .region = "us-east-1",
        .service = "service",
        .time = 1440938160,
        .normalize_path = sel & 1,
        .add_content_sha256 = (sel >> 1) & 1,
    };
    struct buf canon, sts, q;
    buf_init(&canon, 64 * 1024);
    buf_init(&sts, 64 * 1024);
    buf_init(&q, 64 * 1024);
    (void)sigv4_canonical_request(&req, &prm, &canon);
    (void)sigv4_string_to_sign(&req, &prm, &sts);
    struct sigv4_result res;
    if (sigv4_sign(&req, &prm, &res) == 0)
        buf_free(&res.authorization);
    if (sel & 8)
        (void)sigv4_presign(&req, &prm, 1 + (long)(sel >> 4) * 1000, &q);
    buf_reset(&q);
    (void)sigv4_uri_encode(&q, text, textlen);
    buf_free(&canon);
    buf_free(&sts);
    buf_free(&q);
    free(text);
    return 0;
}
