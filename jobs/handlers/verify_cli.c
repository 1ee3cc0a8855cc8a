/*
 * verify_cli.c - `fleetwarden check --fleet NAME`: the same verification as
 * the fleet.verify job, run in the calling process with a journal in
 * memory, printed step by step (see verify_cli.h).
 *
 * What it does not have that the job has: a journal that outlives the
 * process. A check killed mid-run leaves what it made until the thing, the
 * certificates and the verification claim are removed by hand (the claims
 * list shows the claim, purpose "verification"); use the job where that
 * matters.
 */
#include "verify_cli.h"

#include <stdlib.h>
#include <string.h>

#include "service/core/err.h"
#include "service/core/randid.h"
#include "service/domain/store.h"
#include "service/domain/store_fleet.h"
#include "verify.h"

static int mem_get(void *ud, const char *key, char **out)
{
    const char *v = json_string_value(json_object_get(ud, key));
    if (!v)
        return FW_ENOTFOUND;
    *out = strdup(v);
    return *out ? 0 : FW_EINTERNAL;
}

static int mem_put(void *ud, const char *key, const char *json)
{
    json_object_set_new(ud, key, json_string(json));
    return 0;
}

static void print_step(const json_t *s, FILE *out)
{
    const char *status = json_string_value(json_object_get(s, "status"));
    const json_t *e = json_object_get(s, "error");
    fprintf(out, "  %d %-14s %-7s %s\n", (int)json_integer_value(json_object_get(s, "step")),
            json_string_value(json_object_get(s, "name")),
            !strcmp(status, "failed") ? "FAILED" : status,
            json_string_value(json_object_get(s, "checked")));
    if (json_is_object(e))
        fprintf(out, "      AWS: %s: %s\n", json_string_value(json_object_get(e, "code")),
                json_string_value(json_object_get(e, "message")));
    if (json_string_value(json_object_get(s, "hint")))
        fprintf(out, "      hint: %s\n", json_string_value(json_object_get(s, "hint")));
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(s, "left"), i, l)
        fprintf(out, "      left: %s\n", json_string_value(l));
}

static void print_report(const char *fleet, const json_t *r, FILE *out)
{
    const json_t *calls = json_object_get(r, "awsCalls");
    fprintf(out, "fleet %s: verification %s (%lld control-plane and %lld data-plane calls)\n",
            fleet, json_string_value(json_object_get(r, "result")),
            (long long)json_integer_value(json_object_get(calls, "controlPlane")),
            (long long)json_integer_value(json_object_get(calls, "dataPlane")));
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(r, "steps"), i, s) print_step(s, out);
}

int verify_cli_run(const struct fw_config *cfg, const char *fleet, const char *claim_id,
                   const json_t *parameters, FILE *out)
{
    char run_id[40];
    if (randid_new("cli_", run_id, sizeof run_id))
        return 1;
    struct verify_settings st;
    verify_settings_load(cfg, &st);
    struct verify_request rq = {fleet, 0, parameters, claim_id, run_id, 1, &st};
    json_t *mem = json_object();
    struct verify_journal j = {mem_get, mem_put, 0, 0, mem};
    json_t *report = 0;
    struct aws_api_error err;
    int rc = verify_run(&rq, &j, &report, &err);
    if (rc) {
        fprintf(out, "fleet %s: verification could not run: %s%s%s\n", fleet,
                err.code[0] ? err.code : fw_strerror(rc), err.message[0] ? ": " : "", err.message);
    } else {
        print_report(fleet, report, out);
        char at[32];
        store_format_time(store_now_ms(), at);
        json_t *last = verify_last(report, 0, at);
        store_fleet_set(fleet, "lastVerify", last);
        json_decref(last);
        rc = strcmp(json_string_value(json_object_get(report, "result")), "passed") != 0;
    }
    json_decref(report);
    json_decref(mem);
    return rc ? 1 : 0;
}
