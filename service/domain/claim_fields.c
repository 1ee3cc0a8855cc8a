/*
 * claim_fields.c - the claim field table expanded, and the builder of the
 * fields a step writes (see claim_fields.h).
 */
#include "service/domain/claim_fields.h"

#include <assert.h>
#include <stdio.h>

const struct claim_field_def claim_fields[CLAIM_NFIELDS] = {
#define CLAIM_F_DEF(e, n, j, v, b) [CLAIM_F_##e] = {n, j, CLAIM_VIEW_##v, CLAIM_BY_##b},
    CLAIM_FIELDS(CLAIM_F_DEF)
#undef CLAIM_F_DEF
};

const char *claim_field_name(enum claim_field f)
{
    assert((unsigned)f < CLAIM_NFIELDS);
    return claim_fields[f].name;
}

const char *claim_rec_get(const json_t *rec, enum claim_field f)
{
    const char *v = json_string_value(json_object_get(rec, claim_field_name(f)));
    return v && v[0] ? v : 0;
}

void claim_kv_init(struct claim_kv *b, unsigned by)
{
    assert(by == CLAIM_BY_NEW || by == CLAIM_BY_SET);
    b->by = by;
    b->n = 0;
}

int claim_kv_has(const struct claim_kv *b, enum claim_field f)
{
    for (size_t i = 0; i < b->n; i++)
        if (b->field[i] == f)
            return 1;
    return 0;
}

void claim_kv_str(struct claim_kv *b, enum claim_field f, const char *v)
{
    assert((unsigned)f < CLAIM_NFIELDS);
    assert(claim_fields[f].by & b->by); /* this step may not write the field */
    assert(!claim_kv_has(b, f));        /* twice: the second would win silently */
    assert(b->n < CLAIM_NFIELDS);
    b->field[b->n] = (unsigned char)f;
    b->kv[2 * b->n] = claim_fields[f].name;
    b->kv[2 * b->n + 1] = v ? v : "";
    b->n++;
}

void claim_kv_int(struct claim_kv *b, enum claim_field f, long long v)
{
    assert(b->n < CLAIM_NFIELDS);
    char *s = b->num[b->n];
    snprintf(s, sizeof b->num[0], "%lld", v);
    claim_kv_str(b, f, s);
}
