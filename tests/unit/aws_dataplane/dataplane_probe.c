/*
 * dataplane_probe.c - drives aws/iotmqtt, aws/fleetprov and aws/credprovider
 * against the emulator's data plane for tests/integration/test_dataplane.py.
 * A test tool: it reads the claim's PEM files the test wrote (the product
 * never reads a key from a file) and prints one JSON line per step, never a
 * private key or token.
 *
 *   dataplane-probe provision HOST MQTT_PORT CRED_PORT CA CERT KEY CLIENT_ID TEMPLATE ALIAS
 * ALPN(on|off) PARAMS_JSON
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/credprovider.h"
#include "aws/fleetprov.h"
#include "aws/iotmqtt.h"
#include "service/core/mem.h"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    char *b = xcalloc(1, 65536);
    size_t n = fread(b, 1, 65535, f);
    b[n] = '\0';
    fclose(f);
    return b;
}

static int report(const char *step, int rc, const struct aws_api_error *e, json_t *extra)
{
    json_t *o = extra ? extra : json_object();
    json_object_set_new(o, "step", json_string(step));
    json_object_set_new(o, "ok", json_boolean(rc == 0));
    if (rc)
        json_object_set_new(o, "error",
                            json_pack("{s:s, s:s, s:s, s:i, s:s}", "code", e->code, "message",
                                      e->message, "operation", e->operation, "status",
                                      e->http_status, "class", awserr_class_name(e->cls)));
    char *t = json_dumps(o, JSON_COMPACT);
    puts(t);
    free(t);
    json_decref(o);
    return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc != 13 || strcmp(argv[1], "provision")) {
        fprintf(stderr, "usage: dataplane-probe provision HOST MQTT_PORT CRED_PORT CA CERT KEY "
                        "CLIENT_ID TEMPLATE "
                        "ALIAS on|off PARAMS_JSON\n");
        return 2;
    }
    char *cert = slurp(argv[6]), *key = slurp(argv[7]);
    json_t *params = json_loads(argv[12], 0, 0);
    struct aws_api_error e = {0};
    struct iotmqtt_options o = {
        argv[2], 0, atoi(argv[3]), !strcmp(argv[11], "on"), argv[5], cert, key, argv[8], 0, 5000};
    struct iotmqtt *m = 0;
    int rc = iotmqtt_connect(&o, &m, &e);
    if (report("connect", rc, &e, rc ? 0 : json_pack("{s:s}", "alpn", iotmqtt_alpn_used(m))))
        goto out;
    struct fleetprov_cert c = {0};
    struct fleetprov_trace t = {0};
    rc = fleetprov_create_keys(m, &c, &t, &e);
    if (report("createKeys", rc, &e,
               json_pack("{s:s, s:s}", "topic", t.topic, "certificateId", c.certificate_id)))
        goto out;
    struct fleetprov_registered r = {0};
    rc = fleetprov_register_thing(m, argv[9], c.ownership_token, params, &r, &t, &e);
    report("register", rc, &e,
           json_pack("{s:s, s:s}", "topic", t.topic, "thingName", r.thing_name));
    iotmqtt_close(m);
    m = 0;
    if (!rc) {
        struct iotmqtt_options o2 = o;
        o2.cert_pem = c.certificate_pem;
        o2.key_pem = c.private_key;
        o2.client_id = r.thing_name;
        rc = iotmqtt_connect(&o2, &m, &e);
        report("thingConnect", rc, &e, 0);
        struct credprovider_request cr = {
            argv[2],       0,       atoi(argv[4]), argv[10], r.thing_name, c.certificate_pem,
            c.private_key, argv[5], 5000};
        struct credprovider_creds cc;
        rc = credprovider_get(&cr, &cc, &e);
        report("credentials", rc, &e, json_pack("{s:s}", "accessKeyId", cc.access_key_id));
        credprovider_creds_cleanup(&cc);
    }
    fleetprov_registered_cleanup(&r);
    fleetprov_cert_cleanup(&c);
out:
    iotmqtt_close(m);
    json_decref(params);
    xfree_secret(key);
    free(cert);
    return rc ? 1 : 0;
}
