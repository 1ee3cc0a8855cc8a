/*
 * template_check.h - the provisioning template validator (pure, no AWS).
 *
 * Checks what AWS and Greengrass fleet provisioning need of a template
 * body: JSON text of at most 10,240 characters (AWS's limit) with a
 * Resources object holding exactly one AWS::IoT::Thing with a ThingName,
 * exactly one AWS::IoT::Policy with PolicyName or PolicyDocument (not
 * both; a document must be a JSON policy), exactly one
 * AWS::IoT::Certificate whose CertificateId is {"Ref":
 * "AWS::IoT::Certificate::Id"} with that parameter declared, and every
 * Ref naming a declared parameter.
 */
#ifndef FW_JOBS_HANDLERS_TEMPLATE_CHECK_H
#define FW_JOBS_HANDLERS_TEMPLATE_CHECK_H

#include <stddef.h>
#include <jansson.h>

#define TEMPLATE_BODY_MAX 10240
#define TEMPLATE_DESCRIPTION_MAX 500

/* {"valid": bool, "errors": [{"pointer","message"}], "warnings":
 * [{"pointer","message"}]} for the template text (len bytes; counted in
 * characters for the limit). Pointers are RFC 6901 JSON pointers into the
 * body ("" for the whole body). New reference; never NULL. */
json_t *template_check(const char *text, size_t len);
/* The same for a parsed body (serialised compactly for the size check). */
json_t *template_check_json(const json_t *body);
/* Appends each error of a verdict (template_check's) to errors as {"field", "message"}, the field
 * the body member's name followed by the error's pointer ("body/Resources"; cut at 299 bytes):
 * how a request that carries a template body names what is wrong in it. */
void template_check_fields(const json_t *verdict, const char *member, json_t *errors);

/* A template description as AWS takes it: at most 500 characters (code
 * points, not bytes) matching [^\p{C}]*, no character of Unicode category
 * C - controls, format characters (such as U+200B, U+FEFF), surrogates,
 * private use and noncharacters (characters unassigned today are not
 * known here and pass). s is valid UTF-8 of len bytes (jansson's strings
 * are). 0, or FW_EINVAL with the reason in why. */
int template_description_check(const char *s, size_t len, char *why, size_t whylen);

#endif
