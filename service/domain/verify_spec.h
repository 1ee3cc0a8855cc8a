/*
 * verify_spec.h - what a fleet verification may be asked: the
 * body of POST /v1/fleets/{name}/verify and the fleet setting
 * settings.verify (its schedule). Pure (no Redis, no AWS), unit-tested in
 * tests/unit/handlers; the route checks with it before anything is queued,
 * the job reads what it checked.
 *
 * Body (every member optional; no body = a verification claim and the
 * default parameters):
 *   {"parameters": {"NAME": "VALUE", ...},   template parameters (at most 50,
 *                                            names 1-2048, values 0-4096
 *                                            characters: RegisterThing's bounds;
 *                                            ThingName, when given, under
 *                                            VERIFY_THING_PREFIX)
 *    "claimId": "clm_..."}                   a claim of the fleet whose key the
 *                                            service still holds
 * settings.verify:
 *   {"schedule": null | {"dailyAt": "HH:MM"} | {"everyHours": 1..744},
 *    "parameters": {...}}                    as in the body, for scheduled runs
 */
#ifndef FW_DOMAIN_VERIFY_SPEC_H
#define FW_DOMAIN_VERIFY_SPEC_H

#include <jansson.h>

/* Things a verification makes are named under this prefix; cleanup deletes
 * only such things (or ones named after the run or its certificate). */
#define VERIFY_THING_PREFIX "fwverify-"
#define VERIFY_PARAMS_MAX 50
#define VERIFY_SCHEDULE_NAME_MAX 65

/* Checks a request body (NULL = none). Problems are appended to errors as
 * {"field", "message"}. 0 or FW_EINVAL. */
int verify_spec_body(const json_t *body, json_t *errors);

/* Checks settings.verify (an object). Problems go to errors with field
 * "verify.*". 0 or FW_EINVAL. */
int verify_spec_settings(const json_t *verify, json_t *errors);

/* The schedule of a checked settings.verify: 0 with *every_s (> 0) or
 * daily ("HH:MM", else "") set; FW_ENOTFOUND when there is none. */
int verify_spec_schedule(const json_t *verify, long *every_s, char daily[6]);

/* The job schedule's name for fleet: "verify." + the fleet's name, or for
 * names too long for a schedule name (64), its first 48 characters and a
 * hash of the whole. */
void verify_spec_schedule_name(const char *fleet, char out[VERIFY_SCHEDULE_NAME_MAX]);

/* The parameters a verification's device sends: ThingName
 * "fwverify-FLEET-TOKEN", SerialNumber "fwverify-TOKEN", ThingGroupName
 * group (when not NULL), with given (an object or NULL) on top. New
 * reference. */
json_t *verify_spec_parameters(const char *fleet, const char *token, const char *group,
                               const json_t *given);

/* The template body a fleet's spec.template makes (its body, or the one
 * policies_template_body renders from its thingName); the thing policy's
 * part is left out (only the thing's name is read from it). New reference. */
json_t *verify_spec_template_body(const json_t *template_spec);

/* What the thing a template body makes will be named when RegisterThing is
 * sent params. Its ThingName may be a string, {"Ref": P} (a parameter,
 * its Default, or AWS::IoT::Certificate::Id: cert_id, or when NULL a
 * placeholder) or {"Fn::Join": [SEP, [PARTS]]} of these. The name is a
 * verification's when some part of it is the certificate's id or starts
 * with VERIFY_THING_PREFIX. */
enum verify_name {
    VERIFY_NAME_OURS = 0, /* out: the name, a verification's */
    VERIFY_NAME_FOREIGN,  /* out: the name; param: the parameter that named it outside the
                           * prefix ("": the template's own text) */
    VERIFY_NAME_UNKNOWN,  /* the template names its thing otherwise (out: why) */
    VERIFY_NAME_NONE      /* the template makes no thing */
};
enum verify_name verify_spec_thing_name(const json_t *body, const json_t *params,
                                        const char *cert_id, char *out, size_t len, char *param,
                                        size_t plen);

/* Checks that a verification sending given (the request's or the setting's
 * parameters, over the defaults) names its thing under the verification
 * prefix with the fleet's template (spec.template): problems go to errors
 * under field ("parameters" or "verify.parameters"). 0 or FW_EINVAL. */
int verify_spec_check_name(const json_t *template_spec, const json_t *given, const char *field,
                           json_t *errors);

#endif
