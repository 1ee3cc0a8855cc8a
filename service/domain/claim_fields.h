/*
 * claim_fields.h - the claim record's one field table.
 *
 * Every field of a claim's Redis hash (P claim:ID, store_claim.h) is one
 * row of CLAIM_FIELDS. From it come: the enum that names a field in C
 * (CLAIM_F_*), the store's field names, the fields a list reads
 * (CLAIM_SHOWN_NAMES), the JSON view of GET /v1/claims/{id}
 * (routes/claims_view.c) and the list's text renderer (routes/claims_text.c),
 * which walk the rows in order, the checked builder of the fields a step
 * writes (struct claim_kv), and the claim scripts' field names: a script in
 * service/domain/lua/ writes CLAIM_F_<row>, which service/redis/lua_embed.py
 * replaces with the row's store name at build time (a name that is no row,
 * or a SCRIPT row no script names, fails the build). A new field is one row
 * here plus its property in openapi/openapi.yaml's Claim schema (and, for a
 * SCRIPT row, the script line that writes it, naming it CLAIM_F_<row>).
 *
 * Columns: X(ENUM, store name, JSON name, view, written by)
 *   view: how the API shows it, in row order
 *     ID    string or null, then "href": "/v1/claims/ID"
 *     STR   string or null (absent and "" are null)
 *     TIME  epoch-ms string -> RFC 3339 string, null when absent or <= 0
 *     INT   decimal string -> integer, null when absent
 *     FLAG  "1" -> true, anything else false
 *     JOB   {"id": J, "href": "/v1/jobs/J"} or null
 *     PURPOSE "verification" when so, else "production" (never null)
 *     REG   {"lastHour", "total", "updatedAt"} from the REG_* rows, null
 *           until the misuse watch wrote regUpdatedAt
 *     PART  not a member of its own: read for another row (REG)
 *     NONE  never shown, never read by a list (CSR and certificate PEM are
 *           ~1.3 KB of a ~2 KB record)
 *   written by: which step may put it in a struct claim_kv
 *     NEW     store_claim_create (a new record)
 *     SET     store_claim_set / store_claim_transition (job steps, the watch)
 *     NEW_SET both
 *     SCRIPT  only the store's own scripts (state changes, key, bundle,
 *             successor), never a builder
 * Times are epoch ms as decimal strings, flags "0"/"1".
 */
#ifndef FW_CLAIM_FIELDS_H
#define FW_CLAIM_FIELDS_H

#include <stddef.h>
#include <jansson.h>

#define CLAIM_FIELDS(X)                                                                            \
    X(ID, "id", "id", ID, NEW)                                                                     \
    X(FLEET, "fleet", "fleet", STR, NEW)                                                           \
    X(STATE, "state", "state", STR, NEW)                                                           \
    X(KEY_SOURCE, "keySource", "keySource", STR, NEW)                                              \
    X(KEY_TYPE, "keyType", "keyType", STR, NEW_SET)                                                \
    X(CERT_ID, "certificateId", "certificateId", STR, SET)                                         \
    X(CERT_ARN, "certificateArn", "certificateArn", STR, SET)                                      \
    X(PUBLIC_KEY_FP, "publicKeyFp", "publicKeyFingerprint", STR, NEW_SET)                          \
    X(CREATED, "created", "createdAt", TIME, SCRIPT)                                               \
    X(ACTIVATED, "activated", "activatedAt", TIME, SET)                                            \
    X(EXPIRES, "expires", "expiresAt", TIME, SET)                                                  \
    X(ROTATING_AT, "rotatingAt", "rotationStartedAt", TIME, SET)                                   \
    X(GRACE_UNTIL, "graceUntil", "graceUntil", TIME, SET)                                          \
    X(INACTIVE_AT, "inactiveAt", "retiredAt", TIME, SET)                                           \
    X(REVOKED_AT, "revokedAt", "revokedAt", TIME, SET)                                             \
    X(DELETED_AT, "deletedAt", "deletedAt", TIME, SET)                                             \
    X(BUNDLE_AT, "bundleDownloadedAt", "bundleDownloadedAt", TIME, SCRIPT)                         \
    X(UPDATED, "updated", "updatedAt", TIME, SCRIPT)                                               \
    X(PREDECESSOR, "predecessor", "predecessor", STR, NEW)                                         \
    X(SUCCESSOR, "successor", "successor", STR, SCRIPT)                                            \
    X(DISABLE_REASON, "disableReason", "disableReason", STR, SET)                                  \
    X(REG_LAST_HOUR, "regLastHour", "lastHour", PART, SET)                                         \
    X(REG_TOTAL, "regTotal", "total", PART, SET)                                                   \
    X(REG_UPDATED_AT, "regUpdatedAt", "registrations", REG, SET)                                   \
    X(EXPECTED_DEVICES, "expectedDevices", "expectedDevices", INT, NEW)                            \
    X(NOTE, "note", "note", STR, NEW)                                                              \
    X(BUNDLE_DOWNLOADED, "bundleDownloaded", "bundleDownloaded", FLAG, NEW)                        \
    X(KEY_HELD, "keyHeld", "privateKeyHeld", FLAG, NEW)                                            \
    X(ERROR, "error", "error", STR, SET)                                                           \
    X(JOB, "job", "job", JOB, NEW_SET)                                                             \
    X(PURPOSE, "purpose", "purpose", PURPOSE, NEW)                                                 \
    X(CSR, "csr", "csr", NONE, NEW)                                                                \
    X(CERT_PEM, "certificatePem", "certificatePem", NONE, SET)                                     \
    X(KEY_ERASED_REASON, "keyErasedReason", "keyErasedReason", NONE, SCRIPT)                       \
    X(CERT_REQUESTED, "certRequested", "certRequested", NONE, SET)                                 \
    X(REG_METRIC, "regMetric", "regMetric", NONE, SET)                                             \
    X(FLEET_UID, "fleetUid", "fleetUid", NONE, NEW)

enum claim_field {
#define CLAIM_F_ENUM(e, name, json, view, by) CLAIM_F_##e,
    CLAIM_FIELDS(CLAIM_F_ENUM)
#undef CLAIM_F_ENUM
        CLAIM_NFIELDS
};

enum claim_view {
    CLAIM_VIEW_ID,
    CLAIM_VIEW_STR,
    CLAIM_VIEW_TIME,
    CLAIM_VIEW_INT,
    CLAIM_VIEW_FLAG,
    CLAIM_VIEW_JOB,
    CLAIM_VIEW_PURPOSE,
    CLAIM_VIEW_REG,
    CLAIM_VIEW_PART,
    CLAIM_VIEW_NONE
};

#define CLAIM_BY_SCRIPT 0u
#define CLAIM_BY_NEW 1u
#define CLAIM_BY_SET 2u
#define CLAIM_BY_NEW_SET (CLAIM_BY_NEW | CLAIM_BY_SET)

struct claim_field_def {
    const char *name; /* the hash field */
    const char *json; /* the API's member name */
    enum claim_view view;
    unsigned by; /* CLAIM_BY_* */
};

/* The table, indexed by enum claim_field. */
extern const struct claim_field_def claim_fields[CLAIM_NFIELDS];

/* The store names of every field the view reads (view other than NONE), a
 * compile-time list: { CLAIM_SHOWN_NAMES } is what a list page reads. */
#define CLAIM_SHOWN_IF_ID(n) n,
#define CLAIM_SHOWN_IF_STR(n) n,
#define CLAIM_SHOWN_IF_TIME(n) n,
#define CLAIM_SHOWN_IF_INT(n) n,
#define CLAIM_SHOWN_IF_FLAG(n) n,
#define CLAIM_SHOWN_IF_JOB(n) n,
#define CLAIM_SHOWN_IF_PURPOSE(n) n,
#define CLAIM_SHOWN_IF_REG(n) n,
#define CLAIM_SHOWN_IF_PART(n) n,
#define CLAIM_SHOWN_IF_NONE(n)
#define CLAIM_SHOWN_NAME(e, name, json, view, by) CLAIM_SHOWN_IF_##view(name)
#define CLAIM_SHOWN_NAMES CLAIM_FIELDS(CLAIM_SHOWN_NAME)

/* The field's store name (f must be in range: assert). */
const char *claim_field_name(enum claim_field f);
/* Field f of a record as store_claim_get gives it (a JSON object of
 * strings): NULL when absent or empty. Borrowed from rec. */
const char *claim_rec_get(const json_t *rec, enum claim_field f);
/* Field f of a claim record read as json_object_get reads it, named by
 * the table (no store name spelled at the call): the member or NULL, and
 * its string or NULL (unlike claim_rec_get, "" stays ""). Borrowed. */
static inline json_t *claim_field_get(const json_t *rec, enum claim_field f)
{
    return json_object_get(rec, claim_fields[f].name);
}
static inline const char *claim_field_str(const json_t *rec, enum claim_field f)
{
    return json_string_value(claim_field_get(rec, f));
}

/*
 * The fields one step writes, built with their count kept here (no
 * hand-counted name/value pairs). Values are borrowed (str) or formatted
 * into the builder (ms, int). Adding a field the step may not write (its
 * row's "written by"), the same field twice, or more than CLAIM_NFIELDS
 * is a programmer error: assert().
 */
struct claim_kv {
    unsigned by; /* CLAIM_BY_NEW or CLAIM_BY_SET */
    size_t n;    /* fields added */
    unsigned char field[CLAIM_NFIELDS];
    const char *kv[2 * CLAIM_NFIELDS]; /* name, value, ... */
    char num[CLAIM_NFIELDS][24];
};

void claim_kv_init(struct claim_kv *b, unsigned by);
/* v NULL is written as "" (what clears a field). */
void claim_kv_str(struct claim_kv *b, enum claim_field f, const char *v);
/* A decimal number: times (epoch ms), counts. */
void claim_kv_int(struct claim_kv *b, enum claim_field f, long long v);
/* 1 when the builder holds f. */
int claim_kv_has(const struct claim_kv *b, enum claim_field f);

#endif
