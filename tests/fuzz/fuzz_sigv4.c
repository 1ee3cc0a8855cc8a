/*
 * fuzz_sigv4.c - SigV4 canonicalisation and signing (aws/sigv4.c).
 *
 * Input: one selector byte, 8 bytes of signing time (little-endian
 * seconds; the client signs with its clock plus the skew it learnt from a
 * server's Date header, so the time is not entirely ours), then lines:
 * METHOD, PATH, QUERY ("-" for none), up to 16 header lines "Name:value",
 * an empty line, and the body. The selector's bits choose normalize_path,
 * add_content_sha256, a session token and presigning. Runs the canonical
 * request, signing and presigning, and URI encoding, and checks that the
 * X-Amz-Date value is always 16 characters.
 */
#include <assert.h>

#include "aws/sigv4.h"
#include "fuzz_common.h"
#include "service/core/buf.h"

#define NHDR 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 9 || size > 16384)
        return 0;
    unsigned sel = data[0];
    unsigned long long t = 0;
    for (int i = 8; i >= 1; i--)
        t = t << 8 | data[i];
    char *text = fuzz_cstr(data + 9, size - 9);
    size_t textlen = size - 9;
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
        .time = (time_t)(long long)t,
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
    if (sigv4_sign(&req, &prm, &res) == 0) {
        assert(strlen(res.amz_date) == 16); /* YYYYMMDDTHHMMSSZ, NUL-terminated */
        buf_free(&res.authorization);
    }
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
