/*
 * fuzz_dataplane_answers.c - what the IoT data plane answers a device
 * (issue 15): the fleet provisioning MQTT API's accepted and rejected
 * payloads (aws/fleetprov.c), the credentials provider's answer and error
 * bodies (aws/credprovider.c), then the hint built from the error
 * (aws/dataplane.c) and an endpoint name checked against the rules.
 *
 * Input: the first byte picks the parser (low 3 bits) and the step of the
 * hint; the rest is the answer body.
 */
#include "aws/credprovider.h"
#include "aws/dataplane.h"
#include "aws/fleetprov.h"
#include "fuzz_common.h"

static void hint(int step, const struct aws_api_error *e, const char *topic)
{
    static const struct dp_names n = {
        "p-claim-policy", "p-template", "role", "arn:aws:lambda:us-east-1:1:function:h", 0, "alias",
        "role",           "client",     "h:1"};
    char out[600];
    for (int k = DP_FAIL_AWS; k <= DP_FAIL_IDENTITY; k++) {
        struct dp_failure f = {step, (enum dp_fail)k, topic, e};
        dataplane_hint(&n, &f, out, sizeof out);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned sel = data[0];
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    struct aws_api_error e;
    awserr_clear(&e);
    struct fleetprov_cert c;
    struct fleetprov_registered r;
    struct credprovider_creds cr;
    char topic[64] = "t";
    switch (sel & 7) {
    case 0:
    case 1:
        if (!fleetprov_parse_cert(body, len, sel & 1, &c, &e))
            fleetprov_cert_cleanup(&c);
        break;
    case 2:
        if (!fleetprov_parse_registered(body, len, &r, &e))
            fleetprov_registered_cleanup(&r);
        break;
    case 3:
    case 4: fleetprov_parse_rejected(body, len, (enum fleetprov_api)((sel >> 3) % 3), &e); break;
    case 5:
        if (!credprovider_parse(body, len, &cr, &e))
            credprovider_creds_cleanup(&cr);
        break;
    default: {
        char *s = fuzz_cstr(data + 1, size - 1);
        credprovider_error(400 + (int)(sel >> 3), s, body, len, &e);
        char why[200];
        (void)dataplane_endpoint_ok(s, "us-east-1", "localhost,x", why, sizeof why);
        snprintf(topic, sizeof topic, "%.60s", s);
        free(s);
    }
    }
    hint(1 + (int)((sel >> 3) % 6), &e, topic);
    return 0;
}
