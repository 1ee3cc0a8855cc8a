/*
 * claims_view.c - rendering a claim record for the API and validating the
 * create request.
 *
 * The record keeps times as epoch-ms strings and flags as "0"/"1"; the API
 * shows RFC 3339 times, booleans and nulls for what is not known yet
 * (registrations stay null until the misuse watch has written them).
 * Certificates and CSRs are public material and appear only in the bundle
 * (certificate) or not at all (CSR); private keys are never in a record.
 */
#include "claims_view.h"

#include <stdlib.h>
#include <string.h>

#include "service/core/err.h"
#include "service/domain/claim_fields.h"
#include "service/core/json_keys.h"
#include "service/domain/store.h"
#include "service/domain/store_claim.h"

static const char *field(const json_t *f, const char *name)
{
    const char *v = json_string_value(json_object_get(f, name));
    return v && v[0] ? v : 0;
}

static json_t *str_or_null(const json_t *f, const char *name)
{
    const char *v = field(f, name);
    return v ? json_string(v) : json_null();
}

static json_t *time_or_null(const json_t *f, const char *name)
{
    const char *v = field(f, name);
    long long ms = v ? strtoll(v, 0, 10) : 0;
    if (ms <= 0)
        return json_null();
    char t[32];
    store_format_time(ms, t);
    return json_string(t);
}

static json_t *int_or_null(const json_t *f, const char *name)
{
    const char *v = field(f, name);
    return v ? json_integer(strtoll(v, 0, 10)) : json_null();
}

static json_t *registrations(const json_t *f)
{
    if (!field(f, claim_field_name(CLAIM_F_REG_UPDATED_AT)))
        return json_null();
    const struct claim_field_def *h = &claim_fields[CLAIM_F_REG_LAST_HOUR],
                                 *t = &claim_fields[CLAIM_F_REG_TOTAL];
    return json_pack("{s:o, s:o, s:o}", h->json, int_or_null(f, h->name), t->json,
                     int_or_null(f, t->name), "updatedAt",
                     time_or_null(f, claim_field_name(CLAIM_F_REG_UPDATED_AT)));
}

static json_t *job_link(const json_t *f, const char *name)
{
    const char *j = field(f, name);
    if (!j)
        return json_null();
    char href[200];
    snprintf(href, sizeof href, "/v1/jobs/%s", j);
    return json_pack("{s:s, s:s}", "id", j, "href", href);
}

/* 1 when the field's value is want. */
static int flag_is(const json_t *f, const char *name, const char *want)
{
    const char *v = field(f, name);
    return v && !strcmp(v, want);
}

const char *const claims_view_fields[] = {CLAIM_SHOWN_NAMES};
const size_t claims_view_nfields = sizeof claims_view_fields / sizeof claims_view_fields[0];

/* The member of one field (NULL: none, or a value jansson refused). */
static json_t *member(const json_t *f, const struct claim_field_def *d)
{
    switch (d->view) {
    case CLAIM_VIEW_ID:
    case CLAIM_VIEW_STR: return str_or_null(f, d->name);
    case CLAIM_VIEW_TIME: return time_or_null(f, d->name);
    case CLAIM_VIEW_INT: return int_or_null(f, d->name);
    case CLAIM_VIEW_FLAG: return json_boolean(flag_is(f, d->name, "1"));
    case CLAIM_VIEW_JOB: return job_link(f, d->name);
    case CLAIM_VIEW_PURPOSE:
        return json_string(flag_is(f, d->name, "verification") ? "verification" : "production");
    case CLAIM_VIEW_REG: return registrations(f);
    case CLAIM_VIEW_PART:
    case CLAIM_VIEW_NONE: break;
    }
    return 0;
}

/* Walks claim_fields in order. A claim whose own href jansson refuses (not
 * UTF-8 once cut to its buffer) is NULL, as json_pack of the head was. */
json_t *claims_view(const json_t *f)
{
    json_t *o = json_object();
    for (size_t i = 0; i < CLAIM_NFIELDS; i++) {
        const struct claim_field_def *d = &claim_fields[i];
        json_t *v = member(f, d);
        if (v)
            json_object_set_new(o, d->json, v);
        if (d->view != CLAIM_VIEW_ID)
            continue;
        const char *id = field(f, d->name);
        char href[64];
        snprintf(href, sizeof href, "/v1/claims/%s", id ? id : "");
        if (json_object_set_new(o, "href", json_string(href))) {
            json_decref(o);
            return 0;
        }
    }
    return o;
}

size_t claims_utf8_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

/* Collects a field error (name, message) in errs. */
static int bad(json_t *errs, const char *name, const char *msg)
{
    json_array_append_new(errs, json_pack("[s, s]", name, msg));
    return 1;
}

static int check_key(json_t *body, struct claims_create_req *o, json_t *errs)
{
    int n = 0;
    json_t *ks = json_object_get(body, "keySource"), *kt = json_object_get(body, "keyType"),
           *csr = json_object_get(body, "csr");
    o->key_source = ks ? json_string_value(ks) : "generated";
    if (!o->key_source || (strcmp(o->key_source, "generated") && strcmp(o->key_source, "csr") &&
                           strcmp(o->key_source, "aws")))
        return bad(errs, "keySource", "must be one of generated, csr, aws");
    int gen = !strcmp(o->key_source, "generated"), aws = !strcmp(o->key_source, "aws");
    o->key_type = kt ? json_string_value(kt) : gen ? "ec-p256" : aws ? "rsa2048" : 0;
    if (kt && !strcmp(o->key_source, "csr"))
        n += bad(errs, "keyType", "not allowed with keySource csr: the key type is the CSR's");
    else if (kt &&
             (!o->key_type || (strcmp(o->key_type, "ec-p256") && strcmp(o->key_type, "rsa2048"))))
        n += bad(errs, "keyType", "must be ec-p256 or rsa2048");
    else if (kt && aws && strcmp(o->key_type, "rsa2048"))
        n += bad(errs, "keyType",
                 "keySource aws always gives an RSA 2048 key: use rsa2048 or leave it out");
    o->csr = csr ? json_string_value(csr) : 0;
    if (!strcmp(o->key_source, "csr") && !o->csr)
        n += bad(errs, "csr", "required with keySource csr: a PEM certificate signing request");
    else if (strcmp(o->key_source, "csr") && csr)
        n += bad(errs, "csr", "only allowed with keySource csr");
    return n;
}

static int check_meta(json_t *body, struct claims_create_req *o, json_t *errs)
{
    int n = 0;
    json_t *ed = json_object_get(body, "expectedDevices"), *note = json_object_get(body, "note");
    if (ed && !json_is_null(ed)) {
        if (!json_is_integer(ed) || json_integer_value(ed) < 1 ||
            json_integer_value(ed) > 1000000000)
            n += bad(errs, "expectedDevices", "must be an integer from 1 to 1000000000");
        else
            o->expected_devices = json_integer_value(ed);
    }
    if (note && !json_is_null(note)) {
        o->note = json_string_value(note);
        if (!o->note || claims_utf8_len(o->note) > CLAIM_NOTE_MAX)
            n += bad(errs, "note", "must be a string of at most 500 characters");
    }
    static const char *const known[] = {"keySource",       "keyType", "csr",
                                        "expectedDevices", "note",    0};
    const char *unknown[16];
    size_t nu = json_unknown_keys(body, known, unknown, 16);
    for (size_t i = 0; i < nu && i < 16; i++)
        n += bad(errs, unknown[i], "unknown field");
    return n;
}

int claims_parse_create(json_t *body, struct claims_create_req *out, struct http_resp *resp)
{
    memset(out, 0, sizeof *out);
    json_t *errs = json_array();
    int n = check_key(body, out, errs);
    n += check_meta(body, out, errs);
    if (n) {
        http_problem(resp, 400, "Invalid claim request", "the request body has invalid fields");
        size_t i;
        json_t *e;
        json_array_foreach(errs, i, e)
        {
            http_problem_field(resp, json_string_value(json_array_get(e, 0)),
                               json_string_value(json_array_get(e, 1)));
        }
    }
    json_decref(errs);
    return n ? FW_EINVAL : 0;
}
